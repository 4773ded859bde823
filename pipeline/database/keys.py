"""The keys a load creates, and the SQL that finds one row breaking a key.

A key is read from the :mod:`synthbeam.pipeline.ddl` tables, so ``ddl`` and ``generate --to`` name
and create the same constraints. When a database rejects a key, the run's message names the
table, the constraint and one offending row; :func:`offender_query` finds that row with plain
SQL every loader's database runs (row values, ``GROUP BY ... HAVING``, ``NOT EXISTS``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..ddl import TableSet
from ..errors import RunFailed

__all__ = ["ConstraintRejected", "Key", "describe_row", "first_row", "keys_of", "offender_query", "quote"]

PRIMARY, UNIQUE, FOREIGN = "primary key", "unique", "foreign key"
MAX_ROW_TEXT = 300


class ConstraintRejected(RunFailed):
    """The database refused a key: the message names the table, the constraint and a row."""


@dataclass(frozen=True)
class Key:
    table: str
    name: str
    kind: str  # PRIMARY | UNIQUE | FOREIGN
    columns: tuple[str, ...]
    parent: str | None = None
    parent_columns: tuple[str, ...] = ()

    def describe(self) -> str:
        text = f"{self.kind} {self.name} ({', '.join(self.columns)})"
        if self.kind == FOREIGN:
            text += f" -> {self.parent} ({', '.join(self.parent_columns)})"
        return text

    def rejected(self, row: dict[str, Any] | None, reason: str = "") -> ConstraintRejected:
        shown = describe_row(row) if row is not None else "(not found: " + (reason or "see the database's log") + ")"
        return ConstraintRejected(f"{self.table}: the database rejected {self.describe()}; offending row: {shown}")


def keys_of(tables: TableSet) -> list[Key]:
    """Every primary and unique key (table by table), then every foreign key: the order they are added."""
    unique_keys, foreign_keys = [], []
    for table in tables.tables:
        for constraint in sorted(table.constraints, key=lambda c: (type(c).__name__, str(c.name))):
            columns = tuple(column.name for column in constraint.columns)
            if isinstance(constraint, sa.PrimaryKeyConstraint) and columns:
                unique_keys.append(Key(table.name, str(constraint.name), PRIMARY, columns))
            elif isinstance(constraint, sa.UniqueConstraint):
                unique_keys.append(Key(table.name, str(constraint.name), UNIQUE, columns))
            elif isinstance(constraint, sa.ForeignKeyConstraint):
                parent_columns = tuple(element.column.name for element in constraint.elements)
                foreign_keys.append(
                    Key(
                        table.name,
                        str(constraint.name),
                        FOREIGN,
                        columns,
                        constraint.referred_table.name,
                        parent_columns,
                    )
                )
    return unique_keys + foreign_keys


def quote(name: str) -> str:
    """A double-quoted SQL identifier (PostgreSQL, SQLite and DuckDB all read this form)."""
    return '"' + name.replace('"', '""') + '"'


def offender_query(key: Key, relation: Callable[[str], str]) -> str:
    """SQL for one row of ``key.table`` that breaks ``key``; ``relation(table)`` names where rows are."""
    child = relation(key.table)
    columns = ", ".join(quote(c) for c in key.columns)
    if key.kind == FOREIGN:
        assert key.parent is not None
        present = " AND ".join(f"c.{quote(c)} IS NOT NULL" for c in key.columns)
        match = " AND ".join(f"p.{quote(p)} = c.{quote(c)}" for c, p in zip(key.columns, key.parent_columns))
        return (
            f"SELECT c.* FROM {child} c WHERE {present} "
            f"AND NOT EXISTS (SELECT 1 FROM {relation(key.parent)} p WHERE {match}) LIMIT 1"
        )
    nulls = " OR ".join(f"{quote(c)} IS NULL" for c in key.columns)
    not_null = " AND ".join(f"{quote(c)} IS NOT NULL" for c in key.columns)
    duplicated = (
        f"({columns}) IN (SELECT {columns} FROM {child} WHERE {not_null} GROUP BY {columns} HAVING count(*) > 1)"
    )
    condition = f"{duplicated} OR {nulls}" if key.kind == PRIMARY else duplicated
    return f"SELECT * FROM {child} WHERE {condition} LIMIT 1"


def describe_row(row: dict[str, Any]) -> str:
    text = "{" + ", ".join(f"{name}: {value!r}" for name, value in row.items()) + "}"
    return text if len(text) <= MAX_ROW_TEXT else text[: MAX_ROW_TEXT - 4] + " ...}"


def first_row(cursor: Any, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
    """The first row of ``sql`` as {column: value}, through any DB-API cursor."""
    cursor.execute(sql, params) if params else cursor.execute(sql)
    row = cursor.fetchone()
    if row is None:
        return None
    names = [d[0] for d in cursor.description]
    return dict(zip(names, row))
