"""The Avro schema of a table: which Avro type (and logical type) stores each column type.

Beam-free, so ``check`` and ``decrypt`` read Avro files with the same table the sinks write them
with (:data:`AVRO_TYPES`; ``pipeline/formats.py`` reverses it) instead of a copy of their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from synthbeam.rules.core.types import arrow_type

from .names import AVRO_NAME

__all__ = ["AVRO_TYPES", "AVRO_UUID", "avro_schema", "avro_type_for"]

AVRO_TYPES: dict[str, Any] = {
    "int64": "long",
    "double": "double",
    "bool": "boolean",
    "string": "string",
    "date32[day]": {"type": "int", "logicalType": "date"},
    "time64[us]": {"type": "long", "logicalType": "time-micros"},
    "timestamp[us]": {"type": "long", "logicalType": "local-timestamp-micros"},
}


AVRO_UUID = {"type": "string", "logicalType": "uuid"}


def avro_type_for(column_type: str) -> Any:
    """The Avro type (with its logical type) that stores a column of contract type ``column_type``."""
    if column_type == "uuid":
        return dict(AVRO_UUID)
    avro_type = AVRO_TYPES[str(arrow_type(column_type))]
    return dict(avro_type) if isinstance(avro_type, dict) else avro_type


def _avro_record_name(table_name: str) -> str:
    name = re.sub(r"\W", "_", table_name, flags=re.ASCII) or "table"
    return name if AVRO_NAME.match(name) else f"t_{name}"


def avro_schema(table_name: str, schema: pa.Schema, column_types: Mapping[str, str]) -> dict[str, Any]:
    """The Avro record schema of a table (logical types, nullable unions)."""
    fields = []
    for field in schema:
        arrow_name = str(field.type)
        if arrow_name not in AVRO_TYPES:
            raise TypeError(f"{table_name}.{field.name}: no Avro mapping for Arrow type {arrow_name}")
        avro_type = AVRO_TYPES[arrow_name]
        if column_types.get(field.name) == "uuid":
            avro_type = avro_type_for("uuid")
        if field.nullable:
            entry: dict[str, Any] = {"name": field.name, "type": ["null", avro_type], "default": None}
        else:
            entry = {"name": field.name, "type": avro_type}
        # An encrypted column records the type it decrypts to, as Parquet's field metadata does, so
        # 'synthbeam decrypt' can check _report.json against the file (Avro keeps unknown attributes).
        original = (field.metadata or {}).get(b"synthbeam.original_type")
        if original:
            entry["synthbeam.original_type"] = original.decode("ascii")
        fields.append(entry)
    return {"type": "record", "name": _avro_record_name(table_name), "fields": fields}
