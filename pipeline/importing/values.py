"""Small value helpers the config builder shares: the code patterns it writes and their sizes,
choice keys, type coercion and dates."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

CODE_PATTERN = "^[A-Z]{3}-[0-9]{6}$"
EMAIL_PATTERN = "^[a-z]{6}[0-9]{3}@example\\.(com|org|net)$"


def regex_space(pattern: str) -> float:
    if pattern == CODE_PATTERN:
        return 26.0**3 * 10**6
    width = regex_width(pattern)
    return 36.0**width if width < 1 << 30 else math.inf


def regex_width(pattern: str) -> int:
    """The width of the code patterns this module writes; a large number for any other pattern."""
    if pattern == CODE_PATTERN:
        return len("ABC-123456")
    if pattern == EMAIL_PATTERN:
        return len("abcdef123@example.com")
    if pattern.startswith("^[A-Z0-9]{") and pattern.endswith("}$"):
        return int(pattern[len("^[A-Z0-9]{") : -2])
    return 1 << 30


def choice_key(value: Any) -> str:
    """A choice's key in ``probabilities``: strings as they are, other values as JSON writes them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def coerce(value: Any, kind: str) -> Any:
    if kind == "int" and isinstance(value, (str, float)) and not isinstance(value, bool):
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "float" and isinstance(value, (str, int)) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            return value
    if kind in ("str", "uuid") and not isinstance(value, str):
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return value


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def format_day(day: dt.date, kind: str, end: bool) -> str:
    if kind == "date":
        return day.isoformat()
    return f"{day.isoformat()} {'23:59:59' if end else '00:00:00'}"
