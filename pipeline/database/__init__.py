"""``generate --to URL``: the run's tables loaded into PostgreSQL, SQLite or DuckDB, all or nothing.

The pipeline runs as for files, into a Parquet folder the run owns (a temporary one, or
``--out`` when given, which then keeps the files and ``_report.json``). One loader then moves
those rows into the database and has the database create and check every key; the target
changes only when everything is in (see each loader's docstring for how). Loading from the
finished Parquet, rather than from the Beam workers, is what makes the swap possible: the
workers' bundles can be retried, so rows they wrote straight into the target could be written
twice or be visible before the run is known to succeed.

The loaders: :mod:`.postgres` (COPY into a staging schema, keys, one swap transaction),
:mod:`.sqlite` and :mod:`.duckdb` (one transaction in the target file).
"""

from __future__ import annotations

from pathlib import Path

from synthbeam.rules.core.model import Plan

from ..errors import UserError
from .result import LoadResult
from .target import DatabaseTarget, redact, resolve_target

__all__ = ["DatabaseTarget", "LoadResult", "load", "precheck", "redact", "resolve_target"]


def precheck(target: DatabaseTarget, plan: Plan, overwrite: bool) -> None:
    """Before the pipeline runs: the database is reachable and holds none of the tables (or ``--overwrite``)."""
    if target.kind == "postgres":
        from .postgres import precheck_postgres

        precheck_postgres(target, plan, overwrite)
    elif target.kind == "sqlite":
        from .sqlite import precheck_sqlite

        precheck_sqlite(target, plan, overwrite)
    else:
        from .duckdb import precheck_duckdb

        precheck_duckdb(target, plan, overwrite)


def load(
    target: DatabaseTarget, plan: Plan, staged_dir: Path, overwrite: bool, run_id: str, workers: int = 2
) -> LoadResult:
    """Load every table of ``staged_dir`` (``<table>/*.parquet``) into ``target``; raises UserError on failure.

    A driver's own error (a locked file, a full disk, a lost connection) becomes one line naming
    the target and the driver's words, with the password scrubbed.
    """
    try:
        if target.kind == "postgres":
            from .postgres import load_postgres

            return load_postgres(target, plan, staged_dir, overwrite, run_id, workers)
        if target.kind == "sqlite":
            from .sqlite import load_sqlite

            return load_sqlite(target, plan, staged_dir, overwrite)
        from .duckdb import load_duckdb

        return load_duckdb(target, plan, staged_dir, overwrite)
    except UserError:
        raise
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        message = f"{type(exc).__name__}: {lines[0] if lines else ''}"
        raise UserError(f"{target.display}: the load failed, target unchanged: {target.redact(message)}") from exc
