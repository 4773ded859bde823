"""Avro object container files, encoded a whole record batch at a time.

Encoding rows one by one through fastavro costs ~15 µs per row (building a
dict per row, dispatching per field, converting logical types), which made
Avro ten times slower than Parquet. The Avro binary encoding is simple enough
to produce column-wise with numpy and Arrow compute instead:

* ``long``/``int`` (and the logical types ``date``, ``time-micros``,
  ``timestamp-micros``, which are encoded as their integer): zig-zag varints;
* ``double``: 8 bytes little-endian; ``boolean``: one byte;
* ``string``: a varint length followed by the UTF-8 bytes;
* a nullable field ``["null", T]``: the branch index as a varint (``0`` for
  null, ``1`` then the value otherwise).

Each column becomes an Arrow binary array of per-row encodings; joining the
columns element-wise gives each row's record bytes, and rows are grouped into
blocks (``deflate``-compressed). The file layout follows the Avro 1.11
specification: magic, metadata map (``avro.schema``, ``avro.codec``), a 16-byte
sync marker, then ``count, size, data, sync`` per block. The sync marker is
derived from the schema, so equal input gives byte-identical files.
Files are checked by reading them back with fastavro in the tests.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["AvroContainerWriter", "encode_rows"]

MAGIC = b"Obj\x01"
ROWS_PER_BLOCK = 8_192
_EMPTY = pa.scalar(b"", pa.large_binary())
_NULL_BRANCH = pa.scalar(b"\x00", pa.large_binary())
_VALUE_BRANCH = pa.scalar(b"\x02", pa.large_binary())  # zig-zag varint of branch index 1


def _binary_from(data: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """A binary array whose i-th value is the next ``lengths[i]`` bytes of ``data``."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data))]
    return pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(lengths), buffers)


def _varints(unsigned: np.ndarray) -> pa.Array:
    """Base-128 varints (least significant group first) of uint64 values."""
    remaining = unsigned.astype(np.uint64, copy=True)
    groups = np.zeros((len(remaining), 10), dtype=np.uint8)
    lengths = np.ones(len(remaining), dtype=np.int64)
    for position in range(10):
        low = (remaining & np.uint64(0x7F)).astype(np.uint8)
        remaining >>= np.uint64(7)
        more = remaining != 0
        groups[:, position] = low | (more.astype(np.uint8) << 7)
        lengths += more
        if not more.any():
            break
    used = np.arange(10) < lengths[:, None]
    return _binary_from(groups[used], lengths)


def _zigzag(values: np.ndarray) -> np.ndarray:
    signed = values.astype(np.int64)
    return ((signed << 1) ^ (signed >> 63)).view(np.uint64)


def _encode_column(column: pa.Array) -> pa.Array:
    """Per-row Avro encodings of one column's values (nulls give placeholder bytes)."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = column.cast(pa.large_binary())
        lengths = pc.fill_null(pc.binary_length(text), 0).to_numpy(zero_copy_only=False)
        prefix = _varints(_zigzag(lengths))
        return pc.binary_join_element_wise(prefix, pc.fill_null(text, _EMPTY), _EMPTY)
    if pa.types.is_boolean(kind):
        flags = pc.fill_null(column, False).to_numpy(zero_copy_only=False).astype(np.uint8)
        return _binary_from(flags, np.ones(len(flags), dtype=np.int64))
    if pa.types.is_float64(kind):
        numbers = pc.fill_null(column, 0.0).to_numpy(zero_copy_only=False).astype("<f8")
        return _binary_from(numbers.view(np.uint8), np.full(len(numbers), 8, dtype=np.int64))
    if pa.types.is_integer(kind):
        integers = pc.fill_null(column, 0).to_numpy(zero_copy_only=False)
        return _varints(_zigzag(integers))
    if pa.types.is_date32(kind):
        return _encode_column(column.cast(pa.int32()))
    if pa.types.is_time64(kind) or pa.types.is_timestamp(kind):
        return _encode_column(column.cast(pa.int64()))
    raise TypeError(f"no Avro encoding for Arrow type {kind}")


def encode_rows(batch: pa.RecordBatch, nullable: list[bool]) -> pa.Array:
    """Each row's Avro record encoding, as a large binary array."""
    if batch.num_columns == 0:
        return pa.array([b""] * batch.num_rows, pa.large_binary())
    fields = []
    for column, maybe_null in zip(batch.columns, nullable):
        encoded = _encode_column(column)
        if maybe_null:
            with_branch = pc.binary_join_element_wise(_VALUE_BRANCH, encoded, _EMPTY)
            encoded = pc.if_else(pc.is_valid(column), with_branch, _NULL_BRANCH)
        fields.append(encoded)
    if len(fields) == 1:
        return fields[0]
    return pc.binary_join_element_wise(*fields, _EMPTY)


def _long(value: int) -> bytes:
    return _varints(_zigzag(np.array([value]))).to_pylist()[0]


def _bytes(value: bytes) -> bytes:
    return _long(len(value)) + value


class AvroContainerWriter:
    """Writes one Avro object container file (deflate codec) from record batches."""

    def __init__(self, file_obj: BinaryIO, schema: Mapping[str, Any], nullable: list[bool]) -> None:
        self.file = file_obj
        self.nullable = nullable
        schema_json = json.dumps(schema, separators=(",", ":")).encode("utf-8")
        self.sync = hashlib.blake2b(schema_json, digest_size=16, person=b"synthbeam-avro").digest()
        metadata = {"avro.schema": schema_json, "avro.codec": b"deflate"}
        header = [MAGIC, _long(len(metadata))]
        for key, value in metadata.items():
            header += [_bytes(key.encode("utf-8")), _bytes(value)]
        header += [_long(0), self.sync]
        self.file.write(b"".join(header))

    def write(self, batch: pa.RecordBatch) -> None:
        for start in range(0, batch.num_rows, ROWS_PER_BLOCK):
            rows = encode_rows(batch.slice(start, ROWS_PER_BLOCK), self.nullable)
            self._block(len(rows), rows)

    def _block(self, count: int, rows: pa.Array) -> None:
        offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset : rows.offset + count + 1]
        data = rows.buffers()[2].to_pybytes()[int(offsets[0]) : int(offsets[-1])]
        # Raw deflate (no zlib header), as the Avro spec requires; level 1: most of the size win for a
        # fraction of the time (level 6 made compression 70% of the cost of writing Avro).
        packer = zlib.compressobj(1, zlib.DEFLATED, -15)
        packed = packer.compress(data) + packer.flush()
        self.file.write(_long(count) + _long(len(packed)) + packed + self.sync)
