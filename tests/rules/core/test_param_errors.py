"""Rule parameters the config got wrong are placed config errors, never a crash or a silent cast (issue #12)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from synthbeam.rules.core.errors import ConfigError
from synthbeam.rules.engine.batch import generate_batch
from tests.conftest import errors_of, one_table, single_error


@pytest.mark.parametrize("probability", ["x", None, [0.5], {"column": "other"}, True])
def test_bool_probability_that_is_no_number_is_placed(make_plan, probability) -> None:
    rule = {"type": "bool", "probability": probability}
    message = single_error(make_plan, [{"name": "other", "type": "int"}, {"name": "b", "type": "bool", "rule": rule}])
    assert message.startswith("t.columns[1] (b): probability must be a number from 0 to 1"), message


def test_bool_probability_out_of_range_is_placed(make_plan) -> None:
    message = single_error(make_plan, [{"name": "b", "type": "bool", "rule": {"type": "bool", "probability": 1.5}}])
    assert message == "t.columns[0] (b): probability must be a number from 0 to 1, got 1.5"


@pytest.mark.parametrize("precision", ["x", 1.5, 2.0, -1, 16, None, [2]])
def test_range_precision_must_be_a_whole_number(make_plan, precision) -> None:
    rule = {"type": "range", "min": 0, "max": 1, "precision": precision}
    message = single_error(make_plan, [{"name": "f", "type": "float", "rule": rule}])
    assert message.startswith("t.columns[0] (f): precision must be a whole number from 0 to 15"), message


def test_range_precision_whole_number_is_used(make_plan) -> None:
    rule = {"type": "range", "min": 0, "max": 1, "precision": 3}
    plan = make_plan(one_table([{"name": "f", "type": "float", "rule": rule}]))
    values = generate_batch(plan, "t", 0, 500).column("f").to_pylist()
    assert any(round(v, 2) != v for v in values) and all(round(v, 3) == v for v in values)


@pytest.mark.parametrize("file_path", [5, ["a.csv"], {"column": "x"}, True])
def test_choice_from_file_path_must_be_text(make_plan, file_path) -> None:
    message = single_error(
        make_plan, [{"name": "f", "type": "str", "rule": {"type": "choice_from_file", "file_path": file_path}}]
    )
    assert message.startswith("t.columns[0] (f): choice_from_file file_path must be a path as text"), message


def test_xlsx_that_is_not_a_zip_is_placed(make_plan, tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").write_text("not a workbook", encoding="utf-8")
    message = single_error(
        make_plan, [{"name": "f", "type": "str", "rule": {"type": "choice_from_file", "file_path": "x.xlsx"}}]
    )
    assert message.startswith("t.columns[0] (f): choice_from_file x.xlsx: x.xlsx is not an XLSX workbook"), message


@pytest.mark.parametrize("weight", ["nan", "inf", "-inf", "NaN"])
def test_non_finite_weights_are_refused_naming_the_row(make_plan, tmp_path: Path, weight) -> None:
    (tmp_path / "w.csv").write_text(f"name,weight\na,1\nb,{weight}\nc,2\n", encoding="utf-8")
    rule = {"type": "choice_from_file", "file_path": "w.csv", "column": "name", "weight_column": "weight"}
    message = single_error(make_plan, [{"name": "f", "type": "str", "rule": rule}])
    assert message == (
        f"t.columns[0] (f): choice_from_file w.csv: row 3: weight {weight!r} for 'b' is not a finite number"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_choice_from_file_fifo_is_refused_without_blocking(make_plan, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "values.csv")
    message = single_error(
        make_plan, [{"name": "f", "type": "str", "rule": {"type": "choice_from_file", "file_path": "values.csv"}}]
    )
    assert message.endswith("values.csv is not a regular file"), message


def test_two_foreign_keys_on_one_column_are_refused(make_plan) -> None:
    config = {
        "tables": [
            {"table_name": "a", "rows": 5, "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}]},
            {"table_name": "b", "rows": 5, "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}]},
            {
                "table_name": "c",
                "rows": 5,
                "columns": [{"name": "ref", "type": "int"}],
                "foreign_keys": [
                    {"child_column": "ref", "parent_table": "a", "parent_column": "id"},
                    {"child_column": "ref", "parent_table": "b", "parent_column": "id"},
                ],
            },
        ]
    }
    errors = errors_of(make_plan, config)
    assert errors == [
        "c.foreign_keys[1]: child_column 'ref' already has a foreign key (c.foreign_keys[0]); a column references "
        "one parent: remove one, or give it its own column"
    ]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"type": "fixed", "value": {"a": 1, "b": [1, "x"]}}, '{"a": 1, "b": [1, "x"]}'),
        ({"type": "fixed", "value": [1, "é"]}, '[1, "é"]'),
        ({"type": "choice", "value": [{"a": 1}]}, '{"a": 1}'),
        ({"type": "choice", "value": [[1, 2], "x"], "probabilities": {"[1, 2]": 1.0, "x": 0}}, "[1, 2]"),
    ],
)
def test_objects_and_lists_are_written_as_json(make_plan, rule, expected) -> None:
    plan = make_plan(one_table([{"name": "j", "type": "str", "rule": rule}], rows=20))
    values = generate_batch(plan, "t", 0, 20).column("j")
    assert values.type == pa.string()
    assert set(values.to_pylist()) == {expected}
    json.loads(expected)  # readable back


def test_total_rows_over_the_ceiling_are_refused_with_the_size(make_plan) -> None:
    config = {
        "tables": [
            {"table_name": "p", "rows": 50, "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}]},
            {
                "table_name": "c",
                "columns": [{"name": "pid", "type": "int"}],
                "foreign_keys": [
                    {
                        "child_column": "pid",
                        "parent_table": "p",
                        "parent_column": "id",
                        "children_per_parent": {"min": 10**15, "max": 10**15},
                    }
                ],
            },
        ]
    }
    with pytest.raises(ConfigError) as caught:
        make_plan(json.loads(json.dumps(config)))
    assert [str(i) for i in caught.value.issues] == [
        "performance.max_total_rows: the plan has 50,000,000,000,000,050 rows in total (c: 50,000,000,000,000,000), "
        "more than the 1,000,000,000,000 allowed: lower rows, scale or children_per_parent, or raise "
        "performance.max_total_rows (--allow-huge lifts the limit)"
    ]
    config["performance"] = {"max_total_rows": 10**17}
    plan = make_plan(config)
    assert plan.table("c").rows == 5 * 10**16


def test_probabilities_name_object_choices_by_their_json_text(make_plan) -> None:
    rule = {"type": "choice", "value": [{"city": "Zürich"}, "x"], "probabilities": {'{"city": "Zürich"}': 1.0, "x": 0}}
    plan = make_plan(one_table([{"name": "j", "type": "str", "rule": rule}], rows=20))
    assert set(generate_batch(plan, "t", 0, 20).column("j").to_pylist()) == {'{"city": "Zürich"}'}
