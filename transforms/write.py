"""``WriteTables``: generate every table's chunks into shard files through one ``BatchSink`` per table.

The transform drives the sinks the way Beam's ``iobase.WriteImpl`` does
(``initialize_write`` once, a writer per bundle or shard into the sink's
temporary directory, ``finalize_write`` once over the committed writers'
results), with three differences that matter here:

* With a fixed shard count, Beam's ``WriteImpl`` groups the *records* by a
  random shard key, which on a local runner holds the whole table in memory.
  Here chunk ``i`` belongs to shard ``i % num_shards``: any worker generates it
  into a part file, and one step per shard joins the shard's parts in chunk
  order (:mod:`.parts`), so the shard count bounds the files, not the
  parallelism, memory stays at one batch per worker, and every shard file has
  the same content on every runner.
* Every writer reports rows and timings, and finalization checks that the
  files hold exactly each table's row count before they are renamed into
  place, so a runner that committed a chunk twice fails loudly instead of
  writing duplicates.
* All tables share one generation step. A local runner runs its stages one
  after another, each split over its workers and each paying a start (shipping
  the step to every worker, the first chunk's warm-up) and a tail (waiting for
  the slowest worker); one step for every table pays them once, and gives the
  workers every table's chunks to balance. The chunk list goes in table by
  table, so each worker gets every other chunk of every table.

Without a shard count the runner decides: one file per bundle and table
(``Reshuffle`` spreads the chunks, then ``WriteBundles``).

The output is a single element: the list of every table's
:class:`TableWritten`, in table order. A consumer of the whole result (the
commit) then fuses into the finalizing step instead of reading it as a side
input in a stage of its own. ``WriteTable`` is the one-table form.

Every start-up step (initializing the writes, emitting the chunk descriptors)
hangs off one impulse, so a local runner runs them as one stage.
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

from synthbeam.rules.core.model import Plan, Replacements

from .chunks import ChainedChunks, Chunk, reiterable
from .generate import STATS, ChunkGenerator, ChunkStats, EmitChunks, GenerateTable, dedup_side_input
from .parts import JoinShard, WriteParts
from .profile import PROFILE, ProfileFn, ProfileSettings
from .sinks import BatchSink
from .tallies import CombineShards, CombineStats, TableShards, TableStats

__all__ = [
    "ShardWritten",
    "TableWritten",
    "WriteBundles",
    "WriteShards",
    "WriteTable",
    "WriteTables",
    "finalize_table",
    "finalize_tables",
]


@dataclass(frozen=True)
class ShardWritten:
    """One closed writer: its temporary file and what went into it."""

    temp_path: str
    rows: int
    chunks: int
    started: float
    finished: float
    write_seconds: float
    table: str = ""


@dataclass(frozen=True)
class TableWritten:
    """A table's finalized files (how many, their staged name pattern) and statistics, for commit and report.

    The files are named ``<table>-SSSSS-of-NNNNN.<ext>``, so a pattern and a count
    say which they are; listing them would grow the report with the rows.
    """

    table: str
    rows: int
    chunks: int
    file_count: int
    file_pattern: str  # base name, e.g. "orders-*-of-00004.parquet"
    events: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # first chunk started -> last shard closed
    busy_seconds: float = 0.0  # generation + writing, summed over workers
    peak_worker_rss: int = 0
    workers: int = 0  # processes that generated its chunks


def _initialize_writes(_: object, sinks: Mapping[str, BatchSink]) -> dict[str, str]:
    return {table: sink.initialize_write() for table, sink in sinks.items()}


@dataclass
class _OpenFile:
    """A writer of one bundle and table, with what went into it so far."""

    writer: Any
    started: float
    rows: int = 0
    chunks: int = 0
    write_seconds: float = 0.0


class WriteBundles(beam.DoFn):
    """``(table, chunk_id, RecordBatch)`` -> one shard file per bundle and table (``ShardWritten``)."""

    def __init__(self, sinks: Mapping[str, BatchSink]) -> None:
        super().__init__()
        self.sinks = dict(sinks)

    def start_bundle(self) -> None:
        self.files: dict[str, _OpenFile] = {}

    def process(self, element: tuple[str, int, Any], init_results: Mapping[str, str]) -> Iterable[ShardWritten]:
        # Emits nothing per element: each file's ShardWritten comes out of finish_bundle. The hint
        # says what this step outputs (Beam 2.78 reads ``-> None`` as "outputs None", not iterable).
        table, _, batch = element
        open_file = self.files.get(table)
        if open_file is None:
            # A fresh name per attempt: a retried bundle never appends to a failed attempt's file.
            writer = self.sinks[table].open_writer(init_results[table], uuid.uuid4().hex)
            open_file = self.files[table] = _OpenFile(writer, time.time())
        clock = time.perf_counter()
        open_file.writer.write(batch)
        open_file.write_seconds += time.perf_counter() - clock
        open_file.rows += batch.num_rows
        open_file.chunks += 1
        return ()

    def finish_bundle(self) -> Iterator[Any]:
        files, self.files = self.files, {}
        for table, open_file in files.items():
            clock = time.perf_counter()
            temp_path = open_file.writer.close()
            seconds = open_file.write_seconds + time.perf_counter() - clock
            written = ShardWritten(
                temp_path, open_file.rows, open_file.chunks, open_file.started, time.time(), seconds, table
            )
            yield window.GlobalWindows.windowed_value(written)


class WriteShards(beam.DoFn):
    """``((table, shard), [Chunk, ...])`` -> that shard's file, generating its chunks in order.

    Main output ``ShardWritten``; ``ChunkStats`` on the ``stats`` output.
    """

    def __init__(
        self, plan: Plan, sinks: Mapping[str, BatchSink], run_id: str = "", profile: ProfileSettings | None = None
    ) -> None:
        super().__init__()
        self.generator = ChunkGenerator(plan, run_id, profile)
        self.sinks = dict(sinks)

    def process(
        self,
        element: tuple[tuple[str, int], Iterable[Chunk]],
        init_results: Mapping[str, str],
        replacements: Mapping[str, Replacements] | None = None,
    ) -> Iterator[Any]:
        (table, shard), chunks = element
        started = time.time()
        # The shard number leads the name: finalize_write sorts names, so shard n lands in file n.
        writer = self.sinks[table].open_writer(init_results[table], f"shard-{shard:05d}-{uuid.uuid4().hex}")
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
            yield from self.generator.profiled(chunk, batch)
        clock = time.perf_counter()
        temp_path = writer.close()
        write_seconds += time.perf_counter() - clock
        yield ShardWritten(temp_path, rows, count, started, time.time(), write_seconds, table)


def finalize_table(
    _: None,
    sink: BatchSink,
    table: str,
    expected_rows: int,
    num_shards: int,
    init_result: str,
    shards: TableShards,
    stats: TableStats,
) -> Iterator[TableWritten]:
    """Check the row count, add empty shards if needed, rename temporary files into place."""
    if shards.rows != expected_rows:
        raise RuntimeError(f"{table}: writers hold {shards.rows:,} rows, expected {expected_rows:,}; not committing")
    temp_paths = list(shards.temp_paths)
    if num_shards > 0:
        present = {_shard_number(path) for path in temp_paths}
        missing = [n for n in range(num_shards) if n not in present]
    else:
        missing = [0] if not temp_paths else []  # an empty table still gets one (header-only) file
    for number in missing:
        temp_paths.append(sink.open_writer(init_result, f"shard-{number:05d}-{uuid.uuid4().hex}").close())
    files = sorted(sink.finalize_write(init_result, temp_paths, None))
    started = min(stats.started, shards.started)
    finished = max(shards.finished, stats.finished)
    if started == float("inf"):  # no chunk and no writer: an empty table
        started = finished
    yield TableWritten(
        table=table,
        rows=shards.rows,
        chunks=stats.chunks,
        file_count=len(files),
        file_pattern=_file_pattern(files),
        events=dict(sorted(stats.events.items())),
        seconds=round(max(0.0, finished - started), 3),
        busy_seconds=round(stats.seconds + shards.write_seconds, 3),
        peak_worker_rss=stats.peak_worker_rss,
        workers=len(stats.workers),
    )


def _file_pattern(files: list[str]) -> str:
    """``orders-*-of-00004.parquet`` for ``orders-00000-of-00004.parquet`` ...: the names the sink gave."""
    name = files[0].replace("\\", "/").rsplit("/", 1)[-1]
    head, number, tail = name.rpartition(f"-{0:05d}-of-")
    return f"{head}-*-of-{tail}" if number else name


def finalize_tables(
    _: object,  # the impulse element
    sinks: Mapping[str, BatchSink],
    expected_rows: Mapping[str, int],
    num_shards: int,
    init_results: Mapping[str, str],
    shards: Mapping[str, TableShards],
    stats: Mapping[str, TableStats],
) -> list[TableWritten]:
    """:func:`finalize_table` for every table, each with its own writers' and chunks' tallies."""
    return [
        written
        for table, sink in sinks.items()
        for written in finalize_table(
            None,
            sink,
            table,
            expected_rows[table],
            num_shards,
            init_results[table],
            shards.get(table) or TableShards(table),
            stats.get(table) or TableStats(table),
        )
    ]


def _by_table(record: ShardWritten | ChunkStats) -> tuple[str, ShardWritten | ChunkStats]:
    return record.table, record


def _keyed_by_shard(chunk: Chunk) -> tuple[tuple[str, int], Chunk]:
    return (chunk.table, chunk.shard), chunk


def _shard_number(temp_path: str) -> int:
    name = temp_path.replace("\\", "/").rsplit("/", 1)[-1]
    return int(name.split("-")[1]) if name.startswith("shard-") else -1


class WriteTables(beam.PTransform):
    """PBegin -> ``[TableWritten, ...]`` (one element): every table generated and written through its sink.

    ``chunks`` and ``sinks`` map table -> its chunks / its sink. ``num_shards``
    > 0 fixes each table's file count (chunks must carry their shard); 0 lets
    the runner decide (one file per bundle and table). ``split_shards`` spreads
    a fixed shard's chunks over the workers (:mod:`.parts`): worth its cost
    when there are fewer shards than workers.
    """

    def __init__(
        self,
        plan: Plan,
        chunks: Mapping[str, Iterable[Chunk]],
        sinks: Mapping[str, BatchSink],
        num_shards: int = 0,
        run_id: str = "",
        replacements: pvalue.PCollection | None = None,
        profile: ProfileSettings | None = None,
        split_shards: bool = False,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.sinks = dict(sinks)
        # Fixed shards: generate each shard in one call (no extra cost; parallelism = shards), or
        # split its chunks over every worker through part files (parts.py; costs a part write and read).
        self.split_shards = split_shards
        self.profile = profile
        # After expand, with ``profile``: the one-element PCollection of the _profile.json document.
        self.profile_result: pvalue.PCollection | None = None
        # Table by table, chunk by chunk: a runner that deals elements round-robin gives
        # each worker every other chunk of every table (see the module docstring). Each
        # table's chunks stay as given (a TableChunks is expanded by the worker that emits them).
        self.chunks = ChainedChunks(tuple(reiterable(chunks.get(table, ())) for table in self.sinks))
        self.num_shards = num_shards
        self.run_id = run_id
        self.replacements = replacements

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        pipeline = pbegin.pipeline if hasattr(pbegin, "pipeline") else pbegin
        once = pipeline | "Once" >> beam.Impulse()
        init = once | "InitializeWrite" >> beam.Map(_initialize_writes, self.sinks)
        if self.num_shards > 0 and not self.split_shards:
            written = (
                once
                | "Chunks" >> beam.ParDo(EmitChunks(self.chunks))
                | "ByShard" >> beam.Map(_keyed_by_shard)
                | "GroupByShard" >> beam.GroupByKey()
                | "WriteShards"
                >> beam.ParDo(
                    WriteShards(self.plan, self.sinks, self.run_id, self.profile),
                    pvalue.AsSingleton(init),
                    *dedup_side_input(self.replacements),
                ).with_outputs(STATS, PROFILE, main="shards")
            )
            shards, stats, partials = written.shards, written[STATS], written[PROFILE]
        elif self.num_shards > 0:
            # Chunks are generated anywhere into part files; each shard then joins its parts (parts.py).
            generated = (
                once
                | "Chunks" >> beam.ParDo(EmitChunks(self.chunks))
                | "Spread" >> beam.Reshuffle()
                | "WriteParts"
                >> beam.ParDo(
                    WriteParts(self.plan, self.run_id, self.profile),
                    pvalue.AsSingleton(init),
                    *dedup_side_input(self.replacements),
                ).with_outputs(STATS, PROFILE, main="parts")
            )
            shards = (
                generated.parts
                | "GroupByShard" >> beam.GroupByKey()
                | "JoinShards" >> beam.ParDo(JoinShard(self.sinks), pvalue.AsSingleton(init))
            )
            stats, partials = generated[STATS], generated[PROFILE]
        else:
            generated = once | "Generate" >> GenerateTable(
                self.plan, self.chunks, self.run_id, self.replacements, self.profile
            )
            shards = generated.batches | "WriteBundles" >> beam.ParDo(
                WriteBundles(self.sinks), pvalue.AsSingleton(init)
            )
            stats, partials = generated[STATS], generated[PROFILE]
        if self.profile is not None:
            self.profile_result = partials | "Profile" >> beam.CombineGlobally(ProfileFn(self.plan, self.profile))
        shard_tallies = shards | "ShardsByTable" >> beam.Map(_by_table) | "TallyShards" >> beam.CombinePerKey(
            CombineShards()
        )
        stats_tallies = stats | "StatsByTable" >> beam.Map(_by_table) | "TallyStats" >> beam.CombinePerKey(
            CombineStats()
        )
        return once | "Finalize" >> beam.Map(
            finalize_tables,
            self.sinks,
            {table: self.plan.table(table).rows for table in self.sinks},
            self.num_shards,
            pvalue.AsSingleton(init),
            pvalue.AsDict(shard_tallies),
            pvalue.AsDict(stats_tallies),
        )


class WriteTable(beam.PTransform):
    """PBegin -> ``[TableWritten]``: one table generated and written through ``sink`` (see ``WriteTables``)."""

    def __init__(
        self,
        plan: Plan,
        table: str,
        chunks: Iterable[Chunk],
        sink: BatchSink,
        num_shards: int = 0,
        run_id: str = "",
        replacements: pvalue.PCollection | None = None,
        split_shards: bool = False,
    ) -> None:
        super().__init__()
        self.write = WriteTables(
            plan, {table: chunks}, {table: sink}, num_shards, run_id, replacements, split_shards=split_shards
        )

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        return pbegin | self.write
