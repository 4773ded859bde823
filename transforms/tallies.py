"""Per-table tallies of what the writers and the chunks produced, combined as they arrive.

Finalizing a table needs its row count (to refuse a run that wrote a chunk
twice), its writers' temporary files (to rename them) and, for the report,
timings, events and peak memory. Reading one record per chunk as a list side
input made that grow with the rows (3.9 MB of chunk records at 10^9 rows, and
up to 7 MB of writer records, all held by one worker; issue 15). Here each
table's records are folded by a ``CombineFn`` (partially on the workers that
made them, then merged), so finalize reads one small tally per table. Only the
writers' temporary paths remain a list: they are what is renamed, one per file
(at most ``--num-shards`` of them, or one per bundle when the runner decides).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import apache_beam as beam

__all__ = ["CombineShards", "CombineStats", "TableShards", "TableStats", "tally_shards", "tally_stats"]


@dataclass(frozen=True)
class TableShards:
    """A table's closed writers: rows, chunks, when they ran, and the files to rename."""

    table: str
    rows: int = 0
    chunks: int = 0
    started: float = float("inf")
    finished: float = 0.0
    write_seconds: float = 0.0
    temp_paths: tuple[str, ...] = ()

    def merge(self, other: TableShards) -> TableShards:
        return replace(
            self,
            rows=self.rows + other.rows,
            chunks=self.chunks + other.chunks,
            started=min(self.started, other.started),
            finished=max(self.finished, other.finished),
            write_seconds=self.write_seconds + other.write_seconds,
            temp_paths=self.temp_paths + other.temp_paths,
        )


@dataclass(frozen=True)
class TableStats:
    """A table's generated chunks: how many, their events, when, how long, and the workers' peak memory."""

    table: str
    chunks: int = 0
    events: dict[str, int] = field(default_factory=dict)
    started: float = float("inf")
    finished: float = 0.0
    seconds: float = 0.0
    peak_worker_rss: int = 0
    workers: frozenset[str] = frozenset()  # processes that generated chunks (at most the worker count)

    def merge(self, other: TableStats) -> TableStats:
        events = dict(self.events)
        for event, count in other.events.items():
            events[event] = events.get(event, 0) + count
        return replace(
            self,
            chunks=self.chunks + other.chunks,
            events=events,
            started=min(self.started, other.started),
            finished=max(self.finished, other.finished),
            seconds=self.seconds + other.seconds,
            peak_worker_rss=max(self.peak_worker_rss, other.peak_worker_rss),
            workers=self.workers | other.workers,
        )


def _shard_tally(written) -> TableShards:
    """One ``ShardWritten`` as a tally."""
    return TableShards(
        written.table,
        written.rows,
        written.chunks,
        written.started,
        written.finished,
        written.write_seconds,
        (written.temp_path,),
    )


def _stats_tally(stats) -> TableStats:
    """One ``ChunkStats`` as a tally."""
    return TableStats(
        stats.table,
        1,
        dict(stats.events),
        stats.started,
        stats.started + stats.seconds,
        stats.seconds,
        stats.worker_rss,
        frozenset([stats.worker]) if stats.worker else frozenset(),
    )


def _fold(tallies: Iterable, empty):
    total = empty
    for tally in tallies:
        if tally is not None:
            total = tally if total is None else total.merge(tally)
    return total


def tally_shards(table: str, shards: Iterable) -> TableShards:
    """``ShardWritten`` records of ``table`` folded into one tally (what the combine computes)."""
    return _fold((_shard_tally(s) for s in shards), None) or TableShards(table)


def tally_stats(table: str, stats: Iterable) -> TableStats:
    """``ChunkStats`` records of ``table`` folded into one tally (what the combine computes)."""
    return _fold((_stats_tally(s) for s in stats), None) or TableStats(table)


class _Combine(beam.CombineFn):
    """Folds records into the tally of their table; ``None`` until the first record."""

    def __init__(self, to_tally) -> None:
        super().__init__()
        self.to_tally = to_tally

    def create_accumulator(self):
        return None

    def add_input(self, accumulator, element):
        tally = self.to_tally(element)
        return tally if accumulator is None else accumulator.merge(tally)

    def merge_accumulators(self, accumulators):
        return _fold(accumulators, None)

    def extract_output(self, accumulator):
        return accumulator


class CombineShards(_Combine):
    """``ShardWritten`` -> its table's :class:`TableShards` (with ``CombinePerKey`` on the table)."""

    def __init__(self) -> None:
        super().__init__(_shard_tally)


class CombineStats(_Combine):
    """``ChunkStats`` -> its table's :class:`TableStats` (with ``CombinePerKey`` on the table)."""

    def __init__(self) -> None:
        super().__init__(_stats_tally)
