"""The test environment is exactly ``requirements.lock``: every machine runs what was tested."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.lockfile import differences, installed_versions, locked_versions

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(os.environ.get("SYNTHBEAM_UNLOCKED") == "1", reason="make test-latest runs the newest releases")
def test_the_environment_holds_exactly_the_locked_versions() -> None:
    assert differences(locked_versions(), installed_versions()) == []


def _setup_py_requirements() -> list[str]:
    """install_requires and every extra of setup.py, read from its syntax tree (running it would install)."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    calls = (node for node in ast.walk(tree) if isinstance(node, ast.Call))
    call = next(node for node in calls if getattr(node.func, "id", "") == "setup")
    values = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords
              if keyword.arg in ("install_requires", "extras_require")}
    return [*values["install_requires"], *(spec for extra in values["extras_require"].values() for spec in extra)]


def test_the_lock_pins_every_dependency_setup_py_names() -> None:
    names = {canonicalize_name(Requirement(spec).name) for spec in _setup_py_requirements()}
    assert {"apache-beam", "faker", "pyarrow", "pytest", "hypothesis"} <= names
    pinned = locked_versions()
    assert sorted(name for name in names if name not in pinned) == []


def test_differences_names_missing_extra_and_changed_packages(tmp_path: Path) -> None:
    lock = tmp_path / "r.lock"
    lock.write_text("a==1.0\nb==2.0 ; python_version < '3'\nc==3.0\n    # via x\n", encoding="utf-8")
    pins = locked_versions(lock)
    assert pins == {"a": "1.0", "c": "3.0"}
    assert differences(pins, {"a": "1.0", "c": "3.1", "d": "4"}) == [
        "c: locked 3.0, installed 3.1",
        "d: 4 installed, not in the lock",
    ]
    assert differences(pins, {"c": "3.0"}) == ["a: locked 1.0, not installed"]


def test_the_flex_image_builds_the_locked_beam_and_python() -> None:
    dockerfile = (ROOT / "templates/flex/Dockerfile").read_text(encoding="utf-8")
    gcp_lock = (ROOT / "requirements-gcp.lock").read_text(encoding="utf-8")
    beam = re.search(r"^apache-beam(?:\[[a-z,]+\])?==(\S+)", gcp_lock, re.M)
    assert beam is not None
    assert f"ARG BEAM_VERSION={beam.group(1)}" in dockerfile
    assert "requirements-gcp.lock" in dockerfile and "--no-deps" in dockerfile
