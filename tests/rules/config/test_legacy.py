"""Older config shapes become the contract's table list before validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from synthbeam.rules.config.legacy import infer_column_type, is_legacy_flat, upgrade
from synthbeam.rules.config.loader import load_config, load_config_text
from synthbeam.rules.core.errors import Issues

FIXTURES = Path(__file__).parents[1] / "fixtures"

CONVERTED = {
    "seed": 11,
    "tables": [
        {"table_name": "customers", "columns": [
            {"name": "customer_id", "type": "int", "rule": "random_int"},
            {"name": "email", "type": "email", "rule": "email"},
            {"name": "first_name", "type": "str", "rule": "first_name"},
            {"name": "signup", "type": "date",
             "rule": {"type": "date_range", "start": "2020-01-01", "end": "2020-12-31"}},
            {"name": "balance", "type": "int", "rule": {"type": "range", "min": 0, "max": 1000}},
            {"name": "tier", "type": "str", "rule": {"type": "choice", "value": ["gold", "silver"]}},
            {"name": "nickname", "type": "str", "rule": None},
        ]},
        {"table_name": "orders", "rows": 40, "columns": [
            {"name": "order_id", "type": "uuid", "rule": {"type": "uuid"}},
            {"name": "amount", "type": "float", "rule": {"type": "range", "min": 0.5, "max": 99.9}},
            {"name": "paid", "type": "bool", "rule": "bool"},
            {"name": "status", "type": "str", "rule": {"type": "choice", "value": ["new", "done"]},
             "constraint": ["not_null"]},
        ]},
    ],
}


def test_flat_format_is_converted_with_a_note() -> None:
    loaded = load_config(FIXTURES / "legacy_flat.json")
    assert loaded.issues.items == []
    assert loaded.notes == ["converted from the legacy flat format (2 tables)"]
    assert loaded.data == CONVERTED


def test_round_trip_converted_config_loads_unchanged(tmp_path: Path) -> None:
    first = load_config(FIXTURES / "legacy_flat.json")
    path = tmp_path / "converted.json"
    path.write_text(json.dumps(first.data), encoding="utf-8")
    second = load_config(path)
    assert second.data == first.data
    assert second.notes == [] and second.issues.items == []


@pytest.mark.parametrize(("rule", "expected"), [
    ("random_int", "int"),
    ("Random Int", "int"),
    ("pyint", "int"),
    ("pyfloat", "float"),
    ("bool", "bool"),
    ("uuid", "uuid"),
    ("email", "email"),
    ("phone", "phone"),
    ("phonenumber", "phone"),
    ("timestamp", "str"),
    ("cc", "str"),
    ("company", "str"),
    (None, "str"),
    ({"type": "range", "min": 1, "max": 9}, "int"),
    ({"type": "range", "min": 1, "max": 9.5}, "float"),
    ({"type": "range", "min": True, "max": 9}, "str"),
    ({"type": "range"}, "str"),
    ({"type": "date"}, "date"),
    ({"type": "date_range"}, "date"),
    ({"type": "time_range"}, "time"),
    ({"type": "timestamp_range"}, "timestamp"),
    ({"type": "phone_number"}, "phone"),
    ({"type": "fixed", "value": 3}, "int"),
    ({"type": "default", "value": True}, "bool"),
    ({"type": "fixed", "value": "x"}, "str"),
    ({"type": "choice", "value": [1, 2.5]}, "float"),
    ({"type": "choice", "value": ["a", 1]}, "str"),
    ({"type": "random_int", "params": {"min": 1}}, "int"),
    ({"type": "regex", "regex": "[0-9]+"}, "str"),
])
def test_inferred_column_types(rule: Any, expected: str) -> None:
    assert infer_column_type(rule) == expected


def test_detection() -> None:
    assert is_legacy_flat({"t": {"a": "email"}})
    assert is_legacy_flat({"seed": 1, "performance": {"max_workers": 2}, "t": {"a": {"type": "uuid"}}})
    assert not is_legacy_flat({"tables": [], "t": {"a": "email"}})
    assert not is_legacy_flat({"seed": 1})
    assert not is_legacy_flat({"t": {"a": 5}})
    assert not is_legacy_flat({"t": []})
    # A misspelt "tables" holding tables keyed by name is not mistaken for a table.
    assert not is_legacy_flat({"tabels": {"orders": {"columns": [{"name": "a", "type": "int"}]}}})


def test_misspelt_tables_key_is_reported_not_converted() -> None:
    text = json.dumps({"tabels": {"orders": {"columns": [{"name": "a", "type": "int"}]}}})
    loaded = load_config_text(text, "c.json", Path("."))
    assert [str(e) for e in loaded.issues.errors] == [
        "missing required key 'tables'",
        "unknown top-level key 'tabels'; did you mean 'tables'?",
    ]


def test_problems_in_converted_tables_are_placed_by_the_converted_form() -> None:
    text = json.dumps({"customers": {"id": "random_int", "email": {"type": "email", "prefix": 3}}})
    loaded = load_config_text(text, "c.json", Path("."))
    assert [str(e) for e in loaded.issues.errors] == [
        "customers.columns[1] (email).rule.prefix: must be a string, got integer 3"
    ]


def test_tables_keyed_by_name() -> None:
    config = {"seed": 1, "tables": {
        "customers": {"rows": 5, "columns": [{"name": "id", "type": "int"}]},
        "orders": {"table_name": "orders", "columns": [{"name": "id", "type": "int"}]},
        "events": {"id": "uuid", "at": {"type": "timestamp_range"}},
    }}
    loaded = load_config_text(json.dumps(config), "c.json", Path("."))
    assert loaded.issues.items == []
    assert loaded.notes == ["tables given as an object keyed by name; read as a list of 3"]
    assert loaded.data["tables"] == [
        {"table_name": "customers", "rows": 5, "columns": [{"name": "id", "type": "int"}]},
        {"table_name": "orders", "columns": [{"name": "id", "type": "int"}]},
        {"table_name": "events", "columns": [{"name": "id", "type": "uuid", "rule": "uuid"},
                                             {"name": "at", "type": "timestamp",
                                              "rule": {"type": "timestamp_range"}}]},
    ]


def test_tables_keyed_by_name_with_a_different_table_name() -> None:
    issues = Issues()
    data, _ = upgrade({"tables": {"orders": {"table_name": "sales", "columns": []}, "x": 3}}, issues)
    assert [str(e) for e in issues.errors] == [
        "tables.orders: table_name 'sales' differs from its key 'orders'; remove one"
    ]
    assert data["tables"] == [{"table_name": "orders", "columns": []}, 3]


def test_table_list_form_is_left_as_it_is() -> None:
    config = {"tables": [{"table_name": "t", "columns": [{"name": "a", "type": "int"}]}]}
    issues = Issues()
    data, notes = upgrade(config, issues)
    assert data is config and notes == [] and not issues.items
