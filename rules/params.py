"""Parsing rule parameters: constants, dates and times, and column references.

A parameter written ``{"column": "signup_date"}`` becomes a :class:`ColumnRef`
and is resolved per row at generation time; anything else is parsed once, at
plan time, with errors reported to the rule's context.

A reference may carry ``"default"`` (parsed like a constant of the parameter):
it stands in for a null referenced value. Without one a null referenced bound
gives the row null, and validation warns where the referenced column can be null.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from .registry import ColumnRef, Rows, RuleContext

EPOCH = dt.date(1970, 1, 1)
EPOCH_TS = dt.datetime(1970, 1, 1)
US_PER_SECOND = 1_000_000
SECONDS_PER_DAY = 86_400


Number = TypeVar("Number", int, float)

REFERENCE_KEYS = frozenset({"column", "default"})


def is_reference(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and "column" in value
        and set(value) <= REFERENCE_KEYS
        and isinstance(value["column"], str)
    )


def parse_date(text: Any) -> dt.date:
    if isinstance(text, dt.date) and not isinstance(text, dt.datetime):
        return text
    return dt.date.fromisoformat(str(text).strip()[:10])


def parse_time(text: Any) -> dt.time:
    return _whole_seconds(dt.time.fromisoformat(str(text).strip()))


def parse_timestamp(text: Any) -> dt.datetime:
    """A naive timestamp in whole seconds; an offset or a fraction is refused rather than dropped."""
    value = str(text).strip().replace("T", " ")
    if len(value) == 10:
        value += " 00:00:00"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        raise ValueError("timestamps have no zone here: drop the offset")
    return _whole_seconds(parsed)


def _whole_seconds(value: Any) -> Any:
    if value.microsecond:  # ranges count whole seconds: a fraction would put values outside the bound
        raise ValueError("bounds are whole seconds")
    return value


def date_days(value: dt.date) -> int:
    return (value - EPOCH).days


def time_seconds(value: dt.time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def timestamp_seconds(value: dt.datetime) -> int:
    return int((value - EPOCH_TS).total_seconds())


def read_param(
    spec: Mapping[str, Any],
    key: str,
    ctx: RuleContext,
    parse: Callable[[Any], Any],
    default: Any,
    what: str,
) -> Any:
    """``spec[key]`` parsed, a ColumnRef, or ``default``; a parse error is reported, not raised."""
    if key not in spec or spec[key] is None:
        return default
    value = spec[key]
    if is_reference(value):
        name = value["column"]
        if "." not in name and ctx.columns and name not in ctx.columns:
            ctx.error(f"{key} refers to column {name!r}, which this table does not have")
        default = value.get("default")
        if default is not None:
            try:
                default = parse(default)
            except (TypeError, ValueError):
                ctx.error(f"{key} default {default!r} is not a valid {what}")
                default = None
        return ColumnRef(name, default, key)
    try:
        return parse(value)
    except (TypeError, ValueError):
        ctx.error(f"{key} {value!r} is not a valid {what}")
        return default


def read_number(
    spec: Mapping[str, Any],
    key: str,
    ctx: RuleContext,
    default: float,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
) -> Any:
    """``spec[key]`` as a JSON number within [low, high] (a whole number if ``integer``), or ``default``.

    Anything else (text, null, a list, a column reference, a fraction where a
    count is meant, NaN) is a placed config error naming the value and what is
    expected: a parameter is never cast into something the user did not write
    (``"x"``, or ``1.5`` decimals read as 1).
    """
    if key not in spec:
        return default
    value = spec[key]
    kind = "a whole number" if integer else "a number"
    bounds = ""
    if low is not None and high is not None:
        bounds = f" from {low:g} to {high:g}"
    elif low is not None:
        bounds = f" >= {low:g}"
    wanted = f"{key} must be {kind}{bounds}"
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not numeric or not math.isfinite(value) or (integer and not isinstance(value, int)):
        ctx.error(f"{wanted}, got {value!r}" if not is_reference(value) else f"{wanted}, not a column reference")
        return default
    if (low is not None and value < low) or (high is not None and value > high):
        ctx.error(f"{wanted}, got {value!r}")
        return default
    return value


def per_row(
    value: Any, rows: Rows, to_number: Callable[[pa.Array], np.ndarray], constant: Callable[[Any], Number]
) -> np.ndarray | Number:
    """A parameter as a number per row (references) or one number (constants).

    A referenced null stays missing (NaN or the minimum int64, as ``to_number``
    marks it) unless the reference has a default, which takes its place.
    """
    if isinstance(value, ColumnRef):
        referenced = rows.ref(value.name)
        numbers = to_number(referenced)
        if value.default is not None and referenced.null_count:
            is_null = referenced.is_null().to_numpy(zero_copy_only=False)
            numbers = np.where(is_null, constant(value.default), numbers)
        return numbers
    return constant(value)


def days_of(values: pa.Array) -> np.ndarray:
    """Dates or timestamps as day numbers (nulls become the minimum int64)."""
    if pa.types.is_timestamp(values.type):
        values = values.cast(pa.timestamp("s")).cast(pa.int64())
        return _filled(values) // SECONDS_PER_DAY
    if pa.types.is_string(values.type):
        values = values.cast(pa.date32())
    return _filled(values.cast(pa.int32()).cast(pa.int64()))


def seconds_of(values: pa.Array) -> np.ndarray:
    """Timestamps or dates as seconds since the epoch."""
    if pa.types.is_date(values.type):
        return days_of(values) * SECONDS_PER_DAY
    if pa.types.is_string(values.type):
        values = values.cast(pa.timestamp("us"))
    return _filled(values.cast(pa.timestamp("s")).cast(pa.int64()))


def numbers_of(values: pa.Array) -> np.ndarray:
    return values.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)


def _filled(values: pa.Array) -> np.ndarray:
    return values.fill_null(np.iinfo(np.int64).min).to_numpy(zero_copy_only=False).astype(np.int64)
