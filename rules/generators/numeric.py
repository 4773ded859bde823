"""Numeric ranges: ``{"type": "range", "min": a, "max": b, "precision": p}``.

Integers are uniform on [min, max]; floats are uniform on [min, max] rounded
to ``precision`` decimals (2 unless given, as in the seed). Either bound may be
a column reference. Defaults follow the seed: 0..10000.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.conformance import RowBounds, StoredColumn, ValueCheck, bounds_offending
from synthbeam.rules.core.params import numbers_of, per_row, read_number, read_param
from synthbeam.rules.core.registry import ColumnRef, Domain, Param, Rows, Rule, RuleContext, register_rule
from synthbeam.rules.core.seeding import Stream

TEXT_TYPES = frozenset({"str", "uuid", "email", "phone"})
DEFAULT_MIN = 0
DEFAULT_MAX = 10_000
DEFAULT_PRECISION = 2
# A float64 holds 15 significant decimal digits: more decimals than that are noise, and 10**precision
# past ~300 overflows the value-space arithmetic.
MAX_PRECISION = 15
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        value = float(str(value))
    return value


@register_rule("range")
class Range(Rule):
    """Uniform numbers in [min, max]; integers for int columns, rounded floats otherwise."""

    example = ("int", {"type": "range", "min": 1, "max": 500})
    parameters = (
        Param(
            "min",
            "number",
            "the lowest value",
            str(DEFAULT_MIN),
            reference=True,
            json_types=("number",),
            mistaken_for=("minimum", "low", "from", "min_value", "start"),
        ),
        Param(
            "max",
            "number",
            "the highest value",
            str(DEFAULT_MAX),
            reference=True,
            json_types=("number",),
            mistaken_for=("maximum", "high", "to", "max_value", "end"),
        ),
        Param(
            "precision",
            f"whole number from 0 to {MAX_PRECISION}",
            "decimals of a float range",
            str(DEFAULT_PRECISION),
            json_types=("integer",),
        ),
    )

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        self.low = read_param(spec, "min", ctx, _number, DEFAULT_MIN, "number")
        self.high = read_param(spec, "max", ctx, _number, DEFAULT_MAX, "number")
        precision = read_number(spec, "precision", ctx, DEFAULT_PRECISION, low=0, high=MAX_PRECISION, integer=True)
        self.precision = int(precision)
        self.integral = ctx.column_type in ("int", "bool") or (
            ctx.column_type == "str" and _both_int(self.low, self.high) and "precision" not in spec
        )
        self.output_type = "int" if self.integral else "float"
        if self.integral:
            for name, bound in (("min", self.low), ("max", self.high)):
                if isinstance(bound, float) and not bound.is_integer():
                    ctx.error(f"range {name} {bound} is not a whole number but the column is int")
        fixed = not isinstance(self.low, ColumnRef) and not isinstance(self.high, ColumnRef)
        if fixed and self.low > self.high:
            ctx.error(f"range min {self.low} > max {self.high}")
        for name, bound in (("min", self.low), ("max", self.high)):
            if isinstance(bound, ColumnRef):
                continue
            if self.integral and not INT64_MIN <= bound <= INT64_MAX:
                ctx.error(f"range {name} {bound} does not fit a 64-bit integer")
            elif not self.integral and not math.isfinite(bound):
                ctx.error(f"range {name} {bound} is not a finite number")
        finite = fixed and not self.integral and math.isfinite(self.low) and math.isfinite(self.high)
        if finite and not math.isfinite(float(self.high) - float(self.low)):
            ctx.error(f"range [{self.low}, {self.high}] is wider than a 64-bit float can span")

    def cardinality(self) -> int | None:
        if isinstance(self.low, ColumnRef) or isinstance(self.high, ColumnRef):
            return None
        if self.integral:
            return int(self.high) - int(self.low) + 1
        scale = 10**self.precision
        return round((self.high - self.low) * scale) + 1

    def domain(self) -> Domain | None:
        if isinstance(self.low, ColumnRef) or isinstance(self.high, ColumnRef):
            return None
        kind = int if self.integral else float
        return Domain(low=kind(self.low), high=kind(self.high))

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        if self.integral:
            return pa.array(ordinal.astype(np.int64) + int(self.low), pa.int64())
        scale = 10**self.precision
        values = np.round(self.low + ordinal.astype(np.float64) / scale, self.precision)
        return pa.array(values, pa.float64())

    def ordinal_of(self, text: str) -> int | None:
        if not self.integral:
            return None  # a float's text has several spellings; such keys are searched instead
        try:
            number = int(text.strip())
        except ValueError:
            return None
        return number - int(self.low) if int(self.low) <= number <= int(self.high) else None

    def invertible(self) -> bool:
        return self.integral and self.enumerable()

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        low = per_row(self.low, rows, numbers_of, float)
        high = per_row(self.high, rows, numbers_of, float)
        if self.integral and not isinstance(low, np.ndarray) and not isinstance(high, np.ndarray):
            return pa.array(stream.integers(rows.index, int(low), int(high)), pa.int64())
        fraction = stream.uniform(rows.index)
        if self.integral:
            low_i = np.ceil(low)
            span = np.floor(high) - low_i + 1
            values = low_i + np.floor(fraction * np.maximum(span, 1))
            return pa.array(values, pa.int64(), from_pandas=True)
        values = np.round(low + fraction * (np.asarray(high) - low), self.precision)
        values = np.minimum(values, high)
        return pa.array(values, pa.float64(), from_pandas=True)

    def describe(self) -> str:
        return f"range [{self.low}, {self.high}]"

    # -- what check and the compiler ask ---------------------------------------------------------
    has_value_check = True

    def value_check(self, column: StoredColumn) -> ValueCheck | str | None:
        if column.affixed:
            return "range (prefix/suffix make the values text)"
        if column.type not in ("int", "float"):
            return f"range (values are stored as {column.type})"
        low: float
        high: float
        if self.integral:
            low, high = int(self.low), int(self.high)
        else:
            # floats are rounded to ``precision`` decimals, which may step just below min
            low, high = float(self.low) - 0.5 * 10.0**-self.precision, float(self.high)
        scalar_type = pa.int64() if column.type == "int" else pa.float64()
        return ValueCheck(
            "range",
            f"values outside range [{self.low}, {self.high}]",
            bounds_offending(pa.scalar(low, scalar_type), pa.scalar(high, scalar_type)),
        )

    def row_bounds(self, column_type: str) -> RowBounds | str:
        if column_type not in ("int", "float"):
            return f"range values are stored as {column_type}"
        tolerance = 0.0 if self.integral else 0.5 * 10.0**-self.precision + 1e-9
        return RowBounds(self.low, self.high, numbers_of, float, "int" if self.integral else "float", tolerance)

    @classmethod
    def corrected_type(cls, column_type: str, spec: Mapping[str, Any]) -> tuple[str, str] | None:
        """A text column (str, uuid, email, phone) takes the type the range makes: int or float.

        A uuid column once wrote ``2.53``; a prefix or suffix keeps the values text.
        """
        if column_type not in TEXT_TYPES or spec.get("prefix") or spec.get("suffix"):
            return None
        bounds = [spec.get("min"), spec.get("max")]
        numbers = [b for b in bounds if b is not None]
        if not numbers and column_type != "str":
            numbers = [0]  # the default bounds, 0..10000, are integers (a str column keeps its text, as it always did)
        if numbers and all(isinstance(b, int) and not isinstance(b, bool) for b in numbers):
            return "int", "a range rule with integer bounds makes an int column"
        if numbers and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in numbers):
            return "float", "a range rule with decimal bounds makes a float column"
        return None


def _both_int(low: Any, high: Any) -> bool:
    return isinstance(low, int) and isinstance(high, int)
