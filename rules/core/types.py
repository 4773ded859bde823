"""Column types: the contract's names and synonyms, and the Arrow type each maps to."""

from __future__ import annotations

import pyarrow as pa

TYPE_SYNONYMS: dict[str, str] = {
    "int": "int",
    "integer": "int",
    "float": "float",
    "double": "float",
    "decimal": "float",
    "bool": "bool",
    "boolean": "bool",
    "str": "str",
    "string": "str",
    "text": "str",
    "date": "date",
    "time": "time",
    "timestamp": "timestamp",
    "datetime": "timestamp",
    "uuid": "uuid",
    "email": "email",
    "phone": "phone",
}

ARROW_TYPES: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "str": pa.string(),
    "uuid": pa.string(),
    "email": pa.string(),
    "phone": pa.string(),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"),
}

STRING_TYPES = frozenset({"str", "uuid", "email", "phone"})

# The rule of a column that has none, by type (docs/config.md, "Defaults when rule is absent").
DEFAULT_RULES: dict[str, dict[str, str]] = {
    "int": {"type": "range"},
    "float": {"type": "range"},
    "bool": {"type": "bool"},
    "str": {"type": "word"},
    "date": {"type": "date_range"},
    "time": {"type": "time_range"},
    "timestamp": {"type": "timestamp_range"},
    "uuid": {"type": "uuid"},
    "email": {"type": "email"},
    "phone": {"type": "phone_number"},
}
NUMERIC_TYPES = frozenset({"int", "float"})
TEMPORAL_TYPES = frozenset({"date", "time", "timestamp"})


def canonical_type(name: str) -> str | None:
    """The canonical column type for a config type name, or None if unknown."""
    return TYPE_SYNONYMS.get(str(name).strip().lower())


def arrow_type(column_type: str) -> pa.DataType:
    return ARROW_TYPES[column_type]


def storage_kind(column_type: str) -> str:
    """The family of values a column stores: uuid/email/phone are strings."""
    return "str" if column_type in STRING_TYPES else column_type


def cannot_store(output_type: str, column_type: str) -> str | None:
    """Why values a rule makes as ``output_type`` would be bent by storing them as ``column_type``; None if not.

    A cast would succeed and say nothing: numbers become true (any but 0) in a
    bool column, times become microseconds in an int column. Text is exempt
    (every value has a text form, and text read as a number is checked on
    sample rows), and so are int -> float, bool -> 0/1 and date <-> timestamp.
    """
    made, stored = storage_kind(output_type), storage_kind(column_type)
    if made == stored or "str" in (made, stored):
        return None
    if made in NUMERIC_TYPES and stored == "bool":
        return "a bool column would store every number but 0 as true"
    if made in NUMERIC_TYPES and stored in TEMPORAL_TYPES:
        return f"a {stored} column holds {stored}s, not numbers"
    if made in TEMPORAL_TYPES and stored == "bool":
        return "a bool column holds true and false, not points in time"
    if made in TEMPORAL_TYPES and stored in NUMERIC_TYPES:
        return f"{_a(stored)} column would hold them as counts of days or microseconds"
    if made == "bool" and stored in TEMPORAL_TYPES:
        return f"a {stored} column holds {stored}s, not true and false"
    if "time" in (made, stored) and made != stored and {made, stored} <= TEMPORAL_TYPES:
        return f"a {stored} column cannot hold a {made} without inventing the missing part"
    return None


def _a(column_type: str) -> str:
    return f"an {column_type}" if column_type[0] in "aeiou" else f"a {column_type}"
