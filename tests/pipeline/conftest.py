"""CLI end-to-end fixtures: a config file on disk, ``main([...])`` with captured output, readers."""

from __future__ import annotations

import copy
import glob
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.transforms.configs import ALL_TYPES


@dataclass
class CliRun:
    code: int
    out: str
    err: str


@pytest.fixture
def config_path(write_config: Callable[..., Path]) -> Path:
    return write_config(copy.deepcopy(ALL_TYPES), "shop.json")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    from synthbeam.pipeline.cli import main

    def run(*args: Any) -> CliRun:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run


def read_parquet_table(out: Path, table: str) -> pa.Table:
    files = sorted(glob.glob(str(out / table / "*.parquet")))
    assert files, f"no parquet files for {table} in {out}"
    return pq.read_table(files)


def read_report(out: Path) -> dict[str, Any]:
    return json.loads((out / "_report.json").read_text(encoding="utf-8"))


def listing(directory: Path) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) for everything below ``directory``."""
    return {
        str(path.relative_to(directory)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
    }
