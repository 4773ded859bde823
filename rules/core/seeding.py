"""Counter-based randomness: every draw is a pure function of (key, row index).

There is no generator state. A :class:`Stream` holds one 64-bit key derived from
names (seed, table, column, purpose) with BLAKE2b, never Python's ``hash()``
(which is salted per process). Drawing for row ``i`` mixes ``key`` and ``i``
through the SplitMix64 finaliser, so any slice of rows can be produced in any
order, on any worker, and equal the same rows produced in one call.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SHIFT30, _SHIFT27, _SHIFT31 = np.uint64(30), np.uint64(27), np.uint64(31)
_TWO_POW_53 = float(1 << 53)
_MASK64 = (1 << 64) - 1


def derive_key(*parts: object) -> int:
    """A stable 64-bit key from names and numbers (same on every process/platform)."""
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        encoded = repr(part).encode("utf-8") if not isinstance(part, str) else part.encode("utf-8")
        digest.update(struct.pack("<I", len(encoded)))
        digest.update(encoded)
    return int.from_bytes(digest.digest(), "little")


def mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic); returns a new array."""
    z = values.astype(np.uint64, copy=True)
    return _mix64_into(z, np.empty_like(z))


def _mix64_into(z: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser applied to ``z`` in place (fresh arrays are costly here: page faults)."""
    for shift, multiplier in ((_SHIFT30, _MIX1), (_SHIFT27, _MIX2)):
        np.right_shift(z, shift, out=scratch)
        np.bitwise_xor(z, scratch, out=z)
        np.multiply(z, multiplier, out=z)
    np.right_shift(z, _SHIFT31, out=scratch)
    np.bitwise_xor(z, scratch, out=z)
    return z


def as_index(index: np.ndarray | range | list[int]) -> np.ndarray:
    """Row indices as a uint64 array."""
    if isinstance(index, range):
        return np.arange(index.start, index.stop, index.step, dtype=np.uint64)
    return np.asarray(index, dtype=np.uint64)


class Stream:
    """An addressable random stream: ``stream.bits(i)`` is the same for the same ``i``.

    ``child(name)`` derives an independent stream, e.g. one per column, per
    purpose (nulls, values, conditional branch) or per retry attempt.
    """

    __slots__ = ("key",)

    def __init__(self, key: int) -> None:
        self.key = key & _MASK64

    @classmethod
    def root(cls, *parts: object) -> Stream:
        return cls(derive_key(*parts))

    def child(self, *parts: object) -> Stream:
        return Stream(derive_key(self.key, *parts))

    def __repr__(self) -> str:
        return f"Stream({self.key:#018x})"

    def bits(self, index: np.ndarray) -> np.ndarray:
        """Uniform uint64 per row."""
        key = np.uint64(self.key)
        z = np.multiply(as_index(index), _GOLDEN)
        z += key
        scratch = np.empty_like(z)
        _mix64_into(z, scratch)
        z ^= key
        return _mix64_into(z, scratch)

    def uniform(self, index: np.ndarray) -> np.ndarray:
        """Uniform float64 in [0, 1) per row."""
        return (self.bits(index) >> np.uint64(11)).astype(np.float64) / _TWO_POW_53

    def integers(self, index: np.ndarray, low: int, high: int) -> np.ndarray:
        """Uniform int64 in [low, high] (inclusive) per row.

        Uses the multiply-shift reduction on 64-bit draws; the bias for spans far
        below 2**64 is negligible and, unlike rejection sampling, keeps one draw
        per row so the function stays vectorised.
        """
        if high < low:
            raise ValueError(f"empty integer range [{low}, {high}]")
        span = high - low + 1
        raw = self.bits(index)
        if span >= 1 << 64:
            return raw.astype(np.int64)
        if span <= 1 << 32:
            reduced = ((raw >> np.uint64(32)) * np.uint64(span)) >> np.uint64(32)
        else:
            reduced = raw % np.uint64(span)
        # int64 addition wraps like uint64, so spans up to 2**64 land in range.
        return (reduced + np.uint64(low & _MASK64)).astype(np.int64)

    def below(self, index: np.ndarray, bound: int) -> np.ndarray:
        """Uniform int64 in [0, bound)."""
        return self.integers(index, 0, bound - 1)

    def bernoulli(self, index: np.ndarray, probability: float) -> np.ndarray:
        """Boolean per row, True with ``probability``."""
        if probability <= 0:
            return np.zeros(len(as_index(index)), dtype=bool)
        if probability >= 1:
            return np.ones(len(as_index(index)), dtype=bool)
        return self.uniform(index) < probability

    def weighted(self, index: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
        """Index into a category table given cumulative weights ending at 1.0."""
        return np.searchsorted(cumulative, self.uniform(index), side="right").clip(0, len(cumulative) - 1)
