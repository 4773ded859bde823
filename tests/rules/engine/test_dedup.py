"""The dedup pass: unique non-enumerable columns end distinct, or the run fails by name."""

from __future__ import annotations

import pytest

from synthbeam.rules.core.errors import GenerationError
from synthbeam.rules.engine.batch import generate_batch
from synthbeam.rules.engine.dedup import apply_dedup, find_replacements


def _config(rule, rows=3000, unique=True, extra=None):
    return {"seed": 9, "tables": [
        {"table_name": "parent", "rows": rows, "columns": [
            {"name": "id", "type": "int", "constraint": ["PK"]},
            {"name": "label", "type": "str", "rule": rule, "constraint": ["unique"] if unique else []},
        ]},
        {"table_name": "child", "rows": 5000, "columns": [
            {"name": "id", "type": "int", "constraint": ["PK"]},
            {"name": "parent_label", "type": "str"},
        ], "foreign_keys": [{"child_column": "parent_label", "parent_table": "parent", "parent_column": "label"}]},
    ], **(extra or {})}


def test_pooled_faker_unique_column_is_deduplicated_and_fk_follows(make_plan) -> None:
    plan = make_plan(_config({"type": "catch_phrase", "pool_size": 500}))
    column = plan.table("parent").column("label")
    assert column.key_strategy == "dedup"
    collisions = apply_dedup(plan)
    labels = generate_batch(plan, "parent", 0, 3000).column("label").to_pylist()
    assert len(set(labels)) == 3000
    assert collisions["parent.label"] > 0
    children = generate_batch(plan, "child", 0, 5000).column("parent_label").to_pylist()
    assert set(children) <= set(labels)


def test_dedup_is_deterministic_and_split_independent(make_plan) -> None:
    plan = make_plan(_config({"type": "catch_phrase", "pool_size": 500}))
    apply_dedup(plan)
    whole = generate_batch(plan, "parent", 0, 3000).column("label").to_pylist()
    again = make_plan(_config({"type": "catch_phrase", "pool_size": 500}))
    apply_dedup(again)
    parts = [generate_batch(again, "parent", a, b).column("label").to_pylist() for a, b in ((0, 1234), (1234, 3000))]
    assert whole == parts[0] + parts[1]


def test_truncated_unique_strings_take_the_dedup_pass(make_plan) -> None:
    # free text (a cut of a formatted rule such as a regex, on a unique column, is refused: test_length_checks.py)
    choices = [f"{number:04d}{letter}" for number in range(4000) for letter in "xy"]
    config = _config({"type": "choice", "value": choices}, rows=2000)
    assert make_plan(config).table("parent").column("label").key_strategy == "permutation"
    config["tables"][0]["columns"][1]["length"] = 4
    truncated = make_plan(config)
    assert truncated.table("parent").column("label").key_strategy == "dedup"
    apply_dedup(truncated)
    labels = generate_batch(truncated, "parent", 0, 2000).column("label").to_pylist()
    assert len(set(labels)) == 2000 and all(len(label) <= 4 for label in labels)


def test_impossible_dedup_fails_naming_the_column(make_plan, monkeypatch) -> None:
    # validation runs this pass first (test_dedup_checks.py); off here, as on a table too large to try whole
    monkeypatch.setenv("SYNTHBEAM_PLAN_DEDUP_ROWS", "0")
    plan = make_plan(_config({"type": "pybool"}, rows=50))
    with pytest.raises(GenerationError, match=r"parent\.columns\[1\] \(label\): .* still collide after 8 dedup rounds"):
        find_replacements(plan, "parent", "label")
