"""Rules with no parameters worth a module of their own: fixed values, booleans, UUIDs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.conformance import StoredColumn, ValueCheck, examples, mask
from synthbeam.rules.core.params import read_number, read_param, referenced
from synthbeam.rules.core.registry import ColumnRef, Domain, Param, Rows, Rule, RuleContext, register_rule
from synthbeam.rules.core.seeding import Stream, mix64
from synthbeam.rules.core.types import storage_kind
from synthbeam.rules.core.values import fixed_width_strings, pool_empty
from synthbeam.rules.generators.choice import checked_values, infer_type


@register_rule("fixed", "default")
class Fixed(Rule):
    """The same ``value`` in every row, or a copy of another column: ``{"column": "dob"}``.

    A copy reads the other column's value of the same row (or, ``"customers.email"``,
    of the parent row): it is a reference like any rule parameter, so it orders
    the columns and inherits the protection of what it copies.
    """

    parameters = (
        Param(
            "value",
            "any JSON value",
            "the value of every row (an object or list is written as JSON text)",
            required=True,
            reference=True,
        ),
    )
    example = ("str", {"type": "fixed", "value": "EUR"})

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        if "value" not in spec:
            ctx.error(f"{spec.get('type', 'fixed')} needs 'value'")
        self.value = spec.get("value")
        self.copy_of: ColumnRef | None = None
        if isinstance(self.value, Mapping) and isinstance(self.value.get("column"), str):
            self.copy_of = read_param(spec, "value", ctx, lambda v: v, None, "column reference")
            self.value = None
            self.single = None
            if self.copy_of is None:  # reported by read_param
                return
            name = self.copy_of.name
            self.derived_from_row = True
            source = ctx.columns.get(name) if "." not in name else ctx.parent_columns.get(name)
            self.output_type = source or ctx.column_type
            if source is not None and not _copy_fits(source, ctx.column_type):
                ctx.error(
                    f"fixed copies {name}, a {source} column, into this {ctx.column_type} column: a copy keeps its "
                    f"type, so give the column type {source}, or compute the value with an expr rule "
                    f'(CAST({name} AS ...)) or conditional_rules'
                )
            return
        self.output_type = infer_type([self.value]) if self.value is not None else ctx.column_type
        self.single = checked_values([self.value], self.output_type, ctx) if self.value is not None else None

    def cardinality(self) -> int | None:
        return None if self.copy_of is not None else 1

    def domain(self) -> Domain | None:
        return Domain(values=self.single) if self.single is not None else None

    def makes_nulls(self) -> bool:
        return self.value is None and self.copy_of is None

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return self.generate(Rows(ordinal), Stream(0))

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        if self.copy_of is not None:
            values = referenced(self.copy_of, rows)
            if self.copy_of.default is not None and values.null_count:
                values = values.fill_null(pa.scalar(self.copy_of.default).cast(values.type))
            return values
        if self.single is None:
            return pa.nulls(len(rows))
        return self.single.take(pa.array(np.zeros(len(rows), dtype=np.int64)))

    def describe(self) -> str:
        if self.copy_of is not None:
            return f"copy of {self.copy_of.name}"
        return f"fixed {json.dumps(self.value, default=str)}"

    has_value_check = True

    def value_check(self, column: StoredColumn) -> ValueCheck | str | None:
        """Every value is the constant as stored (a copy of a column is recomputed row by row instead)."""
        from synthbeam.rules.core.values import coerce

        if self.single is None:
            return "fixed value (a copy of another column: check recomputes it row by row)"
        try:
            fixed = coerce(self.single, column.type)
        except Exception:  # a constant the column type cannot hold failed at plan time already
            return f"fixed value (cannot be stored as {column.type})"
        affixed = bool(column.prefix or column.suffix)
        if affixed or (pa.types.is_string(fixed.type) and (column.max_length or column.min_length)):
            return "fixed value (stored changed: prefix/suffix, type or length)"

        def offending(values: pa.Array) -> np.ndarray:
            return mask(pc.invert(pc.is_in(values, value_set=fixed))) & mask(pc.is_valid(values))

        return ValueCheck("fixed", f"values other than the fixed {examples(fixed.to_pylist())}", offending)


def _copy_fits(source: str, column_type: str) -> bool:
    """Whether a ``source`` column's values are stored as they are in a ``column_type`` column."""
    made, stored = storage_kind(source), storage_kind(column_type)
    return made == stored or stored == "str" or (made, stored) in {("int", "float"), ("date", "timestamp")}


@register_rule("bool", "boolean")
class Bool(Rule):
    """True or false with equal odds (``probability`` of true optional)."""

    output_type = "bool"
    parameters = (Param("probability", "number from 0 to 1", "the chance of true", "0.5", json_types=("number",)),)
    example = ("bool", {"type": "bool", "probability": 0.8})

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        self.probability = float(read_number(spec, "probability", ctx, 0.5, low=0, high=1))

    def cardinality(self) -> int | None:
        return 2

    def domain(self) -> Domain | None:
        possible = [value for value, chance in ((False, 1 - self.probability), (True, self.probability)) if chance > 0]
        return Domain(values=pa.array(possible, pa.bool_()))

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return pa.array(ordinal.astype(bool), pa.bool_())

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        return pa.array(stream.bernoulli(rows.index, self.probability), pa.bool_())


def _hex_quads() -> np.ndarray:
    """Four ASCII hex digits (as one uint32) of every 16-bit value, indexed by the value byte-swapped.

    A big-endian copy of a word, read as uint16s, lists its 16-bit chunks most
    significant first, each byte-swapped: one gather turns them into text order.
    """
    value = np.arange(1 << 16)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    quads = np.ascontiguousarray(np.stack([digits[(value >> shift) & 0xF] for shift in (12, 8, 4, 0)], axis=1))
    table = np.empty(1 << 16, dtype=np.uint32)
    table[((value & 0xFF) << 8) | (value >> 8)] = quads.view(np.uint32).reshape(-1)
    return table


_HEX_QUADS = _hex_quads()
_UUID_TEMPLATE = np.frombuffer(b"00000000-0000-0000-0000-000000000000", dtype=np.uint8)
# Rows per pass: the (rows, 36) text of one block stays in cache across its several strided stores.
_BLOCK_ROWS = 8192


def format_uuid4(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Canonical UUID version-4 text (an (n, 36) ASCII matrix) from two uint64 draws per row.

    Every 16 bits become four hex digits through one table gather, stored with
    32/64-bit writes (byte-wide work on these arrays is several times slower).
    """
    return _format_uuid4_in_place(np.array(high, dtype=np.uint64), np.array(low, dtype=np.uint64))


def _format_uuid4_in_place(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``format_uuid4`` that overwrites its (uint64) inputs instead of copying them."""
    rows = len(high)
    high &= np.uint64(0xFFFFFFFFFFFF0FFF)
    high |= np.uint64(0x0000000000004000)
    low &= np.uint64(0x3FFFFFFFFFFFFFFF)
    low |= np.uint64(0x8000000000000000)
    high_chunks = high.byteswap(inplace=True).view(np.uint16).reshape(rows, 4)
    low_chunks = low.byteswap(inplace=True).view(np.uint16).reshape(rows, 4)
    text = pool_empty((rows, 36), np.uint8)
    for start in range(0, rows, _BLOCK_ROWS):
        stop = min(rows, start + _BLOCK_ROWS)
        block = text[start:stop]
        block[...] = _UUID_TEMPLATE
        upper = np.take(_HEX_QUADS, high_chunks[start:stop])
        lower = np.take(_HEX_QUADS, low_chunks[start:stop])
        block[:, 0:8].view(np.uint64)[:, 0] = upper[:, 0:2].view(np.uint64)[:, 0]
        block[:, 9:13].view(np.uint32)[:, 0] = upper[:, 2]
        block[:, 14:18].view(np.uint32)[:, 0] = upper[:, 3]
        block[:, 19:23].view(np.uint32)[:, 0] = lower[:, 0]
        block[:, 24:32].view(np.uint64)[:, 0] = lower[:, 1:3].view(np.uint64)[:, 0]
        block[:, 32:36].view(np.uint32)[:, 0] = lower[:, 3]
    return text


@register_rule("uuid", "uuid4")
class Uuid4(Rule):
    """Random (version 4) UUIDs in canonical text form."""

    output_type = "str"
    formatted = True
    parameters = ()
    example = ("str", {"type": "uuid"})

    def cardinality(self) -> int | None:
        return 1 << 122

    def makes_uuids(self) -> bool:
        return True

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        """Distinct ordinals (< 2**62) give distinct UUIDs: the ordinal fills the 62 free low bits."""
        low = np.array(ordinal, dtype=np.uint64)
        high = mix64(low ^ np.uint64(0x5DEECE66D))
        return _uuid_array(_format_uuid4_in_place(high, low))

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        high, low = stream.child("high").bits(rows.index), stream.child("low").bits(rows.index)
        return _uuid_array(_format_uuid4_in_place(high, low))


def _uuid_array(text: np.ndarray) -> pa.Array:
    return fixed_width_strings(text)
