"""``synthbeam import db``: a database loaded by synthbeam itself is read back, and with
``--profile`` the config it gives generates data with the original's null shares and choice
frequencies (within 2 points), without copying any value of a high-cardinality or personal column."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.compute as pc
import pytest

from tests.pipeline.conftest import read_parquet_table

SOURCE = {
    "seed": 7,
    "as_of": "2026-01-01",
    "tables": [
        {
            "table_name": "customers",
            "rows": 4000,
            "columns": [
                {"name": "customer_id", "type": "int", "constraint": ["PK"]},
                {"name": "email", "type": "str", "rule": "email", "constraint": ["unique"]},
                {
                    "name": "tier",
                    "type": "str",
                    "nullable": True,
                    "null_probability": 0.2,
                    "rule": {
                        "type": "choice",
                        "value": ["gold", "silver", "bronze"],
                        "probabilities": {"gold": 0.1, "silver": 0.3},
                    },
                },
                {"name": "city", "type": "str", "rule": "city", "nullable": True, "null_probability": 0.35},
                {"name": "age", "type": "int", "rule": {"type": "range", "min": 18, "max": 80}},
                {"name": "vip", "type": "bool", "rule": {"type": "bool", "probability": 0.15}},
                {
                    "name": "signup",
                    "type": "date",
                    "nullable": True,
                    "null_probability": 0.05,
                    "rule": {"type": "date_range", "start": "2022-01-01", "end": "2025-06-30"},
                },
            ],
        },
        {
            "table_name": "orders",
            "rows": 12000,
            "columns": [
                {"name": "order_id", "type": "int", "constraint": ["PK"]},
                {"name": "customer_id", "type": "int"},
                {
                    "name": "status",
                    "type": "str",
                    "rule": {
                        "type": "choice",
                        "value": ["new", "paid", "shipped", "lost"],
                        "probabilities": {"new": 0.25, "paid": 0.25, "shipped": 0.48, "lost": 0.02},
                    },
                },
                {
                    "name": "amount",
                    "type": "float",
                    "rule": {"type": "range", "min": 5, "max": 500},
                    "nullable": True,
                    "null_probability": 0.1,
                },
            ],
            "foreign_keys": [
                {
                    "child_column": "customer_id",
                    "parent_table": "customers",
                    "parent_column": "customer_id",
                    "null_probability": 0.08,
                }
            ],
        },
    ],
}
CHOICE_COLUMNS = {"customers": ["tier", "vip"], "orders": ["status"]}


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source config generated once, as Parquet."""
    from synthbeam.pipeline.cli import main

    folder = tmp_path_factory.mktemp("original")
    (folder / "source.json").write_text(json.dumps(SOURCE), encoding="utf-8")
    assert main(["generate", str(folder / "source.json"), "--out", str(folder / "out"), "--no-progress"]) == 0
    return folder


def _load(cli, original: Path, tmp_path: Path, engine: str) -> str:
    """The original rows in a database created by ``synthbeam ddl``; its URL."""
    ddl = cli("ddl", original / "source.json", "--dialect", engine)
    assert ddl.code == 0, ddl.err
    if engine == "duckdb":
        path = tmp_path / "source.duckdb"
        with duckdb.connect(str(path)) as connection:
            connection.execute(ddl.out)
            for table in ("customers", "orders"):
                connection.execute(
                    f"INSERT INTO {table} SELECT * FROM read_parquet('{original}/out/{table}/*.parquet')"
                )
        return f"duckdb:///{path}"
    path = tmp_path / "source.db"
    connection = sqlite3.connect(path)
    connection.executescript(ddl.out)
    for table in ("customers", "orders"):
        data = read_parquet_table(original / "out", table)
        rows = [
            tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in row)
            for row in zip(*(data.column(c).to_pylist() for c in data.column_names))
        ]
        connection.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in data.column_names)})", rows)
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


def _shares(out: Path, table: str) -> dict[str, Any]:
    data = read_parquet_table(out, table)
    shares: dict[str, Any] = {}
    for name in data.column_names:
        column = data.column(name)
        shares[f"{name}:null"] = column.null_count / len(column)
        if name in CHOICE_COLUMNS.get(table, []):
            present = column.drop_null()
            counts = pc.value_counts(present).to_pylist()
            for entry in counts:
                shares[f"{name}={entry['values']}"] = entry["counts"] / len(present)
    return shares


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_profile_round_trip_matches_shares(cli, original: Path, tmp_path: Path, engine: str) -> None:
    url = _load(cli, original, tmp_path, engine)
    config_path = tmp_path / "profiled.json"
    run = cli("import", "db", url, "--profile", "--as-of", "2026-01-01", "--out", config_path)
    assert run.code == 0, run.err
    assert cli("validate", config_path).code == 0
    text = config_path.read_text(encoding="utf-8")
    config = json.loads(text)
    tables = {t["table_name"]: t for t in config["tables"]}
    assert tables["customers"]["rows"] == 4000
    # nothing of a personal or high-cardinality column is copied
    source = read_parquet_table(original / "out", "customers")
    for name in ("email", "city"):
        values = {v for v in source.column(name).to_pylist() if v}
        assert not any(json.dumps(v) in text for v in values), name
    out = tmp_path / "out"
    assert cli("generate", config_path, "--out", out, "--no-progress").code == 0
    for table in ("customers", "orders"):
        before, after = _shares(original / "out", table), _shares(out, table)
        assert set(before) == set(after), table
        for key, share in before.items():
            assert abs(after[key] - share) <= 0.02, (table, key, share, after[key])


def test_import_db_reads_the_schema_without_profile(cli, original: Path, tmp_path: Path) -> None:
    url = _load(cli, original, tmp_path, "sqlite")
    run = cli("import", "db", url, "--as-of", "2026-01-01")
    assert run.code == 0, run.err
    tables = {t["table_name"]: t for t in json.loads(run.out)["tables"]}
    assert "rows" not in tables["orders"] and "profile" not in run.err
    assert tables["orders"]["foreign_keys"][0]["parent_table"] == "customers"
    columns = {c["name"]: c for c in tables["customers"]["columns"]}
    assert columns["email"]["constraint"] == ["unique"] and columns["customer_id"]["constraint"] == ["PK"]


def test_import_db_errors_are_one_line(cli, tmp_path: Path) -> None:
    for url in (f"sqlite:///{tmp_path}/missing.db", "oracle://host/db", "postgresql://nobody@127.0.0.1:1/x"):
        run = cli("import", "db", url)
        assert run.code == 1 and run.err.count("\n") == 1 and "unexpected" not in run.err, run.err
    run = cli("import", "db", "postgresql://me:hunter2@127.0.0.1:1/x")
    assert run.code == 1 and "hunter2" not in run.err and "me:***@127.0.0.1" in run.err
