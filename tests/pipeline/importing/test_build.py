"""The DDL-to-config stage without Beam: guesses, key safety and the notes that explain them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from synthbeam.pipeline.importing.build import build_config
from synthbeam.pipeline.importing.ddl import parse_ddl
from synthbeam.pipeline.importing.infer import guess_name, words
from synthbeam.pipeline.importing.model import Column, Table

AS_OF = dt.date(2026, 1, 1)


def _build(ddl: str, dialect: str = "postgres", rows: int = 1000) -> tuple[dict[str, Any], list[str]]:
    schema = parse_ddl(ddl, dialect)
    config = build_config(schema, rows=rows, as_of=AS_OF)
    return config, schema.notes


def _column(config: dict[str, Any], table: str, column: str) -> dict[str, Any]:
    found = next(t for t in config["tables"] if t["table_name"] == table)
    return next(c for c in found["columns"] if c["name"] == column)


def test_words_split_snake_and_camel_case() -> None:
    assert words("customerEmailAddress") == ["customer", "email", "address"]
    assert words("SHIP_TO__City") == ["ship", "to", "city"]


@pytest.mark.parametrize(
    ("table", "name", "kind", "length", "rule"),
    [
        ("users", "email_address", "str", None, "email"),
        ("customers", "name", "str", None, "name"),
        ("suppliers", "name", "str", None, "company"),
        ("addresses", "country", "str", 2, "country_code"),
        ("addresses", "country", "str", 60, "country"),
        ("orders", "shipping_fee", "float", None, {"type": "range", "min": 0, "max": 1000}),
        ("orders", "shipping_fee", "str", None, None),  # a money name on a text column guesses nothing
        ("logs", "client_ip", "str", None, "ipv4"),
        ("orders", "description", "str", None, "sentence"),
    ],
)
def test_name_guesses_respect_the_type(table: str, name: str, kind: str, length: int | None, rule: Any) -> None:
    guess, _ = guess_name(Table(table), Column(name, kind, kind.upper(), length=length))
    assert (guess.rule if guess else None) == rule


def test_edge_cases_are_noted_not_silently_dropped() -> None:
    config, notes = _build(
        """
        CREATE TABLE a (id INT PRIMARY KEY, boss INT NOT NULL REFERENCES a (id), d1 DATE NOT NULL, d2 DATE NOT NULL,
                        CHECK (d2 > d1), note TEXT, CHECK (upper(note) <> 'X'));
        CREATE TABLE p (x INT, y INT, PRIMARY KEY (x, y));
        CREATE TABLE c (id INT PRIMARY KEY, px INT, py INT, FOREIGN KEY (px, py) REFERENCES p (x, y),
                        FOREIGN KEY (id) REFERENCES missing (id));
        """
    )
    text = "\n".join(notes)
    assert "a: CHECK (UPPER(note) <> 'X') is not something the config can express" in text
    assert "c: composite foreign key (px, py) -> p: only px -> x is generated" in text
    assert "c: foreign key ['id'] -> missing: no such table; ignored" in text
    assert "a.boss: NOT NULL self-reference" in text and _column(config, "a", "boss")["nullable"] is True
    assert "a.d2: starts at d1 (CHECK asks for strictly after" in text
    assert _column(config, "a", "d2")["rule"]["start"] == {"column": "d1"}
    # a composite key of two free integers: each spans just enough for 1000 distinct pairs
    assert _column(config, "p", "x")["rule"] == {"type": "range", "min": 1, "max": 64}


def test_unique_values_cap_the_rows_and_keys_stay_countable() -> None:
    config, notes = _build(
        """
        CREATE TABLE sizes (code CHAR(1) PRIMARY KEY, label TEXT UNIQUE CHECK (label IN ('S', 'M', 'L')));
        CREATE TABLE t (tenant INT NOT NULL, email VARCHAR(100) NOT NULL, UNIQUE (tenant, email));
        """
    )
    sizes = next(t for t in config["tables"] if t["table_name"] == "sizes")
    assert sizes["rows"] == 3 and "sizes: its unique values allow only 3 rows" in "\n".join(notes)
    assert _column(config, "sizes", "code")["rule"] == {"type": "regex", "regex": "^[A-Z0-9]{1}$"}
    assert _column(config, "t", "email")["rule"]["type"] == "regex"  # a Faker email cannot be enumerated


def test_cycle_cut_at_the_nullable_foreign_key() -> None:
    config, notes = _build(
        """
        CREATE TABLE dept (id INT PRIMARY KEY, head INT);
        CREATE TABLE emp (id INT PRIMARY KEY, dept INT NOT NULL REFERENCES dept (id));
        ALTER TABLE dept ADD CONSTRAINT head_fk FOREIGN KEY (head) REFERENCES emp (id);
        """
    )
    dept = next(t for t in config["tables"] if t["table_name"] == "dept")
    assert "foreign_keys" not in dept and _column(config, "dept", "head")["rule"] is None
    assert any("form a cycle (dept -> emp -> dept)" in n or "form a cycle (emp -> dept -> emp)" in n for n in notes)


def test_types_bound_ranges_and_checks_narrow_them() -> None:
    config, _ = _build(
        """
        CREATE TABLE m (tiny SMALLINT, price NUMERIC(5, 2) CHECK (price > 10), pct INT CHECK (pct BETWEEN 5 AND 20),
                        label VARCHAR(12) CHECK (char_length(label) >= 4), flag BOOLEAN DEFAULT TRUE);
        """
    )
    assert _column(config, "m", "tiny")["rule"] == {"type": "range", "min": 0, "max": 10000}
    assert _column(config, "m", "price")["rule"] == {"type": "range", "min": 10.01, "max": 999.99, "precision": 2}
    assert _column(config, "m", "pct")["rule"] == {"type": "range", "min": 5, "max": 20}
    assert _column(config, "m", "label")["min_length"] == 4 and _column(config, "m", "label")["length"] == 12
    assert _column(config, "m", "flag")["rule"] == {"type": "bool", "probability": 0.8}


def test_profiled_fan_out_becomes_children_per_parent_or_zipf() -> None:
    schema = parse_ddl(
        """
        CREATE TABLE orders (id INT PRIMARY KEY);
        CREATE TABLE lines (id INT PRIMARY KEY, order_id INT NOT NULL REFERENCES orders (id));
        CREATE TABLE users (id INT PRIMARY KEY);
        CREATE TABLE events (id INT PRIMARY KEY, user_id INT REFERENCES users (id));
        """,
        "postgres",
    )
    tables = schema.tables
    tables["orders"].rows, tables["lines"].rows, tables["users"].rows, tables["events"].rows = 100, 300, 100, 500
    lines_fk, events_fk = tables["lines"].foreign_keys[0], tables["events"].foreign_keys[0]
    lines_fk.children_min, lines_fk.children_max = 1, 5  # every order has 1 to 5 lines
    events_fk.children_min, events_fk.children_max = 0, 120  # one user has most of the events
    config = build_config(schema, as_of=AS_OF)
    by_name = {t["table_name"]: t for t in config["tables"]}
    assert by_name["lines"]["foreign_keys"][0]["children_per_parent"] == {"min": 1, "max": 5}
    assert by_name["events"]["foreign_keys"][0]["distribution"] == "zipf"
    assert "children_per_parent" not in by_name["events"]["foreign_keys"][0]
