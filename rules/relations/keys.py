"""Keyed bijections for unique-by-construction keys.

``unique_ordinals(stream, index, space)`` maps distinct row indices in
``[0, space)`` to distinct ordinals in ``[0, space)``: a balanced Feistel
network over the smallest even number of bits covering ``space``, with cycle
walking to stay inside the space. A rule that can enumerate its value space
(``Rule.value_at``) then turns ordinals into distinct values, so a unique
column needs no dedup pass and any row's key is computable from its index.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.model import ColumnPlan, Plan
from synthbeam.rules.core.seeding import Stream, mix64

_ROUNDS = 4

# ``generate_columns(plan, table, row_index, columns)`` -> {column: values}: the engine's entry point,
# handed down by the engine (and the compiler) to the relations that compute a parent's values, so
# relations never import the engine above them.
ColumnSource = Callable[..., dict[str, pa.Array]]
KEY_SPACE_LIMIT = 1 << 62  # a permutation needs no more ordinals than rows; keeps the Feistel in 64 bits


def column_stream(plan: Plan, table: str, column: str) -> Stream:
    """The root stream of one column: keyed by names only, never by position."""
    return Stream.root("synthbeam", plan.seed, table, column)


def group_ordinal(plan: Plan, table: str, column: ColumnPlan, index: np.ndarray) -> np.ndarray:
    """This column's share of its key group's joint ordinal (a parent row index for a foreign key)."""
    group = column.key_group
    assert group is not None, f"{column.place}: the compiler gives every group-key column its group"
    stream = Stream.root("synthbeam", plan.seed, table, "key group", *group.columns)
    return group_components(stream, index, list(group.spaces))[group.position(column.name)]


def _half_bits(space: int) -> int:
    bits = max(2, (space - 1).bit_length())
    return (bits + 1) // 2


def feistel(values: np.ndarray, round_keys: list[int], half_bits: int) -> np.ndarray:
    """One pass of the keyed Feistel permutation on ``2 * half_bits``-bit values."""
    mask = np.uint64((1 << half_bits) - 1)
    shift = np.uint64(half_bits)
    left = (values >> shift) & mask
    right = values & mask
    for key in round_keys:
        left, right = right, left ^ (mix64(right ^ np.uint64(key)) & mask)
    return (left << shift) | right


def unique_ordinals(stream: Stream, index: np.ndarray, space: int) -> np.ndarray:
    """A keyed permutation of ``[0, space)`` evaluated at ``index`` (each < space)."""
    index = np.asarray(index, dtype=np.uint64)
    if space <= 1:
        return np.zeros(len(index), dtype=np.uint64)
    if len(index) and int(index.max()) >= space:
        raise ValueError(f"row index {int(index.max())} outside a key space of {space}")
    half_bits = _half_bits(space)
    round_keys = [stream.child("feistel", number).key for number in range(_ROUNDS)]
    result = feistel(index, round_keys, half_bits)
    outside = result >= np.uint64(space)
    while outside.any():
        result[outside] = feistel(result[outside], round_keys, half_bits)
        outside = result >= np.uint64(space)
    return result


def group_components(stream: Stream, index: np.ndarray, spaces: list[int]) -> list[np.ndarray]:
    """Per-column ordinals that are unique *together* for distinct row indices.

    The row index goes through one keyed permutation of the product space
    (capped at 2**62: no more ordinals than rows are ever needed), and the
    result is split mixed-radix into one ordinal per column, last column fastest.
    """
    total = 1
    for space in spaces:
        total *= space
    joint = unique_ordinals(stream, index, min(total, 1 << 62))
    components: list[np.ndarray] = []
    for space in reversed(spaces):
        components.append(joint % np.uint64(space))
        joint = joint // np.uint64(space)
    return components[::-1]
