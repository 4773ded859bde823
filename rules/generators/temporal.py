"""Dates, times and timestamps drawn uniformly from a range.

``date``/``date_range`` (``YYYY-MM-DD``), ``time``/``time_range``
(``HH:MM:SS``), ``timestamp``/``timestamp_range`` (``YYYY-MM-DD HH:MM:SS``).
Bounds may be column references (``{"column": "signup_date"}``); a row whose
referenced start lies after its end gets the start, and a row whose referenced
bound is null gets null unless the reference has a ``default``
(``{"column": "canceled_on", "default": "today"}``). Defaults follow the seed:
dates from 1950-01-01 to the plan's "today" (``as_of``), times over the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.conformance import RowBounds, StoredColumn, ValueCheck, bounds_offending
from synthbeam.rules.core.params import (
    EPOCH,
    SECONDS_PER_DAY,
    date_days,
    days_of,
    is_reference,
    parse_date,
    parse_time,
    parse_timestamp,
    per_row,
    read_param,
    seconds_of,
    time_seconds,
    timestamp_seconds,
)
from synthbeam.rules.core.registry import ColumnRef, Domain, Param, Rows, Rule, RuleContext, register_rule
from synthbeam.rules.core.seeding import Stream

DEFAULT_START = dt.date(1950, 1, 1)
_START_WORDS = ("start_date", "from", "min", "begin", "since", "start_time", "start_timestamp")
_END_WORDS = ("end_date", "to", "max", "until", "end_time", "end_timestamp", "stop")


class _TemporalRange(Rule):
    """Uniform integers (days or seconds) between two bounds, typed on the way out."""

    unit_name: ClassVar[str]

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        default_start, default_end = self.defaults(ctx)
        bounds, fallback = dict(spec), {"start": default_start, "end": default_end}
        for key, value in zip(("start", "end"), self.today(ctx) or ()):
            if _is_today(spec.get(key)):
                bounds[key], fallback[key] = None, value
            elif is_reference(spec.get(key)) and _is_today(spec[key].get("default")):
                bounds[key] = {**spec[key], "default": value}
        self.start = read_param(bounds, "start", ctx, self.parse, fallback["start"], self.unit_name)
        self.end = read_param(bounds, "end", ctx, self.parse, fallback["end"], self.unit_name)
        for key, bound in (("start", self.start), ("end", self.end)):
            referenced = ctx.columns.get(bound.name) if isinstance(bound, ColumnRef) else None
            if referenced is not None and referenced not in self.bound_types:
                ctx.error(
                    f"{key} refers to {bound.name}, a {referenced} column; a {self.names[0]} bound must be "
                    f"{' or '.join(sorted(self.bound_types))}"
                )
        self.uses_today = bounds.get("end") is None or _is_today(spec.get("start"))
        if self.uses_today and not ctx.settings.as_of_explicit and self.depends_on_today:
            ctx.warning(
                f"its range depends on today ({ctx.settings.as_of}, the run date), so this column changes from "
                "day to day; set as_of in the config or --as-of to pin it"
            )
        fixed = not isinstance(self.start, ColumnRef) and not isinstance(self.end, ColumnRef)
        if fixed and self.to_number(self.start) > self.to_number(self.end):
            ctx.error(f"start {self.start} is after end {self.end}")

    depends_on_today: ClassVar[bool] = True
    bound_types: ClassVar[frozenset[str]] = frozenset({"date", "timestamp", "str"})  # a bound column's types

    def defaults(self, ctx: RuleContext) -> tuple[Any, Any]:
        raise NotImplementedError

    def today(self, ctx: RuleContext) -> tuple[Any, Any] | None:
        """(first, last) value of ``as_of`` when ``start``/``end`` say ``"today"``; None: not a bound here."""
        return None

    def parse(self, value: Any) -> Any:
        raise NotImplementedError

    def to_number(self, value: Any) -> int:
        raise NotImplementedError

    def numbers_of(self, values: pa.Array) -> np.ndarray:
        raise NotImplementedError

    def to_arrow(self, numbers: np.ndarray) -> pa.Array:
        raise NotImplementedError

    def cardinality(self) -> int | None:
        if isinstance(self.start, ColumnRef) or isinstance(self.end, ColumnRef):
            return None
        return self.to_number(self.end) - self.to_number(self.start) + 1

    def domain(self) -> Domain | None:
        if isinstance(self.start, ColumnRef) or isinstance(self.end, ColumnRef):
            return None
        return Domain(low=self.start, high=self.end)

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return self.to_arrow(ordinal.astype(np.int64) + self.to_number(self.start))

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        low = per_row(self.start, rows, self.numbers_of, self.to_number)
        high = per_row(self.end, rows, self.numbers_of, self.to_number)
        if not isinstance(low, np.ndarray) and not isinstance(high, np.ndarray):
            return self.to_arrow(stream.integers(rows.index, low, high))
        low = np.broadcast_to(low, len(rows)).astype(np.int64)
        high = np.broadcast_to(high, len(rows)).astype(np.int64)
        # A null bound (no default) gives null: a row must not silently become its other bound.
        missing = (low == np.iinfo(np.int64).min) | (high == np.iinfo(np.int64).min)
        high = np.maximum(high, low)
        span = (high - low + 1).astype(np.float64)
        numbers = low + np.floor(stream.uniform(rows.index) * span).astype(np.int64)
        values = self.to_arrow(np.where(missing, 0, numbers))
        if missing.any():
            values = pa.array(values.to_pylist(), values.type, mask=missing)
        return values

    def describe(self) -> str:
        return f"{self.names[0]} [{self.start}, {self.end}]"

    # -- what check asks ------------------------------------------------------------------------
    has_value_check = True

    def value_check(self, column: StoredColumn) -> ValueCheck | str | None:
        skipped = f"{self.names[0]} (values are stored as {column.type})"
        if column.affixed or column.type not in ("date", "time", "timestamp"):
            return skipped
        numbers = np.array([self.to_number(self.start), self.to_number(self.end)], dtype=np.int64)
        bounds = self.to_arrow(numbers)
        if bounds.type != column.arrow_type:
            try:
                bounds = bounds.cast(column.arrow_type, safe=False)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return skipped
        return ValueCheck(
            self.names[0], f"values outside [{self.start}, {self.end}]", bounds_offending(bounds[0], bounds[1])
        )

    def row_bounds(self, column_type: str) -> RowBounds | str:
        if column_type != self.output_type:
            return f"{self.names[0]} values are stored as {column_type}"
        return RowBounds(self.start, self.end, self.numbers_of, self.to_number, "temporal")


@register_rule("date_range", "date")
class DateRange(_TemporalRange):
    """Uniform dates in [start, end] (days)."""

    unit_name = "date (YYYY-MM-DD)"
    output_type = "date"
    example = ("date", {"type": "date_range", "start": "2020-01-01", "end": "2025-12-31"})
    parameters = (
        Param(
            "start",
            'date (YYYY-MM-DD) or "today"',
            "the first date",
            "1950-01-01",
            reference=True,
            mistaken_for=_START_WORDS,
        ),
        Param("end", 'date (YYYY-MM-DD) or "today"', "the last date", "as_of", reference=True, mistaken_for=_END_WORDS),
    )

    def defaults(self, ctx: RuleContext) -> tuple[Any, Any]:
        return DEFAULT_START, ctx.settings.as_of

    def today(self, ctx: RuleContext) -> tuple[Any, Any] | None:
        return ctx.settings.as_of, ctx.settings.as_of

    def parse(self, value: Any) -> dt.date:
        return parse_date(value)

    def to_number(self, value: dt.date) -> int:
        return date_days(value)

    def numbers_of(self, values: pa.Array) -> np.ndarray:
        return days_of(values)

    def to_arrow(self, numbers: np.ndarray) -> pa.Array:
        return pa.array(numbers.astype(np.int32), pa.int32()).cast(pa.date32())


@register_rule("time_range", "time")
class TimeRange(_TemporalRange):
    """Uniform times of day in [start, end] (seconds)."""

    unit_name = "time (HH:MM:SS)"
    output_type = "time"
    example = ("time", {"type": "time_range", "start": "07:00:00", "end": "10:00:00"})
    parameters = (
        Param("start", "time (HH:MM:SS)", "the first time", "00:00:00", reference=True, mistaken_for=_START_WORDS),
        Param("end", "time (HH:MM:SS)", "the last time", "23:59:59", reference=True, mistaken_for=_END_WORDS),
    )
    bound_types = frozenset({"time", "str"})
    depends_on_today = False

    def defaults(self, ctx: RuleContext) -> tuple[Any, Any]:
        return dt.time(0, 0, 0), dt.time(23, 59, 59)

    def parse(self, value: Any) -> dt.time:
        return parse_time(value)

    def to_number(self, value: dt.time) -> int:
        return time_seconds(value)

    def numbers_of(self, values: pa.Array) -> np.ndarray:
        if pa.types.is_string(values.type):
            values = values.cast(pa.time64("us"))
        micros = values.cast(pa.time64("us")).cast(pa.int64()).fill_null(np.iinfo(np.int64).min)
        raw = micros.to_numpy(zero_copy_only=False)
        return np.where(raw == np.iinfo(np.int64).min, raw, raw // 1_000_000)

    def to_arrow(self, numbers: np.ndarray) -> pa.Array:
        return pa.array(numbers.astype(np.int64) * 1_000_000, pa.int64()).cast(pa.time64("us"))


@register_rule("timestamp_range", "timestamp")
class TimestampRange(_TemporalRange):
    """Uniform timestamps in [start, end], whole seconds, no zone."""

    unit_name = "timestamp (YYYY-MM-DD HH:MM:SS)"
    output_type = "timestamp"
    example = ("timestamp", {"type": "timestamp_range", "start": "2025-01-01 00:00:00", "end": "2025-12-31 23:59:59"})
    parameters = (
        Param(
            "start",
            'timestamp (YYYY-MM-DD HH:MM:SS) or "today"',
            "the first instant",
            "1950-01-01 00:00:00",
            reference=True,
            mistaken_for=_START_WORDS,
        ),
        Param(
            "end",
            'timestamp (YYYY-MM-DD HH:MM:SS) or "today"',
            "the last instant",
            "as_of 23:59:59",
            reference=True,
            mistaken_for=_END_WORDS,
        ),
    )

    def defaults(self, ctx: RuleContext) -> tuple[Any, Any]:
        start = dt.datetime.combine(DEFAULT_START, dt.time())
        end = dt.datetime.combine(ctx.settings.as_of, dt.time(23, 59, 59))
        return start, end

    def today(self, ctx: RuleContext) -> tuple[Any, Any] | None:
        as_of = ctx.settings.as_of
        return dt.datetime.combine(as_of, dt.time()), dt.datetime.combine(as_of, dt.time(23, 59, 59))

    def parse(self, value: Any) -> dt.datetime:
        return parse_timestamp(value)

    def to_number(self, value: dt.datetime) -> int:
        return timestamp_seconds(value)

    def numbers_of(self, values: pa.Array) -> np.ndarray:
        return seconds_of(values)

    def to_arrow(self, numbers: np.ndarray) -> pa.Array:
        return pa.array(numbers.astype(np.int64) * 1_000_000, pa.int64()).cast(pa.timestamp("us"))


__all__ = ["EPOCH", "SECONDS_PER_DAY", "DateRange", "TimeRange", "TimestampRange"]


def _is_today(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == "today"
