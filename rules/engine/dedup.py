"""The dedup pass for unique columns whose values cannot be enumerated (LLM pools, uncountable Faker rules).

The algorithm, identical wherever it runs (in this process, or as keyed Beam
stages in ``transforms/dedup.py``), is built from per-key steps so that no step
needs more than one value's or one row's share of the data:

1. Round 0: every row draws its value (attempt 0). For each value the lowest
   row index keeps it; every other row holding it is a *loser*.
2. Each loser draws ``CANDIDATES`` candidates up front, from fresh,
   attempt-numbered streams (attempts 1..CANDIDATES).
3. Rounds 1..ROUNDS settle losers by value (:func:`resolve_value`): a
   candidate value that some row drew in round 0 or a loser took in an earlier
   round is dropped from every list holding it; otherwise the lowest loser
   proposing it wins it. Then by row (:func:`settle_row`): a loser that won
   values takes the one of its lowest attempt, and the others go back free;
   a loser that won nothing stays, with its dropped candidates removed.
4. Losers left after the last round fail the run, naming the column and the
   count. Values are never made unique by appending counters or timestamps.

Only sets decide (which rows drew a value, which losers propose it), never the
order elements arrive in, so every runner and worker count gives the same
result. Columns whose values depend on another dedup column's settle after it
(:func:`dedup_levels`).

The result is a :class:`Replacements` map (row index -> value); in Beam it is
cut into blocks of ``BLOCK_ROWS`` rows, and a worker fetches only the blocks of
the rows it generates (:class:`~synthbeam.rules.core.model.ReplacementBlocks`).
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.errors import GenerationError, Issues
from synthbeam.rules.core.model import Plan, ReplacementBlocks, Replacements
from synthbeam.rules.engine.batch import column_dependencies, generate_columns

ROUNDS = 8
CANDIDATES = 32  # re-draws per loser
CHUNK_ROWS = 1 << 18
BLOCK_ROWS = 1 << 16  # rows per block of replacements (the unit a worker fetches)

Candidate = tuple[int, Hashable]  # (attempt, value)


def dedup_columns(plan: Plan) -> list[tuple[str, str]]:
    """(table, column) pairs that need a dedup pass, parents before children."""
    return [
        (table.name, column.name)
        for table in plan.tables.values()
        for column in table.columns
        if column.key_strategy == "dedup"
    ]


def dedup_levels(plan: Plan) -> list[list[tuple[str, str]]]:
    """Dedup columns in levels: a column's values depend only on dedup columns of lower levels.

    A column depends on the columns its rule and conditions read (same table or
    ``table.column``) and on its foreign key's parent column, transitively.
    Columns of one level settle together, in one set of pipeline stages.
    """
    wanted = set(dedup_columns(plan))
    memo: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def reads(table: str, column: str) -> set[tuple[str, str]]:
        plan_column = plan.table(table).column(column)
        found = set()
        for ref in column_dependencies(plan_column):
            parent, _, name = ref.rpartition(".")
            found.add((parent or table, name))
        if plan_column.foreign_key is not None:
            found.add((plan_column.foreign_key.parent_table, plan_column.foreign_key.parent_column))
        return {pair for pair in found if pair[0] in plan.tables and pair != (table, column)}

    def upstream(pair: tuple[str, str], path: frozenset = frozenset()) -> set[tuple[str, str]]:
        if pair in memo:
            return memo[pair]
        if pair in path:  # a cycle was reported at compile time; do not loop here
            return set()
        result: set[tuple[str, str]] = set()
        for parent in reads(*pair):
            try:
                plan.table(parent[0]).column(parent[1])
            except KeyError:
                continue
            result |= {parent} | upstream(parent, path | {pair})
        memo[pair] = result
        return result

    level: dict[tuple[str, str], int] = {}
    for pair in dedup_columns(plan):  # parents come first, so their levels are known
        below = [level[p] for p in upstream(pair) & wanted if p in level]
        level[pair] = 1 + max(below, default=-1)
    levels: list[list[tuple[str, str]]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for pair in dedup_columns(plan):
        levels[level[pair]].append(pair)
    return levels


def replacement_blocks(
    plan: Plan, lookup: Callable[[str, int], Replacements | None]
) -> dict[str, Replacements | ReplacementBlocks]:
    """``plan.replacements`` for a worker: every dedup column's blocks, fetched through ``lookup(key, block)``."""
    return {
        f"{table}.{column}": ReplacementBlocks(functools.partial(lookup, f"{table}.{column}"), BLOCK_ROWS)
        for table, column in dedup_columns(plan)
    }


def block_of(row: int) -> int:
    return row // BLOCK_ROWS


def candidate_values(plan: Plan, table: str, column: str, index: np.ndarray, attempt: int) -> pa.Array:
    """The column's values at ``index`` as drawn on retry ``attempt`` (0 = first draw)."""
    rows = np.asarray(index, dtype=np.uint64)
    return generate_columns(plan, table, rows, [column], attempts={column: attempt})[column]


def loser_candidates(plan: Plan, table: str, column: str, losers: Sequence[int]) -> dict[int, list[Candidate]]:
    """Each loser's non-null candidates, attempts 1..CANDIDATES in order."""
    index = np.array(sorted(losers), dtype=np.uint64)
    drawn = [candidate_values(plan, table, column, index, a).to_pylist() for a in range(1, CANDIDATES + 1)]
    return {
        int(row): [(a + 1, values[i]) for a, values in enumerate(drawn) if values[i] is not None]
        for i, row in enumerate(index.tolist())
    }


def resolve_value(taken: bool, proposals: Iterable[tuple[int, int]]) -> tuple[int, int] | None:
    """One value's round: the ``(row, attempt)`` that wins it, or None when it is taken (or unproposed)."""
    if taken:
        return None
    return min(proposals, default=None)


def settle_row(
    candidates: Sequence[Candidate], wins: Iterable[Candidate], dropped: Iterable[Hashable]
) -> tuple[Hashable | None, list[Candidate]]:
    """One loser's round: (the value it takes or None, its candidates for the next round)."""
    won = min(wins, default=None, key=lambda candidate: candidate[0])
    if won is not None:
        return won[1], []
    gone = set(dropped)
    return None, [candidate for candidate in candidates if candidate[1] not in gone]


def settle(
    candidates: Mapping[int, Sequence[Candidate]], taken: set[Hashable], rounds: int = ROUNDS
) -> tuple[dict[int, Hashable], list[int]]:
    """Rounds 1..``rounds`` in this process: (row -> accepted value, rows left). ``taken`` grows."""
    pending = {row: list(values) for row, values in candidates.items() if values}
    failed = [row for row, values in candidates.items() if not values]
    accepted: dict[int, Hashable] = {}
    for _ in range(rounds):
        if not pending:
            break
        proposals: dict[Hashable, list[tuple[int, int]]] = {}
        for row, values in pending.items():
            for attempt, value in values:
                proposals.setdefault(value, []).append((row, attempt))
        wins: dict[int, list[Candidate]] = {}
        dropped: dict[int, list[Hashable]] = {}
        for value, proposed in proposals.items():
            winner = resolve_value(value in taken, proposed)
            if winner is None:
                for row, _ in proposed:
                    dropped.setdefault(row, []).append(value)
            else:
                wins.setdefault(winner[0], []).append((winner[1], value))
        next_pending: dict[int, list[Candidate]] = {}
        for row, values in pending.items():
            value, rest = settle_row(values, wins.get(row, ()), dropped.get(row, ()))
            if value is not None:
                accepted[row] = value
            elif rest:
                next_pending[row] = rest
            else:
                failed.append(row)
        taken.update(value for row, value in accepted.items() if row in pending)
        pending = next_pending
    return accepted, sorted(failed + list(pending))


def collision_error(place: str, remaining: int, rows: int) -> GenerationError:
    error = GenerationError(
        f"{place}: {remaining:,} of {rows:,} values still collide after {ROUNDS} dedup rounds "
        f"({CANDIDATES} re-draws each); the rule cannot produce enough distinct values"
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
    accepted, left = settle(loser_candidates(plan, table, column, losers) if losers else {}, drawn)
    if left:
        raise collision_error(column_plan.place, len(left), rows)
    return to_replacements(accepted, column_plan.arrow_type)


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
            inner = column.rule.unwrapped()[0] if column.rule is not None else None
            if inner is not None and inner.derived_from_row:
                # re-drawing cannot help: the value is computed from the row, with no draw of its own
                issues.error(
                    column.place,
                    f"is unique, but {remaining} of its values repeat, and {inner.describe()} computes each value "
                    "from its row, so a collision cannot be re-drawn: put a unique column in it (a key such as "
                    "{user_id}), or drop unique",
                )
                continue
            issues.error(
                column.place,
                f"is unique, but its rule{cut} cannot produce enough distinct values: {remaining} values still "
                f"collide after {ROUNDS} dedup rounds ({CANDIDATES} re-draws each: generate's "
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
