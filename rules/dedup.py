"""The dedup pass for unique columns whose values cannot be enumerated (Faker values, LLM pools).

Rows keep their first-drawn value unless an earlier row (lower index) already
has it; each losing row re-draws from an attempt-numbered stream, round after
round, until its value is new. The result is a :class:`Replacements` map
(row index -> value), small by construction, which the engine applies wherever
the column is generated, including when a child table computes its parent's
key. If the rounds run out the run fails naming the column and the count:
values are never made unique by appending counters or timestamps.

``find_replacements`` is the in-process form (used by ``preview``, tests and
small tables; it holds a set of the column's values). The Beam pipeline runs
the same rounds distributed, with ``resolve_round`` deciding each round.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
import pyarrow as pa

from .engine import generate_columns
from .errors import GenerationError
from .model import Plan, Replacements

MAX_ROUNDS = 8
CHUNK_ROWS = 1 << 18


def dedup_columns(plan: Plan) -> list[tuple[str, str]]:
    """(table, column) pairs that need a dedup pass, parents before children."""
    return [
        (table.name, column.name)
        for table in plan.tables.values()
        for column in table.columns
        if column.key_strategy == "dedup"
    ]


def candidate_values(plan: Plan, table: str, column: str, index: np.ndarray, attempt: int) -> pa.Array:
    """The column's values at ``index`` as drawn on retry ``attempt`` (0 = first draw)."""
    return generate_columns(
        plan, table, np.asarray(index, dtype=np.uint64), [column], attempts={column: attempt}
    )[column]


def resolve_round(
    losers: Iterable[int], candidates: Iterable[Hashable], taken: set[Hashable]
) -> tuple[dict[int, Hashable], list[int]]:
    """Accept each loser's candidate if no row has it yet (lowest index wins); return the rest.

    ``taken`` holds every value already in the column and is updated in place.
    """
    accepted: dict[int, Hashable] = {}
    pending: list[int] = []
    for row, value in sorted(zip(losers, candidates), key=lambda pair: pair[0]):
        if value is None or value in taken:
            pending.append(row)
        else:
            taken.add(value)
            accepted[row] = value
    return accepted, pending


def find_replacements(plan: Plan, table: str, column: str, max_rounds: int = MAX_ROUNDS) -> Replacements:
    """Replacements that make ``table.column`` unique, computed in this process."""
    rows = plan.table(table).rows
    column_plan = plan.table(table).column(column)
    taken: set[Hashable] = set()
    losers: list[int] = []
    for start in range(0, rows, CHUNK_ROWS):
        index = np.arange(start, min(rows, start + CHUNK_ROWS), dtype=np.uint64)
        for row, value in zip(index.tolist(), candidate_values(plan, table, column, index, 0).to_pylist()):
            if value is None:
                continue
            if value in taken:
                losers.append(row)
            else:
                taken.add(value)
    replaced: dict[int, Hashable] = {}
    for attempt in range(1, max_rounds + 1):
        if not losers:
            break
        candidates = candidate_values(plan, table, column, np.array(losers, dtype=np.uint64), attempt)
        accepted, losers = resolve_round(losers, candidates.to_pylist(), taken)
        replaced.update(accepted)
    if losers:
        raise GenerationError(
            f"{column_plan.place}: {len(losers):,} values still collide after {max_rounds} dedup rounds; "
            "the rule cannot produce enough distinct values for this row count"
        )
    order = sorted(replaced)
    return Replacements(
        np.array(order, dtype=np.uint64), pa.array([replaced[row] for row in order], column_plan.arrow_type)
    )


def apply_dedup(plan: Plan) -> dict[str, int]:
    """Run the in-process dedup pass for every column that needs one; returns collisions per column."""
    collisions: dict[str, int] = {}
    for table, column in dedup_columns(plan):
        key = f"{table}.{column}"
        plan.replacements.pop(key, None)
        plan.replacements[key] = find_replacements(plan, table, column)
        collisions[key] = len(plan.replacements[key])
    return collisions
