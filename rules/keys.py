"""Keyed bijections for unique-by-construction keys.

``unique_ordinals(stream, index, space)`` maps distinct row indices in
``[0, space)`` to distinct ordinals in ``[0, space)``: a balanced Feistel
network over the smallest even number of bits covering ``space``, with cycle
walking to stay inside the space. A rule that can enumerate its value space
(``Rule.value_at``) then turns ordinals into distinct values, so a unique
column needs no dedup pass and any row's key is computable from its index.
"""

from __future__ import annotations

import numpy as np

from .seeding import Stream, mix64

_ROUNDS = 4


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
