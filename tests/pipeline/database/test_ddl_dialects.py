"""``synthbeam ddl``: every dialect compiles, and PostgreSQL, SQLite and DuckDB execute the output."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from tests.db_fixtures import SCHEMA10, PostgresCluster
from tests.pipeline.database.catalogs import duckdb_keys, pg_keys, sqlite_keys

REPO = Path(__file__).resolve().parents[3]
CONFIGS = {
    "retail": REPO / "templates" / "retail.json",
    "hr": REPO / "templates" / "hr.json",
    "schema10": SCHEMA10,
}
# (table, constraint type, columns, referenced table) every schema must end up with.
EXPECTED = {
    "schema10": {
        ("categories", "FOREIGN KEY", ("parent_id",), "categories"),
        ("product_prices", "PRIMARY KEY", ("product_id", "valid_from"), None),
        ("customer_addresses", "PRIMARY KEY", ("customer_id", "address_no"), None),
        ("order_lines", "PRIMARY KEY", ("order_id", "product_id"), None),
        ("stores", "UNIQUE", ("region_id", "store_no"), None),
        ("employees", "FOREIGN KEY", ("manager_id",), "employees"),
        ("orders", "UNIQUE", ("reference",), None),
    },
    "hr": {
        ("employees", "FOREIGN KEY", ("manager_id",), "employees"),
        ("departments", "UNIQUE", ("code",), None),
    },
    "retail": {
        ("order_items", "FOREIGN KEY", ("order_id",), "orders"),
        ("customers", "UNIQUE", ("email",), None),
        ("products", "PRIMARY KEY", ("product_id",), None),
    },
}


def _ddl(cli, config: Path, dialect: str) -> str:
    run = cli("ddl", config, "--dialect", dialect)
    assert run.code == 0, run.err
    return run.out


def _statements(script: str) -> list[str]:
    body = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_postgres_executes_ddl(cli, postgres_cluster: PostgresCluster, name: str) -> None:
    script = _ddl(cli, CONFIGS[name], "postgres")
    dbname = postgres_cluster.create_database().rsplit("/", 1)[1]
    with postgres_cluster.connect(dbname) as connection:
        connection.execute(script)
        constraints = pg_keys(connection)
        varchar = connection.execute(
            "SELECT table_name, column_name, character_maximum_length FROM information_schema.columns "
            "WHERE table_schema = 'public' AND character_maximum_length IS NOT NULL"
        ).fetchall()
    assert EXPECTED[name] <= constraints
    if name == "schema10":
        assert ("stores", "name", 40) in varchar and ("regions", "code", 8) in varchar


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_sqlite_executes_ddl(cli, tmp_path: Path, name: str) -> None:
    script = _ddl(cli, CONFIGS[name], "sqlite")
    with sqlite3.connect(tmp_path / "ddl.db") as connection:
        connection.executescript(script)
    found = sqlite_keys(tmp_path / "ddl.db")
    assert EXPECTED[name] <= found


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_duckdb_executes_ddl(cli, tmp_path: Path, name: str) -> None:
    script = _ddl(cli, CONFIGS[name], "duckdb")
    with duckdb.connect(str(tmp_path / "ddl.duckdb")) as connection:
        connection.execute(script)
        found = duckdb_keys(connection)
    assert EXPECTED[name] <= found


def test_every_dialect_compiles_with_its_own_types(cli) -> None:
    mysql = _ddl(cli, SCHEMA10, "mysql")
    assert "\temail VARCHAR(255),\n" in mysql  # keyed text gets a length
    assert "hired_at DATETIME(6)" in mysql and "opens_at TIME(6)" in mysql  # microseconds kept
    bigquery = _ddl(cli, SCHEMA10, "bigquery")
    assert "PRIMARY KEY (product_id, valid_from) NOT ENFORCED" in bigquery
    assert "INT64" in bigquery and "FLOAT64" in bigquery and "DATETIME" in bigquery
    assert not any("UNIQUE" in statement for statement in _statements(bigquery))
    assert "-- note: stores: UNIQUE (region_id, store_no) left out" in bigquery


def test_tables_in_dependency_order_and_config_flag(cli) -> None:
    script = _ddl(cli, CONFIGS["retail"], "postgres")
    order = [s.split()[2] for s in _statements(script)]
    assert order == ["customers", "products", "orders", "order_items"]
    again = cli("ddl", "--config", CONFIGS["retail"], "--dialect", "postgresql")
    assert again.code == 0 and again.out == script


def test_masked_and_encrypted_columns_are_text(cli, write_config, tmp_path: Path) -> None:
    assert cli("keygen", tmp_path / "secret.key").code == 0
    config = {
        "seed": 1,
        "security": {"enable_data_masking": True, "enable_encryption": True, "key_file": str(tmp_path / "secret.key")},
        "tables": [
            {
                "table_name": "people",
                "rows": 10,
                "columns": [
                    {"name": "id", "type": "int", "constraint": ["PK"]},
                    {"name": "born", "type": "date", "sensitivity": "PII"},
                    {"name": "code", "type": "str", "length": 6, "masking": {"strategy": "hash"}},
                    {"name": "salary", "type": "int", "constraint": ["not_null"], "masking": {"strategy": "null"}},
                ],
            }
        ],
    }
    run = cli("ddl", write_config(config), "--dialect", "postgres")
    assert run.code == 0, run.err
    assert "born TEXT" in run.out and "code TEXT" in run.out and "id BIGINT NOT NULL" in run.out
    assert "salary BIGINT," in run.out  # null-masked: nullable, as in the files


def test_unknown_dialect_is_one_line(cli) -> None:
    run = cli("ddl", CONFIGS["hr"], "--dialect", "oracle")
    assert run.code == 1
    assert run.err.strip() == "error: unknown dialect 'oracle': use one of postgres, sqlite, duckdb, mysql, bigquery"
