"""What ``requirements.lock`` pins, and how an installed environment differs from it.

Used by ``tests/test_lock.py`` (the test venv must be exactly the lock) and by
``make test-latest`` (``python -m tests.lockfile requirements.lock`` lists what the
newest releases changed against the lock, before the suite runs on them).
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

LOCK = Path(__file__).resolve().parents[1] / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)\s*(?:;(.*))?$")
# The project itself is installed from the tree, not from the lock.
_SELF = "synthbeam"
# Packages of this repository installed into the test venv besides synthbeam: the example rule
# plugin (tests/plugin, `make` installs it) is part of the repo, not a locked dependency.
_REPO_PACKAGES = ("synthbeam-dice",)


def locked_versions(lock: Path = LOCK) -> dict[str, str]:
    """Package -> pinned version, for this interpreter (entries whose marker does not hold are left out)."""
    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match is None:
            continue
        name, version, marker = match.groups()
        if marker and not Marker(marker.strip()).evaluate():
            continue
        pins[canonicalize_name(name)] = version
    return pins


def installed_versions() -> dict[str, str]:
    """Package -> version of every distribution this interpreter's environment holds, the project aside."""
    found = {canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}
    found.pop(_SELF, None)
    for name in _REPO_PACKAGES:
        found.pop(name, None)
    return found


def differences(locked: dict[str, str], installed: dict[str, str]) -> list[str]:
    """One line per package that is missing, extra, or at another version than the lock's."""
    lines = []
    for name in sorted(set(locked) | set(installed)):
        want, have = locked.get(name), installed.get(name)
        if want == have:
            continue
        if have is None:
            lines.append(f"{name}: locked {want}, not installed")
        elif want is None:
            lines.append(f"{name}: {have} installed, not in the lock")
        else:
            lines.append(f"{name}: locked {want}, installed {have}")
    return lines


def main(argv: list[str]) -> int:
    lock = Path(argv[0]) if argv else LOCK
    changed = differences(locked_versions(lock), installed_versions())
    print(f"{len(changed)} package(s) differ from {lock.name}:" if changed else f"same versions as {lock.name}")
    for line in changed:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
