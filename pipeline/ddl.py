"""``synthbeam ddl``: the CREATE TABLE statements of a plan's tables, one dialect at a time.

The tables are described as the files store them: each column's type comes from the stored Arrow
schema (:func:`synthbeam.rules.security.apply.output_schema`), so an encrypted or text-masked column is
text, as in the Parquet files, and a ``null``-masked one is nullable. The statements come from
SQLAlchemy Core's DDL compiler for the dialect (``CreateTable(table).compile(dialect=...)``), never
from per-dialect string templates, in dependency order (the plan's table order: parents first).

Constraints: NOT NULL; PRIMARY KEY (composite too); UNIQUE for every ``unique`` column and every
``unique`` group; FOREIGN KEY for every foreign key, self-references included. Names follow
PostgreSQL's own conventions (``orders_pkey``, ``orders_email_key``, ``orders_customer_id_fkey``)
so the loaders and the catalogs agree. A foreign key is left out, with a note, where a database
would reject it or its values cannot match: the parent column is neither a key nor unique, or
either side is masked or encrypted (the stored values are no longer the parent's).

Dialects without one in SQLAlchemy itself:

- ``duckdb`` compiles with the PostgreSQL dialect: DuckDB's parser is PostgreSQL's, and it accepts
  these statements as they are (the tests execute them), so no extra package (duckdb-engine) is
  needed for text.
- ``bigquery`` compiles with a small SQLAlchemy dialect defined here (BigQuery's type names,
  backtick quoting, ``NOT ENFORCED`` keys), because sqlalchemy-bigquery would bring the whole
  Google Cloud client for a text compile. BigQuery has no UNIQUE constraint: those are notes.
- ``mysql`` cannot index TEXT without a prefix length, so string columns in a key without a
  ``length`` become ``VARCHAR(255)`` there (a note says so); times and timestamps are
  ``TIME(6)`` and ``DATETIME(6)``, keeping the files' microseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import default
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql import compiler

from synthbeam.rules.core.model import Plan, TablePlan
from synthbeam.rules.security.apply import output_schema

from .errors import UserError

__all__ = [
    "DIALECTS",
    "TableSet",
    "create_statements",
    "ddl_text",
    "resolve_dialect",
    "sqlalchemy_dialect",
    "table_set",
]

DIALECTS = ("postgres", "sqlite", "duckdb", "mysql", "bigquery")
_ALIASES = {"postgresql": "postgres", "pg": "postgres", "psql": "postgres", "sqlite3": "sqlite", "bq": "bigquery"}
MYSQL_KEY_LENGTH = 255

# PostgreSQL's own default names: what `\d` shows for constraints declared without a name.
NAMING_CONVENTION = {
    "pk": "%(table_name)s_pkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
}


def resolve_dialect(name: str) -> str:
    """The canonical dialect name for ``name`` (aliases such as ``postgresql``); UserError if unknown."""
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in DIALECTS:
        raise UserError(f"unknown dialect {name!r}: use one of {', '.join(DIALECTS)}")
    return key


# --- BigQuery: a compile-only SQLAlchemy dialect ---------------------------------------------


class _BigQueryTypes(compiler.GenericTypeCompiler):
    def visit_big_integer(self, type_: Any, **kw: Any) -> str:
        return "INT64"

    def visit_double(self, type_: Any, **kw: Any) -> str:
        return "FLOAT64"

    def visit_boolean(self, type_: Any, **kw: Any) -> str:
        return "BOOL"

    def visit_string(self, type_: Any, **kw: Any) -> str:
        return f"STRING({type_.length})" if type_.length else "STRING"

    def visit_text(self, type_: Any, **kw: Any) -> str:
        return "STRING"

    def visit_datetime(self, type_: Any, **kw: Any) -> str:
        return "DATETIME"  # BigQuery's zone-less timestamp, as the files store it


class _BigQueryDDL(compiler.DDLCompiler):
    def visit_primary_key_constraint(self, constraint: Any, **kw: Any) -> str:
        columns = ", ".join(self.preparer.quote(c.name) for c in constraint.columns)
        return f"PRIMARY KEY ({columns}) NOT ENFORCED"  # BigQuery names no primary key

    def visit_foreign_key_constraint(self, constraint: Any, **kw: Any) -> str:
        return super().visit_foreign_key_constraint(constraint, **kw) + " NOT ENFORCED"


class _BigQueryPreparer(compiler.IdentifierPreparer):
    def __init__(self, dialect: Any) -> None:
        super().__init__(dialect, initial_quote="`")


class BigQueryDDLDialect(default.DefaultDialect):
    """Enough of BigQuery to compile CREATE TABLE: its types, quoting and unenforced keys."""

    name = "bigquery"
    type_compiler_cls = _BigQueryTypes
    ddl_compiler = _BigQueryDDL
    preparer = _BigQueryPreparer
    max_identifier_length = 300
    supports_native_boolean = True


def sqlalchemy_dialect(dialect: str) -> sa.engine.Dialect:
    """The SQLAlchemy dialect object that compiles ``dialect``'s statements."""
    if dialect in ("postgres", "duckdb"):
        from sqlalchemy.dialects import postgresql

        return postgresql.dialect()
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.dialect()
    if dialect == "mysql":
        return mysql.dialect()
    return BigQueryDDLDialect()


# --- the tables ------------------------------------------------------------------------------


@dataclass
class TableSet:
    """SQLAlchemy tables for a plan, in dependency order, and what was left out and why."""

    metadata: sa.MetaData
    tables: list[sa.Table]
    notes: list[str] = field(default_factory=list)


def _column_type(arrow: pa.DataType, length: int | None) -> sa.types.TypeEngine:
    if pa.types.is_integer(arrow):
        return sa.BigInteger()
    if pa.types.is_floating(arrow):
        return sa.Double()
    if pa.types.is_boolean(arrow):
        return sa.Boolean(create_constraint=False)
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return sa.String(length) if length else sa.Text()
    if pa.types.is_date(arrow):
        return sa.Date()
    # MySQL's TIME and DATETIME drop the microseconds the files keep unless given 6 digits.
    if pa.types.is_time(arrow):
        return sa.Time().with_variant(mysql.TIME(fsp=6), "mysql")
    if pa.types.is_timestamp(arrow):
        return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
    raise ValueError(f"no SQL type for Arrow type {arrow}")


def _protected_columns(plan: Plan, table: str) -> set[str]:
    if plan.protection is None:
        return set()
    return {p.column for p in plan.protection.columns(table)}


def _key_columns(table: TablePlan) -> set[str]:
    names = set(table.primary_key)
    for group in table.unique:
        names.update(group)
    names.update(c.name for c in table.columns if c.is_unique)
    names.update(fk.child_column for fk in table.foreign_keys)
    return names


def table_set(plan: Plan, dialect: str = "postgres") -> TableSet:
    """Every table of ``plan`` as the files store it, with its keys, for ``dialect``."""
    dialect = resolve_dialect(dialect)
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    notes: list[str] = []
    tables = []
    for name, table in plan.tables.items():
        schema = output_schema(plan, name)
        protected = _protected_columns(plan, name)
        keys = _key_columns(table)
        columns = []
        for column in table.columns:
            stored = schema.field(column.name)
            length = column.max_length if column.name not in protected else None
            if dialect == "mysql" and not length and column.name in keys and pa.types.is_string(stored.type):
                length = MYSQL_KEY_LENGTH
                notes.append(f"{name}.{column.name}: VARCHAR({MYSQL_KEY_LENGTH}) (MySQL cannot index TEXT)")
            columns.append(
                sa.Column(column.name, _column_type(stored.type, length), nullable=stored.nullable, autoincrement=False)
            )
        constraints: list[sa.Constraint] = []
        if table.primary_key:
            constraints.append(sa.PrimaryKeyConstraint(*table.primary_key))
        groups = [[c.name] for c in table.columns if c.is_unique and [c.name] != list(table.primary_key)]
        groups += [list(g) for g in table.unique if list(g) != list(table.primary_key)]
        for group in _distinct(groups):
            if dialect == "bigquery":
                notes.append(f"{name}: UNIQUE ({', '.join(group)}) left out (BigQuery has no UNIQUE constraint)")
            else:
                constraints.append(sa.UniqueConstraint(*group))
        for fk in table.foreign_keys:
            reason = _foreign_key_skipped(plan, name, fk)
            if reason:
                notes.append(
                    f"{name}.{fk.child_column} -> {fk.parent_table}.{fk.parent_column}: no FOREIGN KEY ({reason})"
                )
                continue
            constraints.append(sa.ForeignKeyConstraint([fk.child_column], [f"{fk.parent_table}.{fk.parent_column}"]))
        tables.append(sa.Table(name, metadata, *columns, *constraints))
    return TableSet(metadata, tables, notes)


def _distinct(groups: list[list[str]]) -> Iterator[list[str]]:
    seen: set[tuple[str, ...]] = set()
    for group in groups:
        if tuple(group) not in seen:
            seen.add(tuple(group))
            yield group


def _foreign_key_skipped(plan: Plan, table: str, fk: Any) -> str | None:
    parent = plan.table(fk.parent_table)
    parent_column = parent.column(fk.parent_column)
    if not parent_column.is_unique and list(parent.primary_key) != [fk.parent_column]:
        return f"{fk.parent_table}.{fk.parent_column} is neither a key nor unique"
    if fk.child_column in _protected_columns(plan, table) or fk.parent_column in _protected_columns(
        plan, fk.parent_table
    ):
        return "masked or encrypted values no longer match the parent's"
    return None


def create_statements(plan: Plan, dialect: str = "postgres", tables: TableSet | None = None) -> list[str]:
    """One ``CREATE TABLE`` statement per table (no terminator), parents before children."""
    dialect = resolve_dialect(dialect)
    tables = tables or table_set(plan, dialect)
    compiled_for = sqlalchemy_dialect(dialect)
    statements = [str(CreateTable(table).compile(dialect=compiled_for)).strip() for table in tables.tables]
    return ["\n".join(line.rstrip() for line in statement.splitlines()) for statement in statements]


def ddl_text(plan: Plan, dialect: str = "postgres") -> str:
    """The script ``synthbeam ddl`` prints: a header, notes as comments, statements ending in ``;``."""
    dialect = resolve_dialect(dialect)
    tables = table_set(plan, dialect)
    lines = [f"-- synthbeam ddl: {plan.source or 'config'} ({dialect}), {len(tables.tables)} table(s)"]
    lines += [f"-- note: {note}" for note in tables.notes]
    body = "\n\n".join(statement + ";" for statement in create_statements(plan, dialect, tables))
    return "\n".join(lines) + "\n\n" + body + "\n"
