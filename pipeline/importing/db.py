"""``import db URL``: a live database's tables, columns and keys, and with ``--profile`` its shape.

The schema is read as DDL and goes through the same parser as ``import ddl``: SQLite keeps each
table's CREATE statement (``sqlite_master.sql``), DuckDB writes one (``duckdb_tables().sql``), and
for PostgreSQL the statement is composed from SQLAlchemy's inspector (columns, defaults, NOT NULL,
primary, unique and foreign keys, CHECKs, enum types).

What ``--profile`` reads (and nothing else; see docs/import.md):

- per table, the row count;
- per column, the count of nulls and of distinct values;
- min and max of numeric, date, time and timestamp columns (never of text);
- for a column with at most ``MAX_CHOICES`` distinct values that are few next to the rows, that is
  not a key and whose name does not look personal, each value and its count (these values are the
  only ones copied into the config, as choices with their observed shares);
- per foreign key, the share of null references and the fewest and most children of one parent.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from ..errors import UserError
from .ddl import parse_ddl
from .infer import looks_personal
from .model import Profile, Schema, Table

MAX_CHOICES = 20
# A value list is copied only when it is a category: each value seen this many times on average.
MIN_ROWS_PER_CHOICE = 5
_MEASURED = ("int", "float", "date", "time", "timestamp")


def read_database(url: str, profile: bool = False, schema_name: str | None = None) -> Schema:
    """The schema behind ``url`` (postgresql://, sqlite:///, duckdb:///), profiled if asked."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        path = _local_path(url)
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            ddl = ";\n".join(
                row[0]
                for row in connection.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
                )
            )
            schema = parse_ddl(ddl + ";", "sqlite", source=url)
            if profile:
                profile_schema(schema, connection)
        return schema
    if scheme == "duckdb":
        import duckdb

        path = _local_path(url)
        with duckdb.connect(str(path), read_only=True) as connection:
            query = "SELECT sql FROM duckdb_tables() WHERE NOT internal"
            if schema_name:
                query += f" AND schema_name = '{_sql_text(schema_name)}'"
            ddl = "\n".join(row[0] for row in connection.execute(query).fetchall())
            schema = parse_ddl(ddl, "duckdb", source=url)
            if profile:
                profile_schema(schema, connection)
        return schema
    if scheme.startswith("postgres"):
        return _read_postgres(url, profile, schema_name)
    raise UserError(f"unsupported database URL {url!r}: use postgresql://..., sqlite:///path.db or duckdb:///path")


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _local_path(url: str) -> Path:
    path = Path(url.split("://", 1)[1].removeprefix("/"))
    if url.split("://", 1)[1].startswith("//"):  # sqlite:////abs/path
        path = Path("/" + str(path).lstrip("/"))
    elif not path.is_absolute() and not path.exists() and Path("/" + str(path)).exists():
        path = Path("/" + str(path))
    if not path.is_file():
        raise UserError(f"database file not found: {path}")
    return path


def _read_postgres(url: str, profile: bool, schema_name: str | None) -> Schema:
    import sqlalchemy as sa

    driver_url = "postgresql+psycopg://" + url.split("://", 1)[1]  # psycopg 3, the driver the db extra installs
    try:
        engine = sa.create_engine(driver_url)
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            ddl = _postgres_ddl(inspector, schema_name, engine.dialect)
            schema = parse_ddl(ddl, "postgres", source=url)
            if profile:
                raw = connection.connection.driver_connection
                profile_schema(schema, raw, schema_name)
    except sa.exc.OperationalError as exc:
        shown = _redacted(url)
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        raise UserError(f"cannot connect to {shown}: {reason}") from None
    finally:
        with contextlib.suppress(Exception):
            engine.dispose()
    return schema


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        credentials = credentials.split(":", 1)[0] + ":***"
    return f"{scheme}://{credentials}{at}{host}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _postgres_ddl(inspector: Any, schema_name: str | None, dialect: Any) -> str:
    """CREATE TYPE/TABLE statements for what the inspector reports, in PostgreSQL's own spelling."""
    statements = []
    for enum in inspector.get_enums(schema=schema_name or "public"):
        labels = ", ".join("'" + _sql_text(label) + "'" for label in enum["labels"])
        statements.append(f"CREATE TYPE {_quote(enum['name'])} AS ENUM ({labels})")
    for table in inspector.get_table_names(schema=schema_name):
        parts = []
        for column in inspector.get_columns(table, schema=schema_name):
            type_text = column["type"].compile(dialect=dialect)
            part = f"{_quote(column['name'])} {type_text}"
            if column.get("default") is not None and "nextval(" not in str(column["default"]):
                part += f" DEFAULT {column['default']}"
            if not column.get("nullable", True):
                part += " NOT NULL"
            parts.append(part)
        primary = inspector.get_pk_constraint(table, schema=schema_name).get("constrained_columns") or []
        if primary:
            parts.append(f"PRIMARY KEY ({', '.join(map(_quote, primary))})")
        for unique in inspector.get_unique_constraints(table, schema=schema_name):
            parts.append(f"UNIQUE ({', '.join(map(_quote, unique['column_names']))})")
        for fk in inspector.get_foreign_keys(table, schema=schema_name):
            parts.append(
                f"FOREIGN KEY ({', '.join(map(_quote, fk['constrained_columns']))}) REFERENCES "
                f"{_quote(fk['referred_table'])} ({', '.join(map(_quote, fk['referred_columns']))})"
            )
        for check in inspector.get_check_constraints(table, schema=schema_name):
            parts.append(f"CHECK ({check['sqltext']})")
        statements.append(f"CREATE TABLE {_quote(table)} (\n  " + ",\n  ".join(parts) + "\n)")
    return ";\n".join(statements) + ";\n"


# --- profiling ------------------------------------------------------------------------------


def _scalar_rows(connection: Any, query: str) -> list[tuple]:
    cursor = connection.execute(query)
    return [tuple(row) for row in cursor.fetchall()]


def _relation(table: Table, schema_name: str | None) -> str:
    return f"{_quote(schema_name)}.{_quote(table.name)}" if schema_name else _quote(table.name)


def profile_schema(schema: Schema, connection: Any, schema_name: str | None = None) -> None:
    """Fill ``Table.rows``, ``Column.profile`` and foreign-key fan-out from aggregate queries."""
    keys = {
        (table.name, name)
        for table in schema.tables.values()
        for name in [*table.primary_key, *(c for g in table.unique for c in g)]
    }
    for table in schema.tables.values():
        relation = _relation(table, schema_name)
        keys |= {(table.name, c.name) for c in table.columns.values() if c.unique}
        keys |= {(table.name, fk.columns[0]) for fk in table.foreign_keys}
        (rows,) = _scalar_rows(connection, f"SELECT count(*) FROM {relation}")[0]
        table.rows = int(rows)
        for column in table.columns.values():
            _profile_column(connection, table, column, relation, (table.name, column.name) in keys)
        for fk in table.foreign_keys:
            _profile_fan_out(connection, schema, table, fk, schema_name)
    schema.notes.append(
        "profile: read row counts, null and distinct counts, min/max of numbers and dates, and the values of "
        f"low-cardinality columns that are neither keys nor personal-looking (at most {MAX_CHOICES} values)"
    )


def _profile_column(connection: Any, table: Table, column: Any, relation: str, is_key: bool) -> None:
    name = _quote(column.name)
    rows = table.rows or 0
    measured = column.kind in _MEASURED
    extremes = f", min({name}), max({name})" if measured else ""
    result = _scalar_rows(connection, f"SELECT count({name}), count(DISTINCT {name}){extremes} FROM {relation}")[0]
    present, distinct = int(result[0]), int(result[1])
    profile = Profile(rows=rows, null_share=(rows - present) / rows if rows else 0.0, distinct=distinct)
    if measured and present:
        profile.low, profile.high = _plain(result[2]), _plain(result[3])
    category = (
        not is_key
        and present
        and 0 < distinct <= MAX_CHOICES
        and present >= MIN_ROWS_PER_CHOICE * distinct
        and not looks_personal(table, column)
        and column.kind in ("str", "int", "bool", "float")
    )
    if category:
        counts = _scalar_rows(
            connection, f"SELECT {name}, count(*) FROM {relation} WHERE {name} IS NOT NULL GROUP BY {name}"
        )
        ordered = sorted(counts, key=lambda r: str(r[0]))
        profile.frequencies = {_plain(value): count / present for value, count in ordered}
    column.profile = profile


def _plain(value: Any) -> Any:
    """Database values as JSON-friendly Python (Decimal -> float)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    return value


def _profile_fan_out(connection: Any, schema: Schema, table: Table, fk: Any, schema_name: str | None) -> None:
    parent = schema.table(fk.parent_table)
    if parent is None or not fk.parent_columns or parent is table:
        return
    child, key = _quote(fk.columns[0]), _quote(fk.parent_columns[0])
    query = (
        f"SELECT min(n), max(n) FROM (SELECT p.{key} AS k, count(c.{child}) AS n "
        f"FROM {_relation(parent, schema_name)} p LEFT JOIN {_relation(table, schema_name)} c "
        f"ON c.{child} = p.{key} GROUP BY p.{key}) AS fan"
    )
    low, high = _scalar_rows(connection, query)[0]
    if low is not None:
        fk.children_min, fk.children_max = int(low), int(high)
    column = table.columns.get(fk.columns[0])
    if column is not None and column.profile is not None:
        fk.null_share = column.profile.null_share
        column.profile.frequencies = None
