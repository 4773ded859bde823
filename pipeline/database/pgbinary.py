"""Arrow record batches in PostgreSQL's binary COPY format, built column-wise.

Why binary: PostgreSQL parses text (CSV) input field by field, and for dates, timestamps and
floats that parsing is most of a COPY's server time; binary fields are copied as they are.
Why column-wise: each column becomes one Arrow binary array of ``int32 length + payload`` per
row (numpy for the fixed-width types, Arrow's string kernels for text), and Arrow joins the
columns row by row in C++ (``binary_join_element_wise``), so no Python code runs per row.

Payloads, as PostgreSQL's ``*send`` functions write them (big-endian): int8 and float8 in 8
bytes, bool in 1, date as int32 days and timestamp as int64 microseconds since 2000-01-01,
time as int64 microseconds since midnight, text as its UTF-8 bytes. A null is length -1.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["HEADER", "TRAILER", "encode_batch"]

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 - 1970-01-01
_PG_EPOCH_MICROS = _PG_EPOCH_DAYS * 86_400 * 1_000_000


def _fixed(values: np.ndarray, valid: np.ndarray | None, dtype: str) -> pa.Array:
    """One ``length + payload`` field per row for fixed-width ``values`` (``dtype``: big-endian numpy type)."""
    count = len(values)
    width = np.dtype(dtype).itemsize
    rows = np.empty((count, 4 + width), dtype=np.uint8)
    rows[:, :4] = np.frombuffer(np.array([width], dtype=">i4").tobytes(), dtype=np.uint8)
    rows[:, 4:] = values.astype(dtype).view(np.uint8).reshape(count, width)
    if valid is None or valid.all():
        offsets = np.arange(0, (count + 1) * (4 + width), 4 + width, dtype=np.int32)
        return pa.Array.from_buffers(pa.binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(rows)])
    rows[~valid, :4] = 0xFF  # length -1: null, no payload
    keep = np.ones(rows.shape, dtype=bool)
    keep[~valid, 4:] = False
    offsets = np.zeros(count + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1, dtype=np.int32), out=offsets[1:])
    return pa.Array.from_buffers(pa.binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(rows[keep])])


def _valid(column: pa.Array) -> np.ndarray | None:
    if column.null_count == 0:
        return None
    return np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _numbers(column: pa.Array, numpy_type: str) -> np.ndarray:
    return column.fill_null(0).to_numpy(zero_copy_only=False).astype(numpy_type, copy=False)


def _field(column: pa.Array) -> pa.Array:
    kind = column.type
    valid = _valid(column)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind):
        data = column.cast(pa.binary()) if not pa.types.is_binary(kind) else column
        lengths = pc.binary_length(data).fill_null(-1).to_numpy(zero_copy_only=False)
        prefix = pa.Array.from_buffers(
            pa.binary(4), len(data), [None, pa.py_buffer(lengths.astype(">i4").tobytes())]
        ).cast(pa.binary())
        return pc.binary_join_element_wise(prefix, data.fill_null(b""), b"")
    if pa.types.is_boolean(kind):
        return _fixed(_numbers(column.cast(pa.uint8()), "u1"), valid, "u1")
    if pa.types.is_integer(kind):
        return _fixed(_numbers(column.cast(pa.int64()), "i8"), valid, ">i8")
    if pa.types.is_floating(kind):
        return _fixed(_numbers(column.cast(pa.float64()), "f8"), valid, ">f8")
    if pa.types.is_date32(kind):
        return _fixed(_numbers(column.cast(pa.int32()), "i4") - _PG_EPOCH_DAYS, valid, ">i4")
    if pa.types.is_time64(kind) and kind.unit == "us":
        return _fixed(_numbers(column.cast(pa.int64()), "i8"), valid, ">i8")
    if pa.types.is_timestamp(kind) and kind.unit == "us" and kind.tz is None:
        return _fixed(_numbers(column.cast(pa.int64()), "i8") - _PG_EPOCH_MICROS, valid, ">i8")
    raise TypeError(f"no binary COPY encoding for Arrow type {kind}")


def encode_batch(batch: pa.RecordBatch) -> pa.Buffer:
    """The rows of ``batch`` as binary COPY tuples (without the file header and trailer)."""
    count = batch.num_rows
    field_count = np.full(count, batch.num_columns, dtype=">i2").view(np.uint8)
    offsets = np.arange(0, (count + 1) * 2, 2, dtype=np.int32)
    counts = pa.Array.from_buffers(pa.binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(field_count)])
    rows = pc.binary_join_element_wise(counts, *(_field(column) for column in batch.columns), b"")
    row_offsets = rows.buffers()[1]
    end = int(np.frombuffer(row_offsets, dtype=np.int32, count=count + 1, offset=rows.offset * 4)[-1])
    start = int(np.frombuffer(row_offsets, dtype=np.int32, count=1, offset=rows.offset * 4)[0])
    return rows.buffers()[2][start:end]
