"""docs/python.md runs: its python blocks in order, and its pytest examples under pytest."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, TEMPLATES

PAGE = REPO / "docs" / "python.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks() -> list[str]:
    return BLOCK.findall(PAGE.read_text(encoding="utf-8"))


def test_the_page_has_examples_of_every_function() -> None:
    text = "\n".join(_blocks())
    functions = ("synthbeam.load(", "synthbeam.tables(", "synthbeam.generate(")
    functions += ("synthbeam_tables(", "synthbeam_database(")
    for name in functions:
        assert name in text, name


def test_python_blocks_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_python"}
    for number, block in enumerate(b for b in _blocks() if "def test_" not in b):
        exec(compile(block, f"{PAGE}:block{number}", "exec"), namespace)
    assert (tmp_path / "out" / "_report.json").is_file()


def test_pytest_examples_pass_under_pytest(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    examples = [b for b in _blocks() if "def test_" in b]
    assert len(examples) == 3
    (tmp_path / "test_docs_examples.py").write_text("\n\n".join(examples), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_docs_examples.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
