"""Rules with no parameters worth a module of their own: fixed values, booleans, UUIDs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from .choice import _arrow_values, infer_type
from .registry import Rows, Rule, RuleContext, register_rule
from .seeding import Stream, mix64
from .values import fixed_width_strings


@register_rule("fixed", "default")
class Fixed(Rule):
    """The same ``value`` in every row."""

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        if "value" not in spec:
            ctx.error(f"{spec.get('type', 'fixed')} needs 'value'")
        self.value = spec.get("value")
        self.output_type = infer_type([self.value]) if self.value is not None else ctx.column_type
        self.single = _arrow_values([self.value], self.output_type) if self.value is not None else None

    def cardinality(self) -> int | None:
        return 1

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return self.generate(Rows(ordinal), Stream(0))

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        if self.single is None:
            return pa.nulls(len(rows))
        return self.single.take(pa.array(np.zeros(len(rows), dtype=np.int64)))


@register_rule("bool", "boolean")
class Bool(Rule):
    """True or false with equal odds (``probability`` of true optional)."""

    output_type = "bool"

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        self.probability = float(spec.get("probability", 0.5))
        if not 0.0 <= self.probability <= 1.0:
            ctx.error(f"probability {self.probability} must be between 0 and 1")

    def cardinality(self) -> int | None:
        return 2

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return pa.array(ordinal.astype(bool), pa.bool_())

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        return pa.array(stream.bernoulli(rows.index, self.probability), pa.bool_())


def _hex_digits(words: np.ndarray) -> np.ndarray:
    """(n, 16) ASCII hex digits of uint64 words, most significant first (uint8 work: 64-bit shifts are slow)."""
    octets = words.astype(">u8").view(np.uint8).reshape(-1, 8)
    nibbles = np.stack([octets >> 4, octets & 0x0F], axis=2).reshape(-1, 16)
    return nibbles + np.uint8(ord("0")) + (nibbles > 9).astype(np.uint8) * np.uint8(ord("a") - ord("9") - 1)


def format_uuid4(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Canonical UUID version-4 text (an (n, 36) ASCII matrix) from two uint64 draws per row."""
    high = (high & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x0000000000004000)
    low = (low & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    upper, lower = _hex_digits(high), _hex_digits(low)
    text = np.full((len(high), 36), ord("-"), dtype=np.uint8)
    text[:, 0:8] = upper[:, 0:8]
    text[:, 9:13] = upper[:, 8:12]
    text[:, 14:18] = upper[:, 12:16]
    text[:, 19:23] = lower[:, 0:4]
    text[:, 24:36] = lower[:, 4:16]
    return text


@register_rule("uuid", "uuid4")
class Uuid4(Rule):
    """Random (version 4) UUIDs in canonical text form."""

    output_type = "str"

    def cardinality(self) -> int | None:
        return 1 << 122

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        """Distinct ordinals (< 2**62) give distinct UUIDs: the ordinal fills the 62 free low bits."""
        ordinal = np.asarray(ordinal, dtype=np.uint64)
        high = mix64(ordinal ^ np.uint64(0x5DEECE66D))
        return _uuid_array(format_uuid4(high, ordinal))

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        return _uuid_array(format_uuid4(stream.child("high").bits(rows.index), stream.child("low").bits(rows.index)))


def _uuid_array(text: np.ndarray) -> pa.Array:
    return fixed_width_strings(text)
