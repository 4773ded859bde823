"""SQL types to synthbeam column types, read from sqlglot's parsed ``DataType``.

Both ``import ddl`` (types in CREATE TABLE) and ``import db`` (the type names a catalog reports,
parsed with the same parser) come through here, so one SQL type always imports the same way.
Integer widths bound the default range (a ``SMALLINT`` never gets 40,000), ``DECIMAL(p, s)``
gives the float's precision and its largest value, text types give ``length``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

T = exp.DataType.Type

_INT_BOUNDS: dict[Any, tuple[int, int]] = {
    T.TINYINT: (-128, 127),
    T.UTINYINT: (0, 255),
    T.SMALLINT: (-32768, 32767),
    T.USMALLINT: (0, 65535),
    T.MEDIUMINT: (-8388608, 8388607),
    T.UMEDIUMINT: (0, 16777215),
    T.INT: (-(2**31), 2**31 - 1),
    T.UINT: (0, 2**32 - 1),
    T.BIGINT: (-(2**63), 2**63 - 1),
    T.UBIGINT: (0, 2**63 - 1),
    T.INT128: (-(2**63), 2**63 - 1),
    T.UINT128: (0, 2**63 - 1),
    T.INT256: (-(2**63), 2**63 - 1),
    T.UINT256: (0, 2**63 - 1),
    T.SMALLSERIAL: (1, 32767),
    T.SERIAL: (1, 2**31 - 1),
    T.BIGSERIAL: (1, 2**63 - 1),
}
_FLOATS = {T.FLOAT, T.DOUBLE}
_DECIMALS = {T.DECIMAL, T.UDECIMAL, T.BIGDECIMAL, T.MONEY, T.SMALLMONEY}
_TEXTS = {
    T.CHAR,
    T.NCHAR,
    T.VARCHAR,
    T.NVARCHAR,
    T.TEXT,
    T.MEDIUMTEXT,
    T.LONGTEXT,
    T.TINYTEXT,
    T.NAME,
    T.BPCHAR,
}
_TIMESTAMPS = {
    T.TIMESTAMP,
    T.TIMESTAMPTZ,
    T.TIMESTAMPLTZ,
    T.TIMESTAMPNTZ,
    T.DATETIME,
    T.DATETIME64,
    T.TIMESTAMP_S,
    T.TIMESTAMP_MS,
    T.TIMESTAMP_NS,
    T.DATETIME2,
    T.SMALLDATETIME,
}
_JSON = {T.JSON, T.JSONB, T.VARIANT, T.OBJECT, T.SUPER}
# Text that must parse as its SQL type when loaded back: a rule that makes valid values.
_SPECIAL_TEXT: dict[Any, tuple[Any, str]] = {
    T.INET: ("ipv4", "an IP address type"),
    T.IPADDRESS: ("ipv4", "an IP address type"),
}


@dataclass
class SqlType:
    """What a SQL type says about a column's values."""

    kind: str
    text: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    low: Any = None
    high: Any = None
    choices: list[Any] | None = None
    rule: Any = None
    note: str | None = None


def _params(dtype: exp.DataType) -> list[int]:
    numbers = []
    for param in dtype.expressions:
        inner = param.this if isinstance(param, exp.DataTypeParam) else param
        if isinstance(inner, exp.Literal) and not inner.is_string:
            with contextlib.suppress(ValueError):
                numbers.append(int(inner.this))
    return numbers


def sql_type(dtype: exp.DataType, dialect: str | None = None, enums: dict[str, list[str]] | None = None) -> SqlType:
    """The synthbeam view of one parsed SQL type; ``enums`` holds ``CREATE TYPE ... AS ENUM`` values."""
    kind = dtype.this
    text = dtype.sql(dialect=dialect)
    numbers = _params(dtype)
    if kind == T.USERDEFINED and enums is not None:
        name = dtype.args.get("kind")
        key = (name.name if isinstance(name, exp.Expression) else str(name or text)).lower()
        if key in enums:
            return SqlType("str", text, choices=list(enums[key]))
    if kind in (T.ENUM, T.ENUM8, T.ENUM16, T.SET) and dtype.expressions:
        values = [e.this for e in dtype.expressions if isinstance(e, exp.Literal)]
        return SqlType("str", text, choices=values)
    if kind == T.TINYINT and numbers == [1] and dialect == "mysql":
        return SqlType("bool", text, note="TINYINT(1) is MySQL's boolean")
    if kind in (T.BOOLEAN, T.BIT) and (kind == T.BOOLEAN or numbers in ([], [1])):
        return SqlType("bool", text)
    if kind in _INT_BOUNDS:
        low, high = _INT_BOUNDS[kind]
        return SqlType("int", text, low=low, high=high)
    if kind in _DECIMALS:
        precision, scale = ([*numbers, None, None])[:2]
        if kind in (T.MONEY, T.SMALLMONEY):
            scale = 2
        if precision is not None and scale is None:
            scale = 0
        if precision is not None and scale == 0 and precision <= 18:
            limit = 10**precision - 1
            return SqlType("int", text, precision=precision, scale=0, low=-limit, high=limit)
        high = None
        if precision is not None:
            high = round(10 ** (precision - scale) - 10 ** (-scale), scale)
        return SqlType(
            "float",
            text,
            precision=precision,
            scale=scale if scale is not None else 2,
            low=-high if high is not None else None,
            high=high,
        )
    if kind in _FLOATS:
        return SqlType("float", text, scale=2)
    if kind in _TEXTS:
        length = numbers[0] if numbers else None
        if length is not None and length > 10_000_000:  # Snowflake's VARCHAR(16777216) means unbounded
            length = None
        if kind in (T.CHAR, T.NCHAR, T.BPCHAR) and length is None:
            length = 1
        return SqlType("str", text, length=length)
    if kind == T.UUID:
        return SqlType("uuid", text)
    if kind == T.DATE or kind == T.DATE32:
        return SqlType("date", text)
    if kind in (T.TIME, T.TIMETZ):
        return SqlType("time", text)
    if kind in _TIMESTAMPS:
        return SqlType("timestamp", text)
    if kind in _JSON:
        return SqlType(
            "str",
            text,
            rule={"type": "regex", "regex": '^\\{"id": [1-9][0-9]{0,5}\\}$'},
            note='JSON: small objects such as {"id": 42}',
        )
    if kind in _SPECIAL_TEXT:
        rule, why = _SPECIAL_TEXT[kind]
        return SqlType("str", text, rule=rule, note=why)
    if kind == T.YEAR:
        return SqlType("int", text, low=1901, high=2155)
    return SqlType("str", text, note=f"{text} has no synthbeam type: generated as text, check it loads")
