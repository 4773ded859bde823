"""The dedup pass for unique columns whose values cannot be enumerated (Faker values, LLM pools).

The algorithm, identical wherever it runs:

1. Round 0: every row draws its value (attempt 0). For each value the lowest
   row index keeps it; every other row holding it is a *loser*.
2. Rounds 1..ROUNDS: each loser draws ``ATTEMPTS_PER_ROUND`` candidates from
   fresh, attempt-numbered streams. A candidate is *blocked* if any row drew it
   in round 0 or a loser was given it in an earlier round. Losers are settled
   in row order: each takes its first candidate that is neither blocked nor
   taken by a lower loser this round (:func:`resolve_round`).
3. Losers left after the last round fail the run, naming the column and the
   count. Values are never made unique by appending counters or timestamps.

The result is a :class:`Replacements` map (row index -> value), small by
construction; the engine applies it wherever the column is generated,
including when a child table computes its parent's key.

``find_replacements`` runs the rounds in this process, holding the column's
distinct values in a set (``preview``, tests, small tables). The Beam pipeline
(``transforms/dedup.py``) runs the same rounds distributed: round 0 is a
combine per value, and "blocked" is found by re-generating the column and
testing it against the (small) candidate set, so the column is never collected.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from .engine import generate_columns
from .errors import GenerationError, Issues
from .model import Plan, Replacements

ROUNDS = 8
ATTEMPTS_PER_ROUND = 4
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
    rows = np.asarray(index, dtype=np.uint64)
    return generate_columns(plan, table, rows, [column], attempts={column: attempt})[column]


def round_attempts(round_number: int) -> range:
    """The attempt numbers tried in dedup round ``round_number`` (1-based)."""
    first = (round_number - 1) * ATTEMPTS_PER_ROUND + 1
    return range(first, first + ATTEMPTS_PER_ROUND)


def round_candidates(
    plan: Plan, table: str, column: str, losers: Sequence[int], round_number: int
) -> dict[int, list[Hashable]]:
    """Each loser's candidates for one round, in attempt order."""
    index = np.array(sorted(losers), dtype=np.uint64)
    drawn = [candidate_values(plan, table, column, index, a).to_pylist() for a in round_attempts(round_number)]
    return {int(row): [values[i] for values in drawn] for i, row in enumerate(index.tolist())}


def resolve_round(
    candidates: Mapping[int, Sequence[Hashable]], blocked: Iterable[Hashable]
) -> tuple[dict[int, Hashable], list[int]]:
    """Settle losers in row order: first candidate not blocked nor taken by a lower loser."""
    unavailable = set(blocked)
    accepted: dict[int, Hashable] = {}
    pending: list[int] = []
    for row in sorted(candidates):
        for value in candidates[row]:
            if value is not None and value not in unavailable:
                unavailable.add(value)
                accepted[row] = value
                break
        else:
            pending.append(row)
    return accepted, pending


def collision_error(place: str, remaining: int, rows: int) -> GenerationError:
    error = GenerationError(
        f"{place}: {remaining:,} of {rows:,} values still collide after {ROUNDS} dedup rounds "
        f"({ROUNDS * ATTEMPTS_PER_ROUND} re-draws each); the rule cannot produce enough distinct values"
    )
    # Kept as a GenerationError (a subclass with its own arguments would not cross Beam's worker
    # boundary as itself); the counts ride along for validation's message.
    error.collisions = (remaining, rows)
    return error


def to_replacements(accepted: Mapping[int, Hashable], arrow_type: pa.DataType) -> Replacements:
    order = sorted(accepted)
    return Replacements(np.array(order, dtype=np.uint64), pa.array([accepted[row] for row in order], arrow_type))


def find_replacements(plan: Plan, table: str, column: str, rows: int | None = None) -> Replacements:
    """Replacements that make ``table.column`` unique, computed in this process.

    ``rows`` (default: the table's) limits the pass to the table's first rows: what
    validation runs on a large table, as a prefix that fails fails the whole.
    """
    rows = plan.table(table).rows if rows is None else min(rows, plan.table(table).rows)
    column_plan = plan.table(table).column(column)
    drawn: set[Hashable] = set()
    losers: list[int] = []
    for start in range(0, rows, CHUNK_ROWS):
        index = np.arange(start, min(rows, start + CHUNK_ROWS), dtype=np.uint64)
        for row, value in zip(index.tolist(), candidate_values(plan, table, column, index, 0).to_pylist()):
            if value is None:
                continue
            if value in drawn:
                losers.append(row)
            else:
                drawn.add(value)
    replaced: dict[int, Hashable] = {}
    for round_number in range(1, ROUNDS + 1):
        if not losers:
            break
        candidates = round_candidates(plan, table, column, losers, round_number)
        blocked = {value for values in candidates.values() for value in values if value in drawn}
        accepted, losers = resolve_round(candidates, blocked | set(replaced.values()))
        replaced.update(accepted)
    if losers:
        raise collision_error(column_plan.place, len(losers), rows)
    return to_replacements(replaced, column_plan.arrow_type)


DRY_RUN_ROWS = 50_000
DRY_RUN_ENV = "SYNTHBEAM_PLAN_DEDUP_ROWS"  # rows validation's dedup pass tries; 0 turns it off


def dry_run_rows() -> int:
    """How many rows of a table validation's dedup pass tries: ``$SYNTHBEAM_PLAN_DEDUP_ROWS`` or 50,000."""
    setting = os.environ.get(DRY_RUN_ENV, "").strip()
    try:
        return max(0, int(setting)) if setting else DRY_RUN_ROWS
    except ValueError:
        return DRY_RUN_ROWS


def check_dedup_feasible(plan: Plan, issues: Issues, tried_rows: int | None = None) -> None:
    """Run the dedup pass now, so a column that cannot be made unique fails validation, not generate.

    The pass is deterministic, so on a table of up to ``dry_run_rows`` rows its
    outcome here is exactly generate's. A larger table's first ``tried_rows``
    rows are tried (if they cannot be made unique, neither can the whole), and
    their values estimate the value space: when that is below the row count, a
    warning says the pass may fail. The estimate is Chao1 (distinct values plus
    f1(f1 - 1) / 2(f2 + 1), from the values seen once and twice), which holds up
    for skewed values (company names) where an equal-odds estimate read a
    space of 47,000 into a column the pass made unique at 200,000 rows. It is
    still a lower bound, hence a warning, not an error.
    ``tried_rows`` defaults to :func:`dry_run_rows`; 0 turns the check off.
    """
    limit = dry_run_rows() if tried_rows is None else tried_rows
    if limit <= 0:
        return
    for table_name, column_name in dedup_columns(plan):
        table = plan.table(table_name)
        column = table.column(column_name)
        tried = min(table.rows, limit)
        try:
            find_replacements(plan, table_name, column_name, tried)
        except GenerationError as exc:
            if not hasattr(exc, "collisions"):  # the rule itself failed on a row the sample did not reach
                issues.error(column.place, str(exc).removeprefix(f"{column.place}: "))
                continue
            remaining = "{:,} of {:,}".format(*exc.collisions)
            cut = f", cut to length {column.max_length}," if column.max_length is not None else ""
            scope = "" if tried == table.rows else f" on the first {tried:,} of {table.rows:,} rows"
            issues.error(
                column.place,
                f"is unique, but its rule{cut} cannot produce enough distinct values: {remaining} values still "
                f"collide after {ROUNDS} dedup rounds ({ROUNDS * ATTEMPTS_PER_ROUND} re-draws each: generate's "
                f"pass, run now{scope}); "
                + ("raise length, " if cut else "")
                + "lower the rows, or drop unique",
            )
            continue
        if tried < table.rows:
            space = _estimated_space(plan, table_name, column_name, tried)
            if space is not None and space < table.rows:
                issues.warning(
                    column.place,
                    f"is unique, but its first {tried:,} values suggest as few as {space:,} distinct values for "
                    f"{table.rows:,} rows: generate's dedup pass may fail (validate tried {tried:,} rows; "
                    f"{DRY_RUN_ENV}={table.rows} tries them all)",
                )
            elif space is None and column.rule is not None and column.rule.max_cardinality() is None:
                # No repeat among the values tried, so no estimate either: say what is not known.
                issues.warning(
                    column.place,
                    f"is unique, but its rule's value space cannot be counted, so validate made only the first "
                    f"{tried:,} of {table.rows:,} rows unique: generate's dedup pass over all of them may still "
                    f"fail ({DRY_RUN_ENV}={table.rows} tries them all)",
                )


def _estimated_space(plan: Plan, table: str, column: str, drawn: int) -> int | None:
    """Distinct values the column can take, estimated from its first ``drawn`` draws (None: all distinct)."""
    values = candidate_values(plan, table, column, np.arange(drawn, dtype=np.uint64), 0).drop_null()
    counts = Counter(Counter(values.to_pylist()).values())  # how many values were seen once, twice, ...
    distinct = sum(counts.values())
    if distinct >= len(values):
        return None
    once, twice = counts.get(1, 0), counts.get(2, 0)
    return distinct + once * (once - 1) // (2 * (twice + 1))


def apply_dedup(plan: Plan, max_rows: int | None = None) -> dict[str, int]:
    """Run the in-process dedup pass for every column that needs one; returns collisions per column.

    Columns of tables over ``max_rows`` rows (if given) are left out, and absent from the result.
    """
    collisions: dict[str, int] = {}
    for table, column in dedup_columns(plan):
        if max_rows is not None and plan.table(table).rows > max_rows:
            continue
        key = f"{table}.{column}"
        plan.replacements.pop(key, None)
        plan.replacements[key] = find_replacements(plan, table, column)
        collisions[key] = len(plan.replacements[key])
    return collisions
