"""``synthbeam import ddl``: real-world-shaped schemas in four dialects become configs that validate
unchanged, keep every key, and whose generated rows the original DDL accepts (SQLite, DuckDB here;
PostgreSQL in tests/pipeline/database/test_import_roundtrip.py)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.pipeline.conftest import read_report
from tests.pipeline.importing.roundtrip import load_duckdb, load_sqlite

SCHEMAS = Path(__file__).resolve().parent / "schemas"


def _import(cli, tmp_path: Path, schema: str, dialect: str, *extra: str) -> tuple[dict[str, Any], str, Path]:
    config_path = tmp_path / f"{schema}.json"
    run = cli(
        "import",
        "ddl",
        SCHEMAS / f"{schema}.sql",
        "--dialect",
        dialect,
        "--as-of",
        "2026-01-01",
        "--out",
        config_path,
        *extra,
    )
    assert run.code == 0, run.err
    validated = cli("validate", config_path)
    assert validated.code == 0, validated.err
    return json.loads(config_path.read_text(encoding="utf-8")), run.err, config_path


def _tables(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["table_name"]: t for t in config["tables"]}


def _columns(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in table["columns"]}


def _fks(table: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["child_column"], f["parent_table"], f["parent_column"]) for f in table.get("foreign_keys", [])}


def test_postgres_commerce_schema_keeps_every_table_key_and_check(cli, tmp_path: Path) -> None:
    config, err, _ = _import(cli, tmp_path, "commerce_postgres", "postgres")
    tables = _tables(config)
    assert len(tables) == 39 and config["as_of"] == "2026-01-01"
    assert tables["order_items"]["primary_key"] == ["order_id", "line_no"]
    assert tables["exchange_rates"]["primary_key"] == ["currency_code", "rate_date"]
    assert tables["reviews"]["unique"] == [["product_id", "customer_id"]]
    assert tables["customers"]["unique"] == [["tenant_id", "email"]]
    # inline REFERENCES, table-level FOREIGN KEY, ALTER TABLE ADD [CONSTRAINT] FOREIGN KEY, self-references
    assert ("customer_id", "customers", "customer_id") in _fks(tables["orders"])
    assert ("currency", "currencies", "code") in _fks(tables["orders"])
    assert ("parent_id", "categories", "category_id") in _fks(tables["categories"])
    assert ("manager_id", "employees", "employee_id") in _fks(tables["employees"])
    # the departments <-> employees cycle is cut at the nullable departments.manager_id, which stays null
    assert "manager_id" not in {f["child_column"] for f in tables["departments"].get("foreign_keys", [])}
    assert _columns(tables["departments"])["manager_id"]["rule"] is None
    assert "cycle" in err
    orders = _columns(tables["orders"])
    assert orders["status"]["rule"]["value"] == [
        "pending",
        "paid",
        "packed",
        "shipped",
        "delivered",
        "cancelled",
        "refunded",
    ]
    assert orders["subtotal"]["rule"]["min"] == 0 and orders["subtotal"]["rule"]["precision"] == 2
    assert orders["shipped_at"]["rule"]["start"] == {"column": "placed_at"}  # CHECK (shipped_at >= placed_at)
    assert orders["order_number"]["constraint"] == ["unique", "not_null"]
    employees = _columns(tables["employees"])
    # the name's 20,000..200,000 lies within CHECK (salary BETWEEN 15000 AND 500000)
    assert employees["salary"]["rule"] == {"type": "range", "min": 20000.0, "max": 200000.0, "precision": 2}
    assert employees["ssn"]["sensitivity"] == "SENSITIVE" and employees["birth_date"]["sensitivity"] == "PII"
    assert employees["birth_date"]["rule"]["start"] == "1936-01-01"  # 90 years before as_of, after the CHECK
    users = _columns(tables["users"])
    assert users["email"]["rule"] == "email" and users["email"]["sensitivity"] == "PII"
    assert users["updated_at"]["rule"]["start"] == {"column": "created_at"}  # by name
    assert users["username"]["min_length"] == 3  # CHECK (char_length(username) >= 3)
    assert users["public_id"]["type"] == "uuid" and users["first_name"]["rule"] == "first_name"
    assert users["phone"]["length"] == 32 and users["phone"]["sensitivity"] == "PII"
    assert _columns(tables["suppliers"])["iban"]["rule"] == "iban"
    assert _columns(tables["currencies"])["minor_units"]["rule"] == {"type": "range", "min": 0, "max": 4}
    assert _columns(tables["payments"])["amount"]["rule"]["min"] == 0.01  # CHECK (amount > 0), 2 decimals
    assert _columns(tables["notifications"])["channel"]["rule"]["value"] == ["email", "sms", "push"]
    assert tables["roles"]["rows"] == 4
    for kind in ("CREATE VIEW", "CREATE FUNCTION", "CREATE INDEX", "GRANT", "COMMENT"):
        assert f"skipped: {kind}" in err, kind
    assert "note: users.email: email (name 'email')" in err


def test_mysql_blog_schema(cli, tmp_path: Path) -> None:
    config, err, _ = _import(cli, tmp_path, "blog_mysql", "mysql")
    tables = _tables(config)
    assert set(tables) == {"authors", "categories", "posts", "tags", "post_tags", "comments", "subscriptions"}
    authors = _columns(tables["authors"])
    assert authors["id"]["constraint"] == ["PK"] and "rule" not in authors["id"]
    assert authors["is_verified"]["type"] == "bool"  # TINYINT(1)
    assert authors["role"]["rule"]["value"] == ["writer", "editor", "admin"]
    assert authors["email"]["constraint"] == ["unique", "not_null"]  # UNIQUE KEY uq_authors_email (email)
    assert tables["post_tags"]["primary_key"] == ["post_id", "tag_id"]
    assert ("parent_comment_id", "comments", "id") in _fks(tables["comments"])
    assert tables["subscriptions"]["unique"] == [["email", "author_id"]]
    assert _columns(tables["posts"])["word_count"]["rule"] == {"type": "range", "min": 0, "max": 100}  # a count
    # the name says 1..5, inside CHECK (score BETWEEN 0 AND 10); DECIMAL(3,1) gives one decimal
    assert _columns(tables["comments"])["score"]["rule"] == {"type": "range", "min": 1.0, "max": 5.0, "precision": 1}
    comments = _columns(tables["comments"])
    assert comments["author_name"]["rule"] == "name" and comments["author_name"]["sensitivity"] == "PII"
    assert _columns(tables["posts"])["published_at"]["rule"]["start"] == {"column": "created_at"}
    assert "skipped: CREATE VIEW" in err and "skipped: SET" in err
    assert "skipped: INDEX in CREATE TABLE posts" in err


def test_sqlite_chinook_round_trip(cli, tmp_path: Path) -> None:
    """SQLite enforces the DDL's CHECKs and, with the pragma, its foreign keys."""
    config, _, config_path = _import(cli, tmp_path, "chinook_sqlite", "sqlite", "--rows", "200")
    tables = _tables(config)
    assert tables["playlist_track"]["primary_key"] == ["playlist_id", "track_id"]
    assert tables["genres"]["rows"] == 7  # 7 CHECK values, unique
    assert _columns(tables["tracks"])["unit_price"]["rule"] == {
        "type": "range",
        "min": 0.49,
        "max": 1.99,
        "precision": 2,
    }
    out = tmp_path / "out"
    assert cli("generate", config_path, "--out", out, "--no-progress").code == 0
    connection = sqlite3.connect(tmp_path / "chinook.db")
    counts = load_sqlite(connection, (SCHEMAS / "chinook_sqlite.sql").read_text(encoding="utf-8"), out, config)
    managers = connection.execute("SELECT count(reports_to) FROM employees").fetchone()[0]
    connection.close()
    assert counts == {name: entry["rows_written"] for name, entry in read_report(out)["tables"].items()}
    assert managers > 0


def test_duckdb_events_round_trip(cli, tmp_path: Path) -> None:
    """DuckDB checks keys, foreign keys, CHECKs and its enum type as the rows go in."""
    config, _, config_path = _import(cli, tmp_path, "events_duckdb", "duckdb", "--rows", "300")
    tables = _tables(config)
    assert _columns(tables["devices"])["platform"]["rule"]["value"] == ["ios", "android", "web"]
    assert _columns(tables["devices"])["device_id"]["type"] == "uuid"
    assert tables["daily_account_stats"]["primary_key"] == ["account_id", "stat_date"]
    out = tmp_path / "out"
    assert cli("generate", config_path, "--out", out, "--no-progress").code == 0
    with duckdb.connect(str(tmp_path / "events.duckdb")) as connection:
        counts = load_duckdb(connection, (SCHEMAS / "events_duckdb.sql").read_text(encoding="utf-8"), out, config)
        bad = connection.execute("SELECT count(*) FROM sessions WHERE ended_at < started_at").fetchone()[0]
    assert counts == {name: entry["rows_written"] for name, entry in read_report(out)["tables"].items()}
    assert bad == 0


@pytest.mark.parametrize(
    ("dialect", "ddl", "table", "column", "expected"),
    [
        (
            "bigquery",
            "CREATE TABLE ds.t (id INT64 NOT NULL, email STRING, amount NUMERIC(9, 2), ts TIMESTAMP, "
            "PRIMARY KEY (id) NOT ENFORCED)",
            "t",
            "amount",
            {"type": "float", "rule": {"type": "range", "min": 0.0, "max": 1000.0, "precision": 2}},
        ),
        (
            "snowflake",
            "CREATE OR REPLACE TABLE db.s.t (id NUMBER(38,0) AUTOINCREMENT PRIMARY KEY, "
            "name VARCHAR(16777216), loaded TIMESTAMP_NTZ, flag BOOLEAN)",
            "t",
            "loaded",
            {"type": "timestamp"},
        ),
    ],
)
def test_warehouse_dialects(cli, tmp_path: Path, dialect, ddl, table, column, expected) -> None:
    path = tmp_path / "schema.sql"
    path.write_text(ddl + ";\n", encoding="utf-8")
    run = cli("import", "ddl", path, "--dialect", dialect, "--as-of", "2026-01-01")
    assert run.code == 0, run.err
    config = json.loads(run.out)
    found = _columns(_tables(config)[table])[column]
    assert {k: found[k] for k in expected} == expected


def test_syntax_error_names_the_line(cli, tmp_path: Path) -> None:
    path = tmp_path / "broken.sql"
    path.write_text("CREATE TABLE ok (id INT PRIMARY KEY);\n\nCREATE TABLE t (\n  id INT\n  name TEXT\n);\n")
    run = cli("import", "ddl", path)
    assert run.code == 1 and run.out == ""
    assert run.err.count("\n") == 1 and "line 5" in run.err and "Traceback" not in run.err


def test_usage_errors_are_one_line(cli, tmp_path: Path) -> None:
    path = tmp_path / "s.sql"
    path.write_text("CREATE TABLE t (id INT);")
    for args in (
        ("import", "ddl", path, "--dialect", "oracle"),
        ("import", "ddl", tmp_path / "missing.sql"),
        ("import",),
    ):
        run = cli(*args)
        assert run.code == 1 and run.err.count("\n") == 1 and "unexpected" not in run.err, run.err
    views_only = tmp_path / "views.sql"
    views_only.write_text("CREATE VIEW v AS SELECT 1;")
    run = cli("import", "ddl", views_only)
    assert run.code == 1 and "no tables" in run.err
