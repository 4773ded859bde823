"""The run's staged Parquet output, as the loaders read it: one folder per table, shard files inside."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["batches", "files", "sqlite_values"]


def files(staged: Path, table: str) -> list[str]:
    """The table's shard files, in shard order."""
    return sorted(str(path) for path in (staged / table).glob("*.parquet"))


def batches(staged: Path, table: str, batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
    for path in files(staged, table):
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows)


def sqlite_values(batch: pa.RecordBatch) -> Iterator[tuple]:
    """Rows of ``batch`` as SQLite stores SQLAlchemy's types: ISO text for dates and times, 0/1 for booleans."""
    columns = []
    for column in batch.columns:
        kind = column.type
        if pa.types.is_boolean(kind):
            column = pc.cast(column, pa.int8())
        elif pa.types.is_date(kind) or pa.types.is_time(kind) or pa.types.is_timestamp(kind):
            column = pc.cast(column, pa.string())
        columns.append(column.to_pylist())
    return zip(*columns)
