"""The round trip's last step: generated Parquet loaded into the schema it was imported from.

The database enforces every constraint the DDL declares (keys, foreign keys, NOT NULL, CHECK,
enum types): a load that raises is a config that does not honour its schema. Tables are loaded
parents first, following the config's foreign keys.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


def load_order(config: dict[str, Any]) -> list[str]:
    """Tables with every (non-self) parent before them."""
    parents = {
        t["table_name"]: {
            fk["parent_table"] for fk in t.get("foreign_keys", []) if fk["parent_table"] != t["table_name"]
        }
        for t in config["tables"]
    }
    order: list[str] = []
    while len(order) < len(parents):
        ready = [name for name, needs in parents.items() if name not in order and needs <= set(order)]
        assert ready, f"a foreign-key cycle is left in the config: {set(parents) - set(order)}"
        order += ready
    return order


def rows_of(out: Path, table: str) -> tuple[list[str], list[tuple]]:
    files = sorted(glob.glob(str(out / table / "*.parquet")))
    assert files, f"no Parquet files for {table}"
    data = pq.read_table(files)
    columns = data.column_names
    return columns, list(zip(*(data.column(c).to_pylist() for c in columns)))


def load_postgres(connection: Any, ddl: str, out: Path, config: dict[str, Any]) -> dict[str, int]:
    """Execute the DDL, COPY every table in; rows per table as PostgreSQL counts them."""
    connection.execute(ddl)
    counts = {}
    for table in load_order(config):
        columns, rows = rows_of(out, table)
        names = ", ".join(f'"{c}"' for c in columns)
        with connection.cursor() as cursor:
            with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            counts[table] = cursor.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    return counts


def load_sqlite(connection: Any, ddl: str, out: Path, config: dict[str, Any]) -> dict[str, int]:
    """Execute the DDL with foreign keys enforced, insert every table; rows per table."""
    connection.execute("PRAGMA foreign_keys = ON")
    connection.executescript(ddl)
    counts = {}
    for table in load_order(config):
        columns, rows = rows_of(out, table)
        marks = ", ".join("?" for _ in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        rows = [tuple(v.isoformat(sep=" ") if hasattr(v, "isoformat") else v for v in row) for row in rows]
        connection.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        connection.commit()
        counts[table] = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    return counts


def load_duckdb(connection: Any, ddl: str, out: Path, config: dict[str, Any]) -> dict[str, int]:
    """Execute the DDL, insert every table from its Parquet files; rows per table."""
    connection.execute(ddl)
    counts = {}
    for table in load_order(config):
        columns, _ = rows_of(out, table)
        names = ", ".join(f'"{c}"' for c in columns)
        pattern = str(out / table / "*.parquet")
        connection.execute(f"INSERT INTO \"{table}\" ({names}) SELECT {names} FROM read_parquet('{pattern}')")
        counts[table] = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    return counts
