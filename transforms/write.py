"""``WriteTable``: generate one table's chunks into shard files through a ``BatchSink``.

The transform drives the sink the way Beam's ``iobase.WriteImpl`` does
(``initialize_write`` once, a writer per bundle or shard into the sink's
temporary directory, ``finalize_write`` once over the committed writers'
results), with two differences that matter here:

* With a fixed shard count, Beam's ``WriteImpl`` groups the *records* by a
  random shard key, which on a local runner holds the whole table in memory.
  We group the tiny chunk descriptors instead (chunk ``i`` -> shard
  ``i % num_shards``) and generate inside the shard's writer, so memory stays
  at one batch per worker and every shard file has the same content on every
  runner.
* Every writer reports rows and timings, and finalization checks that the
  files hold exactly the table's row count before they are renamed into
  place, so a runner that committed a chunk twice fails loudly instead of
  writing duplicates.

Without a shard count the runner decides: one file per bundle of generated
batches (``Reshuffle`` spreads the chunks, then ``WriteBundles``).

The output is one :class:`TableWritten` element per table.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.transforms import window

from synthbeam.rules.model import Plan, Replacements

from .chunks import Chunk
from .generate import STATS, ChunkGenerator, ChunkStats, GenerateTable, dedup_side_input
from .sinks import BatchSink

__all__ = ["ShardWritten", "TableWritten", "WriteBundles", "WriteShards", "WriteTable", "finalize_table"]


@dataclass(frozen=True)
class ShardWritten:
    """One closed writer: its temporary file and what went into it."""

    temp_path: str
    rows: int
    chunks: int
    started: float
    finished: float
    write_seconds: float


@dataclass(frozen=True)
class TableWritten:
    """A table's finalized files (staged paths) and statistics, for the commit and the report."""

    table: str
    rows: int
    chunks: int
    files: list[str]
    events: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # first chunk started -> last shard closed
    busy_seconds: float = 0.0  # generation + writing, summed over workers
    peak_worker_rss: int = 0


def _initialize_write(_: None, sink: BatchSink) -> str:
    return sink.initialize_write()


class WriteBundles(beam.DoFn):
    """``(table, chunk_id, RecordBatch)`` -> one shard file per bundle (``ShardWritten``)."""

    def __init__(self, sink: BatchSink) -> None:
        super().__init__()
        self.sink = sink

    def start_bundle(self) -> None:
        self.writer = None
        self.rows = 0
        self.chunks = 0
        self.started = 0.0
        self.write_seconds = 0.0

    def process(self, element: tuple[str, int, Any], init_result: str) -> None:
        _, _, batch = element
        if self.writer is None:
            self.started = time.time()
            # A fresh name per attempt: a retried bundle never appends to a failed attempt's file.
            self.writer = self.sink.open_writer(init_result, uuid.uuid4().hex)
        clock = time.perf_counter()
        self.writer.write(batch)
        self.write_seconds += time.perf_counter() - clock
        self.rows += batch.num_rows
        self.chunks += 1

    def finish_bundle(self) -> Iterator[Any]:
        if self.writer is not None:
            clock = time.perf_counter()
            temp_path = self.writer.close()
            self.write_seconds += time.perf_counter() - clock
            written = ShardWritten(temp_path, self.rows, self.chunks, self.started, time.time(), self.write_seconds)
            yield window.GlobalWindows.windowed_value(written)
            self.writer = None


class WriteShards(beam.DoFn):
    """``(shard, [Chunk, ...])`` -> that shard's file, generating its chunks in order.

    Main output ``ShardWritten``; ``ChunkStats`` on the ``stats`` output.
    """

    def __init__(self, plan: Plan, sink: BatchSink, run_id: str = "") -> None:
        super().__init__()
        self.generator = ChunkGenerator(plan, run_id)
        self.sink = sink

    def process(
        self,
        element: tuple[int, Iterable[Chunk]],
        init_result: str,
        replacements: Mapping[str, Replacements] | None = None,
    ) -> Iterator[Any]:
        shard, chunks = element
        started = time.time()
        # The shard number leads the name: finalize_write sorts names, so shard n lands in file n.
        writer = self.sink.open_writer(init_result, f"shard-{shard:05d}-{uuid.uuid4().hex}")
        rows = count = 0
        write_seconds = 0.0
        for chunk in sorted(chunks, key=lambda c: c.chunk_id):
            batch, stats = self.generator(chunk, replacements)
            clock = time.perf_counter()
            writer.write(batch)
            write_seconds += time.perf_counter() - clock
            rows += batch.num_rows
            count += 1
            yield pvalue.TaggedOutput(STATS, stats)
        clock = time.perf_counter()
        temp_path = writer.close()
        write_seconds += time.perf_counter() - clock
        yield ShardWritten(temp_path, rows, count, started, time.time(), write_seconds)


def finalize_table(
    _: None,
    sink: BatchSink,
    table: str,
    expected_rows: int,
    num_shards: int,
    init_result: str,
    shards: list[ShardWritten],
    stats: list[ChunkStats],
) -> Iterator[TableWritten]:
    """Check the row count, add empty shards if needed, rename temporary files into place."""
    rows = sum(s.rows for s in shards)
    if rows != expected_rows:
        raise RuntimeError(f"{table}: writers hold {rows:,} rows, expected {expected_rows:,}; not committing")
    temp_paths = [s.temp_path for s in shards]
    if num_shards > 0:
        present = {_shard_number(path) for path in temp_paths}
        missing = [n for n in range(num_shards) if n not in present]
    else:
        missing = [0] if not temp_paths else []  # an empty table still gets one (header-only) file
    for number in missing:
        temp_paths.append(sink.open_writer(init_result, f"shard-{number:05d}-{uuid.uuid4().hex}").close())
    files = list(sink.finalize_write(init_result, temp_paths, None))
    events: dict[str, int] = {}
    for chunk in stats:
        for event, count in chunk.events.items():
            events[event] = events.get(event, 0) + count
    started = min([s.started for s in stats] + [s.started for s in shards], default=0.0)
    finished = max([s.finished for s in shards] + [s.started + s.seconds for s in stats], default=started)
    yield TableWritten(
        table=table,
        rows=rows,
        chunks=len(stats),
        files=sorted(files),
        events=dict(sorted(events.items())),
        seconds=round(max(0.0, finished - started), 3),
        busy_seconds=round(sum(s.seconds for s in stats) + sum(s.write_seconds for s in shards), 3),
        peak_worker_rss=max((s.worker_rss for s in stats), default=0),
    )


def _shard_number(temp_path: str) -> int:
    name = temp_path.replace("\\", "/").rsplit("/", 1)[-1]
    return int(name.split("-")[1]) if name.startswith("shard-") else -1


class WriteTable(beam.PTransform):
    """PBegin -> one ``TableWritten``: the table generated and written through ``sink``.

    ``num_shards`` > 0 fixes the file count (chunks must carry their shard);
    0 lets the runner decide (one file per bundle).
    """

    def __init__(
        self,
        plan: Plan,
        table: str,
        chunks: Iterable[Chunk],
        sink: BatchSink,
        num_shards: int = 0,
        run_id: str = "",
        replacements: pvalue.PCollection | None = None,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.table = table
        self.chunks = list(chunks)
        self.sink = sink
        self.num_shards = num_shards
        self.run_id = run_id
        self.replacements = replacements

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        pipeline = pbegin.pipeline if hasattr(pbegin, "pipeline") else pbegin
        once = pipeline | "Once" >> beam.Create([None])
        init = once | "InitializeWrite" >> beam.Map(_initialize_write, self.sink)
        if self.num_shards > 0:
            written = (
                pipeline
                | "Chunks" >> beam.Create([(chunk.shard, chunk) for chunk in self.chunks], reshuffle=False)
                | "GroupByShard" >> beam.GroupByKey()
                | "WriteShards"
                >> beam.ParDo(
                    WriteShards(self.plan, self.sink, self.run_id),
                    pvalue.AsSingleton(init),
                    *dedup_side_input(self.replacements),
                ).with_outputs(STATS, main="shards")
            )
            shards, stats = written.shards, written[STATS]
        else:
            generated = pipeline | "Generate" >> GenerateTable(self.plan, self.chunks, self.run_id, self.replacements)
            shards = generated.batches | "WriteBundles" >> beam.ParDo(WriteBundles(self.sink), pvalue.AsSingleton(init))
            stats = generated[STATS]
        return once | "Finalize" >> beam.FlatMap(
            finalize_table,
            self.sink,
            self.table,
            self.plan.table(self.table).rows,
            self.num_shards,
            pvalue.AsSingleton(init),
            pvalue.AsList(shards),
            pvalue.AsList(stats),
        )
