"""Splitting a table's rows ``[0, rows)`` into chunks: the unit of work and of memory.

A :class:`Chunk` names a row range of one table. Values are pure functions of
the row index, so a chunk can be generated on any worker, in any order, and
retried freely. The chunk size bounds memory: one chunk is one Arrow record
batch in flight per worker. It is ``performance.batch_size`` (default
50,000 rows), lowered so that, when ``performance.max_memory_mb`` is set, a
batch (times :data:`WORKING_SET_FACTOR` for the engine's intermediate arrays
and the encoder's buffers) fits that budget shared by the workers. The bytes
per row come from a sample batch of the real table.

With a fixed number of shards, chunk ``i`` belongs to shard ``i % num_shards``
and chunks are made small enough that every shard gets at least one.

A pipeline holds a table's chunks as a :class:`TableChunks` (the rule, a few
integers), never as a list, so its job graph does not grow with the rows.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from synthbeam.rules.core.model import Plan
from synthbeam.rules.engine.batch import generate_batch

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "MIN_CHUNK_ROWS",
    "ChainedChunks",
    "Chunk",
    "ChunkSizing",
    "TableChunks",
    "bytes_per_row",
    "chunk_rows",
    "plan_chunks",
    "reiterable",
    "table_chunks",
]

DEFAULT_BATCH_SIZE = 50_000
MIN_CHUNK_ROWS = 1_000
# Below this a chunk's fixed costs dominate; rows wider than MIN_CHUNK_BYTES / MIN_CHUNK_ROWS
# (4 KB) may go below MIN_CHUNK_ROWS, so max_memory_mb holds for wide rows too.
MIN_CHUNK_BYTES = 4 * 2**20
SAMPLE_ROWS = 1_024
# A batch's generation peaks at a few times its final size (per-column draws,
# string building, casts) and the encoder holds about one more copy.
WORKING_SET_FACTOR = 4


@dataclass(frozen=True)
class Chunk:
    """Rows ``[start, stop)`` of ``table``; ``shard`` is -1 when the runner picks the files."""

    table: str
    chunk_id: int
    start: int
    stop: int
    shard: int = -1

    @property
    def rows(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class ChunkSizing:
    """What decided a table's chunk size (shown by ``synthbeam plan``)."""

    rows_per_chunk: int
    bytes_per_row: float
    limited_by: str  # "batch_size" | "max_memory_mb" | "num_shards" | "workers" | "table"


def bytes_per_row(plan: Plan, table: str, sample_rows: int = SAMPLE_ROWS) -> float:
    """In-memory Arrow bytes per row, measured on the table's first rows."""
    rows = min(plan.table(table).rows, sample_rows)
    if rows == 0:
        return 0.0
    batch = generate_batch(plan, table, 0, rows)
    return batch.nbytes / rows


def chunk_rows(plan: Plan, table: str, workers: int = 1, num_shards: int = 0) -> ChunkSizing:
    """Rows per chunk for ``table`` under the plan's performance settings."""
    performance = plan.performance or {}
    total = plan.table(table).rows
    per_row = bytes_per_row(plan, table)
    size = int(performance.get("batch_size") or DEFAULT_BATCH_SIZE)
    limited_by = "batch_size"
    memory_mb = performance.get("max_memory_mb")
    if memory_mb and per_row > 0:
        budget = float(memory_mb) * 2**20 / max(1, workers)
        by_memory = int(budget / (per_row * WORKING_SET_FACTOR))
        if by_memory < size:
            floor = max(1, min(MIN_CHUNK_ROWS, int(MIN_CHUNK_BYTES / per_row)))
            size, limited_by = max(floor, by_memory), "max_memory_mb"
    if workers > 1 and total > 0:
        # Enough chunks to keep every worker busy, but not so small that overhead dominates.
        by_workers = max(MIN_CHUNK_ROWS, math.ceil(total / (workers * 4)))
        if by_workers < size:
            size, limited_by = by_workers, "workers"
    if num_shards > 0 and total > 0:
        by_shards = math.ceil(total / num_shards)
        if by_shards < size:
            size, limited_by = by_shards, "num_shards"
    if total and total <= size:
        size, limited_by = total, "table"
    return ChunkSizing(max(1, size), per_row, limited_by)


def table_chunks(table: str, rows: int, rows_per_chunk: int, num_shards: int = 0) -> Iterator[Chunk]:
    """The chunks covering ``[0, rows)``, in order."""
    for chunk_id, start in enumerate(range(0, rows, rows_per_chunk)):
        shard = chunk_id % num_shards if num_shards > 0 else -1
        yield Chunk(table, chunk_id, start, min(rows, start + rows_per_chunk), shard)


@dataclass(frozen=True)
class TableChunks:
    """A table's chunks as the rule that makes them: iterate it for the ``Chunk`` objects.

    The pipeline carries this (four fields, whatever the row count) and the
    worker that emits the chunk descriptors expands it. A materialized list grows
    with the rows: 5 billion rows are 100,000 chunks, which pickled to 0.9 MB of
    the job graph in 1.1 s of the launcher's time, and each dedup column carried
    another copy (Dataflow refuses job graphs over 10 MB).
    """

    table: str
    rows: int
    rows_per_chunk: int
    num_shards: int = 0

    def __iter__(self) -> Iterator[Chunk]:
        return table_chunks(self.table, self.rows, self.rows_per_chunk, self.num_shards)

    def __len__(self) -> int:
        return (self.rows + self.rows_per_chunk - 1) // self.rows_per_chunk if self.rows > 0 else 0


@dataclass(frozen=True)
class ChainedChunks:
    """Several tables' chunks as one re-iterable source, group by group, without listing them."""

    groups: tuple[Iterable[Chunk], ...]

    def __iter__(self) -> Iterator[Chunk]:
        return itertools.chain.from_iterable(self.groups)


def reiterable(chunks: Iterable[Chunk]) -> Iterable[Chunk]:
    """``chunks`` as something a pipeline can hold and iterate again: a one-shot iterator is listed.

    Lists and :class:`TableChunks` are kept as they are, so a transform never
    lists a table's chunks that it was given as a rule.
    """
    return list(chunks) if isinstance(chunks, Iterator) else chunks


def plan_chunks(plan: Plan, workers: int = 1, num_shards: int = 0) -> dict[str, TableChunks]:
    """Every table's chunks (tables in generation order)."""
    return {
        name: TableChunks(name, table.rows, chunk_rows(plan, name, workers, num_shards).rows_per_chunk, num_shards)
        for name, table in plan.tables.items()
    }
