"""Shared fixtures: build plans from config dicts written to a temporary file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"

# Tests compile Faker rules from Faker every time (and never touch the user's cache):
# the compile cache is off here and in every process the tests start, except where a
# test turns it on for itself (tests/rules/test_compile_cache.py).
os.environ["SYNTHBEAM_CACHE_DIR"] = ""
# No progress lines on the captured stderr that many tests read line by line (on a loaded machine a
# run can pass the 5 s mark); tests/pipeline/test_output_reads_well.py turns them on to test them.
os.environ["SYNTHBEAM_PROGRESS_SECONDS"] = "0"


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    def write(config: dict[str, Any], name: str = "config.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_plan(write_config: Callable[..., Path]) -> Callable[..., Any]:
    from synthbeam.rules.compiler.compile import build_plan

    def make(config: dict[str, Any], **kwargs: Any) -> Any:
        config.setdefault("as_of", "2026-01-01")
        plan, _ = build_plan(str(write_config(config)), **kwargs)
        return plan

    return make


def one_table(columns: list[dict[str, Any]], rows: int = 1000, **extra: Any) -> dict[str, Any]:
    """A config with a single table ``t``."""
    return {"seed": 1, "tables": [{"table_name": "t", "rows": rows, "columns": columns, **extra}]}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the end-to-end tests ``e2e`` (all of tests/pipeline/, and any test using the ``cli`` fixture),
    so ``make fast-test`` runs the rules and Beam layers alone."""
    pipeline_tests = Path(__file__).parent / "pipeline"
    for item in items:
        if pipeline_tests in Path(str(item.fspath)).parents or "cli" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)
