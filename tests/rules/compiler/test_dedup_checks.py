"""A unique column that the dedup pass cannot make distinct fails validation, not generate (issue 14, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.core.errors import ConfigError
from synthbeam.rules.engine.batch import generate_batch
from synthbeam.rules.engine.dedup import apply_dedup

FIXTURES = Path(__file__).parents[1] / "fixtures" / "silent"


def test_a_cut_unique_user_name_with_too_few_values_is_refused_up_front() -> None:
    with pytest.raises(ConfigError) as caught:
        build_plan(str(FIXTURES / "c07_uniq.json"))
    assert [str(issue) for issue in caught.value.issues] == [
        "t.columns[4] (un): is unique, but its rule, cut to length 5, cannot produce enough distinct values: "
        "267 of 20,000 values still collide after 8 dedup rounds (32 re-draws each: generate's pass, run now); "
        "raise length, lower the rows, or drop unique"
    ]


def test_the_other_unique_columns_pass_and_are_unique(write_config) -> None:
    config = json.loads((FIXTURES / "c07_uniq.json").read_text(encoding="utf-8"))
    columns = config["tables"][0]["columns"]
    columns[4]["length"] = 12
    plan, issues = build_plan(str(write_config(config)))
    assert issues.errors == []
    apply_dedup(plan)
    batch = generate_batch(plan, "t", 0, 20_000).to_pydict()
    for column in columns:
        assert len(set(batch[column["name"]])) == 20_000, column["name"]


def _one_unique(rule: object, rows: int = 1000) -> dict:
    columns = [{"name": "a", "type": "int", "rule": rule, "constraint": ["unique"]}]
    return {"seed": 1, "as_of": "2026-01-01", "tables": [{"table_name": "t", "rows": rows, "columns": columns}]}


def test_a_large_table_is_tried_on_its_first_rows(write_config, monkeypatch) -> None:
    monkeypatch.setenv("SYNTHBEAM_PLAN_DEDUP_ROWS", "300")
    with pytest.raises(ConfigError) as caught:
        build_plan(str(write_config(_one_unique({"type": "pyint", "params": {"min_value": 1, "max_value": 200}}))))
    (error,) = [str(issue) for issue in caught.value.issues]
    assert error.startswith("t.columns[0] (a): is unique, but its rule cannot produce enough distinct values: ")
    assert error.endswith("on the first 300 of 1,000 rows); lower the rows, or drop unique")


def test_a_large_table_whose_first_rows_pass_warns_from_an_estimate(write_config, monkeypatch) -> None:
    monkeypatch.setenv("SYNTHBEAM_PLAN_DEDUP_ROWS", "300")
    rule = {"type": "pyint", "params": {"min_value": 1, "max_value": 600}}
    _, issues = build_plan(str(write_config(_one_unique(rule))))
    (warning,) = [str(w) for w in issues.warnings]
    assert warning.startswith("t.columns[0] (a): is unique, but its first 300 values suggest as few as ")
    assert warning.endswith(
        "distinct values for 1,000 rows: generate's dedup pass may fail "
        "(validate tried 300 rows; SYNTHBEAM_PLAN_DEDUP_ROWS=1000 tries them all)"
    )
    _, issues = build_plan(str(write_config(_one_unique(rule, rows=400))))
    assert issues.warnings == []  # 600 values for 400 rows: tried whole, and it passes
