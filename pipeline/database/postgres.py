"""``generate --to postgresql://...``: COPY into a staging schema, keys there, then one swap.

1. A schema ``synthbeam_stage_<run id>`` is created for the run, with each table's columns
   (and NOT NULL) but no keys yet.
2. The staged Parquet shards are streamed into it with ``COPY ... FROM STDIN (FORMAT binary)``:
   :mod:`.pgbinary` encodes each Arrow batch column-wise, psycopg 3 sends it; no row-by-row
   INSERT. Binary, because parsing CSV took PostgreSQL about twice as long for retail-2's dates,
   timestamps and floats. Pieces of the shards (row groups) load in parallel, one connection
   per worker (PostgreSQL takes several COPYs into one table at once).
3. The keys are added after the data, as PostgreSQL's own bulk-load advice says: primary and
   unique keys (one index build each, tables in parallel), then foreign keys, each validated
   by the database as it is added. A key the database rejects fails the run, naming the table,
   the constraint and one offending row.
4. One transaction moves the tables into the target schema: it drops the config's tables that
   already exist there (only with ``--overwrite``; in one ``DROP TABLE`` without CASCADE, so a
   view or another table depending on them stops the swap instead of being dropped), then
   ``ALTER TABLE ... SET SCHEMA`` for each staged table, and drops the empty staging schema.

Until that transaction commits, the target schema is untouched. A failure drops the staging
schema. A killed run can leave its staging schema behind; each run holds an advisory lock named
after its staging schema while it lives, so the next run drops every ``synthbeam_stage_*``
schema whose lock is free (its run is gone) before it starts.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from synthbeam.rules.core.model import Plan

from ..ddl import TableSet, table_set
from ..errors import UserError
from . import pgbinary, staged
from .keys import FOREIGN, Key, first_row, keys_of, offender_query, quote
from .result import LoadResult, refuse_existing
from .target import DatabaseTarget

__all__ = ["STAGE_PREFIX", "load_postgres", "precheck_postgres"]

STAGE_PREFIX = "synthbeam_stage_"
COPY_BATCH_ROWS = 65_536
COPY_PIECE_ROWS = 200_000


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise UserError("loading into PostgreSQL needs psycopg: pip install 'synthbeam[db]'") from None
    return psycopg


# Session settings of the load's connections. The staging tables are the run's own until the
# swap, so their commits need not wait for the disk (the swap's commit does, as configured).
# Memory: an index build or a foreign key's anti-join over millions of rows sorts and hashes in
# memory instead of in temporary files (the defaults, 64 MB and 4 MB, spill at about a million
# keys); allocated only while a key is built, per connection.
SESSION_SETTINGS = {"synchronous_commit": "off", "maintenance_work_mem": "256MB", "work_mem": "256MB"}


def _connect(target: DatabaseTarget, tuned: bool = False) -> Any:
    psycopg = _psycopg()
    try:
        connection = psycopg.connect(**target.connect_args, autocommit=True, application_name="synthbeam")
        if tuned:
            for name, value in SESSION_SETTINGS.items():
                connection.execute("SELECT set_config(%s, %s, false)", (name, value))
        return connection
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()
        raise UserError(f"cannot connect to {target.display}: {target.redact(first[0] if first else '')}") from None


def _existing(connection: Any, schema: str, names: list[str]) -> list[str]:
    found = {
        row[0]
        for row in connection.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
            (schema, names),
        )
    }
    return [name for name in names if name in found]


def precheck_postgres(target: DatabaseTarget, plan: Plan, overwrite: bool) -> None:
    with _connect(target) as connection:
        refuse_existing(target, _existing(connection, target.schema, list(plan.tables)), overwrite)


def _drop_stale_stages(connection: Any) -> None:
    """Drop staging schemas of runs that are gone (their advisory lock is free)."""
    stages = [
        row[0]
        for row in connection.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (STAGE_PREFIX,)
        )
    ]
    for stage in stages:
        if connection.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (stage,)).fetchone()[0]:
            connection.execute(f"DROP SCHEMA IF EXISTS {quote(stage)} CASCADE")
            connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (stage,))


def _columns_only(tables: TableSet, stage: str) -> list[str]:
    metadata = sa.MetaData()
    statements = []
    for table in tables.tables:
        bare = sa.Table(
            table.name,
            metadata,
            *(sa.Column(c.name, c.type, nullable=c.nullable, autoincrement=False) for c in table.columns),
            schema=stage,
        )
        statements.append(str(CreateTable(bare).compile(dialect=postgresql.dialect())))
    return statements


def load_postgres(
    target: DatabaseTarget, plan: Plan, staged_dir: Path, overwrite: bool, run_id: str, workers: int = 2
) -> LoadResult:
    psycopg = _psycopg()
    tables = table_set(plan, "postgres")
    keys = keys_of(tables)
    stage = STAGE_PREFIX + re.sub(r"[^a-z0-9_]", "_", run_id.lower())
    result = LoadResult(target.display, rows=dict.fromkeys(plan.tables, 0))
    control = _connect(target)
    try:
        _drop_stale_stages(control)
        control.execute("SELECT pg_advisory_lock(hashtext(%s))", (stage,))
        control.execute(f"CREATE SCHEMA {quote(stage)}")
        for statement in _columns_only(tables, stage):
            control.execute(statement)
        relation: Callable[[str], str] = lambda name: f"{quote(stage)}.{quote(name)}"  # noqa: E731

        started = time.perf_counter()
        work = _copy_pieces(staged_dir, list(plan.tables))
        columns = {t.name: [c.name for c in t.columns] for t in tables.tables}
        copied = _in_parallel(
            target, workers, work, lambda conn, item: _copy(conn, relation(item[0]), item[1], item[2], columns[item[0]])
        )
        for (name, *_), rows in zip(work, copied):
            result.rows[name] += rows
        result.seconds["copy"] = time.perf_counter() - started

        started = time.perf_counter()
        by_table = [[k for k in keys if k.table == t.name and k.kind != FOREIGN] for t in tables.tables]
        _in_parallel(target, workers, [g for g in by_table if g], lambda conn, group: _add_keys(conn, group, relation))
        result.seconds["primary_and_unique_keys"] = time.perf_counter() - started

        started = time.perf_counter()
        _in_parallel(
            target, 1, [[k for k in keys if k.kind == FOREIGN]], lambda conn, group: _add_keys(conn, group, relation)
        )
        result.seconds["foreign_keys"] = time.perf_counter() - started

        started = time.perf_counter()
        with control.transaction():
            control.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(target.schema)}")
            existing = _existing(control, target.schema, list(plan.tables))
            refuse_existing(target, existing, overwrite)
            if existing:
                control.execute("DROP TABLE " + ", ".join(f"{quote(target.schema)}.{quote(n)}" for n in existing))
            for name in plan.tables:
                control.execute(f"ALTER TABLE {relation(name)} SET SCHEMA {quote(target.schema)}")
            control.execute(f"DROP SCHEMA {quote(stage)}")
        result.seconds["swap"] = time.perf_counter() - started
    except psycopg.Error as exc:
        _drop_stage(target, control, stage)
        raise UserError(f"{target.display}: {_error_line(exc, target)}") from None
    except BaseException:
        _drop_stage(target, control, stage)
        raise
    finally:
        with contextlib.suppress(Exception):
            control.close()
    return result


def _error_line(exc: Any, target: DatabaseTarget) -> str:
    diag = getattr(exc, "diag", None)
    text = (getattr(diag, "message_primary", None) or str(exc).strip().splitlines()[0]) if diag else str(exc)
    detail = getattr(diag, "message_detail", None) if diag else None
    return target.redact(text + (f" ({detail})" if detail else ""))


def _drop_stage(target: DatabaseTarget, control: Any, stage: str) -> None:
    """Best effort: the target is untouched either way; a stage left behind is dropped by the next run."""
    with contextlib.suppress(Exception):
        if control.closed or control.info.transaction_status != 0:
            control = _connect(target)
        control.execute(f"DROP SCHEMA IF EXISTS {quote(stage)} CASCADE")


def _in_parallel(target: DatabaseTarget, workers: int, items: list, job: Callable[[Any, Any], Any]) -> list:
    """``job(connection, item)`` for every item, on up to ``workers`` connections; results in item order."""
    if not items:
        return []
    workers = max(1, min(workers, len(items)))
    connections = [_connect(target, tuned=True) for _ in range(workers)]
    try:
        if workers == 1:
            return [job(connections[0], item) for item in items]
        slots = list(range(workers))
        import threading

        lock = threading.Lock()

        def run(item: Any) -> Any:
            with lock:
                slot = slots.pop()
            try:
                return job(connections[slot], item)
            finally:
                with lock:
                    slots.append(slot)

        with ThreadPoolExecutor(workers, thread_name_prefix="synthbeam-pg") as pool:
            return list(pool.map(run, items))
    finally:
        for connection in connections:
            with contextlib.suppress(Exception):
                connection.close()


def _copy_pieces(staged_dir: Path, names: list[str]) -> list[tuple[str, str, list[int]]]:
    """(table, file, row groups) pieces of about ``COPY_PIECE_ROWS`` rows, largest tables first.

    A run often writes one file per table, so pieces, not files, are what the connections
    share: both stay busy until the last piece, however the rows split between tables.
    """
    pieces = []
    for name in names:
        for path in staged.files(staged_dir, name):
            metadata = pq.ParquetFile(path).metadata
            group: list[int] = []
            rows = 0
            for index in range(metadata.num_row_groups):
                group.append(index)
                rows += metadata.row_group(index).num_rows
                if rows >= COPY_PIECE_ROWS:
                    pieces.append((name, path, group, rows))
                    group, rows = [], 0
            if group:
                pieces.append((name, path, group, rows))
    pieces.sort(key=lambda piece: -piece[3])
    return [(name, path, group) for name, path, group, _ in pieces]


def _copy(connection: Any, relation: str, path: str, row_groups: list[int], columns: list[str]) -> int:
    rows = 0
    names = ", ".join(map(quote, columns))
    source = pq.ParquetFile(path)
    with connection.cursor() as cursor, cursor.copy(f"COPY {relation} ({names}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(pgbinary.HEADER)
        for batch in source.iter_batches(batch_size=COPY_BATCH_ROWS, row_groups=row_groups, columns=columns):
            copy.write(pgbinary.encode_batch(batch))
            rows += batch.num_rows
        copy.write(pgbinary.TRAILER)
    return rows


def _add_keys(connection: Any, keys: list[Key], relation: Callable[[str], str]) -> None:
    psycopg = _psycopg()
    for key in keys:
        columns = ", ".join(map(quote, key.columns))
        if key.kind == FOREIGN:
            assert key.parent is not None
            parent_columns = ", ".join(map(quote, key.parent_columns))
            clause = f"FOREIGN KEY ({columns}) REFERENCES {relation(key.parent)} ({parent_columns})"
        else:
            clause = f"{key.kind.upper()} ({columns})"
        try:
            connection.execute(f"ALTER TABLE {relation(key.table)} ADD CONSTRAINT {quote(key.name)} {clause}")
        except psycopg.errors.IntegrityError:
            raise key.rejected(first_row(connection.cursor(), offender_query(key, relation))) from None
