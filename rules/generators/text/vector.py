"""Vectorised string columns from Faker-style building blocks.

A :class:`Node` describes how one string value is made: a constant, a
(weighted) pick from a list, a ``###-??`` pattern, a concatenation, a weighted
choice between alternatives, a formatted integer. ``node.generate(index,
stream)`` produces a whole column at once with numpy and pyarrow; every value
is a pure function of (stream key, row index), so rows produced in pieces equal
the same rows produced in one call. Composite nodes give each child its own
derived stream (``stream.child(...)``), so two ``{{last_name}}`` tokens in one
format are independent draws.

Nodes are immutable and compared by value, which lets :func:`mix` merge equal
alternatives. ``cardinality`` is exact or None: a node only reports a count it
can prove (distinct picks, fixed-width patterns, concatenations that can be
split back unambiguously), and only such nodes are ``enumerable`` and offer
``value_at`` for unique-by-construction columns.

Text transforms (``map_text``) and placeholder substitution (``substitute``,
what Faker's ``numerify``/``lexify`` do) are pushed down to the leaves; both are
exact because they act character by character. A node that cannot honour a
transform raises :class:`NotVectorisable`, and the caller falls back to a pool
of Faker's own values.

Speed: no per-row Python objects. A pattern tabulates a few neighbouring slots
at a time (a chunk) and writes a row with one table gather per chunk, through
8/4/2-byte integer lanes; a fixed-width pattern's bytes become the Arrow data
buffer as they are. Variable-width rows (ragged patterns, joins of picks) are
one Arrow take of side-by-side table entries (:class:`Concatenation`). A choice
between fixed-width patterns writes each option's rows into one buffer and
orders it with a single take. Large scratch arrays come from Arrow's memory
pool (:func:`~synthbeam.rules.core.values.pool_empty`).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, reduce

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.core.values import fixed_width_strings, pool_empty

# One 64-bit draw feeds a group of random slots whose radix product stays below
# 2**40, so ``draw % product`` is uniform to within 2**-24 per value.
_GROUP_SPAN = 1 << 40
_ENUMERABLE_LIMIT = 1 << 62
# A pattern chunk tabulates every combination of its slots: at most this many entries/bytes.
_CHUNK_ENTRIES = 1 << 12
_CHUNK_BYTES = 1 << 18

DIGITS = tuple(string.digits)
NUMERIFY: dict[str, tuple[str, ...]] = {
    "#": DIGITS,
    "%": tuple("123456789"),
    "$": tuple("23456789"),
    # Faker: empty half the time, else a digit; duplicates keep the odds uniform.
    "!": ("",) * 10 + DIGITS,
    "@": ("",) * 9 + tuple("123456789"),
}
HEX_LOWER = tuple("0123456789abcdef")


class NotVectorisable(Exception):
    """This value cannot be produced column-wise; use Faker's own values instead."""


def lexify_table(letters: str = string.ascii_letters) -> dict[str, tuple[str, ...]]:
    if not letters:
        raise NotVectorisable("lexify needs at least one letter")
    return {"?": tuple(letters)}


def hexify_table(upper: bool = False) -> dict[str, tuple[str, ...]]:
    return {"^": tuple(c.upper() for c in HEX_LOWER) if upper else HEX_LOWER}


def fixed_strings(matrix: np.ndarray) -> pa.Array:
    """Rows of a (n, width) uint8 matrix of UTF-8 bytes as a string array (the bytes are not copied)."""
    return fixed_width_strings(matrix)


def ragged_strings(matrix: np.ndarray, keep: np.ndarray) -> pa.Array:
    """Rows of a byte matrix keeping only the bytes where ``keep`` is True."""
    rows = matrix.shape[0]
    offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    data = np.ascontiguousarray(matrix[keep])
    binary = pa.Array.from_buffers(pa.binary(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return binary.cast(pa.string())


def digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded ASCII digits, shape (rows, width)."""
    remaining = np.asarray(values, dtype=np.int64).copy()
    matrix = np.empty((len(remaining), width), dtype=np.uint8)
    for position in range(width - 1, -1, -1):
        matrix[:, position] = remaining % 10 + ord("0")
        remaining //= 10
    return matrix


def concat_text(parts: Sequence[pa.Array | str], rows: int) -> pa.Array:
    """Element-wise concatenation of string arrays and constant strings."""
    if not any(isinstance(p, (pa.Array, pa.ChunkedArray)) for p in parts):
        return pa.repeat(pa.scalar("".join(parts), pa.string()), rows)  # type: ignore[arg-type]
    if len(parts) == 1:
        return parts[0]  # type: ignore[return-value]
    return pc.binary_join_element_wise(*parts, "")


def scatter(pieces: list[tuple[np.ndarray, pa.Array]], rows: int) -> pa.Array:
    """Arrays computed for disjoint row positions, reassembled in row order."""
    if len(pieces) == 1:
        return pieces[0][1]
    order = np.concatenate([positions for positions, _ in pieces])
    merged = pa.concat_arrays([values for _, values in pieces])
    inverse = np.empty(rows, dtype=np.int64)
    inverse[order] = np.arange(rows, dtype=np.int64)
    return merged.take(pa.array(inverse))


def stable_order(choice: np.ndarray, count: int) -> np.ndarray:
    """Row positions sorted by ``choice`` (values in ``[0, count)``), ties in row order.

    Small option counts sort as uint8/uint16, which numpy radix-sorts in linear time.
    """
    if count <= 1 << 8:
        return np.argsort(choice.astype(np.uint8), kind="stable")
    if count <= 1 << 16:
        return np.argsort(choice.astype(np.uint16), kind="stable")
    return np.argsort(choice, kind="stable")


def groups_of(choice: np.ndarray, count: int) -> Iterable[tuple[int, np.ndarray]]:
    """(option, row positions) for each option chosen at least once; positions ascend."""
    if count == 1:
        if len(choice):
            yield 0, np.arange(len(choice))
        return
    order = stable_order(choice, count)
    bounds = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(choice, minlength=count), out=bounds[1:])
    for option in range(count):
        if bounds[option + 1] > bounds[option]:
            yield option, order[bounds[option] : bounds[option + 1]]


class Concatenation:
    """Rows that join one entry of each of several string tables, made by a single Arrow take.

    The tables are concatenated once; for each row the entries are taken side
    by side, so the taken data buffer already holds every row's text in order
    and every ``len(tables)``-th offset of the take is a row boundary. That is
    several times cheaper than one take per table and an element-wise join.
    """

    def __init__(self, tables: Sequence[pa.Array | Sequence[str]]) -> None:
        arrays = [t if isinstance(t, pa.Array) else pa.array(list(t), pa.string()) for t in tables]
        self.width = len(arrays)
        self.combined = pa.concat_arrays([a.cast(pa.string()) for a in arrays])
        sizes = [len(a) for a in arrays]
        self.bases = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.index_type = np.int32 if len(self.combined) < 1 << 31 else np.int64

    def build(self, indices: Sequence[np.ndarray | int], rows: int) -> pa.Array:
        """Row ``i`` is ``tables[0][indices[0][i]] + tables[1][indices[1][i]] + ...`` (an int: every row)."""
        if self.width == 0 or not rows:
            return pa.array([""] * rows, pa.string())
        flat = pool_empty((rows, self.width), self.index_type)
        for column, (base, chosen) in enumerate(zip(self.bases.tolist(), indices)):
            np.add(chosen, base, out=flat[:, column], casting="unsafe")
        taken = self.combined.take(pa.array(flat.reshape(-1)))
        if self.width == 1:
            return taken
        offsets = np.frombuffer(taken.buffers()[1], dtype=np.int32)[taken.offset : taken.offset + rows * self.width + 1]
        boundaries = pool_empty(rows + 1, np.int32)
        np.copyto(boundaries, offsets[:: self.width])
        return pa.StringArray.from_buffers(rows, pa.py_buffer(boundaries), taken.buffers()[2])


def normalised(weights: Sequence[float]) -> tuple[float, ...]:
    total = float(sum(weights))
    if not total > 0:
        raise NotVectorisable("weights sum to zero")
    return tuple(float(w) / total for w in weights)


class AliasTable:
    """Walker's alias method: a weighted choice in O(1) per row from one 64-bit draw.

    The high 32 bits pick a column, the low 32 bits decide between the column
    and its alias (probabilities are exact to 2**-32).
    """

    def __init__(self, weights: Sequence[float]) -> None:
        count = len(weights)
        scaled = [float(w) * count / float(sum(weights)) for w in weights]
        threshold = [1.0] * count
        alias = list(range(count))
        small = [i for i, p in enumerate(scaled) if p < 1.0]
        large = [i for i, p in enumerate(scaled) if p >= 1.0]
        while small and large:
            low, high = small.pop(), large.pop()
            threshold[low] = scaled[low]
            alias[low] = high
            scaled[high] -= 1.0 - scaled[low]
            (small if scaled[high] < 1.0 else large).append(high)
        self.count = count
        self.threshold = np.minimum(np.array(threshold) * 2.0**32, 2.0**32).astype(np.uint64)
        self.alias = np.array(alias, dtype=np.intp)

    def choose(self, index: np.ndarray, stream: Stream) -> np.ndarray:
        bits = stream.bits(index)
        # in place where possible: each fresh chunk-sized array costs page faults
        column = bits >> np.uint64(32)
        column *= np.uint64(self.count)
        column >>= np.uint64(32)
        chosen = column.view(np.int64)
        bits &= np.uint64(0xFFFFFFFF)
        switch = bits >= np.take(self.threshold, chosen)
        np.copyto(chosen, np.take(self.alias, chosen), where=switch)
        return chosen


class Node:
    """How one string value is made; subclasses produce whole columns."""

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        raise NotImplementedError

    def cardinality(self) -> int | None:
        """The exact number of distinct values, or None when it is not known exactly."""
        return None

    def enumerable(self) -> bool:
        """True when ``value_at`` maps ``[0, cardinality)`` one-to-one onto the values."""
        return False

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        raise NotImplementedError(f"{type(self).__name__} cannot enumerate its values")

    def atoms(self) -> tuple[str, ...] | None:
        """Every piece of text the values are assembled from, or None if unknown."""
        return None

    def charset(self) -> frozenset[str] | None:
        atoms = self.atoms()
        return None if atoms is None else frozenset("".join(atoms))

    def fixed_length(self) -> int | None:
        """The length (in characters) every value has, or None."""
        return None

    def map_text(self, fn: Callable[[str], str]) -> Node:
        """The node with ``fn`` (a character-by-character transform) applied to every value."""
        chars = self.charset()
        if chars is not None and all(fn(c) == c for c in chars):
            return self
        raise NotVectorisable(f"{type(self).__name__} cannot apply a text transform")

    def substitute(self, table: Mapping[str, tuple[str, ...]]) -> Node:
        """Every character listed in ``table`` replaced by a random one of its alternatives."""
        chars = self.charset()
        if chars is not None and not chars & table.keys():
            return self
        raise NotVectorisable(f"{type(self).__name__} cannot substitute placeholders")

    def pooled(self) -> tuple[str, ...]:
        """Faker methods this node takes from a pool rather than computing column-wise."""
        return ()


@dataclass(frozen=True)
class Const(Node):
    text: str

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        return pa.repeat(pa.scalar(self.text, pa.string()), len(index))

    def cardinality(self) -> int:
        return 1

    def enumerable(self) -> bool:
        return True

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return self.generate(ordinal, Stream(0))

    def atoms(self) -> tuple[str, ...]:
        return (self.text,)

    def fixed_length(self) -> int:
        return len(self.text)

    def map_text(self, fn: Callable[[str], str]) -> Node:
        return Const(fn(self.text))

    def substitute(self, table: Mapping[str, tuple[str, ...]]) -> Node:
        if not set(self.text) & table.keys():
            return self
        return pattern([table.get(c, (c,)) for c in self.text])


@dataclass(frozen=True, eq=True)
class Pick(Node):
    """One of ``values``: uniformly, or with ``weights`` (normalised probabilities)."""

    values: tuple[str, ...]
    weights: tuple[float, ...] | None = None

    @cached_property
    def table(self) -> pa.Array:
        return pa.array(self.values, pa.string())

    @cached_property
    def alias(self) -> AliasTable:
        return AliasTable(self.weights or (1.0,) * len(self.values))

    def choose(self, index: np.ndarray, stream: Stream) -> np.ndarray:
        if self.weights is None:
            return stream.below(index, len(self.values))
        return self.alias.choose(index, stream)

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        return self.table.take(pa.array(self.choose(index, stream)))

    def cardinality(self) -> int:
        return len(self.values)

    def enumerable(self) -> bool:
        return True

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return self.table.take(pa.array(np.asarray(ordinal, dtype=np.int64)))

    def atoms(self) -> tuple[str, ...]:
        return self.values

    def fixed_length(self) -> int | None:
        lengths = {len(v) for v in self.values}
        return lengths.pop() if len(lengths) == 1 else None

    def probabilities(self) -> tuple[float, ...]:
        return self.weights if self.weights is not None else (1.0 / len(self.values),) * len(self.values)

    def map_text(self, fn: Callable[[str], str]) -> Node:
        return pick([fn(v) for v in self.values], self.probabilities())

    def substitute(self, table: Mapping[str, tuple[str, ...]]) -> Node:
        keys = table.keys()
        if not any(set(v) & keys for v in self.values):
            return self
        options = [Const(v).substitute(table) for v in self.values]
        return mix(options, self.probabilities())


def pick(values: Sequence[str], weights: Sequence[float] | None = None) -> Node:
    """A Pick with equal values merged (their weights add up); one value is a Const."""
    if not values:
        raise NotVectorisable("nothing to pick from")
    if weights is None:
        weights = [1.0] * len(values)
    if len(weights) != len(values):
        raise ValueError("values and weights differ in length")
    merged: dict[str, float] = {}
    for value, weight in zip(values, weights):
        if weight > 0:
            merged[str(value)] = merged.get(str(value), 0.0) + float(weight)
    if not merged:
        raise NotVectorisable("every weight is zero")
    if len(merged) == 1:
        return Const(next(iter(merged)))
    probabilities = normalised(list(merged.values()))
    uniform = max(probabilities) - min(probabilities) <= 1e-12 * max(probabilities)
    return Pick(tuple(merged), None if uniform else probabilities)


def _reduce(values: np.ndarray, radix: int, quotient: np.ndarray, product: np.ndarray) -> None:
    """``values %= radix`` in place (uint64), ``quotient`` receiving ``values // radix``.

    Written as ``v - (v // r) * r``: numpy divides uint64 by a scalar several times
    faster than it takes the remainder.
    """
    divisor = np.uint64(radix)
    np.floor_divide(values, divisor, out=quotient)
    np.multiply(quotient, divisor, out=product)
    values -= product


class _Chunk:
    """Neighbouring slots of a pattern, tabulated: entry ``v`` is their ``v``-th combination.

    Combinations count in mixed radix, last slot fastest (the order ``value_at``
    enumerates in), so a row costs one table gather per chunk instead of one per
    character. Fixed-width chunks are written into byte matrices through native
    integer lanes (8, 4, 2 or 1 bytes): strided stores of single bytes are slow.
    """

    def __init__(self, slots: Sequence[tuple[bytes, ...]], start: int) -> None:
        self.start = start  # byte offset of the chunk within a fixed-width row
        self.entries = reduce(lambda a, b: a * b, (len(s) for s in slots), 1)
        self.fixed = all(len({len(a) for a in s}) == 1 for s in slots)
        combination = np.arange(self.entries, dtype=np.int64)
        stride = self.entries
        columns: list[np.ndarray] = []
        keeps: list[np.ndarray] = []
        for alternatives in slots:
            stride //= len(alternatives)
            digit = (combination // stride) % len(alternatives)
            width = max(len(a) for a in alternatives)
            table = np.zeros((len(alternatives), width), dtype=np.uint8)
            for row, raw in enumerate(alternatives):
                table[row, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
            lengths = np.array([len(a) for a in alternatives], dtype=np.int64)
            columns.append(table[digit])
            keeps.append(np.arange(width) < lengths[digit][:, None])
        self.table = np.hstack(columns)
        self.keep = np.hstack(keeps)
        self.width = self.table.shape[1]

    @cached_property
    def lanes(self) -> list[tuple[int, np.dtype, np.ndarray]]:
        """(byte offset in the chunk, integer type, entry -> integer) covering the chunk's bytes."""
        lanes = []
        offset = 0
        for dtype in (np.uint64, np.uint32, np.uint16, np.uint8):
            size = np.dtype(dtype).itemsize
            while self.width - offset >= size:
                piece = np.ascontiguousarray(self.table[:, offset : offset + size])
                lanes.append((offset, np.dtype(dtype), piece.view(dtype).reshape(-1)))
                offset += size
        return lanes

    @cached_property
    def strings(self) -> pa.Array:
        """The entries as strings (variable-width chunks)."""
        offsets = np.zeros(self.entries + 1, dtype=np.int32)
        np.cumsum(self.keep.sum(axis=1), out=offsets[1:])
        data = np.ascontiguousarray(self.table[self.keep])
        return pa.StringArray.from_buffers(self.entries, pa.py_buffer(offsets), pa.py_buffer(data))

    def write(self, matrix: np.ndarray, chosen: np.ndarray | None) -> None:
        """Entry ``chosen[i]`` into row ``i`` of ``matrix`` (None: the chunk's only entry)."""
        if chosen is None:
            matrix[:, self.start : self.start + self.width] = self.table[0]
            return
        for offset, dtype, lane in self.lanes:
            begin = self.start + offset
            target = matrix[:, begin : begin + dtype.itemsize]
            if dtype.itemsize > 1:
                target = target.view(dtype)
            target[:, 0] = np.take(lane, chosen)


@dataclass
class _PatternPlan:
    chunks: list[_Chunk]
    groups: list[tuple[int, list[int]]]  # (span, chunk numbers) per 64-bit draw
    width: int  # bytes per row when fixed
    fixed: bool

    @cached_property
    def concatenation(self) -> Concatenation:
        return Concatenation([chunk.strings for chunk in self.chunks])


@dataclass(frozen=True)
class Pattern(Node):
    """Characters in a row: literal slots (one alternative) and random slots (uniform alternatives)."""

    slots: tuple[tuple[str, ...], ...]

    @cached_property
    def _plan(self) -> _PatternPlan:
        """Slots cut into tabulated chunks, and chunks grouped into 64-bit draws."""
        chunks: list[_Chunk] = []
        current: list[tuple[bytes, ...]] = []
        entries = width = start = 0
        for alternatives in self.slots:
            encoded = tuple(a.encode("utf-8") for a in alternatives)
            slot_width = max(len(e) for e in encoded)
            grown = max(entries, 1) * len(encoded)
            if current and (grown > _CHUNK_ENTRIES or grown * (width + slot_width) > _CHUNK_BYTES):
                chunks.append(_Chunk(current, start))
                start += chunks[-1].width
                current, entries, width = [], 0, 0
            current.append(encoded)
            entries = max(entries, 1) * len(encoded)
            width += slot_width
        chunks.append(_Chunk(current, start))
        groups: list[tuple[int, list[int]]] = []
        for number, chunk in enumerate(chunks):
            if chunk.entries == 1:
                continue
            if not groups or groups[-1][0] * chunk.entries > _GROUP_SPAN:
                groups.append((1, []))
            span, members = groups[-1]
            groups[-1] = (span * chunk.entries, [*members, number])
        return _PatternPlan(chunks, groups, sum(c.width for c in chunks), all(c.fixed for c in chunks))

    def _drawn(self, index: np.ndarray, stream: Stream) -> list[np.ndarray | None]:
        """The chosen entry of every chunk per row; one 64-bit draw serves a group of chunks.

        The draw is reduced modulo the group's span (below 2**40, so the bias is
        below 2**-24) and read as mixed-radix digits, the first chunk least significant.
        """
        plan = self._plan
        chosen: list[np.ndarray | None] = [None] * len(plan.chunks)
        for number, (span, members) in enumerate(plan.groups):
            draw = stream.child("slots", number).bits(index)
            product = np.empty_like(draw)
            _reduce(draw, span, np.empty_like(draw), product)
            for member in members[:-1]:
                quotient = np.empty_like(draw)
                _reduce(draw, plan.chunks[member].entries, quotient, product)
                chosen[member] = draw.view(np.int64)
                draw = quotient
            chosen[members[-1]] = draw.view(np.int64)
        return chosen

    def _enumerated(self, ordinal: np.ndarray) -> list[np.ndarray | None]:
        """The entries of value number ``ordinal``: mixed radix, last slot fastest."""
        remaining = np.asarray(ordinal, dtype=np.uint64)
        chosen: list[np.ndarray | None] = [None] * len(self._plan.chunks)
        for number in reversed(range(len(self._plan.chunks))):
            entries = self._plan.chunks[number].entries
            if entries > 1:
                radix = np.uint64(entries)
                quotient = remaining // radix
                chosen[number] = (remaining - quotient * radix).view(np.int64)
                remaining = quotient
        return chosen

    def _assemble(self, rows: int, chosen: list[np.ndarray | None]) -> np.ndarray | pa.Array:
        plan = self._plan
        if not plan.fixed:
            return plan.concatenation.build([0 if c is None else c for c in chosen], rows)
        matrix = pool_empty((rows, plan.width), np.uint8)
        for chunk, entries in zip(plan.chunks, chosen):
            chunk.write(matrix, entries)
        return matrix

    def fill(self, matrix: np.ndarray, index: np.ndarray, stream: Stream) -> None:
        """``matrix(index, stream)`` written into ``matrix`` (rows x width, rows contiguous).

        Like ``_drawn`` then ``_assemble``, but each chunk is written as soon as it
        is drawn, so two scratch arrays serve every chunk of a draw.
        """
        plan = self._plan
        scratch: list[np.ndarray] = []
        for number, (span, members) in enumerate(plan.groups):
            draw = stream.child("slots", number).bits(index)
            if not scratch:
                scratch = [pool_empty(len(index), np.uint64), pool_empty(len(index), np.uint64)]
            quotient, product = scratch
            _reduce(draw, span, quotient, product)
            for member in members[:-1]:
                _reduce(draw, plan.chunks[member].entries, quotient, product)
                plan.chunks[member].write(matrix, draw.view(np.int64))
                draw, quotient = quotient, draw
                scratch[0] = quotient
            plan.chunks[members[-1]].write(matrix, draw.view(np.int64))
        for chunk in plan.chunks:
            if chunk.entries == 1:
                chunk.write(matrix, None)

    def matrix(self, index: np.ndarray, stream: Stream) -> np.ndarray:
        """The values as a (rows, width) byte matrix; fixed-width patterns only."""
        if not self._plan.fixed:
            raise NotVectorisable("variable-width pattern has no byte matrix")
        matrix = pool_empty((len(index), self._plan.width), np.uint8)
        self.fill(matrix, index, stream)
        return matrix

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        if self._plan.fixed:
            return fixed_strings(self.matrix(index, stream))
        return self._assemble(len(index), self._drawn(index, stream))  # type: ignore[return-value]

    def is_fixed_width(self) -> bool:
        return self._plan.fixed

    def enumerable(self) -> bool:
        distinct = all(len(set(s)) == len(s) and len({len(a) for a in s}) == 1 for s in self.slots)
        return distinct and self.cardinality() < _ENUMERABLE_LIMIT

    def cardinality(self) -> int | None:
        if not all(len(set(s)) == len(s) and len({len(a) for a in s}) == 1 for s in self.slots):
            return None
        return reduce(lambda a, b: a * b, (len(s) for s in self.slots), 1)

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        built = self._assemble(len(ordinal), self._enumerated(ordinal))
        return fixed_strings(built) if isinstance(built, np.ndarray) else built

    def matrix_at(self, ordinal: np.ndarray) -> np.ndarray:
        """``value_at`` as a byte matrix; fixed-width patterns only."""
        if not self._plan.fixed:
            raise NotVectorisable("variable-width pattern has no byte matrix")
        return self._assemble(len(ordinal), self._enumerated(ordinal))  # type: ignore[return-value]

    def atoms(self) -> tuple[str, ...]:
        return tuple(a for s in self.slots for a in s)

    def fixed_length(self) -> int | None:
        total = 0
        for alternatives in self.slots:
            lengths = {len(a) for a in alternatives}
            if len(lengths) != 1:
                return None
            total += lengths.pop()
        return total

    def map_text(self, fn: Callable[[str], str]) -> Node:
        return pattern([_even_alternatives([fn(a) for a in s]) for s in self.slots])

    def substitute(self, table: Mapping[str, tuple[str, ...]]) -> Node:
        slots: list[tuple[str, ...]] = []
        for alternatives in self.slots:
            if len(alternatives) == 1:
                slots.extend(table.get(c, (c,)) for c in alternatives[0])
            else:
                slots.append(alternatives)
        return pattern(slots)


def _even_alternatives(alternatives: list[str]) -> tuple[str, ...]:
    """Alternatives with duplicates folded when every value repeats equally (same odds)."""
    counts: dict[str, int] = {}
    for a in alternatives:
        counts[a] = counts.get(a, 0) + 1
    if len(set(counts.values())) == 1:
        return tuple(counts)
    return tuple(alternatives)


def pattern(slots: Iterable[tuple[str, ...]]) -> Node:
    """A Pattern with neighbouring literal slots merged; no random slot makes it a Const."""
    merged: list[tuple[str, ...]] = []
    for alternatives in slots:
        if len(alternatives) == 1 and merged and len(merged[-1]) == 1:
            merged[-1] = (merged[-1][0] + alternatives[0],)
        elif len(alternatives) == 1 and not alternatives[0]:
            continue
        else:
            merged.append(tuple(alternatives))
    if not merged:
        return Const("")
    if all(len(s) == 1 for s in merged):
        return Const("".join(s[0] for s in merged))
    return Pattern(tuple(merged))


def placeholders(text: str, table: Mapping[str, tuple[str, ...]]) -> Node:
    """``text`` with its placeholder characters (``#``, ``?`` ...) made random."""
    return Const(text).substitute(table)


@dataclass(frozen=True)
class IntText(Node):
    """Integers ``low, low + step, ... <= high`` as text, left-padded with ``fill`` to ``width``."""

    low: int
    high: int
    step: int = 1
    width: int = 0
    fill: str = "0"

    @property
    def count(self) -> int:
        return (self.high - self.low) // self.step + 1

    def numbers(self, index: np.ndarray, stream: Stream) -> np.ndarray:
        return self.low + stream.integers(index, 0, self.count - 1) * self.step

    def _text(self, numbers: np.ndarray) -> pa.Array:
        text = pa.array(numbers, pa.int64()).cast(pa.string())
        if self.width:
            text = pc.utf8_lpad(text, width=self.width, padding=self.fill)
        return text

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        return self._text(self.numbers(index, stream))

    def cardinality(self) -> int:
        return self.count

    def enumerable(self) -> bool:
        return self.count < _ENUMERABLE_LIMIT

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return self._text(self.low + np.asarray(ordinal, dtype=np.int64) * self.step)

    def atoms(self) -> tuple[str, ...]:
        return (*DIGITS, "-", self.fill) if self.low < 0 else (*DIGITS, self.fill)

    def fixed_length(self) -> int | None:
        if self.low < 0:
            return None
        shortest, longest = len(str(self.low)), len(str(self.high))
        if longest <= self.width:
            return self.width
        return longest if shortest == longest else None


@dataclass(frozen=True)
class Join(Node):
    """The concatenation of ``parts``; each part draws from its own child stream."""

    parts: tuple[Node, ...]

    @cached_property
    def _static(self) -> Concatenation | None:
        """One table per part when every part is a pick or a constant (then a row is one take)."""
        if not all(isinstance(p, (Const, Pick)) for p in self.parts):
            return None
        return Concatenation([p.table if isinstance(p, Pick) else [p.text] for p in self.parts])  # type: ignore[union-attr]

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        if self._static is not None:
            chosen = [
                part.choose(index, stream.child("part", position)) if isinstance(part, Pick) else 0
                for position, part in enumerate(self.parts)
            ]
            return self._static.build(chosen, len(index))
        pieces: list[pa.Array | str] = []
        for position, part in enumerate(self.parts):
            if isinstance(part, Const):
                pieces.append(part.text)
            else:
                pieces.append(part.generate(index, stream.child("part", position)))
        return concat_text(pieces, len(index))

    def _splittable(self) -> bool:
        """Whether each value can be cut back into its parts (so counts multiply exactly)."""
        for position, part in enumerate(self.parts[:-1]):
            if isinstance(part, Const) or part.fixed_length() is not None:
                continue
            following = self.parts[position + 1]
            chars = part.charset()
            if not isinstance(following, Const) or chars is None or following.text[:1] in chars:
                return False
        return True

    def cardinality(self) -> int | None:
        counts = [p.cardinality() for p in self.parts]
        if any(c is None for c in counts) or not self._splittable():
            return None
        return reduce(lambda a, b: a * b, counts, 1)  # type: ignore[arg-type]

    def enumerable(self) -> bool:
        total = self.cardinality()
        return total is not None and total < _ENUMERABLE_LIMIT and all(p.enumerable() for p in self.parts)

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        remaining = np.asarray(ordinal, dtype=np.uint64).copy()
        digits: list[np.ndarray] = []
        for part in reversed(self.parts):
            count = np.uint64(part.cardinality())
            digits.append(remaining % count)
            remaining //= count
        digits.reverse()
        pieces = [
            part.text if isinstance(part, Const) else part.value_at(digit) for part, digit in zip(self.parts, digits)
        ]
        return concat_text(pieces, len(ordinal))

    def atoms(self) -> tuple[str, ...] | None:
        collected: list[str] = []
        for part in self.parts:
            atoms = part.atoms()
            if atoms is None:
                return None
            collected.extend(atoms)
        return tuple(collected)

    def fixed_length(self) -> int | None:
        lengths = [p.fixed_length() for p in self.parts]
        return None if any(n is None for n in lengths) else sum(lengths)  # type: ignore[arg-type]

    def map_text(self, fn: Callable[[str], str]) -> Node:
        return join(*(p.map_text(fn) for p in self.parts))

    def substitute(self, table: Mapping[str, tuple[str, ...]]) -> Node:
        return join(*(p.substitute(table) for p in self.parts))

    def pooled(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for p in self.parts for name in p.pooled()))


def join(*parts: Node) -> Node:
    """A Join with nested joins flattened and neighbouring constants merged."""
    flat: list[Node] = []
    for part in parts:
        for piece in part.parts if isinstance(part, Join) else (part,):
            if isinstance(piece, Const):
                if not piece.text:
                    continue
                if flat and isinstance(flat[-1], Const):
                    flat[-1] = Const(flat[-1].text + piece.text)
                    continue
            flat.append(piece)
    if not flat:
        return Const("")
    return flat[0] if len(flat) == 1 else Join(tuple(flat))


@dataclass(frozen=True)
class Mix(Node):
    """One of ``options`` per row, chosen with ``weights``; each option generates only its rows."""

    options: tuple[Node, ...]
    weights: tuple[float, ...]

    @cached_property
    def alias(self) -> AliasTable:
        return AliasTable(self.weights)

    @cached_property
    def pattern_widths(self) -> np.ndarray | None:
        """Bytes per value of each option when every option is a fixed-width pattern, else None."""
        if not all(isinstance(o, Pattern) and o.is_fixed_width() for o in self.options):
            return None
        return np.array([o._plan.width for o in self.options], dtype=np.int64)  # type: ignore[union-attr]

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        choice = self.alias.choose(index, stream.child("option"))
        if self.pattern_widths is not None and len(index):
            return self._patterns(index, stream, choice, self.pattern_widths)
        pieces = [
            (positions, self.options[option].generate(index[positions], stream.child("option", option)))
            for option, positions in groups_of(choice, len(self.options))
        ]
        if not pieces:
            return pa.array([], pa.string())
        return scatter(pieces, len(index))

    def _patterns(self, index: np.ndarray, stream: Stream, choice: np.ndarray, widths: np.ndarray) -> pa.Array:
        """Fixed-width options write their rows straight into one buffer, grouped by option; one take orders it."""
        rows = len(index)
        order = stable_order(choice, len(self.options))
        counts = np.bincount(choice, minlength=len(self.options))
        data = pool_empty(int(counts @ widths), np.uint8)
        offsets = pool_empty(rows + 1, np.int32)
        offsets[0] = 0
        np.cumsum(np.repeat(widths, counts), out=offsets[1:])
        first = 0
        for option, count in enumerate(counts.tolist()):
            if not count:
                continue
            positions = order[first : first + count]
            start = int(offsets[first])
            region = data[start : start + count * int(widths[option])].reshape(count, int(widths[option]))
            self.options[option].fill(region, index[positions], stream.child("option", option))  # type: ignore[attr-defined]
            first += count
        grouped = pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))
        inverse = pool_empty(rows, np.int64)
        inverse[order] = np.arange(rows, dtype=np.int64)
        return grouped.take(pa.array(inverse))

    def atoms(self) -> tuple[str, ...] | None:
        collected: list[str] = []
        for option in self.options:
            atoms = option.atoms()
            if atoms is None:
                return None
            collected.extend(atoms)
        return tuple(collected)

    def fixed_length(self) -> int | None:
        lengths = {o.fixed_length() for o in self.options}
        return lengths.pop() if len(lengths) == 1 else None

    def map_text(self, fn: Callable[[str], str]) -> Node:
        return mix([o.map_text(fn) for o in self.options], self.weights)

    def substitute(self, table: Mapping[str, tuple[str, ...]]) -> Node:
        return mix([o.substitute(table) for o in self.options], self.weights)

    def pooled(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for o in self.options for name in o.pooled()))


def mix(options: Sequence[Node], weights: Sequence[float] | None = None) -> Node:
    """A weighted choice, simplified: nested choices flattened, picks merged, equal options merged.

    Options that differ only in a leading constant (``"75" + pattern``,
    ``"13" + pattern``) become one join of a pick and the shared rest, which
    keeps choices like "department code + random digits" to a few groups.
    """
    if weights is None:
        weights = [1.0] * len(options)
    flat: list[tuple[Node, float]] = []
    for option, weight in zip(options, weights):
        if weight <= 0:
            continue
        if isinstance(option, Mix):
            flat.extend((o, weight * w) for o, w in zip(option.options, option.weights))
        else:
            flat.append((option, float(weight)))
    if not flat:
        raise NotVectorisable("no option has a positive weight")
    values: list[str] = []
    value_weights: list[float] = []
    others: dict[Node, float] = {}
    for option, weight in flat:
        if isinstance(option, Const):
            values.append(option.text)
            value_weights.append(weight)
        elif isinstance(option, Pick):
            values.extend(option.values)
            value_weights.extend(weight * p for p in option.probabilities())
        else:
            others[option] = others.get(option, 0.0) + weight
    others = _factor_leading_constants(others)
    merged: list[tuple[Node, float]] = []
    if values:
        merged.append((pick(values, value_weights), sum(value_weights)))
    merged.extend(others.items())
    if len(merged) == 1:
        return merged[0][0]
    return Mix(tuple(o for o, _ in merged), normalised([w for _, w in merged]))


def _factor_leading_constants(options: dict[Node, float]) -> dict[Node, float]:
    grouped: dict[tuple[Node, ...], list[tuple[str, float]]] = {}
    result: dict[Node, float] = {}
    for option, weight in options.items():
        if isinstance(option, Join) and isinstance(option.parts[0], Const):
            grouped.setdefault(option.parts[1:], []).append((option.parts[0].text, weight))
        else:
            result[option] = result.get(option, 0.0) + weight
    for rest, heads in grouped.items():
        total = sum(w for _, w in heads)
        if len(heads) == 1:
            node = join(Const(heads[0][0]), *rest)
        else:
            node = join(pick([h for h, _ in heads], [w for _, w in heads]), *rest)
        result[node] = result.get(node, 0.0) + total
    return result


@dataclass(frozen=True)
class Collapse(Node):
    """Slugify's whole-string steps: strip whitespace, runs of ``[-\\s]`` become one ``-``.

    Only used when those steps cannot be pushed into the parts (a part that
    starts or ends with a hyphen or a space could merge with its neighbour).
    """

    inner: Node

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        values = pc.utf8_trim_whitespace(self.inner.generate(index, stream))
        return pc.replace_substring_regex(values, r"[-\s]+", "-")

    def atoms(self) -> tuple[str, ...] | None:
        return self.inner.atoms()

    def pooled(self) -> tuple[str, ...]:
        return self.inner.pooled()


def split_first(node: Node, separator: str) -> Node:
    """The text before the first ``separator`` of each value (the whole value if none).

    Exact for constants, picks, patterns, joins and choices: a pick is split
    into the values that contain the separator (they end the text) and those
    that do not (the text continues into the next part).
    """
    alternatives = _head_alternatives(node, separator, [((), False, 1.0)])
    return mix([join(*parts) for parts, _, _ in alternatives], [w for _, _, w in alternatives])


_Alternative = tuple[tuple[Node, ...], bool, float]


def _head_alternatives(node: Node, sep: str, current: list[_Alternative]) -> list[_Alternative]:
    if isinstance(node, Join):
        for part in node.parts:
            current = _head_alternatives(part, sep, current)
        return current
    branches = _split_node(node, sep)
    result: list[_Alternative] = []
    for parts, done, weight in current:
        if done:
            result.append((parts, done, weight))
            continue
        for piece, stops, share in branches:
            result.append(((*parts, piece), stops, weight * share))
    return result


def _split_node(node: Node, sep: str) -> list[tuple[Node, bool, float]]:
    """(head, ends here?, probability) branches for one node."""
    if isinstance(node, Const):
        if sep in node.text:
            return [(Const(node.text.split(sep, 1)[0]), True, 1.0)]
        return [(node, False, 1.0)]
    if isinstance(node, Pick):
        probabilities = node.probabilities()
        cut = [(v.split(sep, 1)[0], p) for v, p in zip(node.values, probabilities) if sep in v]
        whole = [(v, p) for v, p in zip(node.values, probabilities) if sep not in v]
        branches = []
        if cut:
            branches.append((pick([v for v, _ in cut], [p for _, p in cut]), True, sum(p for _, p in cut)))
        if whole:
            rest = pick([v for v, _ in whole], [p for _, p in whole])
            branches.append((rest, False, sum(p for _, p in whole)))
        return branches
    if isinstance(node, Mix):
        branches = []
        for option, weight in zip(node.options, node.weights):
            for parts, done, share in _head_alternatives(option, sep, [((), False, 1.0)]):
                branches.append((join(*parts), done, weight * share))
        return branches
    chars = node.charset()
    if chars is not None and sep not in chars:
        return [(node, False, 1.0)]
    raise NotVectorisable(f"cannot split {type(node).__name__} at {sep!r}")
