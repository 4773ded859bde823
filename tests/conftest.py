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
# test turns it on for itself (tests/rules/core/test_compile_cache.py).
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


def errors_of(make_plan: Callable[..., Any], config: dict[str, Any], **kwargs: Any) -> list[str]:
    """The config errors building a plan from ``config`` raises (it must raise)."""
    from synthbeam.rules.core.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        make_plan(config, **kwargs)
    return [str(issue) for issue in caught.value.issues]


def single_error(make_plan: Callable[..., Any], columns: list[dict[str, Any]], rows: int = 100, **extra: Any) -> str:
    """The one config error of a one-table config with these columns."""
    errors = errors_of(make_plan, one_table(columns, rows=rows, **extra))
    assert len(errors) == 1, errors
    return errors[0]


def sealed_lengths(cells: Any) -> set[int]:
    """Sealed byte lengths (nonce + ciphertext + tag) of encrypted cells; base64 text rounds them to 3 bytes."""
    import base64

    from synthbeam.rules.security.crypto import ENCRYPTED_PREFIX

    prefix = len(ENCRYPTED_PREFIX)
    return {len(base64.urlsafe_b64decode(cell[prefix:])) for cell in cells.to_pylist() if cell is not None}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the end-to-end tests ``e2e`` (all of tests/pipeline/, and any test using the ``cli`` fixture),
    so ``make fast-test`` runs the rules and Beam layers alone."""
    pipeline_tests = Path(__file__).parent / "pipeline"
    for item in items:
        if pipeline_tests in Path(str(item.fspath)).parents or "cli" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)
