"""Per-table tallies: combined in any grouping, they equal one fold of every record (issue 15, item 4)."""

from __future__ import annotations

import random

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from synthbeam.transforms.generate import ChunkStats
from synthbeam.transforms.tallies import CombineShards, CombineStats, TableStats, tally_shards, tally_stats
from synthbeam.transforms.write import ShardWritten


def _stats(count: int) -> list[ChunkStats]:
    return [
        ChunkStats("t", n, 10, {"a": n % 3, "b": 1}, started=100.0 + n, seconds=0.5, worker_rss=1000 + (n * 7919) % 500)
        for n in range(count)
    ]


def test_partial_tallies_merge_to_the_whole() -> None:
    stats = _stats(1000)
    whole = tally_stats("t", stats)
    assert whole == TableStats("t", 1000, {"a": 999, "b": 1000}, 100.0, 1099.5, 500.0, max(s.worker_rss for s in stats))
    combine = CombineStats()
    shuffled = random.Random(3).sample(stats, len(stats))
    parts = []
    for start in range(0, 1000, 137):  # uneven bundles, merged in another order, with empty accumulators
        accumulator = combine.create_accumulator()
        for record in shuffled[start : start + 137]:
            accumulator = combine.add_input(accumulator, record)
        parts.append(accumulator)
    parts.append(combine.create_accumulator())
    assert combine.extract_output(combine.merge_accumulators(parts[::-1])) == whole


def test_shard_tallies_keep_every_file_and_count_every_row() -> None:
    shards = [ShardWritten(f"/tmp/s{n}", 100 + n, 2, float(n), float(n) + 3, 0.25, "t") for n in range(5)]
    tally = tally_shards("t", shards)
    assert tally.rows == 510 and tally.chunks == 10 and sorted(tally.temp_paths) == [f"/tmp/s{n}" for n in range(5)]
    assert (tally.started, tally.finished, tally.write_seconds) == (0.0, 7.0, 1.25)


def test_the_combines_give_one_tally_per_table_in_a_pipeline() -> None:
    stats = _stats(40) + [ChunkStats("u", n, 5, {}, 1.0, 1.0, 7) for n in range(3)]
    shards = [ShardWritten(f"/tmp/{n}", 10, 1, 0.0, 1.0, 0.1, "t" if n < 4 else "u") for n in range(6)]
    with BeamTestPipeline() as pipeline:
        tallied = (
            pipeline
            | "Stats" >> beam.Create(stats)
            | "KeyStats" >> beam.Map(lambda s: (s.table, s))
            | "CombineStats" >> beam.CombinePerKey(CombineStats())
            | "StatsSummary" >> beam.MapTuple(lambda table, t: (table, t.chunks, sum(t.events.values())))
        )
        assert_that(tallied, equal_to([("t", 40, 40 + sum(n % 3 for n in range(40))), ("u", 3, 0)]), label="stats")
        rows = (
            pipeline
            | "Shards" >> beam.Create(shards)
            | "KeyShards" >> beam.Map(lambda s: (s.table, s))
            | "CombineShards" >> beam.CombinePerKey(CombineShards())
            | "ShardSummary" >> beam.MapTuple(lambda table, t: (table, t.rows, len(t.temp_paths)))
        )
        assert_that(rows, equal_to([("t", 40, 4), ("u", 20, 2)]), label="shards")
