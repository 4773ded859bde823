"""``generate --to duckdb:///path.duckdb``: one transaction that reads the staged Parquet directly.

DuckDB commits a transaction as a whole (a killed process leaves the file as of the last
commit), so the load is one ``BEGIN ... COMMIT``: drop the config's tables that exist (only with
``--overwrite``, children first), create them with every key (DuckDB cannot add keys to a table
later), then ``INSERT ... SELECT FROM read_parquet(...)`` per table, parents first, so DuckDB
checks each primary, unique and foreign key as the rows arrive.

DuckDB checks a foreign key against rows already in the table before the statement, so a
self-referencing table (each row points to an earlier one) is inserted in rounds: the rows
whose parents are in, then the rows whose parents came in the round before, and so on
(a hierarchy's depth in rounds). A key DuckDB rejects rolls the transaction back; the offending
row is then looked up in the staged files.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from synthbeam.rules.core.model import Plan

from ..ddl import table_set
from ..errors import UserError
from . import staged
from .keys import FOREIGN, first_row, keys_of, offender_query, quote
from .result import LoadResult, refuse_existing, replace_tables
from .target import DatabaseTarget

__all__ = ["load_duckdb", "precheck_duckdb"]

PENDING = "synthbeam_pending"
ROW = "synthbeam_row"


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise UserError("loading into DuckDB needs the duckdb package: pip install 'synthbeam[db]'") from None
    return duckdb


def _existing(connection: Any, names: list[str]) -> list[str]:
    found = {
        row[0]
        for row in connection.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()
    }
    return [name for name in names if name in found]


def precheck_duckdb(target: DatabaseTarget, plan: Plan, overwrite: bool) -> None:
    duckdb = _duckdb()
    assert target.path is not None
    if not target.path.exists():
        if not target.path.parent.is_dir():
            raise UserError(f"{target.display}: folder {target.path.parent} does not exist")
        return
    try:
        with duckdb.connect(str(target.path), read_only=True) as connection:
            existing = _existing(connection, list(plan.tables))
    except duckdb.Error as exc:
        raise UserError(f"{target.display}: cannot open it as a DuckDB database ({str(exc).splitlines()[0]})") from None
    refuse_existing(target, existing, overwrite)


def _parquet(staged_dir: Path, table: str) -> str:
    paths = ", ".join("'" + path.replace("'", "''") + "'" for path in staged.files(staged_dir, table))
    return f"read_parquet([{paths}])"


def load_duckdb(target: DatabaseTarget, plan: Plan, staged_dir: Path, overwrite: bool) -> LoadResult:
    duckdb = _duckdb()
    assert target.path is not None
    created = not target.path.exists()
    tables = table_set(plan, "duckdb")
    keys = keys_of(tables)
    result = LoadResult(target.display)
    connection = duckdb.connect(str(target.path))
    failed: Any = None
    try:
        connection.execute("BEGIN TRANSACTION")
        existing = _existing(connection, list(plan.tables))
        replace_tables(connection, target, plan, "duckdb", tables, existing, overwrite)
        started = time.perf_counter()
        for table in tables.tables:
            columns = [c.name for c in table.columns]
            self_keys = [k for k in keys if k.kind == FOREIGN and k.table == table.name and k.parent == table.name]
            try:
                if self_keys:
                    _insert_in_rounds(connection, staged_dir, table.name, columns, self_keys)
                else:
                    names = ", ".join(map(quote, columns))
                    source = _parquet(staged_dir, table.name)
                    connection.execute(f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM {source}")
            except duckdb.ConstraintException as exc:
                failed = (table.name, str(exc).splitlines()[0])
                raise
            result.rows[table.name] = connection.execute(f"SELECT count(*) FROM {quote(table.name)}").fetchone()[0]
        result.seconds["insert_and_keys"] = time.perf_counter() - started
        connection.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):  # the failed statement may have ended the transaction already
            connection.execute("ROLLBACK")
        connection.close()
        if created:
            target.path.unlink(missing_ok=True)
            Path(str(target.path) + ".wal").unlink(missing_ok=True)
        if failed is not None:
            raise _rejected(staged_dir, failed[0], failed[1], keys) from None
        raise
    connection.close()
    return result


def _insert_in_rounds(connection: Any, staged_dir: Path, name: str, columns: list[str], self_keys: list) -> None:
    names = ", ".join(map(quote, columns))
    connection.execute(
        f"CREATE TEMP TABLE {PENDING} AS SELECT {names}, row_number() OVER () AS {ROW} "
        f"FROM {_parquet(staged_dir, name)}"
    )
    ready = " AND ".join(
        "("
        + " OR ".join(f"p.{quote(c)} IS NULL" for c in key.columns)
        + f" OR EXISTS (SELECT 1 FROM {quote(name)} t WHERE "
        + " AND ".join(f"t.{quote(pc)} = p.{quote(c)}" for c, pc in zip(key.columns, key.parent_columns))
        + "))"
        for key in self_keys
    )
    while True:
        left = connection.execute(f"SELECT count(*) FROM {PENDING}").fetchone()[0]
        if not left:
            break
        connection.execute(
            f"CREATE OR REPLACE TEMP TABLE synthbeam_ready AS SELECT {ROW} FROM {PENDING} p WHERE {ready}"
        )
        moving = connection.execute("SELECT count(*) FROM synthbeam_ready").fetchone()[0]
        if not moving:  # a cycle or a missing parent: insert the rest and let DuckDB name the key
            connection.execute(f"INSERT INTO {quote(name)} ({names}) SELECT {names} FROM {PENDING}")
            break
        connection.execute(
            f"INSERT INTO {quote(name)} ({names}) SELECT {names} FROM {PENDING} "
            f"WHERE {ROW} IN (SELECT {ROW} FROM synthbeam_ready) ORDER BY {ROW}"
        )
        connection.execute(f"DELETE FROM {PENDING} WHERE {ROW} IN (SELECT {ROW} FROM synthbeam_ready)")
    connection.execute(f"DROP TABLE {PENDING}")
    connection.execute("DROP TABLE IF EXISTS synthbeam_ready")


def _rejected(staged_dir: Path, table: str, message: str, keys: list) -> Exception:
    """Which of ``table``'s keys the staged rows break, with one row (DuckDB's words if none is found)."""
    duckdb = _duckdb()
    with duckdb.connect() as scratch:
        for key in (k for k in keys if k.table == table):
            row = first_row(scratch.cursor(), offender_query(key, lambda t: _parquet(staged_dir, t)))
            if row is not None:
                return key.rejected(row)
    return UserError(f"{table}: the database rejected a row: {message}")
