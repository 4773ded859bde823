"""A bound that reads a null value gives null, or the reference's default; validate says so (issue 14, item 3)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.core.errors import ConfigError
from synthbeam.rules.engine.batch import generate_batch, generate_columns
from synthbeam.rules.relations import foreign_keys as relations
from tests.conftest import one_table

FIXTURES = Path(__file__).parents[1] / "fixtures" / "silent"
END_NULLABLE = FIXTURES / "end_nullable_parent.json"


def invoices_with_parent(plan, rows: int = 3000) -> tuple[dict, dict]:
    """The first ``rows`` invoices and, for each, its subscription's started_on and canceled_on."""
    table = plan.table("invoices")
    index = np.arange(rows, dtype=np.uint64)
    parent = {
        name: relations.parent_column(plan, table, f"subscriptions.{name}", index, generate_columns).to_pylist()
        for name in ("started_on", "canceled_on")
    }
    return generate_batch(plan, "invoices", 0, rows).to_pydict(), parent


def test_a_null_referenced_end_gives_null_and_warns() -> None:
    plan, issues = build_plan(str(END_NULLABLE))
    warnings = [str(w) for w in issues.warnings if "refers to" in str(w)]
    assert (
        "invoices.columns[2] (issued_on): end refers to subscriptions.canceled_on, which can be null: "
        "those rows get null here" in warnings[0]
    )
    assert '{"column": "subscriptions.canceled_on", "default": "today"}' in warnings[0]
    invoices, parent = invoices_with_parent(plan)
    canceled = [c is not None for c in parent["canceled_on"]]
    assert 0 < sum(canceled) < len(canceled)
    # before: every active subscription's invoice was issued on its start date
    assert [i is not None for i in invoices["issued_on"]] == canceled
    for issued, start, end in zip(invoices["issued_on"], parent["started_on"], parent["canceled_on"]):
        if end is not None:
            assert start <= issued <= max(start, end)


def test_a_default_stands_in_for_the_null_bound(write_config) -> None:
    config = json.loads(END_NULLABLE.read_text(encoding="utf-8"))
    invoices = next(t for t in config["tables"] if t["table_name"] == "invoices")
    issued_on = next(c for c in invoices["columns"] if c["name"] == "issued_on")
    issued_on["rule"]["end"] = {"column": "subscriptions.canceled_on", "default": "today"}
    plan, issues = build_plan(str(write_config(config)))
    assert not [w for w in issues.warnings if "refers to" in str(w)]
    rows, parent = invoices_with_parent(plan)
    as_of = dt.date(2025, 12, 31)
    assert None not in rows["issued_on"]
    for issued, start, end in zip(rows["issued_on"], parent["started_on"], parent["canceled_on"]):
        assert start <= issued <= max(start, end if end is not None else as_of)
    active = [i for i, e in zip(rows["issued_on"], parent["canceled_on"]) if e is None]
    assert len({str(i) for i in active}) > 100  # spread up to as_of, not collapsed to the start


def test_numeric_bounds_take_a_default(write_config) -> None:
    columns = [
        {"name": "low", "type": "int", "rule": {"type": "range", "min": 1, "max": 5}, "null_probability": 0.5},
        {"name": "n", "type": "int", "rule": {"type": "range", "min": {"column": "low", "default": 90}, "max": 99}},
        {"name": "m", "type": "int", "rule": {"type": "range", "min": {"column": "low"}, "max": 99}},
    ]
    config = {**one_table(columns, rows=400), "as_of": "2026-01-01"}
    plan, issues = build_plan(str(write_config(config)))
    assert [str(w) for w in issues.warnings] == [
        "t.columns[2] (m): min refers to low, which can be null: those rows get null here; to give them a value, "
        'give the reference a default, e.g. {"column": "low", "default": 0}'
    ]
    batch = generate_batch(plan, "t", 0, 400).to_pydict()
    for low, n, m in zip(batch["low"], batch["n"], batch["m"]):
        assert (90 <= n <= 99) if low is None else (low <= n <= 99)
        assert (m is None) == (low is None)


def test_a_not_null_column_with_a_nullable_bound_is_rejected(write_config) -> None:
    columns = [
        {
            "name": "start",
            "type": "date",
            "rule": {"type": "date_range", "start": "2020-01-01", "end": "2020-12-31"},
            "null_probability": 0.2,
        },
        {
            "name": "d",
            "type": "date",
            "constraint": ["not_null"],
            "rule": {"type": "date_range", "start": {"column": "start"}, "end": "2021-12-31"},
        },
    ]
    with pytest.raises(ConfigError) as caught:
        build_plan(str(write_config({**one_table(columns), "as_of": "2026-01-01"})))
    (error,) = [str(issue) for issue in caught.value.issues]
    assert error.startswith("t.columns[1] (d): start refers to start, which can be null, and a PK/not_null column")


def test_a_bad_default_is_a_placed_error(write_config) -> None:
    columns = [
        {"name": "a", "type": "date", "rule": {"type": "date_range", "start": "2020-01-01", "end": "2020-12-31"}},
        {
            "name": "d",
            "type": "date",
            "rule": {"type": "date_range", "start": {"column": "a", "default": "soon"}, "end": "2021-12-31"},
        },
    ]
    with pytest.raises(ConfigError) as caught:
        build_plan(str(write_config({**one_table(columns), "as_of": "2026-01-01"})))
    assert [str(issue) for issue in caught.value.issues] == [
        "t.columns[1] (d): start default 'soon' is not a valid date (YYYY-MM-DD)"
    ]


def test_rows_with_both_bounds_keep_their_values(write_config) -> None:
    """The fix touches only rows whose bound is null: the others are the values they always were."""
    columns = [
        {"name": "a", "type": "date", "rule": {"type": "date_range", "start": "2020-01-01", "end": "2020-12-31"}},
        {"name": "d", "type": "date", "rule": {"type": "date_range", "start": {"column": "a"}, "end": "2021-12-31"}},
    ]
    plan, _ = build_plan(str(write_config({**one_table(columns), "as_of": "2026-01-01"})))
    values = generate_batch(plan, "t", 0, 5).column("d")
    assert values.type == pa.date32()
    assert values.to_pylist() == [
        dt.date.fromisoformat(text) for text in ["2020-11-23", "2020-04-28", "2020-08-27", "2021-03-14", "2020-10-01"]
    ]
