"""Read keys and rows back from each database's own catalogs, independently of synthbeam's code.

A key is ``(table, kind, columns, referenced table or None)``; rows come back as tuples of plain
Python values (SQLite's ISO text turned back into dates and times by the declared column type).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

KINDS = {"p": "PRIMARY KEY", "u": "UNIQUE", "f": "FOREIGN KEY"}


def pg_keys(connection: Any, schema: str = "public") -> set[tuple]:
    rows = connection.execute(
        """
        SELECT c.conrelid::regclass::text, c.contype,
               array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
               c.confrelid::regclass::text, c.convalidated
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = %s AND c.contype IN ('p', 'u', 'f')
        """,
        (schema,),
    ).fetchall()
    assert all(validated for *_, validated in rows), "every key is validated"
    return {(t, KINDS[k], tuple(cols), ref if k == "f" else None) for t, k, cols, ref, _ in rows}


def sqlite_keys(path: Path) -> set[tuple]:
    connection = sqlite3.connect(path)
    found = set()
    try:
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in connection.execute(f'PRAGMA foreign_key_list("{table}")'):
                found.add((table, "FOREIGN KEY", (row[3],), row[2]))
            info = sorted(connection.execute(f'PRAGMA table_info("{table}")'), key=lambda r: r[5])
            pk = tuple(r[1] for r in info if r[5])
            if pk:
                found.add((table, "PRIMARY KEY", pk, None))
            for index in connection.execute(f'PRAGMA index_list("{table}")'):
                if index[3] == "u":
                    cols = tuple(r[2] for r in connection.execute(f'PRAGMA index_info("{index[1]}")'))
                    found.add((table, "UNIQUE", cols, None))
    finally:
        connection.close()
    return found


def duckdb_keys(connection: Any) -> set[tuple]:
    rows = connection.execute(
        "SELECT table_name, constraint_type, constraint_column_names, referenced_table "
        "FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')"
    ).fetchall()
    return {(t, k, tuple(cols), ref) for t, k, cols, ref in rows}


def pg_rows(connection: Any, table: str) -> list[tuple]:
    return [tuple(row) for row in connection.execute(f'SELECT * FROM "{table}"').fetchall()]


def duckdb_rows(connection: Any, table: str) -> list[tuple]:
    return [tuple(row) for row in connection.execute(f'SELECT * FROM "{table}"').fetchall()]


def sqlite_rows(path: Path, table: str) -> list[tuple]:
    """Rows with values typed by the declared column type (SQLite stores dates and times as text)."""
    connection = sqlite3.connect(path)
    try:
        types = [row[2].upper() for row in connection.execute(f'PRAGMA table_info("{table}")')]
        rows = connection.execute(f'SELECT * FROM "{table}"').fetchall()
    finally:
        connection.close()

    def typed(value: Any, declared: str) -> Any:
        if value is None:
            return None
        if declared == "DATE":
            return dt.date.fromisoformat(value)
        if declared == "TIME":
            return dt.time.fromisoformat(value)
        if declared == "DATETIME":
            return dt.datetime.fromisoformat(value)
        if declared == "BOOLEAN":
            return bool(value)
        return value

    return [tuple(typed(v, t) for v, t in zip(row, types)) for row in rows]
