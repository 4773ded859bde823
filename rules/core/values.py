"""Casting a rule's output to its column's type, and length limits.

Rules produce values in their natural type (a range gives ints, a Faker date
gives dates); the column's declared type decides what is stored. Casts that
can lose meaning (text to number) are checked at validation by sampling, so a
failure here names the column.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.errors import GenerationError
from synthbeam.rules.core.model import ColumnPlan
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.core.types import arrow_type


def coerce(values: pa.Array, column_type: str, place: str = "") -> pa.Array:
    """``values`` as the Arrow type of ``column_type``."""
    target = arrow_type(column_type)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type == target:
        return values
    try:
        if pa.types.is_string(target) or pa.types.is_large_string(target):
            return _to_text(values)
        if pa.types.is_null(values.type):
            return pa.nulls(len(values), target)
        if pa.types.is_large_string(values.type):
            values = values.cast(pa.string())
        return values.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise GenerationError(f"{place}: cannot store {values.type} values as {column_type}: {exc}") from exc


def _to_text(values: pa.Array) -> pa.Array:
    """Text as Python's ``str`` writes it: ``1984-08-10``, ``1984-08-10 02:40:02``, ``02:40:02``.

    A fraction of a second is written (``.ffffff``) only for the values that have one.
    """
    kind = values.type
    if pa.types.is_date(kind):
        return pc.strftime(values, format="%Y-%m-%d").cast(pa.string())
    if not (pa.types.is_timestamp(kind) or pa.types.is_time(kind)):
        return values.cast(pa.string())
    if kind.unit == "s":
        return _clock_text(values)
    seconds = pa.timestamp("s", kind.tz) if pa.types.is_timestamp(kind) else pa.time32("s")
    whole = values.cast(seconds, safe=False)
    fractional = pc.not_equal(whole.cast(kind), values)
    if not pc.any(fractional).as_py():
        return _clock_text(whole)
    return pc.if_else(fractional, _clock_text(values), _clock_text(whole))


def _clock_text(values: pa.Array) -> pa.Array:
    if pa.types.is_timestamp(values.type):
        return pc.strftime(values, format="%Y-%m-%d %H:%M:%S").cast(pa.string())
    return values.cast(pa.string())


_POOL_THRESHOLD = 128 << 10  # below glibc's mmap threshold numpy's own allocations are cheap


def pool_empty(shape: int | tuple[int, ...], dtype: np.dtype | type = np.uint8) -> np.ndarray:
    """An uninitialised numpy array whose memory comes from Arrow's memory pool.

    Arrow's allocator (mimalloc/jemalloc) keeps freed pages mapped, while a fresh
    numpy array of a chunk's size is a fresh mmap that page-faults on first touch:
    on these machines that costs more than the arithmetic on it. Use for large
    scratch arrays and for buffers that end up inside Arrow arrays.
    """
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    count = int(np.prod(shape, dtype=np.int64))
    if count * dtype.itemsize < _POOL_THRESHOLD:
        return np.empty(shape, dtype=dtype)
    buffer = pa.allocate_buffer(count * dtype.itemsize)
    return np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape)


def fixed_width_strings(codes: np.ndarray) -> pa.Array:
    """An Arrow string array from an (n, width) uint8 matrix of UTF-8 bytes, without Python strings."""
    rows, width = codes.shape
    data = np.ascontiguousarray(codes, dtype=np.uint8)
    return pa.StringArray.from_buffers(rows, _even_offsets(rows, width), pa.py_buffer(data))


@functools.lru_cache(maxsize=16)
def _even_offsets(rows: int, width: int) -> pa.Buffer:
    """Offsets 0, width, 2 * width ...: Arrow buffers are immutable, so arrays of one shape share them."""
    if width == 0:
        return pa.py_buffer(np.zeros(rows + 1, dtype=np.int32))
    return pa.py_buffer(np.arange(0, (rows + 1) * width, width, dtype=np.int32))


def random_letters(stream: Stream, index: np.ndarray, width: int) -> np.ndarray:
    """``width`` lowercase letters per row, as a numpy unicode array."""
    if width <= 0 or len(index) == 0:
        return np.full(len(index), "", dtype="<U1")
    codes = np.empty((len(index), width), dtype=np.uint8)
    for position in range(width):
        codes[:, position] = stream.child(position).below(index, 26) + ord("a")
    return codes.view(f"S{width}").ravel().astype(f"<U{width}")


def apply_lengths(values: pa.Array, column: ColumnPlan, stream: Stream, index: np.ndarray) -> pa.Array:
    """Truncate strings to ``max_length``; pad ones below ``min_length`` with random letters."""
    if not pa.types.is_string(values.type):
        return values
    if column.max_length is not None:
        values = pc.utf8_slice_codeunits(values, 0, column.max_length)
    if column.min_length:
        lengths = pc.fill_null(pc.utf8_length(values), column.min_length).to_numpy(zero_copy_only=False)
        short = np.flatnonzero(lengths < column.min_length)
        if len(short):
            padding = random_letters(stream, index[short], column.min_length)
            texts = values.to_pylist()
            for slot, position in enumerate(short):
                texts[position] += padding[slot][: column.min_length - lengths[position]]
            values = pa.array(texts, pa.string())
    return values
