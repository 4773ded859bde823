"""Distinct key counts and key sets for the uniqueness and foreign-key checks, held as Arrow arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

COMPACT_ROWS = 1 << 20  # key rows buffered before they are folded into distinct counts


class DistinctCounter:
    """How often each distinct key (one or more columns) occurs; held as an Arrow table.

    Key rows are buffered, then folded into (key..., n) by ``group_by``. A fold
    waits until the buffer is as large as the folded table (and at least
    COMPACT_ROWS), so folding costs O(rows) overall and memory stays bounded by
    the number of distinct keys plus one buffer, never by rows.
    """

    def __init__(self, width: int) -> None:
        self.keys = [f"k{i}" for i in range(width)]
        self.folded: pa.Table | None = None
        self.pending: list[pa.Table] = []
        self.pending_rows = 0

    def add(self, arrays: Sequence[pa.Array]) -> None:
        rows = len(arrays[0])
        if not rows:
            return
        ones = pa.array(np.ones(rows, dtype=np.int64))
        self.pending.append(pa.table({**dict(zip(self.keys, arrays)), "n": ones}))
        self.pending_rows += rows
        if self.pending_rows >= max(COMPACT_ROWS, self.folded.num_rows if self.folded is not None else 0):
            self._fold()

    def _fold(self) -> None:
        pieces = ([self.folded] if self.folded is not None else []) + self.pending
        # single-threaded grouping keeps first-seen order, so examples are the same every run
        merged = pa.concat_tables(pieces).group_by(self.keys, use_threads=False).aggregate([("n", "sum")])
        self.folded = merged.select([*self.keys, "n_sum"]).rename_columns([*self.keys, "n"])
        self.pending, self.pending_rows = [], 0

    def result(self) -> pa.Table:
        if self.pending:
            self._fold()
        if self.folded is None:
            return pa.table({**{k: pa.array([], pa.null()) for k in self.keys}, "n": pa.array([], pa.int64())})
        return self.folded


class KeySet:
    """The distinct non-null values of one column (a parent key set for FK checks), folded like counts."""

    def __init__(self) -> None:
        self.folded: pa.Array | None = None
        self.pending: list[pa.Array] = []
        self.pending_rows = 0

    def add(self, values: pa.Array) -> None:
        values = values.drop_null()
        if not len(values):
            return
        self.pending.append(values)
        self.pending_rows += len(values)
        if self.pending_rows >= max(COMPACT_ROWS, len(self.folded) if self.folded is not None else 0):
            self._fold()

    def _fold(self) -> None:
        pieces = ([self.folded] if self.folded is not None else []) + self.pending
        self.folded = pc.unique(pa.chunked_array(pieces).combine_chunks())
        self.pending, self.pending_rows = [], 0

    def values(self) -> pa.Array:
        if self.pending:
            self._fold()
        return self.folded if self.folded is not None else pa.array([], pa.null())
