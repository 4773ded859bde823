"""The expr rule: SQL expressions over the row and its parent row, evaluated by DuckDB, checked at plan time."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from synthbeam.rules.core.errors import ConfigError
from synthbeam.rules.engine.batch import generate_batch, generate_columns

SUBS = {
    "table_name": "subs",
    "rows": 30,
    "columns": [
        {"name": "sub_id", "type": "int", "constraint": ["PK"]},
        {"name": "tier", "type": "str", "rule": {"type": "choice", "value": ["free", "pro", "enterprise"]}},
        {"name": "price", "type": "float", "rule": {"type": "range", "min": 1.0, "max": 50.0, "precision": 2}},
    ],
}


def lines(columns: list[dict], rows: int = 400) -> dict:
    return {
        "seed": 3,
        "tables": [
            SUBS,
            {
                "table_name": "lines",
                "rows": rows,
                "columns": [
                    {"name": "line_id", "type": "int", "constraint": ["PK"]},
                    {"name": "sub_id", "type": "int"},
                    {"name": "quantity", "type": "int", "rule": {"type": "range", "min": 1, "max": 9}},
                    {
                        "name": "discount",
                        "type": "float",
                        "rule": {"type": "range", "min": 0.0, "max": 0.3},
                        "nullable": True,
                        "null_probability": 0.3,
                    },
                    {
                        "name": "issued_on",
                        "type": "date",
                        "rule": {"type": "date_range", "start": "2024-01-01", "end": "2024-12-31"},
                    },
                    {
                        "name": "issued_at",
                        "type": "timestamp",
                        "rule": {
                            "type": "timestamp_range",
                            "start": "2024-01-01 00:00:00",
                            "end": "2024-12-31 23:59:59",
                        },
                    },
                    *columns,
                ],
                "foreign_keys": [{"child_column": "sub_id", "parent_table": "subs", "parent_column": "sub_id"}],
            },
        ],
    }


def _rows(plan) -> tuple[dict, dict]:
    table = generate_batch(plan, "lines", 0, 400).to_pydict()
    subs = generate_batch(plan, "subs", 0, 30).to_pydict()
    parent = {k: dict(zip(subs["sub_id"], subs[k])) for k in ("tier", "price")}
    return table, parent


def test_arithmetic_case_coalesce_round_and_dates_over_row_and_parent(make_plan) -> None:
    plan = make_plan(
        lines(
            [
                {
                    "name": "total",
                    "type": "float",
                    "rule": {"type": "expr", "expr": "round(quantity * subs.price * (1 - coalesce(discount, 0)), 2)"},
                },
                {"name": "due_on", "type": "date", "rule": {"type": "expr", "expr": "issued_on + INTERVAL 30 DAY"}},
                {
                    "name": "remind_at",
                    "type": "timestamp",
                    "rule": {"type": "expr", "expr": "issued_at + INTERVAL 36 HOUR"},
                },
                {
                    "name": "band",
                    "type": "str",
                    "rule": {
                        "type": "expr",
                        "expr": "CASE WHEN subs.tier = 'enterprise' THEN 'big' WHEN quantity > 5 THEN 'bulk' "
                        "ELSE upper(subs.tier) END",
                    },
                },
                {"name": "large", "type": "bool", "rule": {"type": "expr", "expr": "quantity >= 5"}},
                {"name": "units", "type": "int", "rule": {"type": "expr", "expr": "quantity * 10 + 1"}},
            ]
        )
    )
    rows, parent = _rows(plan)
    assert plan.table("lines").column("due_on").rule.references() == {"issued_on"}
    for i in range(400):
        q, d, sub = rows["quantity"][i], rows["discount"][i], rows["sub_id"][i]
        assert rows["total"][i] == pytest.approx(round(q * parent["price"][sub] * (1 - (d or 0)), 2), abs=0.006)
        assert rows["due_on"][i] == rows["issued_on"][i] + dt.timedelta(days=30)
        assert rows["remind_at"][i] == rows["issued_at"][i] + dt.timedelta(hours=36)
        tier = parent["tier"][sub]
        assert rows["band"][i] == ("big" if tier == "enterprise" else "bulk" if q > 5 else tier.upper())
        assert rows["large"][i] is (q >= 5)
        assert rows["units"][i] == q * 10 + 1


def test_values_are_the_same_however_rows_are_split(make_plan) -> None:
    plan = make_plan(lines([{"name": "t", "type": "float", "rule": {"type": "expr", "expr": "quantity * subs.price"}}]))
    whole = generate_columns(plan, "lines", np.arange(400, dtype=np.uint64), ["t"])["t"]
    parts = [
        generate_columns(plan, "lines", np.arange(a, b, dtype=np.uint64), ["t"])["t"] for a, b in ((0, 1), (1, 400))
    ]
    assert pa.concat_arrays(parts).equals(whole)
    reverse = np.arange(399, -1, -1, dtype=np.uint64)
    assert generate_columns(plan, "lines", reverse, ["t"])["t"].to_pylist() == whole.to_pylist()[::-1]


@pytest.mark.parametrize(
    ("expression", "column_type", "message"),
    [
        ("random() * 10", "float", "random() is not deterministic"),
        ("now()", "timestamp", "now() is not deterministic"),
        ("uuid()", "str", "uuid() is not deterministic"),
        ("gen_random_uuid()", "str", "gen_random_uuid() is not deterministic"),
        ("issued_on + current_date", "date", "reads 'current_date', which is not a column"),
        ("sum(quantity)", "int", "sum() is an aggregate function"),
        ("row_number() OVER ()", "int", "a window function is not a value of one row"),
        ("(SELECT 1)", "int", "a subquery is not a value of one row"),
        ("1 FROM read_csv('/etc/passwd')", "int", "is not a SQL expression"),
        ("quantity) AS v FROM _row; SELECT (1", "int", "must be one expression of the row"),
        ("quantity * 1.5", "int", "an int column holds whole numbers: wrap it in CAST(... AS BIGINT)"),
        ("quantity * 2", "date", "gives BIGINT values, which a date column does not hold"),
        ("upper(quantity, 1)", "str", "expr 'upper(quantity, 1)': "),
        ("nope + 1", "int", "reads 'nope', which is not a column of this table"),
        ("other.price", "float", "this table has no foreign key to other"),
        ("x", "int", "reads the column itself"),
        ("quantity +", "int", "is not a SQL expression"),
    ],
)
def test_refused_before_any_row_is_written(make_plan, expression, column_type, message) -> None:
    config = lines([{"name": "x", "type": column_type, "rule": {"type": "expr", "expr": expression}}])
    with pytest.raises(ConfigError) as caught:
        make_plan(config)
    text = str(caught.value)
    assert "lines.columns[6] (x)" in text
    assert message in text


def test_casts_and_nulls(make_plan) -> None:
    plan = make_plan(
        lines(
            [
                {
                    "name": "whole",
                    "type": "int",
                    "rule": {"type": "expr", "expr": "CAST(round(discount * 100) AS BIGINT)"},
                },
                {"name": "label", "type": "str", "rule": {"type": "expr", "expr": "'Q' || quantity"}},
            ]
        )
    )
    rows, _ = _rows(plan)
    for d, whole in zip(rows["discount"], rows["whole"]):
        assert whole == (None if d is None else round(d * 100))
    assert rows["label"] == [f"Q{q}" for q in rows["quantity"]]
    assert None in rows["whole"]
