"""Generation in Beam: chunks in, ``(table, chunk_id, RecordBatch)`` elements out.

Beam only orchestrates here; every value comes from
:func:`synthbeam.rules.engine.batch.generate_batch_counted`. Record batches are
ordinary elements handled by ``process()`` (Beam's batched DoFns convert
through Arrow types that lack dates and timestamps, so they are not used).

``GenerateTable`` spreads a table's chunks over workers: the chunk descriptors
come out of one impulse, then ``Reshuffle`` so a distributed runner does not
fuse all generation onto the worker that emitted them. The impulse can be the
caller's own (``WriteTables`` shares one with its other start-up steps, so a
local runner runs them as one stage, not one per root).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam import pvalue, typehints

from synthbeam.rules.core.model import Plan, Replacements
from synthbeam.rules.engine.batch import generate_batch_counted
from synthbeam.rules.engine.dedup import replacement_blocks
from synthbeam.rules.security.apply import protect

from . import keys  # noqa: F401  (a worker that unpickles these steps can read a key URL)
from .chunks import Chunk, reiterable
from .coders import RecordBatchCoder
from .metrics import LOCAL_PROGRESS, record_chunk
from .profile import PROFILE, ProfileSettings, TablePartial, profile_batch
from .versions import launcher_versions, verify_worker

__all__ = ["STATS", "ChunkGenerator", "ChunkStats", "EmitChunks", "GenerateChunks", "GenerateTable"]

STATS = "stats"  # tag of the per-chunk statistics output
# (table, chunk_id, batch): typed so Beam encodes and sizes batches with RecordBatchCoder, not pickle.
BATCH_ELEMENT = typehints.Tuple[str, int, pa.RecordBatch]
beam.coders.registry.register_coder(pa.RecordBatch, RecordBatchCoder)


@dataclass(frozen=True)
class ChunkStats:
    """What generating one chunk produced, for the run report."""

    table: str
    chunk_id: int
    rows: int
    events: dict[str, int] = field(default_factory=dict)
    started: float = 0.0  # epoch seconds
    seconds: float = 0.0
    worker_rss: int = 0  # bytes, sampled after the chunk
    worker: str = ""  # host:pid of the process that generated it


def _worker() -> str:
    # At call time: forked workers inherit the launcher's module state, pid included.
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_rss() -> int:
    try:
        import psutil

        return int(psutil.Process(os.getpid()).memory_info().rss)
    except Exception:  # psutil missing or the platform refuses: the report says 0
        return 0


class ChunkGenerator:
    """Generates chunks of one plan, counting each in Beam metrics and the local progress tally."""

    def __init__(self, plan: Plan, run_id: str = "", profile: ProfileSettings | None = None) -> None:
        self.plan = plan
        self.run_id = run_id
        self.profile = profile  # None: no column profile (--no-profile)
        self.versions = launcher_versions()  # made where the pipeline is built, checked where it runs

    def profiled(self, chunk: Chunk, batch: pa.RecordBatch) -> Iterator[pvalue.TaggedOutput]:
        """The chunk's profile partial on the ``profile`` output, when profiling."""
        if self.profile is not None:
            partial: TablePartial = profile_batch(self.plan, chunk.table, chunk.start, batch, self.profile)
            yield pvalue.TaggedOutput(PROFILE, partial)

    def __call__(
        self, chunk: Chunk, replacements: Mapping[str, Replacements] | None = None
    ) -> tuple[pa.RecordBatch, ChunkStats]:
        verify_worker(self.versions)
        if replacements is not None:
            self.plan.replacements = replacement_blocks(self.plan, multimap_lookup(replacements))
        started = time.time()
        clock = time.perf_counter()
        batch, events = generate_batch_counted(self.plan, chunk.table, chunk.start, chunk.stop)
        batch = protect(self.plan, chunk.table, chunk.start, batch)
        seconds = time.perf_counter() - clock
        if batch.num_rows != chunk.rows:
            raise RuntimeError(
                f"{chunk.table}: chunk {chunk.chunk_id} produced {batch.num_rows} rows, not {chunk.rows}"
            )
        record_chunk(chunk.table, batch.num_rows, events, int(seconds * 1000))
        if self.run_id:
            LOCAL_PROGRESS.add(self.run_id, chunk.table, batch.num_rows)
        stats = ChunkStats(
            chunk.table, chunk.chunk_id, batch.num_rows, dict(events), started, seconds, _process_rss(), _worker()
        )
        return batch, stats


def dedup_side_input(replacements: pvalue.PCollection | None) -> list[pvalue.AsSideInput]:
    """The dedup results, ``("table.column", block) -> Replacements``, as a multimap side input.

    A multimap is read key by key: a worker fetches the blocks of the rows it
    generates, never the whole map (``rules.model.ReplacementBlocks``).
    """
    return [pvalue.AsMultiMap(replacements)] if replacements is not None else []


def multimap_lookup(blocks: Any) -> Callable[[str, int], Replacements | None]:
    """``(key, block) -> Replacements | None`` over a multimap side input of replacement blocks."""

    def lookup(key: str, block: int) -> Replacements | None:
        try:
            pieces = list(blocks[(key, block)])
        except KeyError:
            return None
        return pieces[0] if pieces else None

    return lookup


class GenerateChunks(beam.DoFn):
    """``Chunk`` -> ``(table, chunk_id, RecordBatch)``; ``ChunkStats`` on the ``stats`` output."""

    def __init__(self, plan: Plan, run_id: str = "", profile: ProfileSettings | None = None) -> None:
        super().__init__()
        self.generator = ChunkGenerator(plan, run_id, profile)

    def process(self, chunk: Chunk, replacements: Mapping[str, Replacements] | None = None) -> Iterator[object]:
        batch, stats = self.generator(chunk, replacements)
        yield (chunk.table, chunk.chunk_id, batch)
        yield pvalue.TaggedOutput(STATS, stats)
        yield from self.generator.profiled(chunk, batch)


class EmitChunks(beam.DoFn):
    """Impulse -> every chunk descriptor of ``source``, expanded on the worker that runs it.

    The source (a :class:`~.chunks.TableChunks`, a list, or a :class:`~.chunks.ChainedChunks`)
    is this DoFn's own state rather than a side argument of a ``FlatMap``: Beam
    type-checks side arguments against the function's hints, and its type system
    has no way to say "any re-iterable object" (Beam 2.78 refuses a user class
    where ``Iterable[...]`` is hinted).
    """

    def __init__(self, source: Iterable[Chunk]) -> None:
        super().__init__()
        self.source = reiterable(source)

    def process(self, _: bytes) -> Iterator[Chunk]:
        yield from self.source


class GenerateTable(beam.PTransform):
    """PBegin (or an impulse) -> ``(table, chunk_id, RecordBatch)`` for the given chunks, plus statistics.

    The result is a ``DoOutputsTuple``: ``.batches`` holds the batches,
    ``[STATS]`` one ``ChunkStats`` per chunk, ``[PROFILE]`` (when profiling) one profile partial per chunk.
    """

    def __init__(
        self,
        plan: Plan,
        chunks: Iterable[Chunk],
        run_id: str = "",
        replacements: pvalue.PCollection | None = None,
        profile: ProfileSettings | None = None,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.chunks = reiterable(chunks)  # a TableChunks is expanded by the worker that emits the chunks
        self.run_id = run_id
        self.replacements = replacements
        self.profile = profile

    # ``start`` is a PBegin or an impulse PCollection, and the result a DoOutputsTuple. Beam reads
    # expand()'s annotations as type hints and warns on every run for either union: Any says "no hint".
    def expand(self, start: Any) -> Any:
        impulse = start if isinstance(start, beam.PCollection) else start | "Once" >> beam.Impulse()
        return (
            impulse
            | "Chunks" >> beam.ParDo(EmitChunks(self.chunks))
            | "Spread" >> beam.Reshuffle()
            | "Generate"
            >> beam.ParDo(GenerateChunks(self.plan, self.run_id, self.profile), *dedup_side_input(self.replacements))
            .with_output_types(BATCH_ELEMENT)
            .with_outputs(STATS, PROFILE, main="batches")
        )
