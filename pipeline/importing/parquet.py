"""``import parquet PATH``: a folder per table of Parquet files (as ``generate`` writes) to a Schema.

What is read: each file's schema and footer statistics (row counts, null counts, min/max of
numeric, date and timestamp columns), and a bounded sample of each table (the first ``sample``
rows) for distinct counts and, for low-cardinality columns that are neither keys nor personal-looking,
their values and shares. Parquet has no keys, so they are inferred: an integer or UUID column
named ``id``/``<table>_id`` whose sampled values are distinct is the primary key, and a column
with the name of another table's key whose sampled values lie in that key's range refers to it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import UserError
from .db import MAX_CHOICES, MIN_ROWS_PER_CHOICE
from .infer import looks_personal
from .model import Column, ForeignKey, Profile, Schema, Table

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def read_parquet(path: str, sample: int = 10_000) -> Schema:
    """Every ``PATH/<table>/*.parquet`` folder as a table, in name order."""
    root = Path(path)
    if not root.is_dir():
        raise UserError(f"Parquet folder not found: {path}")
    if sample < 1:
        raise UserError(f"--sample must be at least 1, got {sample}")
    schema = Schema()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(folder.glob("*.parquet"))
        if files:
            schema.tables[folder.name] = _read_table(folder.name, files, sample)
    if not schema.tables:
        raise UserError(f"no <table>/*.parquet folders in {path}")
    _infer_keys(schema)
    schema.notes.append(
        f"parquet: read schemas, footer statistics (rows, nulls, min/max of numbers and dates) and the first "
        f"{sample:,} rows of each table for distinct counts and category values"
    )
    return schema


def _kind(arrow_type: pa.DataType) -> tuple[str, int | None]:
    if pa.types.is_boolean(arrow_type):
        return "bool", None
    if pa.types.is_integer(arrow_type):
        return "int", None
    if pa.types.is_decimal(arrow_type):
        return "float", arrow_type.scale
    if pa.types.is_floating(arrow_type):
        return "float", None
    if pa.types.is_date(arrow_type):
        return "date", None
    if pa.types.is_time(arrow_type):
        return "time", None
    if pa.types.is_timestamp(arrow_type):
        return "timestamp", None
    return "str", None


def _read_table(name: str, files: list[Path], sample: int) -> Table:
    table = Table(name)
    metadata = [pq.ParquetFile(file).metadata for file in files]
    rows = sum(m.num_rows for m in metadata)
    table.rows = rows
    arrow_schema = pq.read_schema(files[0])
    head = _head(files, sample)
    for index, field in enumerate(arrow_schema):
        kind, scale = _kind(field.type)
        column = Column(name=field.name, kind=kind, source_type=str(field.type), scale=scale)
        nulls, low, high = _statistics(metadata, index, kind)
        values = head.column(field.name) if field.name in head.column_names else pa.array([])
        present = values.drop_null()
        profile = Profile(rows=rows, null_share=nulls / rows if rows else 0.0, low=low, high=high)
        distinct = pa.compute.count_distinct(present).as_py() if len(present) else 0
        profile.distinct, profile.sampled = distinct, len(values)
        column.nullable = nulls > 0
        if kind == "str" and len(present) and all(_UUID.match(v) for v in present.to_pylist()[:1000]):
            column.kind = "uuid"
        category = (
            0 < distinct <= MAX_CHOICES
            and len(present) >= MIN_ROWS_PER_CHOICE * distinct
            and column.kind in ("str", "int", "bool", "float")
            and not looks_personal(table, column)
        )
        if category:
            counts = pa.compute.value_counts(present).to_pylist()
            profile.frequencies = {
                e["values"]: e["counts"] / len(present) for e in sorted(counts, key=lambda e: str(e["values"]))
            }
        column.profile = profile
        # Only text can be taken for unique from a sample: distinct numbers or dates are often chance.
        column.unique = column.kind in ("str", "uuid") and distinct == len(present) == len(values) >= 100
        table.columns[column.name] = column
    return table


def _head(files: list[Path], sample: int) -> pa.Table:
    parts, taken = [], 0
    for file in files:
        for batch in pq.ParquetFile(file).iter_batches(batch_size=min(sample, 65_536)):
            parts.append(batch.slice(0, sample - taken))
            taken += min(len(batch), sample - taken)
            if taken >= sample:
                return pa.Table.from_batches(parts)
    return pa.Table.from_batches(parts) if parts else pa.table({})


def _statistics(metadata: list[Any], index: int, kind: str) -> tuple[int, Any, Any]:
    """Null count and min/max over every row group; min/max only for numbers and dates."""
    nulls, low, high = 0, None, None
    for meta in metadata:
        for group in range(meta.num_row_groups):
            stats = meta.row_group(group).column(index).statistics
            if stats is None:
                continue
            nulls += stats.null_count or 0
            if kind in ("int", "float", "date", "timestamp") and stats.has_min_max:
                low = stats.min if low is None else min(low, stats.min)
                high = stats.max if high is None else max(high, stats.max)
    return nulls, low, high


def _infer_keys(schema: Schema) -> None:
    """Primary keys by name and distinct values; foreign keys by a parent key's name and range."""
    keys: dict[str, tuple[Table, Column]] = {}
    for table in schema.tables.values():
        singular = table.name.lower().removesuffix("s")
        for candidate in ("id", f"{table.name.lower()}_id", f"{singular}_id"):
            column = next((c for c in table.columns.values() if c.name.lower() == candidate), None)
            profile = column.profile if column is not None else None
            all_distinct = profile is not None and profile.distinct == profile.sampled and profile.null_share == 0
            if column is not None and column.kind in ("int", "uuid", "str") and all_distinct:
                table.primary_key = [column.name]
                column.unique = False
                column.nullable = False
                if column.kind == "int" and column.profile and column.profile.low == 1:
                    column.profile.low = column.profile.high = None  # 1..N, as generate numbers keys
                keys.setdefault(column.name.lower(), (table, column))
                schema.notes.append(f"{table.name}.{column.name}: primary key (its name, distinct values)")
                break
    for table in schema.tables.values():
        for column in table.columns.values():
            if table.primary_key == [column.name]:
                continue
            parent = keys.get(column.name.lower())
            if parent is None or parent[1].kind != column.kind:
                continue
            parent_table, parent_column = parent
            profile = column.profile
            measured = column.kind == "int" and profile is not None and profile.low is not None
            if measured and parent_table.rows and (profile.low < 1 or profile.high > parent_table.rows):
                continue  # not within the parent's 1..N keys
            table.foreign_keys.append(
                ForeignKey(
                    [column.name],
                    parent_table.name,
                    [parent_column.name],
                    null_share=profile.null_share if profile else None,
                )
            )
            column.unique = False
            if profile is not None:
                profile.frequencies = None
            schema.notes.append(f"{table.name}.{column.name}: refers to {parent_table.name} (the key's name and range)")
