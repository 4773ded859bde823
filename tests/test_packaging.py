"""A built wheel holds every module of the three folders: what Dataflow workers and library users install."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_every_module_of_every_layer(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), ROOT],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("synthbeam-*.whl")
    in_wheel = {name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".py")}
    # pipeline/api/ is the package synthbeam itself (setup.py maps it), every other folder its own subpackage.
    api = ROOT / "pipeline" / "api"
    in_tree = {
        f"synthbeam/{path.relative_to(api if api in path.parents else ROOT).as_posix()}"
        for layer in ("rules", "transforms", "pipeline")
        for path in (ROOT / layer).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert "synthbeam/__init__.py" in in_tree
    assert sorted(in_tree - in_wheel) == []
