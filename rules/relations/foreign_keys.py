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
counts within its block of parents; where a block starts is a closed form for
large parent tables (:class:`StratifiedLayout`), so neither the launcher nor
the job graph holds anything of the parent's size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.model import ColumnPlan, ForeignKey, Plan, TablePlan
from synthbeam.rules.core.registry import Rows
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.relations.keys import ColumnSource, group_ordinal, unique_ordinals
from synthbeam.rules.relations.parent_lookup import locate_values

NO_PARENT = -1
PARENT_BLOCK = 1 << 16


def fk_stream(plan: Plan, table: str, fk: ForeignKey) -> Stream:
    return Stream.root("synthbeam", plan.seed, table, fk.child_column, "fk")


def parent_index(
    plan: Plan, table: TablePlan, fk: ForeignKey, index: np.ndarray, generate_columns: ColumnSource
) -> np.ndarray:
    """The parent row each child row points at (int64; ``NO_PARENT`` for a null link).

    ``generate_columns`` (the engine's) computes parent values where the link depends on them:
    a weighted FK's named parents, children counts read from a parent column.
    """
    index = np.asarray(index, dtype=np.uint64)
    stream = fk_stream(plan, table.name, fk)
    parent_rows = plan.table(fk.parent_table).rows
    child = table.column(fk.child_column)
    if child.key_strategy == "group":
        return group_ordinal(plan, table.name, child, index).astype(np.int64)
    if fk.parent_table == table.name:
        chosen = _earlier_row(stream, index)
    elif fk.children_per_parent is not None:
        chosen = children_layout(plan, table.name, fk, generate_columns).parent_of(index)
    elif parent_rows == 0:
        chosen = np.full(len(index), NO_PARENT, dtype=np.int64)
    elif fk.distribution == "weighted":
        chosen = _weighted(stream, index, parent_rows, *weighted_parents(plan, fk, generate_columns))
    else:
        chosen = DISTRIBUTIONS[fk.distribution](fk, stream, index, parent_rows)
    if fk.null_probability > 0:
        chosen = np.where(stream.child("null").bernoulli(index, fk.null_probability), NO_PARENT, chosen)
    return chosen


def _earlier_row(stream: Stream, index: np.ndarray) -> np.ndarray:
    earlier = np.floor(stream.child("parent").uniform(index) * index.astype(np.float64)).astype(np.int64)
    return np.where(index == 0, NO_PARENT, np.minimum(earlier, index.astype(np.int64) - 1))


def _uniform(fk: ForeignKey, stream: Stream, index: np.ndarray, parent_rows: int) -> np.ndarray:
    return stream.child("parent").below(index, parent_rows)


def _even(fk: ForeignKey, stream: Stream, index: np.ndarray, parent_rows: int) -> np.ndarray:
    return (index % np.uint64(parent_rows)).astype(np.int64)


def zipf_rank(uniform: np.ndarray, count: int, s: float) -> np.ndarray:
    """0-based rank drawn with P(k) ~ 1/(k+1)**s, by inverting the continuous CDF."""
    if abs(s - 1.0) < 1e-9:
        ranks = np.exp(uniform * np.log(count + 1.0)) - 1.0
    else:
        top = (count + 1.0) ** (1.0 - s) - 1.0
        ranks = (uniform * top + 1.0) ** (1.0 / (1.0 - s)) - 1.0
    return np.clip(np.floor(ranks), 0, count - 1).astype(np.int64)


def _zipf(fk: ForeignKey, stream: Stream, index: np.ndarray, parent_rows: int) -> np.ndarray:
    ranks = zipf_rank(stream.child("parent").uniform(index), parent_rows, fk.s)
    return unique_ordinals(stream.child("ranking"), ranks.astype(np.uint64), parent_rows).astype(np.int64)


def _weighted(
    stream: Stream, index: np.ndarray, parent_rows: int, listed_index: np.ndarray, listed_weight: np.ndarray
) -> np.ndarray:
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


def weighted_parents(plan: Plan, fk: ForeignKey, generate_columns: ColumnSource) -> tuple[np.ndarray, np.ndarray]:
    """Parent row indices of the values named in ``weights`` (sorted), and their weights.

    Found by :func:`~synthbeam.rules.relations.parent_lookup.locate_values`: computed from the parent key
    where it can be inverted, else searched in the parent's first rows, so the
    cost does not grow with the parent table. Made once per process.
    """
    if fk.listed_parents is not None:
        return fk.listed_parents
    wanted = {str(k): float(w) for k, w in fk.weights.items()}
    parent = plan.table(fk.parent_table)
    found = locate_values(plan, parent, parent.column(fk.parent_column), wanted, generate_columns)
    ordered = sorted(found.items(), key=lambda item: item[1])
    result = (
        np.array([i for _, i in ordered], dtype=np.int64),
        np.array([wanted[k] for k, _ in ordered], dtype=np.float64),
    )
    fk.listed_parents = result
    return result


DISTRIBUTIONS: dict[str, Callable[..., np.ndarray]] = {
    "random": _uniform,
    "uniform": _uniform,
    "even": _even,
    "zipf": _zipf,
}


class ChildrenLayout:
    """Where each parent's children sit when a FK sets ``children_per_parent``.

    Children are laid out parent after parent, so a child's parent is found by
    a search in the prefix sums of the per-parent counts. Knowing the table's
    size (for the plan, the chunking and the report) and where a block of
    parents starts must not cost work in the number of parents, or the launcher
    spends minutes and the job graph grows with the rows (issue 15). Two
    layouts share this interface:

    * :class:`ExactLayout` (parent tables up to :data:`EXACT_LAYOUT_PARENTS`
      rows): each parent's count is an independent draw, block totals summed
      up front. Kept for small parents so configs written before the
      stratified layout keep their rows.
    * :class:`StratifiedLayout` (larger parents): every full block of
      :data:`PARENT_BLOCK` parents holds the same multiset of counts (the
      distribution's quantiles), dealt to the block's parents by a keyed
      shuffle. Each parent's count still follows the distribution; every block
      sums to the same number, so the total and a block's first child are
      closed forms, and nothing is precomputed.
    """

    total: int

    def counts(self, start: int, stop: int) -> np.ndarray:
        """Children of parents ``[start, stop)`` (within one block)."""
        raise NotImplementedError

    def block_start(self, block: int) -> int:
        """The first child row of parent block ``block``."""
        raise NotImplementedError

    def block_of(self, child: np.ndarray) -> np.ndarray:
        """The parent block holding each child row."""
        raise NotImplementedError

    def parent_of(self, index: np.ndarray) -> np.ndarray:
        child = index.astype(np.int64)
        block = self.block_of(child)
        result = np.empty(len(child), dtype=np.int64)
        for number in np.unique(block):
            members = block == number
            start = int(number) * PARENT_BLOCK
            counts = self.counts(start, min(self.parent_rows, start + PARENT_BLOCK))
            bounds = self.block_start(int(number)) + np.cumsum(counts)
            result[members] = start + np.searchsorted(bounds, child[members], side="right")
        return result


def _extra_children(uniform: np.ndarray, spread: int, distribution: str, s: float) -> np.ndarray:
    """Children above the minimum for uniform draws in [0, 1): in [0, spread]."""
    if distribution == "zipf":
        return zipf_rank(uniform, spread + 1, s)
    return np.minimum(np.floor(uniform * (spread + 1)), spread).astype(np.int64)


class ExactLayout(ChildrenLayout):
    """Independent per-parent counts; block totals (one per ``PARENT_BLOCK`` parents) computed up front."""

    def __init__(self, plan: Plan, table: str, fk: ForeignKey, generate_columns: ColumnSource) -> None:
        self.low, self.high = fk.children_per_parent
        self.plan = plan
        self.fk = fk
        self.generate_columns = generate_columns
        self.parent_rows = plan.table(fk.parent_table).rows
        self.stream = fk_stream(plan, table, fk).child("children")
        self.distribution = fk.distribution
        self.s = fk.s
        totals = [
            int(self.counts(start, min(self.parent_rows, start + PARENT_BLOCK)).sum())
            for start in range(0, self.parent_rows, PARENT_BLOCK)
        ]
        self.block_starts = np.concatenate([[0], np.cumsum(totals, dtype=np.int64)])
        self.total = int(self.block_starts[-1])

    def counts(self, start: int, stop: int) -> np.ndarray:
        """Children of parents ``[start, stop)``: a pure function of the parent's row index."""
        parents = np.arange(start, stop, dtype=np.uint64)
        if self.fk.children_column is not None:
            return self.counts_from_column(parents)
        spread = self.high - self.low
        if spread == 0:
            return np.full(len(parents), self.low, dtype=np.int64)
        if self.distribution == "zipf":
            extra = zipf_rank(self.stream.uniform(parents), spread + 1, self.s)
        else:
            extra = self.stream.integers(parents, 0, spread)
        return self.low + extra

    def counts_from_column(self, parents: np.ndarray) -> np.ndarray:
        """``round(value x scale)`` within [min, max], from each parent's own value (null: min).

        The parent column is computed for these parent rows, as a child computes any parent
        value: nothing is collected, and the count of parent ``p`` depends on ``p`` alone.
        """
        column = self.fk.children_column
        assert column is not None  # a counts-from-parent layout is built only with its column
        values = self.generate_columns(self.plan, self.fk.parent_table, parents, [column])[column]
        numbers = values.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        counts = np.floor(numbers * self.fk.children_scale + 0.5)  # half up, the same on every platform
        counts = np.where(np.isnan(counts), self.low, counts)
        counts = np.clip(counts, self.low, self.high if self.high is not None else np.inf)
        return counts.astype(np.int64)

    def block_start(self, block: int) -> int:
        return int(self.block_starts[block])

    def block_of(self, child: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.block_starts, child, side="right") - 1


class StratifiedLayout(ChildrenLayout):
    """Each block of parents deals out the distribution's quantiles: equal block sums, O(1) offsets.

    A block of ``n`` parents holds the counts ``low + F^-1((j + 0.5) / n)``,
    ``j < n`` (``F`` the distribution of the extra children), and parent ``p``
    gets the one ranked by a keyed hash of ``p`` within its block. Every full
    block therefore sums to the same ``block_total``; only the last, shorter
    block differs. Costs one block's hashes and a sort per block a chunk
    touches, as the exact layout's counts did.
    """

    def __init__(self, plan: Plan, table: str, fk: ForeignKey) -> None:
        self.low, self.high = fk.children_per_parent
        self.parent_rows = plan.table(fk.parent_table).rows
        self.stream = fk_stream(plan, table, fk).child("children", "stratified")
        self.distribution = fk.distribution
        self.s = fk.s
        self.full_blocks, last = divmod(self.parent_rows, PARENT_BLOCK)
        self.block_total = int(self._quantile_counts(PARENT_BLOCK).sum())
        self.total = self.full_blocks * self.block_total + int(self._quantile_counts(last).sum())

    def _quantile_counts(self, size: int) -> np.ndarray:
        spread = self.high - self.low
        if spread == 0 or size == 0:
            return np.full(size, self.low, dtype=np.int64)
        quantiles = (np.arange(size, dtype=np.float64) + 0.5) / size
        return self.low + _extra_children(quantiles, spread, self.distribution, self.s)

    def counts(self, start: int, stop: int) -> np.ndarray:
        block = start // PARENT_BLOCK
        first = block * PARENT_BLOCK
        size = min(self.parent_rows, first + PARENT_BLOCK) - first
        parents = np.arange(first, first + size, dtype=np.uint64)
        # A stable sort of keyed hashes: a parent's rank within its block, the same on every worker.
        order = np.argsort(self.stream.bits(parents), kind="stable")
        rank = np.empty(size, dtype=np.int64)
        rank[order] = np.arange(size)
        return self._quantile_counts(size)[rank[start - first : stop - first]]

    def block_start(self, block: int) -> int:
        return block * self.block_total

    def block_of(self, child: np.ndarray) -> np.ndarray:
        if self.block_total == 0:  # every full block is empty: children (if any) are the last block's
            return np.full(len(child), self.full_blocks, dtype=np.int64)
        return np.minimum(child // self.block_total, self.full_blocks)


# Up to this many parents the exact layout costs the launcher at most ~0.1 s and each worker
# process as much once; above it the stratified layout's cost does not depend on the parents.
EXACT_LAYOUT_PARENTS = 1 << 22


def children_layout(plan: Plan, table: str, fk: ForeignKey, generate_columns: ColumnSource) -> ChildrenLayout:
    """The FK's layout, made once per process (it is not pickled with the plan: see ``ForeignKey``)."""
    cached = fk.layout
    if cached is None:
        small = plan.table(fk.parent_table).rows <= EXACT_LAYOUT_PARENTS
        # Counts read from a parent column are the parents' own values, not quantiles to deal out:
        # they need the exact layout (its block totals compute that column once per parent block).
        exact = small or fk.children_column is not None
        cached = ExactLayout(plan, table, fk, generate_columns) if exact else StratifiedLayout(plan, table, fk)
        fk.layout = cached
    return cached


def _values_at(
    plan: Plan, parent_table: str, column: str, chosen: np.ndarray, generate_columns: ColumnSource
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
    plan: Plan, table: TablePlan, column: ColumnPlan, rows: Rows, generate_columns: ColumnSource
) -> pa.Array:
    fk = column.foreign_key
    chosen = parent_index(plan, table, fk, rows.index, generate_columns)
    return _values_at(plan, fk.parent_table, fk.parent_column, chosen, generate_columns)


def parent_column(
    plan: Plan, table: TablePlan, qualified: str, index: np.ndarray, generate_columns: ColumnSource
) -> pa.Array:
    """``parent.column`` for each child row, through the table's FK to that parent."""
    parent_name, column = qualified.split(".", 1)
    fk = next(fk for fk in table.foreign_keys if fk.parent_table == parent_name)
    chosen = parent_index(plan, table, fk, index, generate_columns)
    return _values_at(plan, parent_name, column, chosen, generate_columns)


def describe_fk(fk: ForeignKey) -> dict[str, Any]:
    return {
        "parent": f"{fk.parent_table}.{fk.parent_column}",
        "distribution": fk.distribution,
        "children_per_parent": fk.children_per_parent,
        "null_probability": fk.null_probability,
    }
