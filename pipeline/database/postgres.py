"""``generate --to postgresql://...``: COPY into a staging schema, keys there, then one swap.

1. A schema ``synthbeam_stage_<run id>`` is created for the run, with each table's columns
   (and NOT NULL) but no keys yet.
2. The rest of the load is a set of tasks that ``workers`` connections (2) take in turn:
   COPY pieces, index builds, foreign keys (:func:`_tasks`). A task starts as soon as the
   tasks it needs have finished and no running task holds a lock that conflicts with the one
   its statement takes (PostgreSQL's own lock table, :data:`CONFLICTS`), so no connection waits
   for a lock and none can deadlock; among the ready tasks, the one at the head of the longest
   remaining chain goes first.

   * COPY: the staged Parquet shards, in pieces of a few row groups, streamed with ``COPY ...
     FROM STDIN (FORMAT binary)``; :mod:`.pgbinary` encodes each Arrow batch column-wise, no
     row-by-row INSERT. Binary, because parsing CSV took PostgreSQL about twice as long for
     retail-2's dates, timestamps and floats. Pieces, not files, are what the connections
     share (PostgreSQL takes several COPYs into one table at once), so both stay busy.
   * Primary and unique keys, after the data as PostgreSQL's bulk-load advice says (one sort
     per index instead of maintaining it row by row): ``CREATE UNIQUE INDEX`` as soon as the
     table's COPYs are done, then ``ADD CONSTRAINT ... USING INDEX`` over it (instant). The
     index build takes a SHARE lock, which other builds on the table share and which lets a
     foreign key that references the table be validated meanwhile; ``ADD PRIMARY KEY`` would
     lock the table out for the whole build.
   * Foreign keys: ``ADD CONSTRAINT ... NOT VALID`` (instant), once the child's own keys and
     the parent's referenced key are in, then ``VALIDATE CONSTRAINT``: the same check of every
     row by the database, but it locks the parent only against being altered or dropped, so
     the parent's other unique keys build during it (retail-2: customers' email index while
     orders' foreign key is validated). Every constraint is validated before the swap.

   A key the database rejects fails the run, naming the table, the constraint and one
   offending row; the statements still running are cancelled.
3. One transaction moves the tables into the target schema: it drops the config's tables that
   already exist there (only with ``--overwrite``; in one ``DROP TABLE`` without CASCADE, so a
   view or another table depending on them stops the swap instead of being dropped), then
   ``ALTER TABLE ... SET SCHEMA`` for each staged table, and drops the empty staging schema.

Until that transaction commits, the target schema is untouched. A failure drops the staging
schema. A killed run can leave its staging schema behind; each run holds an advisory lock named
after its staging schema while it lives, so the next run drops every ``synthbeam_stage_*``
schema whose lock is free (its run is gone) before it starts.

Where the time goes (retail-2, 5M rows, PostgreSQL 15, each task alone on one connection, CPU
seconds of the server process): COPY 3.6 s (orders' 4M rows 2.2 s, customers' 1M rows with
seven text columns 1.4 s) plus about 1.1 s in the client's COPY threads (reading Parquet,
encoding); index builds 3.6 s (orders' primary key 1.3 s, customers' 0.3 s, customers' email
1.9 s: text compares through the database's collation); foreign-key validation 1.4 s. About
10.5 CPU seconds, which two connections on two cores turn into about 6 s. The report's
``database.seconds`` gives each phase from its first statement to its last (they overlap) and
``busy_seconds`` each phase's statements summed over the connections. Before the tasks, the
load ran in phases with a barrier after each and validated the foreign key (2.9 s, by hash
join) on one connection while the other had nothing to do: 8-11 s against 6-7.5 s, measured
alternately in the same sessions on a shared machine.

Choices measured and why:

* Validation by merge join when the parent has at least :data:`MERGE_JOIN_ROWS` rows.
  PostgreSQL checks a foreign key with one anti-join query and picks a hash join; once the
  parent's hash table outgrows the CPU caches, each child row's probe is a cache miss: 2.9 s
  for 4M orders against 1M customers, 1.1-1.4 s sorting both sides (synthetic 4:1 tables: merge
  faster from 100k parent rows, equal at 30k, hash faster below). Only the plan changes (for
  that statement, ``SET LOCAL``); the check is the database's own.
* Not done: ``COPY ... FREEZE`` (no hint bits to set at the first scan, about 0.3 s less for
  orders' index build) needs the table created or truncated in the COPY's own transaction, so
  one connection per table: slower here, and a one-table config would lose its parallel COPY.
  ``max_parallel_maintenance_workers = 0``, COPY batches of 100k rows instead of 64k: no
  difference beyond the noise. ``wal_level = minimal`` on the server skips WAL only for tables
  created in the COPY's transaction (the FREEZE problem again). The bench's server keeps
  PostgreSQL's defaults except durability (``fsync``, ``synchronous_commit`` and
  ``full_page_writes`` off), so WAL is written as on a user's server.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
from .keys import FOREIGN, PRIMARY, Key, first_row, keys_of, offender_query, quote
from .result import LoadResult, refuse_existing
from .target import DatabaseTarget

__all__ = ["STAGE_PREFIX", "load_postgres", "precheck_postgres"]

STAGE_PREFIX = "synthbeam_stage_"
COPY_BATCH_ROWS = 65_536
COPY_PIECE_ROWS = 200_000
# Rough seconds per row of each task (retail-2 on 2 cores), only to run the longest chains first.
COPY_SECONDS_PER_ROW = 1e-6
INDEX_SECONDS_PER_ROW = 0.3e-6
VALIDATE_SECONDS_PER_ROW = 0.4e-6
# A parent of at least this many rows: foreign-key validation by merge join (see _validate).
MERGE_JOIN_ROWS = 100_000


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

        pieces = _copy_pieces(staged_dir, list(plan.tables))
        for name, _, _, rows in pieces:
            result.rows[name] += rows
        columns = {t.name: [c.name for c in t.columns] for t in tables.tables}
        tasks = _tasks(pieces, keys, result.rows, columns, relation)
        _run(target, workers, tasks)
        for phase in PHASES:
            spans = [task.span for task in tasks if task.phase == phase and task.span]
            if spans:
                result.seconds[phase] = max(end for _, end in spans) - min(start for start, _ in spans)
                result.busy_seconds[phase] = sum(end - start for start, end in spans)

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


# PostgreSQL's table locks that the load's statements take, and the modes each one conflicts with
# (the table in "Explicit Locking" of PostgreSQL's manual, for these modes).
ROW_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE = "row share", "row exclusive", "share update exclusive"
SHARE, SHARE_ROW_EXCLUSIVE, ACCESS_EXCLUSIVE = "share", "share row exclusive", "access exclusive"
CONFLICTS = {
    ROW_SHARE: {ACCESS_EXCLUSIVE},
    ROW_EXCLUSIVE: {SHARE, SHARE_ROW_EXCLUSIVE, ACCESS_EXCLUSIVE},
    SHARE_UPDATE_EXCLUSIVE: {SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, ACCESS_EXCLUSIVE},
    SHARE: {ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, ACCESS_EXCLUSIVE},
    SHARE_ROW_EXCLUSIVE: {ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, ACCESS_EXCLUSIVE},
    ACCESS_EXCLUSIVE: {ROW_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, ACCESS_EXCLUSIVE},
}
PHASES = ("copy", "primary_and_unique_keys", "foreign_keys")


@dataclass(eq=False)
class _Task:
    """One statement (or COPY) of the load, run on whichever connection is free."""

    phase: str  # one of PHASES
    run: Callable[[Any], Any]  # run(connection)
    locks: dict[str, str]  # table -> the lock mode its statement takes
    cost: float  # rough seconds, for the order of ready tasks
    after: list[_Task] = field(default_factory=list)  # tasks that must have finished
    priority: float = 0.0  # its cost plus the longest chain of tasks waiting for it
    span: tuple[float, float] | None = None

    def conflicts(self, other: _Task) -> bool:
        return any(mode in CONFLICTS[other.locks[table]] for table, mode in self.locks.items() if table in other.locks)


def _tasks(
    pieces: list[tuple[str, str, list[int], int]],
    keys: list[Key],
    rows: dict[str, int],
    columns: dict[str, list[str]],
    relation: Callable[[str], str],
) -> list[_Task]:
    """The load as tasks: COPY pieces, then per key an index build, the constraint on it, and the foreign keys.

    The order between them is given by ``after`` where one needs the other's result, and by
    :data:`CONFLICTS` where two only cannot run at once (the scheduler never starts a task whose
    locks conflict with a running one's, so no connection waits for a lock, and none deadlocks).
    """
    copies: dict[str, list[_Task]] = {name: [] for name in rows}
    for name, path, groups, count in pieces:
        run = functools.partial(_copy, relation=relation(name), path=path, row_groups=groups, columns=columns[name])
        copies[name].append(_Task("copy", run, {name: ROW_EXCLUSIVE}, count * COPY_SECONDS_PER_ROW))
    unique = [k for k in keys if k.kind != FOREIGN]
    foreign = [k for k in keys if k.kind == FOREIGN]
    children = {k.table for k in foreign}
    referenced = {_referenced(k, unique) for k in foreign}
    builds, attaches = {}, {}
    for key in unique:
        build = _Task(
            "primary_and_unique_keys",
            functools.partial(_build_index, key=key, relation=relation),
            {key.table: SHARE},
            rows[key.table] * INDEX_SECONDS_PER_ROW,
            after=list(copies[key.table]),
        )
        attach = _Task(
            "primary_and_unique_keys",
            functools.partial(_attach, key=key, relation=relation),
            {key.table: ACCESS_EXCLUSIVE},
            0.0,
            after=[build],
        )
        builds[key], attaches[key] = build, attach
    adds = {}
    for key in foreign:
        assert key.parent is not None
        parent_key = _referenced(key, unique)
        adds[key] = _Task(
            "foreign_keys",
            functools.partial(_add_foreign_key, key=key, relation=relation),
            {key.table: SHARE_ROW_EXCLUSIVE, key.parent: SHARE_ROW_EXCLUSIVE},
            0.0,
            # The child's own keys first: its index builds and this key's validation cannot overlap.
            after=[*copies[key.table], *copies[key.parent], *(attaches[k] for k in unique if k.table == key.table)]
            + ([attaches[parent_key]] if parent_key in attaches else []),
        )
    for key in unique:
        if key.table not in children and key not in referenced:
            # A parent's other keys wait for the foreign keys to be added (each addition locks out index
            # builds on the parent), then build while the children are validated (which does not).
            builds[key].after += [adds[f] for f in foreign if f.parent == key.table]
    validations = [
        _Task(
            "foreign_keys",
            functools.partial(
                _validate, key=key, relation=relation, merge_join=rows[key.parent or key.table] >= MERGE_JOIN_ROWS
            ),
            {key.table: SHARE_UPDATE_EXCLUSIVE} | ({key.parent: ROW_SHARE} if key.parent != key.table else {}),
            rows[key.table] * VALIDATE_SECONDS_PER_ROW + rows[key.parent or key.table] * INDEX_SECONDS_PER_ROW,
            after=[adds[key]],
        )
        for key in foreign
    ]
    tasks = [*(t for group in copies.values() for t in group), *builds.values(), *attaches.values(), *adds.values()]
    tasks += validations
    _prioritise(tasks)
    return tasks


def _referenced(key: Key, unique: list[Key]) -> Key | None:
    """The primary or unique key of ``key``'s parent that it references."""
    for candidate in unique:
        if candidate.table == key.parent and set(candidate.columns) == set(key.parent_columns):
            return candidate
    return None


def _prioritise(tasks: list[_Task]) -> None:
    """Each task's priority: its cost plus the costliest chain of tasks that wait for it."""
    waiting: dict[int, list[_Task]] = {id(task): [] for task in tasks}
    for task in tasks:
        for before in task.after:
            waiting[id(before)].append(task)
    done: dict[int, float] = {}

    def chain(task: _Task) -> float:
        if id(task) not in done:
            done[id(task)] = task.cost + max((chain(next_task) for next_task in waiting[id(task)]), default=0.0)
        return done[id(task)]

    for task in tasks:
        task.priority = chain(task)


def _pick(pending: list[_Task], active: list[_Task], finished: set[int]) -> _Task | None:
    """The pending task to start now: all it waits for finished, no lock conflict with an active one, top priority."""
    ready = [
        task
        for task in pending
        if all(id(before) in finished for before in task.after) and not any(task.conflicts(o) for o in active)
    ]
    return max(ready, key=lambda task: task.priority, default=None)


def _run(target: DatabaseTarget, workers: int, tasks: list[_Task]) -> None:
    """Every task, on up to ``workers`` connections: ready tasks by priority, never two whose locks conflict.

    The first failure stops the load: the statements still running are cancelled and the
    failure is raised (a key the database rejected, with its offending row, or the driver's error).
    """
    if not tasks:
        return
    pending = list(tasks)
    running: dict[int, Any] = {}  # id(task) -> its connection
    active: list[_Task] = []
    finished: set[int] = set()
    failures: list[BaseException] = []
    condition = threading.Condition()
    connections = [_connect(target, tuned=True) for _ in range(max(1, min(workers, len(tasks))))]

    def next_task(connection: Any) -> _Task | None:
        with condition:
            while pending and not failures:
                task = _pick(pending, active, finished)
                if task is not None:
                    pending.remove(task)
                    active.append(task)
                    running[id(task)] = connection
                    return task
                if not active:
                    raise RuntimeError("the load's tasks wait for each other")  # a bug in _tasks
                condition.wait()
            return None

    def work(connection: Any) -> None:
        try:
            while (task := next_task(connection)) is not None:
                started = time.perf_counter()
                try:
                    task.run(connection)
                finally:
                    with condition:
                        task.span = (started, time.perf_counter())
                        active.remove(task)
                        del running[id(task)]
                        finished.add(id(task))
                        condition.notify_all()
        except BaseException as exc:
            _fail(exc)

    def _fail(exc: BaseException) -> None:
        with condition:
            if not failures:
                failures.append(exc)
                for other in running.values():
                    with contextlib.suppress(Exception):
                        other.cancel_safe()
            condition.notify_all()

    threads = [
        threading.Thread(target=work, args=(connection,), name=f"synthbeam-pg-{i}", daemon=True)
        for i, connection in enumerate(connections)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    except BaseException as exc:  # interrupted: stop the statements before the stage is dropped
        _fail(exc)
        for thread in threads:
            thread.join()
        raise
    finally:
        for connection in connections:
            with contextlib.suppress(Exception):
                connection.close()
    if failures:
        raise failures[0]


def _copy_pieces(staged_dir: Path, names: list[str]) -> list[tuple[str, str, list[int], int]]:
    """(table, file, row groups, rows) pieces of about ``COPY_PIECE_ROWS`` rows, largest first.

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
    return pieces


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


def _rejected(connection: Any, key: Key, relation: Callable[[str], str]) -> Exception:
    """``key`` rejected, naming one offending row (found by a query of our own: PostgreSQL names at most a value)."""
    if connection.info.transaction_status != 0:  # idle
        connection.rollback()
    return key.rejected(first_row(connection.cursor(), offender_query(key, relation)))


def _build_index(connection: Any, key: Key, relation: Callable[[str], str]) -> None:
    """The unique index of a primary or unique key, named as its constraint will be.

    ``CREATE UNIQUE INDEX`` takes a SHARE lock, which other index builds on the table share and
    the validation of a foreign key that references it does not block (``ALTER TABLE ... ADD
    PRIMARY KEY`` would lock the table exclusively for the whole build).
    """
    psycopg = _psycopg()
    try:
        connection.execute(f"CREATE UNIQUE INDEX {quote(key.name)} ON {relation(key.table)} ({_columns(key.columns)})")
    except psycopg.errors.IntegrityError:
        raise _rejected(connection, key, relation) from None


def _attach(connection: Any, key: Key, relation: Callable[[str], str]) -> None:
    """The constraint over the index :func:`_build_index` made (instant; a primary key also needs NOT NULL)."""
    psycopg = _psycopg()
    kind = "PRIMARY KEY" if key.kind == PRIMARY else "UNIQUE"
    try:
        connection.execute(
            f"ALTER TABLE {relation(key.table)} ADD CONSTRAINT {quote(key.name)} {kind} USING INDEX {quote(key.name)}"
        )
    except psycopg.errors.IntegrityError:
        raise _rejected(connection, key, relation) from None


def _add_foreign_key(connection: Any, key: Key, relation: Callable[[str], str]) -> None:
    """The foreign key, ``NOT VALID``: instant; :func:`_validate` has the database check every row."""
    assert key.parent is not None
    connection.execute(
        f"ALTER TABLE {relation(key.table)} ADD CONSTRAINT {quote(key.name)} FOREIGN KEY ({_columns(key.columns)}) "
        f"REFERENCES {relation(key.parent)} ({_columns(key.parent_columns)}) NOT VALID"
    )


def _validate(connection: Any, key: Key, relation: Callable[[str], str], merge_join: bool = False) -> None:
    """``VALIDATE CONSTRAINT``: PostgreSQL checks every child row against the parent, as ``ADD`` would have.

    It locks the child against writes and index builds (SHARE UPDATE EXCLUSIVE) but the parent
    only against being dropped or altered (ROW SHARE), so the parent's other index builds go on
    meanwhile. ``merge_join``: the check is one anti-join query; with a parent of millions of
    rows, its hash table outgrows the CPU caches and the probe of each child row costs a cache
    miss, so sorting both sides is faster (see the module docstring).
    """
    psycopg = _psycopg()
    try:
        with connection.transaction():
            if merge_join:
                connection.execute("SET LOCAL enable_hashjoin = off")
                connection.execute("SET LOCAL enable_nestloop = off")
            connection.execute(f"ALTER TABLE {relation(key.table)} VALIDATE CONSTRAINT {quote(key.name)}")
    except psycopg.errors.IntegrityError:
        raise _rejected(connection, key, relation) from None


def _columns(names: tuple[str, ...]) -> str:
    return ", ".join(map(quote, names))
