"""``generate --to sqlite:///path.db``: one transaction in the target file.

SQLite is atomic per transaction, also across a killed process (the rollback journal is replayed
when the file is next opened), so the load is one ``BEGIN IMMEDIATE ... COMMIT``: drop the
config's tables that exist (only with ``--overwrite``), create them with every key, insert the
staged rows, validate the foreign keys, commit. Other tables in the file are not touched. A file
this run created is removed again when the run fails.

Keys: SQLite cannot add constraints to a table after it is created, so primary and unique keys
are checked row by row during the insert (``executemany`` of whole Arrow batches: one prepared
statement, no SQL per row), and foreign keys, which SQLite checks only when asked, are checked
once after the insert with ``PRAGMA foreign_key_check``.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from synthbeam.rules.core.model import Plan

from ..ddl import table_set
from ..errors import UserError
from . import staged
from .keys import FOREIGN, Key, first_row, keys_of, offender_query, quote
from .result import LoadResult, refuse_existing, replace_tables
from .target import DatabaseTarget

__all__ = ["load_sqlite", "precheck_sqlite"]


def _existing(connection: sqlite3.Connection, names: list[str]) -> list[str]:
    found = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [name for name in names if name in found]


def precheck_sqlite(target: DatabaseTarget, plan: Plan, overwrite: bool) -> None:
    assert target.path is not None
    if not target.path.exists():
        if not target.path.parent.is_dir():
            raise UserError(f"{target.display}: folder {target.path.parent} does not exist")
        return
    try:
        connection = sqlite3.connect(f"file:{target.path}?mode=ro", uri=True)
        try:
            existing = _existing(connection, list(plan.tables))
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{target.display}: not a usable SQLite database ({exc})") from None
    refuse_existing(target, existing, overwrite)


def load_sqlite(target: DatabaseTarget, plan: Plan, staged_dir: Path, overwrite: bool) -> LoadResult:
    assert target.path is not None
    created = not target.path.exists()
    tables = table_set(plan, "sqlite")
    result = LoadResult(target.display)
    connection = sqlite3.connect(target.path, isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys = OFF")  # checked once, after the insert
        connection.execute("BEGIN IMMEDIATE")
        existing = _existing(connection, list(plan.tables))
        replace_tables(connection, target, plan, "sqlite", tables, existing, overwrite)
        started = time.perf_counter()
        for name in plan.tables:
            rows = _insert(connection, staged_dir, name, tables)
            result.rows[name] = rows
        result.seconds["insert_and_keys"] = time.perf_counter() - started
        started = time.perf_counter()
        _check_foreign_keys(connection, tables)
        result.seconds["foreign_keys"] = time.perf_counter() - started
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        connection.close()
        if created:
            target.path.unlink(missing_ok=True)
        raise
    connection.close()
    return result


def _insert(connection: sqlite3.Connection, staged_dir: Path, name: str, tables) -> int:
    table = next(t for t in tables.tables if t.name == name)
    columns = [c.name for c in table.columns]
    sql = f"INSERT INTO {quote(name)} ({', '.join(map(quote, columns))}) VALUES ({', '.join('?' * len(columns))})"
    rows = 0
    try:
        for batch in staged.batches(staged_dir, name):
            connection.executemany(sql, staged.sqlite_values(batch.select(columns)))
            rows += batch.num_rows
    except sqlite3.IntegrityError as exc:
        raise _rejected(connection, staged_dir, name, columns, tables, str(exc)) from None
    return rows


def _rejected(connection, staged_dir: Path, name: str, columns: list[str], tables, message: str):
    """The key ``message`` names (``UNIQUE constraint failed: t.a, t.b``), with one offending row.

    The rejected row never reached the table, so the table's staged rows are copied into a
    temporary table without keys, where the duplicate can be found.
    """
    failed = tuple(part.strip().split(".", 1)[-1] for part in message.split(":", 1)[-1].split(","))
    keys = [k for k in keys_of(tables) if k.table == name and k.kind != FOREIGN]
    key = next((k for k in keys if k.columns == failed), None)
    if key is None:  # a NOT NULL or other check: SQLite's own words
        return UserError(f"{name}: the database rejected a row: {message}")
    scratch = "synthbeam_check"
    connection.execute(f"CREATE TEMP TABLE {quote(scratch)} AS SELECT * FROM {quote(name)} WHERE 0")
    insert = f"INSERT INTO temp.{quote(scratch)} VALUES ({', '.join('?' * len(columns))})"
    for batch in staged.batches(staged_dir, name):
        connection.executemany(insert, staged.sqlite_values(batch.select(columns)))
    sql = offender_query(key, lambda t: f"temp.{quote(scratch)}" if t == name else quote(t))
    return key.rejected(first_row(connection.cursor(), sql))


def _check_foreign_keys(connection: sqlite3.Connection, tables) -> None:
    violation = connection.execute("PRAGMA foreign_key_check").fetchone()
    if violation is None:
        return
    table, rowid, parent, fk_id = violation
    references = {row[0]: row for row in connection.execute(f"PRAGMA foreign_key_list({quote(table)})")}
    child_column = references[fk_id][3]
    key = next(
        (k for k in keys_of(tables) if k.kind == FOREIGN and k.table == table and k.columns == (child_column,)),
        Key(table, f"{table}_{child_column}_fkey", FOREIGN, (child_column,), parent, (references[fk_id][4],)),
    )
    row = first_row(connection.cursor(), f"SELECT * FROM {quote(table)} WHERE rowid = ?", (rowid,))
    raise key.rejected(row)
