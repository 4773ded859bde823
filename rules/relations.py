"""Foreign keys by computation: a child row's parent row index, then the parent's value.

A child never looks up its parent's key set. Its FK column draws a parent
*row index* from the distribution (a pure function of the child's row index)
and asks the engine for the parent column's value at that index: the same
function the parent table used when it wrote that row. Cross-table references
(``customers.signup_date``) follow the same path.

Distributions: ``random`` (uniform), ``even`` (round robin, so counts differ by
at most one), ``zipf`` (rank ~ 1/k**s over a keyed shuffle of the parents),
``weighted`` (weights by the parent value's string form, unlisted parents
weigh 1). Self-references point at an earlier row of the same table, forming a
forest (a random recursive tree), so they can never cycle.
``children_per_parent`` lays child rows out parent by parent: child rows of
parent ``p`` occupy a contiguous range found by a prefix sum of per-parent
counts, kept per block of parents so no array of the parent's size is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from .keys import unique_ordinals
from .model import ColumnPlan, ForeignKey, Plan, TablePlan
from .registry import Rows
from .seeding import Stream

GenerateColumns = Callable[..., dict[str, pa.Array]]
NO_PARENT = -1
PARENT_BLOCK = 1 << 16


def fk_stream(plan: Plan, table: str, fk: ForeignKey) -> Stream:
    return Stream.root("synthbeam", plan.seed, table, fk.child_column, "fk")


def parent_index(plan: Plan, table: TablePlan, fk: ForeignKey, index: np.ndarray) -> np.ndarray:
    """The parent row each child row points at (int64; ``NO_PARENT`` for a null link)."""
    index = np.asarray(index, dtype=np.uint64)
    stream = fk_stream(plan, table.name, fk)
    parent_rows = plan.table(fk.parent_table).rows
    child = table.column(fk.child_column)
    if child.key_strategy == "group":
        from .engine import group_ordinal

        return group_ordinal(plan, table.name, child, index).astype(np.int64)
    if fk.parent_table == table.name:
        chosen = _earlier_row(stream, index)
    elif fk.children_per_parent is not None:
        chosen = children_layout(plan, table.name, fk).parent_of(index)
    elif parent_rows == 0:
        chosen = np.full(len(index), NO_PARENT, dtype=np.int64)
    else:
        chosen = DISTRIBUTIONS[fk.distribution](plan, table, fk, stream, index, parent_rows)
    if fk.null_probability > 0:
        chosen = np.where(stream.child("null").bernoulli(index, fk.null_probability), NO_PARENT, chosen)
    return chosen


def _earlier_row(stream: Stream, index: np.ndarray) -> np.ndarray:
    earlier = np.floor(stream.child("parent").uniform(index) * index.astype(np.float64)).astype(np.int64)
    return np.where(index == 0, NO_PARENT, np.minimum(earlier, index.astype(np.int64) - 1))


def _uniform(plan, table, fk, stream: Stream, index: np.ndarray, parent_rows: int) -> np.ndarray:
    return stream.child("parent").below(index, parent_rows)


def _even(plan, table, fk, stream: Stream, index: np.ndarray, parent_rows: int) -> np.ndarray:
    return (index % np.uint64(parent_rows)).astype(np.int64)


def zipf_rank(uniform: np.ndarray, count: int, s: float) -> np.ndarray:
    """0-based rank drawn with P(k) ~ 1/(k+1)**s, by inverting the continuous CDF."""
    if abs(s - 1.0) < 1e-9:
        ranks = np.exp(uniform * np.log(count + 1.0)) - 1.0
    else:
        top = (count + 1.0) ** (1.0 - s) - 1.0
        ranks = (uniform * top + 1.0) ** (1.0 / (1.0 - s)) - 1.0
    return np.clip(np.floor(ranks), 0, count - 1).astype(np.int64)


def _zipf(plan, table, fk, stream: Stream, index: np.ndarray, parent_rows: int) -> np.ndarray:
    ranks = zipf_rank(stream.child("parent").uniform(index), parent_rows, fk.s)
    return unique_ordinals(stream.child("ranking"), ranks.astype(np.uint64), parent_rows).astype(np.int64)


def _weighted(plan, table, fk, stream: Stream, index: np.ndarray, parent_rows: int) -> np.ndarray:
    listed_index, listed_weight = weighted_parents(plan, fk)
    unlisted = parent_rows - len(listed_index)
    listed_total = float(listed_weight.sum())
    total = listed_total + unlisted
    draw = stream.child("parent").uniform(index) * total
    result = np.empty(len(index), dtype=np.int64)
    pick_listed = draw < listed_total
    if pick_listed.any():
        cumulative = np.cumsum(listed_weight)
        slot = np.searchsorted(cumulative, draw[pick_listed], side="right").clip(0, len(cumulative) - 1)
        result[pick_listed] = listed_index[slot]
    rest = ~pick_listed
    if rest.any():
        ordinal = stream.child("unlisted").below(index[rest], max(unlisted, 1))
        result[rest] = skip_listed(ordinal, np.sort(listed_index))
    return result


def skip_listed(ordinal: np.ndarray, listed_sorted: np.ndarray) -> np.ndarray:
    """The ``ordinal``-th parent index that is not in ``listed_sorted``."""
    if len(listed_sorted) == 0:
        return ordinal
    gaps = listed_sorted - np.arange(len(listed_sorted))
    return ordinal + np.searchsorted(gaps, ordinal, side="right")


def weighted_parents(plan: Plan, fk: ForeignKey) -> tuple[np.ndarray, np.ndarray]:
    """Parent row indices of the values named in ``weights``, found by scanning the parent key.

    The scan computes the parent column block by block (nothing is collected)
    and runs once per process; the result is small (one entry per listed value).
    """
    if fk.weighted_rows is not None:
        return fk.weighted_rows
    from .engine import generate_columns

    wanted = {str(k): float(w) for k, w in fk.weights.items()}
    found: dict[str, int] = {}
    parent = plan.table(fk.parent_table)
    for start in range(0, parent.rows, 1 << 18):
        stop = min(parent.rows, start + (1 << 18))
        block = np.arange(start, stop, dtype=np.uint64)
        values = generate_columns(plan, parent.name, block, [fk.parent_column])[fk.parent_column]
        texts = values.cast(pa.string()).to_numpy(zero_copy_only=False)
        hits = np.flatnonzero(np.isin(texts, list(wanted)))
        for position in hits:
            found.setdefault(str(texts[position]), start + int(position))
        if len(found) == len(wanted):
            break
    ordered = sorted(found.items(), key=lambda item: item[1])
    result = (
        np.array([i for _, i in ordered], dtype=np.int64),
        np.array([wanted[k] for k, _ in ordered], dtype=np.float64),
    )
    fk.weighted_rows = result
    return result


DISTRIBUTIONS: dict[str, Callable[..., np.ndarray]] = {
    "random": _uniform,
    "uniform": _uniform,
    "even": _even,
    "zipf": _zipf,
    "weighted": _weighted,
}


class ChildrenLayout:
    """Where each parent's children sit when a FK sets ``children_per_parent``.

    Parent ``p`` has ``count(p)`` children (drawn in [min, max], spread by the
    distribution); children are laid out parent after parent. Block totals
    (one number per ``PARENT_BLOCK`` parents) make the prefix sum; a block's
    per-parent counts are recomputed on demand.
    """

    def __init__(self, plan: Plan, table: str, fk: ForeignKey) -> None:
        self.low, self.high = fk.children_per_parent
        self.parent_rows = plan.table(fk.parent_table).rows
        self.stream = fk_stream(plan, table, fk).child("children")
        self.distribution = fk.distribution
        self.s = fk.s
        totals = [
            int(self.counts(start, min(self.parent_rows, start + PARENT_BLOCK)).sum())
            for start in range(0, self.parent_rows, PARENT_BLOCK)
        ]
        self.block_starts = np.concatenate([[0], np.cumsum(totals, dtype=np.int64)])

    @property
    def total(self) -> int:
        return int(self.block_starts[-1])

    def counts(self, start: int, stop: int) -> np.ndarray:
        parents = np.arange(start, stop, dtype=np.uint64)
        spread = self.high - self.low
        if spread == 0:
            return np.full(len(parents), self.low, dtype=np.int64)
        if self.distribution == "zipf":
            extra = zipf_rank(self.stream.uniform(parents), spread + 1, self.s)
        else:
            extra = self.stream.integers(parents, 0, spread)
        return self.low + extra

    def parent_of(self, index: np.ndarray) -> np.ndarray:
        child = index.astype(np.int64)
        block = np.searchsorted(self.block_starts, child, side="right") - 1
        result = np.empty(len(child), dtype=np.int64)
        for number in np.unique(block):
            members = block == number
            start = int(number) * PARENT_BLOCK
            counts = self.counts(start, min(self.parent_rows, start + PARENT_BLOCK))
            bounds = self.block_starts[number] + np.cumsum(counts)
            result[members] = start + np.searchsorted(bounds, child[members], side="right")
        return result


def children_layout(plan: Plan, table: str, fk: ForeignKey) -> ChildrenLayout:
    if fk.layout is None:
        fk.layout = ChildrenLayout(plan, table, fk)
    return fk.layout


def _values_at(
    plan: Plan, parent_table: str, column: str, chosen: np.ndarray, generate_columns: GenerateColumns
) -> pa.Array:
    present = chosen >= 0
    parent_type = plan.table(parent_table).column(column).arrow_type
    if present.all():
        return generate_columns(plan, parent_table, chosen.astype(np.uint64), [column])[column]
    values = generate_columns(plan, parent_table, chosen[present].astype(np.uint64), [column])[column]
    slots = np.full(len(chosen), -1, dtype=np.int64)
    slots[present] = np.arange(int(present.sum()))
    return values.take(pa.array(slots, mask=~present)).cast(parent_type)


def foreign_key_values(
    plan: Plan, table: TablePlan, column: ColumnPlan, rows: Rows, generate_columns: GenerateColumns
) -> pa.Array:
    fk = column.foreign_key
    chosen = parent_index(plan, table, fk, rows.index)
    return _values_at(plan, fk.parent_table, fk.parent_column, chosen, generate_columns)


def parent_column(
    plan: Plan, table: TablePlan, qualified: str, index: np.ndarray, generate_columns: GenerateColumns
) -> pa.Array:
    """``parent.column`` for each child row, through the table's FK to that parent."""
    parent_name, column = qualified.split(".", 1)
    fk = next(fk for fk in table.foreign_keys if fk.parent_table == parent_name)
    chosen = parent_index(plan, table, fk, index)
    return _values_at(plan, parent_name, column, chosen, generate_columns)


def describe_fk(fk: ForeignKey) -> dict[str, Any]:
    return {
        "parent": f"{fk.parent_table}.{fk.parent_column}",
        "distribution": fk.distribution,
        "children_per_parent": fk.children_per_parent,
        "null_probability": fk.null_probability,
    }
