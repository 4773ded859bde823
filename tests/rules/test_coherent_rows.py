"""Rows that hang together: reference offsets, conditions on parent columns, children counts from a parent column.

Repro configs from the issue live in fixtures/coherent/ (saas.json is the base).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from synthbeam.rules.core.errors import ConfigError
from synthbeam.rules.engine.batch import generate_batch, generate_columns
from synthbeam.rules.relations.foreign_keys import children_layout, parent_index
from tests.conftest import one_table

FIXTURES = Path(__file__).parent / "fixtures" / "coherent"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _table(config: dict, name: str) -> dict:
    return next(t for t in config["tables"] if t["table_name"] == name)


def _column(table: dict, name: str) -> dict:
    return next(c for c in table["columns"] if c["name"] == name)


# --- offsets ---------------------------------------------------------------------------------


def test_offset_days_is_a_clear_error_naming_offset(make_plan) -> None:
    with pytest.raises(ConfigError) as caught:
        make_plan(fixture("offset_days.json"))
    text = str(caught.value)
    assert (
        "invoices.columns[3] (due_on): start: unknown key 'offset_days' in the column reference to 'issued_on': "
        "write " in text
    )
    assert '{"column": "issued_on", "offset": "30 days"}' in text
    assert "not a valid date" not in text


def test_due_thirty_days_after_issue_with_an_offset(make_plan) -> None:
    config = fixture("offset_days.json")
    due = _column(_table(config, "invoices"), "due_on")
    due["rule"] = {"type": "fixed", "value": {"column": "issued_on", "offset": "30 days"}}
    config["tables"] = config["tables"][:4]  # events are not needed
    plan = make_plan(config)
    batch = generate_batch(plan, "invoices", 0, 3000).to_pydict()
    assert batch["due_on"] == [issued + dt.timedelta(days=30) for issued in batch["issued_on"]]


def test_offsets_on_dates_timestamps_times_and_numbers(make_plan) -> None:
    config = one_table(
        [
            {"name": "d", "type": "date", "rule": {"type": "date_range", "start": "2024-01-01", "end": "2024-12-31"}},
            {
                "name": "ts",
                "type": "timestamp",
                "rule": {"type": "timestamp_range", "start": "2024-01-01 00:00:00", "end": "2024-12-31 00:00:00"},
            },
            {"name": "t", "type": "time", "rule": {"type": "time_range", "start": "20:00:00", "end": "23:59:59"}},
            {"name": "n", "type": "int", "rule": {"type": "range", "min": 0, "max": 100}},
            {
                "name": "week_later",
                "type": "date",
                "rule": {
                    "type": "date_range",
                    "start": {"column": "d", "offset": "1 week"},
                    "end": {"column": "d", "offset": "2 weeks"},
                },
            },
            {
                "name": "ts_later",
                "type": "timestamp",
                "rule": {"type": "fixed", "value": {"column": "ts", "offset": "-90 minutes"}},
            },
            {
                "name": "t_later",
                "type": "time",
                "rule": {"type": "fixed", "value": {"column": "t", "offset": "5 hours"}},
            },
            {
                "name": "above",
                "type": "int",
                "rule": {"type": "range", "min": {"column": "n", "offset": 10}, "max": {"column": "n", "offset": 20}},
            },
        ],
        rows=500,
    )
    batch = generate_batch(make_plan(config), "t", 0, 500).to_pydict()
    for i in range(500):
        d = batch["d"][i]
        assert d + dt.timedelta(days=7) <= batch["week_later"][i] <= d + dt.timedelta(days=14)
        assert batch["ts_later"][i] == batch["ts"][i] - dt.timedelta(minutes=90)
        moved = dt.datetime.combine(dt.date(2000, 1, 1), batch["t"][i]) + dt.timedelta(hours=5)
        assert batch["t_later"][i] == moved.time()  # wraps past midnight
        assert batch["n"][i] + 10 <= batch["above"][i] <= batch["n"][i] + 20
    assert len(set(batch["above"])) > 20


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ({"column": "d", "offset": "3 hours"}, "a date moves by whole days"),
        ({"column": "d", "offset": 3}, 'a date column takes a duration offset, such as "3 days"'),
        ({"column": "d", "offset": "soon"}, "offset 'soon' is not an offset"),
        ({"column": "d", "offset_days": 3}, '{"column": "d", "offset": "3 days"}'),
        ({"column": "d", "plus": 1}, "unknown key 'plus' in the column reference to 'd': write "),
        ({"column": "d", "shift": 1}, "unknown key 'shift' in the column reference to 'd': a column reference takes "),
    ],
)
def test_offset_mistakes_are_placed_errors(make_plan, reference, message) -> None:
    config = one_table(
        [
            {"name": "d", "type": "date", "rule": {"type": "date_range", "start": "2024-01-01", "end": "2024-12-31"}},
            {"name": "e", "type": "date", "rule": {"type": "date_range", "start": reference, "end": "2025-12-31"}},
        ]
    )
    with pytest.raises(ConfigError) as caught:
        make_plan(config)
    assert "t.columns[1] (e): start" in str(caught.value)
    assert message in str(caught.value)


def test_a_number_offset_on_a_number_column_only(make_plan) -> None:
    config = one_table(
        [
            {"name": "n", "type": "int", "rule": {"type": "range", "min": 0, "max": 9}},
            {
                "name": "m",
                "type": "int",
                "rule": {"type": "range", "min": {"column": "n", "offset": "2 days"}, "max": 50},
            },
        ]
    )
    with pytest.raises(ConfigError, match="a number column takes a number offset, such as 30"):
        make_plan(config)


# --- fixed copies keep their type ------------------------------------------------------------


def test_fixed_copy_of_a_text_column_into_an_int_column_is_refused_with_the_fix(make_plan) -> None:
    with pytest.raises(ConfigError) as caught:
        make_plan(fixture("fixed_ref_int.json"))
    text = str(caught.value)
    assert (
        "organizations.columns[6] (employee_count): fixed copies plan_tier, a str column, into this int column" in text
    )
    assert "give the column type str" in text


def test_fixed_copy_of_an_int_column_keeps_ints(make_plan) -> None:
    config = one_table(
        [
            {"name": "n", "type": "int", "rule": {"type": "range", "min": 0, "max": 10**12}},
            {"name": "copy", "type": "int", "rule": {"type": "fixed", "value": {"column": "n"}}},
            {"name": "as_float", "type": "float", "rule": {"type": "fixed", "value": {"column": "n"}}},
        ],
        rows=100,
    )
    batch = generate_batch(make_plan(config), "t", 0, 100)
    assert batch.column("copy").type == pa.int64()
    assert batch.column("copy").equals(batch.column("n"))
    assert batch.column("as_float").to_pylist() == [float(v) for v in batch.column("n").to_pylist()]


# --- conditions on parent columns ------------------------------------------------------------


def _tiers_config() -> dict:
    config = fixture("parent_cond.json")
    config["tables"] = config["tables"][:3]
    plan = _column(_table(config, "subscriptions"), "plan")
    plan["rule"] = {"type": "fixed", "value": "free"}
    plan["conditional_rules"] = [
        {
            "when": [{"column": "organizations.plan_tier", "operator": "==", "value": "enterprise"}],
            "rule": {"type": "fixed", "value": "enterprise"},
        },
        {
            "when": [{"column": "organizations.plan_tier", "operator": "in", "value": ["pro"]}],
            "rule": {"type": "fixed", "value": "pro"},
        },
    ]
    return config


def test_a_plan_follows_its_organizations_tier_through_a_parent_condition(make_plan) -> None:
    plan = make_plan(_tiers_config())
    subs = plan.table("subscriptions")
    batch = generate_batch(plan, "subscriptions", 0, subs.rows).to_pydict()
    orgs = generate_batch(plan, "organizations", 0, plan.table("organizations").rows).to_pydict()
    tier = dict(zip(orgs["org_id"], orgs["plan_tier"]))
    assert batch["plan"] == [tier[o] for o in batch["org_id"]]
    assert set(batch["plan"]) == {"free", "pro", "enterprise"}
    # ordered like any reference: the parent column is read through the foreign key
    assert "organizations.plan_tier" in {c.column for b in subs.column("plan").branches for c in b.conditions}


def test_parent_conditions_are_type_checked_and_named(make_plan) -> None:
    config = _tiers_config()
    when = _column(_table(config, "subscriptions"), "plan")["conditional_rules"][0]["when"][0]
    when["value"] = 3
    with pytest.raises(ConfigError, match=r"conditional_rules\[0\]\.when\[0\]: value 3 is a number but plan_tier"):
        make_plan(config)
    when["value"], when["column"] = "enterprise", "organizations.nope"
    with pytest.raises(ConfigError, match=r"refers to organizations\.nope, but organizations has no column .nope."):
        make_plan(config)
    when["column"] = "invoices.status"
    with pytest.raises(ConfigError, match="subscriptions has no foreign key to invoices"):
        make_plan(config)


# --- children per parent from a parent column ------------------------------------------------


def _children_config(**per_parent) -> dict:
    config = copy.deepcopy(fixture("saas.json"))
    config["tables"] = config["tables"][:2]
    users = _table(config, "users")
    users.pop("rows")
    users["foreign_keys"][0] = {
        "child_column": "org_id",
        "parent_table": "organizations",
        "parent_column": "org_id",
        "children_per_parent": {"column": "organizations.employee_count", **per_parent},
    }
    return config


def test_users_per_organization_follow_employee_count_within_bounds(make_plan) -> None:
    plan = make_plan(_children_config(scale=0.5, min=1, max=40))
    orgs = generate_batch(plan, "organizations", 0, 2000).to_pydict()
    expected = np.clip(np.floor(np.array(orgs["employee_count"]) * 0.5 + 0.5), 1, 40).astype(int)
    users = plan.table("users")
    assert users.rows == int(expected.sum())  # known up front
    org_ids = generate_batch(plan, "users", 0, users.rows).column("org_id").to_numpy()
    found = np.bincount(org_ids, minlength=2001)[1:]
    assert found.tolist() == expected.tolist()
    assert found.min() == 1 and found.max() == 40 and len(set(found.tolist())) > 20


def test_a_parents_count_is_a_function_of_its_index_alone(make_plan) -> None:
    plan = make_plan(_children_config(scale=2.0, min=0))
    fk = plan.table("users").foreign_keys[0]
    layout = children_layout(plan, "users", fk, generate_columns)
    whole = layout.counts(0, 2000)
    assert np.concatenate([layout.counts(0, 3), layout.counts(3, 1500), layout.counts(1500, 2000)]).tolist() == (
        whole.tolist()
    )
    assert layout.counts(1234, 1235).tolist() == [whole[1234]]
    # child rows land parent after parent
    parents = parent_index(
        plan, plan.table("users"), fk, np.arange(plan.table("users").rows, dtype=np.uint64), generate_columns
    )
    assert (np.diff(parents) >= 0).all()
    assert np.bincount(parents, minlength=2000).tolist() == whole.tolist()


@pytest.mark.parametrize(
    ("per_parent", "message"),
    [
        ({"column": "organizations.name"}, "children_per_parent column organizations.name is a str column"),
        ({"column": "organizations.nope"}, "children_per_parent column 'nope' is not a column of organizations"),
        ({"column": "users.user_id"}, "children_per_parent column 'users.user_id' is not a column of organizations"),
        ({"column": "organizations.employee_count", "min": 5, "max": 2}, "min 5 must be >= 0 and <= max 2"),
    ],
)
def test_children_column_mistakes(make_plan, per_parent, message) -> None:
    config = _children_config()
    config["tables"][1]["foreign_keys"][0]["children_per_parent"] = {"min": 0, **per_parent}
    with pytest.raises(ConfigError) as caught:
        make_plan(config)
    assert "users.foreign_keys[0]" in str(caught.value)
    assert message in str(caught.value)


def test_an_offset_on_a_parent_column_is_checked_against_its_type(make_plan) -> None:
    config = fixture("offset_days.json")
    config["tables"] = config["tables"][:4]
    due = _column(_table(config, "invoices"), "due_on")
    due["rule"] = {"type": "fixed", "value": {"column": "subscriptions.started_on", "offset": "12 hours"}}
    with pytest.raises(ConfigError, match=r"12 hours. on subscriptions\.started_on: a date moves by whole days"):
        make_plan(config)
