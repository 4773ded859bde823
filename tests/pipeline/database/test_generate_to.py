"""``generate --to URL`` against real PostgreSQL, SQLite and DuckDB databases.

Every schema lands with every key the database's catalog can show; the rows equal the Parquet
output of the same config and seed; a run the database rejects, or one killed while it loads,
leaves the target as it was; the password never appears in output or report.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from synthbeam.pipeline.cli import main
from tests.db_fixtures import SCHEMA10, PostgresCluster
from tests.pipeline.database.catalogs import (
    duckdb_keys,
    duckdb_rows,
    pg_keys,
    pg_rows,
    sqlite_keys,
    sqlite_rows,
)

REPO = Path(__file__).resolve().parents[3]
CONFIGS = {"retail": REPO / "templates" / "retail.json", "hr": REPO / "templates" / "hr.json", "schema10": SCHEMA10}
SEED = "7"


@pytest.fixture(scope="module")
def parquet_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each schema generated to Parquet, files only: the reference the databases must equal."""
    outputs = {}
    for name, config in CONFIGS.items():
        out = tmp_path_factory.mktemp(f"parquet-{name}")
        assert main(["generate", str(config), "--out", str(out), "--seed", SEED, "--overwrite", "--no-progress"]) == 0
        outputs[name] = out
    return outputs


def _parquet_rows(out: Path, table: str) -> list[tuple]:
    files = sorted(glob.glob(str(out / table / "*.parquet")))
    rows = []
    for path in files:
        data = pq.read_table(path)
        rows += [tuple(row.values()) for row in data.to_pylist()]
    return rows


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda row: tuple((value is None, str(value)) for value in row))


class Database:
    """One target: its URL, and readers for its keys and rows."""

    def __init__(self, kind: str, tmp_path: Path, cluster: PostgresCluster | None) -> None:
        self.kind = kind
        self.cluster = cluster
        if kind == "postgres":
            assert cluster is not None
            self.url = cluster.create_database()
            self.dbname = self.url.rsplit("/", 1)[1]
        else:
            self.path = tmp_path / ("target.db" if kind == "sqlite" else "target.duckdb")
            self.url = f"{kind}:///{self.path}"

    def keys(self) -> set[tuple]:
        if self.kind == "postgres":
            with self.cluster.connect(self.dbname) as connection:
                return pg_keys(connection)
        if self.kind == "sqlite":
            return sqlite_keys(self.path)
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return duckdb_keys(connection)

    def rows(self, table: str) -> list[tuple]:
        if self.kind == "postgres":
            with self.cluster.connect(self.dbname) as connection:
                return pg_rows(connection, table)
        if self.kind == "sqlite":
            return sqlite_rows(self.path, table)
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return duckdb_rows(connection, table)

    def tables(self) -> set[str]:
        if self.kind == "postgres":
            with self.cluster.connect(self.dbname) as connection:
                return {r[0] for r in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        if self.kind == "sqlite":
            if not self.path.exists():
                return set()
            with sqlite3.connect(self.path) as connection:
                return {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not self.path.exists():
            return set()
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return {r[0] for r in connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()}

    def snapshot(self) -> dict[str, list[tuple]]:
        return {table: _sorted(self.rows(table)) for table in sorted(self.tables())}

    def stages(self) -> list[str]:
        """PostgreSQL staging schemas left in the database."""
        with self.cluster.connect(self.dbname) as connection:
            return [
                r[0]
                for r in connection.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'synthbeam_stage_%'")
            ]

    def ddl_keys(self, config: Path, tmp_path: Path) -> set[tuple]:
        """The keys the same database shows after executing ``synthbeam ddl`` for ``config``."""
        from synthbeam.pipeline.config import load_plan
        from synthbeam.pipeline.ddl import ddl_text

        plan, _ = load_plan(str(config))
        script = ddl_text(plan, self.kind)
        if self.kind == "postgres":
            dbname = self.cluster.create_database().rsplit("/", 1)[1]
            with self.cluster.connect(dbname) as connection:
                connection.execute(script)
                return pg_keys(connection)
        if self.kind == "sqlite":
            path = tmp_path / "ddl.db"
            with sqlite3.connect(path) as connection:
                connection.executescript(script)
            return sqlite_keys(path)
        with duckdb.connect(str(tmp_path / "ddl.duckdb")) as connection:
            connection.execute(script)
            return duckdb_keys(connection)


@pytest.fixture(params=["postgres", "sqlite", "duckdb"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    cluster = request.getfixturevalue("postgres_cluster") if request.param == "postgres" else None
    yield Database(request.param, tmp_path, cluster)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_loads_every_table_with_every_key_and_the_parquet_rows(
    cli: Callable[..., Any], database: Database, parquet_outputs: dict[str, Path], tmp_path: Path, name: str
) -> None:
    run = cli("generate", CONFIGS[name], "--to", database.url, "--seed", SEED, "--no-progress")
    assert run.code == 0, run.err
    assert f"into {database.url}" in run.out
    keys = database.keys()
    assert keys == database.ddl_keys(CONFIGS[name], tmp_path)  # generate --to and ddl agree
    kinds = {kind for _, kind, _, _ in keys}
    assert kinds == {"PRIMARY KEY", "UNIQUE", "FOREIGN KEY"}
    if name in ("hr", "schema10"):
        assert ("employees", "FOREIGN KEY", ("manager_id",), "employees") in keys  # self-reference
    if name == "schema10":
        assert ("order_lines", "PRIMARY KEY", ("order_id", "product_id"), None) in keys
        assert ("stores", "UNIQUE", ("region_id", "store_no"), None) in keys
    reference = parquet_outputs[name]
    tables = json.loads((reference / "_report.json").read_text())["tables"]
    assert database.tables() == set(tables)
    for table in tables:
        expected = _sorted(_parquet_rows(reference, table))
        assert expected, table
        assert _sorted(database.rows(table)) == expected, table


def _good_and_bad(write_config: Callable[..., Path]) -> tuple[Path, Path]:
    """Two configs with the same tables; the second masks a unique column to one value, which its key rejects."""
    good = {
        "seed": 3,
        "tables": [
            {
                "table_name": "accounts",
                "rows": 300,
                "columns": [
                    {"name": "id", "type": "int", "constraint": ["PK"]},
                    {
                        "name": "code",
                        "type": "str",
                        "constraint": ["unique"],
                        "rule": {"type": "regex", "regex": "[A-Z]{6}"},
                    },
                ],
            },
            {
                "table_name": "entries",
                "rows": 900,
                "columns": [
                    {"name": "entry_id", "type": "int", "constraint": ["PK"]},
                    {"name": "account_id", "type": "int"},
                ],
                "foreign_keys": [{"child_column": "account_id", "parent_table": "accounts", "parent_column": "id"}],
            },
        ],
    }
    bad = copy.deepcopy(good)
    bad["seed"] = 4
    bad["security"] = {"enable_data_masking": True}
    bad["tables"][0]["columns"][1]["masking"] = {"strategy": "redact"}
    return write_config(good, "good.json"), write_config(bad, "bad.json")


def test_a_rejected_key_fails_the_run_and_leaves_the_target_as_it_was(
    cli: Callable[..., Any], database: Database, write_config: Callable[..., Path]
) -> None:
    good, bad = _good_and_bad(write_config)
    assert cli("generate", good, "--to", database.url, "--no-progress").code == 0
    before = database.snapshot()
    assert set(before) == {"accounts", "entries"} and len(before["entries"]) == 900

    refused = cli("generate", good, "--to", database.url, "--no-progress", "--seed", "9")
    assert refused.code == 1
    assert refused.err.strip().splitlines() == [
        f"error: {database.url} already has table(s) accounts, entries; pass --overwrite to replace them"
    ]

    run = cli("generate", bad, "--to", database.url, "--overwrite", "--no-progress")
    assert run.code == 1
    # The plan's warning about masking a key comes first (every plan warning reaches generate), then one error.
    lines = [line for line in run.err.strip().splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and "Traceback" not in run.err
    assert "masking 'redact' makes its values repeat" in run.err
    assert lines[0].startswith(
        "error: accounts: the database rejected unique accounts_code_key (code); offending row: {"
    )
    assert "code: '[REDACTED]'" in lines[0]
    assert database.snapshot() == before
    if database.kind == "postgres":
        assert database.stages() == []


def test_a_rejected_key_in_a_new_file_leaves_no_file(
    cli: Callable[..., Any], tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    _, bad = _good_and_bad(write_config)
    for kind, path in (("sqlite", tmp_path / "new.db"), ("duckdb", tmp_path / "new.duckdb")):
        run = cli("generate", bad, "--to", f"{kind}:///{path}", "--no-progress")
        assert run.code == 1 and "accounts_code_key" in run.err
        assert not path.exists()


def _start(config: Path, url: str, tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    environment = {**os.environ, "TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "synthbeam.pipeline", "generate", str(config), "--to", url, "--no-progress"]
    process = subprocess.Popen(
        [*command, *extra], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    return process, scratch


@pytest.mark.slow  # a subprocess generating 380k rows per database
def test_a_run_killed_while_loading_leaves_the_target_as_it_was(
    cli: Callable[..., Any], database: Database, tmp_path: Path
) -> None:
    config = CONFIGS["retail"]
    assert cli("generate", config, "--to", database.url, "--no-progress", "--seed", "1").code == 0
    before = database.snapshot()

    process, scratch = _start(config, database.url, tmp_path, "--overwrite", "--seed", "2", "--scale", "25")
    deadline = time.monotonic() + 240
    # The pipeline's report appears in the run's own Parquet folder when the files are complete:
    # from then on the loader works on the database.
    while not glob.glob(str(scratch / "synthbeam-to-*" / "_report.json")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the pipeline did not finish"
        time.sleep(0.02)
    if database.kind == "postgres":  # the staging schema exists: COPY is about to start
        while not database.stages() and process.poll() is None:
            time.sleep(0.01)
    time.sleep(0.1 if database.kind == "postgres" else 0.3)
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL  # killed, not finished
    assert database.snapshot() == before

    if database.kind == "postgres":  # the next run clears the dead run's staging schema
        assert cli("generate", config, "--to", database.url, "--no-progress", "--seed", "1", "--overwrite").code == 0
        assert database.stages() == []
        assert database.snapshot() == before


def test_the_password_is_never_shown(
    cli: Callable[..., Any], postgres_cluster: PostgresCluster, write_config: Callable[..., Path], tmp_path: Path
) -> None:
    secret = "Sup3r-s3cret-pw"
    url = postgres_cluster.create_database().replace("postgres@", f"postgres:{secret}@")  # trust auth ignores it
    good, _ = _good_and_bad(write_config)
    out = tmp_path / "kept"
    run = cli("generate", good, "--to", url, "--out", out, "--no-progress")
    assert run.code == 0, run.err
    report = (out / "_report.json").read_text()
    assert secret not in run.out + run.err + report
    assert json.loads(report)["database"]["url"] == url.replace(secret, "***")
    assert "***" in json.loads(report)["command"][4]

    os.environ["SB_TEST_DB_PASSWORD"] = secret
    try:
        config = json.loads(good.read_text())
        bad_port = url.replace(f":{secret}", "").rsplit(":", 1)[0] + ":1/nowhere"
        config["output"] = {"database": {"url": bad_port, "password_env": "SB_TEST_DB_PASSWORD"}}
        failed = cli("generate", write_config(config, "env.json"), "--no-progress")
    finally:
        del os.environ["SB_TEST_DB_PASSWORD"]
    assert failed.code == 1
    assert failed.err.startswith("error: cannot connect to postgresql://postgres@127.0.0.1:1/nowhere")
    assert secret not in failed.out + failed.err


def test_schema_from_the_url_and_the_config_block(
    cli: Callable[..., Any], postgres_cluster: PostgresCluster, write_config: Callable[..., Path]
) -> None:
    good, _ = _good_and_bad(write_config)
    url = postgres_cluster.create_database()
    dbname = url.rsplit("/", 1)[1]
    assert cli("generate", good, "--to", url + "?schema=qa", "--no-progress").code == 0
    config = json.loads(good.read_text())
    config["output"] = {"database": {"url": url, "schema": "ci"}}
    assert cli("generate", write_config(config, "block.json"), "--no-progress").code == 0
    with postgres_cluster.connect(dbname) as connection:
        for schema in ("qa", "ci"):
            assert (f"{schema}.entries", "FOREIGN KEY", ("account_id",), f"{schema}.accounts") in pg_keys(
                connection, schema
            )
        public = connection.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
    assert public == 0


def test_a_file_that_is_not_a_database_is_refused_before_the_run(cli: Callable[..., Any], tmp_path: Path) -> None:
    for kind in ("sqlite", "duckdb"):
        path = tmp_path / f"notes.{kind}"
        path.write_text("not a database\n")
        run = cli("generate", CONFIGS["hr"], "--to", f"{kind}:///{path}", "--no-progress")
        assert run.code == 1
        assert run.err.startswith(f"error: {kind}:///{path}: ") and len(run.err.strip().splitlines()) == 1
        assert path.read_text() == "not a database\n"
        assert not (tmp_path / "output").exists()
