"""A rule whose values the column's type would bend is rejected or corrected, never bent silently (issue 14, item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.core.errors import ConfigError
from synthbeam.rules.engine.batch import generate_batch
from tests.conftest import one_table

FIXTURES = Path(__file__).parents[1] / "fixtures" / "silent"


def errors_of(write_config, config: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        build_plan(str(write_config(config)))
    return [str(issue) for issue in caught.value.issues]


def test_a_range_on_a_bool_column_is_rejected() -> None:
    with pytest.raises(ConfigError) as caught:
        build_plan(str(FIXTURES / "c05b.json"))
    assert [str(issue) for issue in caught.value.issues] == [
        "t.columns[0] (b): range [1, 5] makes int values, but a bool column would store every number but 0 as true: "
        'use {"type": "bool", "probability": p} or a choice of true and false, or give the column type int'
    ]


@pytest.mark.parametrize(
    ("column_type", "rule", "expected_type", "low", "high"),
    [
        ("uuid", {"type": "range", "min": 1, "max": 5}, "int", 1, 5),
        ("email", {"type": "range", "min": 1.5, "max": 2.5}, "float", 1.5, 2.5),
        ("phone", {"type": "range"}, "int", 0, 10_000),
    ],
)
def test_a_range_on_a_text_type_column_becomes_a_number_column(
    write_config, column_type, rule, expected_type, low, high
) -> None:
    config = json.loads((FIXTURES / "c05b.json").read_text(encoding="utf-8"))
    config["tables"][0]["columns"] = [{"name": "u", "type": column_type, "rule": rule}]
    plan, issues = build_plan(str(write_config(config)))
    assert [str(c) for c in issues.corrections] == [
        f"t.columns[0] (u): type {column_type} -> {expected_type}: a range rule with "
        + ("integer bounds makes an int column" if expected_type == "int" else "decimal bounds makes a float column")
    ]
    values = generate_batch(plan, "t", 0, 10).column("u")
    assert values.type == (pa.int64() if expected_type == "int" else pa.float64())
    assert all(low <= v <= high for v in values.to_pylist())  # once: '2.53' in a uuid column


@pytest.mark.parametrize(
    ("column_type", "rule", "expected"),
    [
        ("bool", {"type": "choice", "value": [1, 2, 3]}, "choice of 3 makes int values, but a bool column would"),
        ("bool", {"type": "fixed", "value": 5}, "fixed 5 makes int values, but a bool column"),
        ("int", {"type": "time_range"}, "makes time values, but an int column would hold them as counts of days"),
        ("date", {"type": "range", "min": 1, "max": 5}, "makes float values, but a date column holds dates"),
        ("timestamp", {"type": "bool"}, "makes bool values, but a timestamp column holds timestamps"),
    ],
)
def test_bent_values_are_rejected_with_their_place(write_config, column_type, rule, expected) -> None:
    columns = [{"name": "a", "type": "int"}, {"name": "c", "type": column_type, "rule": rule}]
    (error,) = errors_of(write_config, one_table(columns))
    assert error.startswith("t.columns[1] (c): ") and expected in error, error


def test_a_branch_rule_is_checked_at_its_own_place(write_config) -> None:
    column = {
        "name": "c",
        "type": "bool",
        "conditional_rules": [
            {"when": [{"column": "a", "operator": ">", "value": 5}], "rule": {"type": "range", "min": 0, "max": 1}}
        ],
    }
    (error,) = errors_of(write_config, one_table([{"name": "a", "type": "int"}, column]))
    assert error.startswith("t.columns[1] (c).conditional_rules[0]: range [0, 1] makes int values")


@pytest.mark.parametrize(
    ("column_type", "rule"),
    [
        ("int", {"type": "bool"}),  # 0 and 1
        ("float", {"type": "range", "min": 1, "max": 5}),
        ("timestamp", {"type": "date_range", "start": "2020-01-01", "end": "2020-12-31"}),  # midnight
        ("str", {"type": "date_range", "start": "2020-01-01", "end": "2020-12-31"}),  # as text
        ("int", {"type": "choice", "value": ["1", "2"]}),  # text read as numbers, checked on samples
    ],
)
def test_values_a_column_holds_as_they_are_pass(write_config, column_type, rule) -> None:
    plan, _ = build_plan(str(write_config({**one_table([{"name": "c", "type": column_type, "rule": rule}])})))
    assert plan.table("t").column("c").type == column_type
