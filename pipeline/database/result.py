"""What a load reports, and the one rule every loader shares about tables that already exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synthbeam.rules.core.model import Plan

from ..ddl import TableSet, create_statements
from ..errors import UserError
from .keys import quote
from .target import DatabaseTarget

__all__ = ["LoadResult", "refuse_existing"]


@dataclass
class LoadResult:
    """Rows per table and seconds per phase (the report's ``database`` section).

    ``seconds`` are wall-clock spans (a loader that overlaps its phases reports overlapping
    spans); ``busy_seconds``, where a loader works on several connections, sum each phase's
    statements over the connections: where the time goes.
    """

    url: str  # redacted
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    busy_seconds: dict[str, float] = field(default_factory=dict)

    def as_report(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "rows": dict(self.rows),
            "total_rows": sum(self.rows.values()),
            "seconds": {phase: round(value, 3) for phase, value in self.seconds.items()},
            **({"busy_seconds": {k: round(v, 3) for k, v in self.busy_seconds.items()}} if self.busy_seconds else {}),
            **({"notes": list(self.notes)} if self.notes else {}),
        }


def refuse_existing(target: DatabaseTarget, existing: list[str], overwrite: bool) -> None:
    """Tables of the config already in the target need ``--overwrite``, as an existing output folder does."""
    if existing and not overwrite:
        shown = ", ".join(existing[:5]) + (", ..." if len(existing) > 5 else "")
        raise UserError(f"{target.display} already has table(s) {shown}; pass --overwrite to replace them")


def replace_tables(
    connection: Any,
    target: DatabaseTarget,
    plan: Plan,
    dialect: str,
    tables: TableSet,
    existing: list[str],
    overwrite: bool,
) -> None:
    """In the caller's transaction: refuse or drop the config's tables already there, then create them all.

    The single-writer loaders (SQLite, DuckDB) do this inside the transaction that loads the rows,
    so a failed run rolls the drop back with everything else.
    """
    refuse_existing(target, existing, overwrite)
    for name in reversed(existing):
        connection.execute(f"DROP TABLE {quote(name)}")
    for statement in create_statements(plan, dialect, tables):
        connection.execute(statement)
