"""Parsing rule parameters: constants, dates and times, and column references.

A parameter written ``{"column": "signup_date"}`` becomes a :class:`ColumnRef`
and is resolved per row at generation time; anything else is parsed once, at
plan time, with errors reported to the rule's context.

A reference may carry ``"default"`` (parsed like a constant of the parameter):
it stands in for a null referenced value. Without one a null referenced bound
gives the row null, and validation warns where the referenced column can be null.

A reference may also carry ``"offset"``: ``"30 days"``, ``"-2 hours"`` (dates,
times, timestamps) or a number (number columns), added to the referenced value
before the rule uses it, so "due 30 days after issue" is
``{"column": "issued_on", "offset": "30 days"}``. Times wrap around midnight.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.registry import ColumnRef, Offset, Rows, RuleContext

EPOCH = dt.date(1970, 1, 1)
EPOCH_TS = dt.datetime(1970, 1, 1)
US_PER_SECOND = 1_000_000
SECONDS_PER_DAY = 86_400


Number = TypeVar("Number", int, float)

REFERENCE_KEYS = frozenset({"column", "default", "offset"})
# Spellings people reach for, and the one to write instead.
_OFFSET_ALIASES = ("offset_days", "offset_hours", "offset_minutes", "offset_seconds", "days", "plus", "add")
_UNIT_SECONDS = {
    "week": 7 * 86_400,
    "day": 86_400,
    "hour": 3_600,
    "minute": 60,
    "min": 60,
    "second": 1,
    "sec": 1,
    "s": 1,
}
_DURATION = re.compile(r"^\s*([+-]?\d+)\s*([a-z]+?)s?\s*$")


def is_reference(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and "column" in value
        and set(value) <= REFERENCE_KEYS
        and isinstance(value["column"], str)
    )


def parse_offset(value: Any) -> Offset:
    """``"30 days"`` -> a duration in seconds; a JSON number -> a plain number (raises ValueError)."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(value)
        return Offset(value, None)
    match = _DURATION.match(str(value).lower())
    unit = _UNIT_SECONDS.get(match.group(2)) if match else None
    if match is None or unit is None:
        raise ValueError(value)
    return Offset(int(match.group(1)) * unit, "seconds")


def offset_alias_fix(value: Mapping[str, Any], key: str) -> str | None:
    """The fix for ``key``, a spelling of ``offset`` people reach for, in a column reference; else None."""
    if key not in _OFFSET_ALIASES:
        return None
    amount = value[key]
    unit = key.split("_", 1)[1] if key.startswith("offset_") else "days"
    return f'write {{"column": "{value.get("column")}", "offset": "{amount} {unit}"}}'


def reference_problem(value: Mapping[str, Any]) -> str | None:
    """Why ``{"column": ..., ...}`` with keys a reference does not take is not one, with the fix."""
    extra = sorted(set(value) - REFERENCE_KEYS)
    if not extra:
        return None
    alias = next((key for key in extra if key in _OFFSET_ALIASES), None)
    if alias is not None:
        return f"a column reference has no {alias!r}: {offset_alias_fix(value, alias)}"
    return f"a column reference takes column, default and offset, not {', '.join(map(repr, extra))}"


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
    if isinstance(value, Mapping) and isinstance(value.get("column"), str):
        problem = reference_problem(value)
        if problem is not None:
            ctx.error(f"{key}: {problem}")
            return default
    if is_reference(value):
        name = value["column"]
        referenced_type = ctx.columns.get(name) if "." not in name else ctx.parent_columns.get(name)
        if "." not in name and ctx.columns and name not in ctx.columns:
            ctx.error(f"{key} refers to column {name!r}, which this table does not have")
        default = value.get("default")
        if default is not None:
            try:
                default = parse(default)
            except (TypeError, ValueError):
                ctx.error(f"{key} default {default!r} is not a valid {what}")
                default = None
        offset = None
        if value.get("offset") is not None:
            offset = _read_offset(value["offset"], key, name, referenced_type, ctx)
        return ColumnRef(name, default, key, offset)
    try:
        return parse(value)
    except (TypeError, ValueError):
        ctx.error(f"{key} {value!r} is not a valid {what}")
        return default


def _read_offset(raw: Any, key: str, name: str, referenced_type: str | None, ctx: RuleContext) -> Offset | None:
    """The reference's offset, checked against the referenced column's type where it is known."""
    try:
        offset = parse_offset(raw)
    except (TypeError, ValueError):
        ctx.error(
            f"{key} offset {raw!r} is not an offset: write a duration such as \"30 days\", \"-2 hours\", "
            "\"90 minutes\" (dates, times, timestamps) or a number (number columns)"
        )
        return None
    problem = offset.problem_with(referenced_type) if referenced_type else None
    if problem:
        ctx.error(f"{key} offset {raw!r} on {name}: {problem}")
        return None
    return offset


def referenced(ref: ColumnRef, rows: Rows) -> pa.Array:
    """The referenced column's values for ``rows``, shifted by the reference's offset."""
    values = rows.ref(ref.name)
    return ref.offset.apply(values) if ref.offset is not None else values


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
        values = referenced(value, rows)
        numbers = to_number(values)
        if value.default is not None and values.null_count:
            is_null = values.is_null().to_numpy(zero_copy_only=False)
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
