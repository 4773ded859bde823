"""Do two synthbeam installs write byte-identical data files for the same configs and seeds?

A refactor that must not change values (issue #13: rule classes own their keys and checks) is
proved by generating the templates and the bench workload with the old code's venv and the new
code's, then comparing every data file byte for byte (``_report.json`` differs by design: times).

    python benchmarks/same_bytes.py OLD_SYNTHBEAM NEW_SYNTHBEAM [--scale 0.1]

e.g. ``python benchmarks/same_bytes.py /work/main/.venv/bin/synthbeam .venv/bin/synthbeam``.
Prints one line per config and exits 1 when any file differs.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIGS = ("templates/retail.json", "templates/hr.json", "templates/saas.json", "benchmarks/retail2.json")


def _digests(out: Path) -> dict[str, str]:
    return {
        str(path.relative_to(out)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*"))
        if path.is_file() and not path.name.startswith("_")
    }


def _generate(synthbeam: str, config: str, out: Path, scale: str, fmt: str) -> dict[str, str]:
    command = [synthbeam, "generate", config, "--out", str(out), "--scale", scale, "--format", fmt]
    command += ["--num-shards", "2", "--overwrite"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{synthbeam} failed on {config}: {done.stderr.strip()}")
    return _digests(out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--scale", default="0.1")
    parser.add_argument("--format", default="parquet")
    args = parser.parse_args(argv)
    failed = False
    with tempfile.TemporaryDirectory() as scratch:
        for config in CONFIGS:
            name = Path(config).stem
            old = _generate(args.old, config, Path(scratch) / f"old-{name}", args.scale, args.format)
            new = _generate(args.new, config, Path(scratch) / f"new-{name}", args.scale, args.format)
            same = old == new and bool(old)
            failed |= not same
            print(f"{config}: {len(old)} files, {'byte-identical' if same else 'DIFFERENT'}")
            if not same:
                for path in sorted(set(old) | set(new)):
                    if old.get(path) != new.get(path):
                        print(f"  {path}: {old.get(path, 'missing')[:12]} -> {new.get(path, 'missing')[:12]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
