"""Configs shared by the Beam-layer and CLI tests (plain data, no Faker rules: fast and locale-free)."""

from __future__ import annotations

from typing import Any

# Every stored type, nullable columns, strings that need CSV quoting, a foreign key and a
# conditional rule.
ALL_TYPES: dict[str, Any] = {
    "seed": 11,
    "as_of": "2025-01-01",
    "tables": [
        {
            "table_name": "customers",
            "rows": 1000,
            "columns": [
                {"name": "customer_id", "type": "int", "constraint": ["PK"]},
                {"name": "code", "type": "str", "rule": {"type": "regex", "regex": "[A-Z]{3}-[0-9]{4}"}},
                {
                    "name": "tier",
                    "type": "str",
                    "rule": {"type": "choice", "value": ["gold", "silver", "bronze"]},
                    "nullable": True,
                    "null_probability": 0.2,
                },
                {
                    "name": "remark",
                    "type": "str",
                    "rule": {
                        "type": "choice",
                        "value": ["plain", "with, comma", 'say "hi"', "two\nlines", ""],
                    },
                    "nullable": True,
                    "null_probability": 0.1,
                },
                {"name": "token", "type": "uuid"},
                {"name": "active", "type": "bool", "rule": "bool"},
                {
                    "name": "signup",
                    "type": "date",
                    "rule": {"type": "date_range", "start": "2020-01-01", "end": "2024-12-31"},
                },
                {
                    "name": "wake",
                    "type": "time",
                    "rule": {"type": "time_range", "start": "06:00:00", "end": "09:00:00"},
                },
                {
                    "name": "seen",
                    "type": "timestamp",
                    "rule": {
                        "type": "timestamp_range",
                        "start": "2024-01-01 00:00:00",
                        "end": "2024-12-31 23:59:59",
                    },
                },
                {"name": "score", "type": "float", "rule": {"type": "range", "min": 0.0, "max": 100.0}},
            ],
        },
        {
            "table_name": "orders",
            "rows": 2500,
            "columns": [
                {"name": "order_id", "type": "int", "constraint": ["PK"]},
                {"name": "customer_id", "type": "int"},
                {
                    "name": "status",
                    "type": "str",
                    "rule": {"type": "choice", "value": ["pending", "shipped"]},
                },
                {"name": "amount", "type": "float", "rule": {"type": "range", "min": 1, "max": 500}},
                {
                    "name": "shipped_on",
                    "type": "date",
                    "rule": None,
                    "conditional_rules": [
                        {
                            "when": [{"column": "status", "operator": "==", "value": "shipped"}],
                            "rule": {"type": "date_range", "start": "2024-01-01", "end": "2024-12-31"},
                        }
                    ],
                },
            ],
            "foreign_keys": [
                {"child_column": "customer_id", "parent_table": "customers", "parent_column": "customer_id"}
            ],
        },
    ],
}
