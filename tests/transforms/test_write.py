"""WriteTable(s): fixed shards hold fixed chunks, runner-decided shards hold everything, nothing left over."""

from __future__ import annotations

import os

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from synthbeam.rules.engine.batch import generate_batch
from synthbeam.transforms.chunks import table_chunks
from synthbeam.transforms.generate import ChunkStats
from synthbeam.transforms.sinks import ParquetSink
from synthbeam.transforms.tallies import tally_shards, tally_stats
from synthbeam.transforms.write import ShardWritten, WriteTable, WriteTables, finalize_table, finalize_tables


def _sink(plan, table, tmp_path, num_shards):
    table_plan = plan.table(table)
    return ParquetSink(str(tmp_path / table / table), table_plan.schema, {}, table_name=table, num_shards=num_shards)


def _run(runner, plan, table, chunks, sink, num_shards, split_shards=False):
    pipeline = BeamTestPipeline(runner=runner)
    write = WriteTable(plan, table, chunks, sink, num_shards, run_id="write-test", split_shards=split_shards)
    written = pipeline | write
    assert_that(
        written | beam.Map(lambda tables: [(t.table, t.rows, t.chunks, t.file_count) for t in tables]),
        equal_to([[(table, plan.table(table).rows, len(chunks), num_shards or 1)]]),
    )
    pipeline.run().wait_until_finish()
    return sorted(os.listdir(os.path.dirname(sink.file_path_prefix.get())))


@pytest.mark.parametrize("split_shards", [False, True], ids=["shard-per-call", "parts-joined"])
def test_fixed_shards_hold_their_chunks_in_order(all_types_plan, runner, tmp_path, split_shards) -> None:
    chunks = list(table_chunks("orders", 2500, 300, num_shards=3))
    sink = _sink(all_types_plan, "orders", tmp_path, 3)
    files = _run(runner, all_types_plan, "orders", chunks, sink, 3, split_shards)
    assert files == [f"orders-0000{i}-of-00003.parquet" for i in range(3)]
    for shard, name in enumerate(files):
        table = pq.read_table(tmp_path / "orders" / name)
        mine = [c for c in chunks if c.shard == shard]
        expected = pa.Table.from_batches([generate_batch(all_types_plan, "orders", c.start, c.stop) for c in mine])
        assert table.equals(expected), f"shard {shard} differs"


@pytest.mark.parametrize("split_shards", [False, True], ids=["shard-per-call", "parts-joined"])
def test_more_shards_than_chunks_gives_empty_shards(all_types_plan, runner, tmp_path, split_shards) -> None:
    all_types_plan.table("orders").rows = 5
    chunks = list(table_chunks("orders", 5, 1, num_shards=8))
    sink = _sink(all_types_plan, "orders", tmp_path, 8)
    files = _run(runner, all_types_plan, "orders", chunks, sink, 8, split_shards)
    assert len(files) == 8
    counts = [pq.read_metadata(tmp_path / "orders" / f).num_rows for f in files]
    assert counts == [1, 1, 1, 1, 1, 0, 0, 0]


def test_runner_decided_shards_hold_every_row(all_types_plan, runner, tmp_path) -> None:
    chunks = list(table_chunks("orders", 2500, 400))
    files = _run(runner, all_types_plan, "orders", chunks, _sink(all_types_plan, "orders", tmp_path, 0), 0)
    assert files and all(f.endswith(".parquet") for f in files)
    assert not [f for f in files if f.startswith("beam-temp")]
    table = pq.read_table([str(tmp_path / "orders" / f) for f in files]).sort_by("order_id")
    assert table.equals(pa.Table.from_batches([generate_batch(all_types_plan, "orders", 0, 2500)]))


def test_empty_table_gets_one_file(all_types_plan, runner, tmp_path) -> None:
    all_types_plan.table("orders").rows = 0
    files = _run(runner, all_types_plan, "orders", [], _sink(all_types_plan, "orders", tmp_path, 0), 0)
    assert files == ["orders-00000-of-00001.parquet"]
    assert pq.read_table(tmp_path / "orders" / files[0]).num_rows == 0


def test_finalize_refuses_a_wrong_row_count(all_types_plan, tmp_path) -> None:
    sink = _sink(all_types_plan, "orders", tmp_path, 0)
    init = sink.initialize_write()
    writer = sink.open_writer(init, "a")
    writer.write(generate_batch(all_types_plan, "orders", 0, 10))
    shard = ShardWritten(writer.close(), 10, 1, 0.0, 1.0, 0.1)
    duplicate = ShardWritten(shard.temp_path, 10, 1, 0.0, 1.0, 0.1)
    stats = tally_stats("orders", [ChunkStats("orders", 0, 10)])
    twice = tally_shards("orders", [shard, duplicate])
    with pytest.raises(RuntimeError, match="20 rows, expected 10"):
        list(finalize_table(None, sink, "orders", 10, 0, init, twice, stats))
    (result,) = finalize_table(None, sink, "orders", 10, 0, init, tally_shards("orders", [shard]), stats)
    assert result.rows == 10 and result.file_count == 1 and result.file_pattern == "orders-*-of-00001.parquet"
    assert not os.path.exists(init), "the sink's temporary directory is removed"


@pytest.mark.parametrize("num_shards", [0, 2])
def test_all_tables_share_one_write(all_types_plan, runner, tmp_path, num_shards) -> None:
    tables = list(all_types_plan.tables)
    chunks = {
        name: list(table_chunks(name, all_types_plan.table(name).rows, 300, num_shards=num_shards)) for name in tables
    }
    sinks = {name: _sink(all_types_plan, name, tmp_path, num_shards) for name in tables}
    pipeline = BeamTestPipeline(runner=runner)
    written = pipeline | WriteTables(all_types_plan, chunks, sinks, num_shards, run_id="write-tables-test")
    assert_that(
        written | beam.Map(lambda written: [(t.table, t.rows, t.chunks, t.file_count) for t in written]),
        equal_to([[(name, all_types_plan.table(name).rows, len(chunks[name]), num_shards or 1) for name in tables]]),
    )
    pipeline.run().wait_until_finish()
    for name in tables:
        files = sorted((tmp_path / name).iterdir())
        assert len(files) == (num_shards or 1)
        key = all_types_plan.table(name).columns[0].name
        table = pq.read_table([str(f) for f in files]).sort_by(key)
        expected = generate_batch(all_types_plan, name, 0, all_types_plan.table(name).rows)
        assert table.equals(pa.Table.from_batches([expected])), name


def test_finalize_tables_keeps_each_tables_writers_apart(all_types_plan, tmp_path) -> None:
    sinks = {name: _sink(all_types_plan, name, tmp_path, 0) for name in ("customers", "orders")}
    inits = {name: sink.initialize_write() for name, sink in sinks.items()}
    shards, stats = [], []
    for rows, name in ((7, "customers"), (10, "orders")):
        writer = sinks[name].open_writer(inits[name], "a")
        writer.write(generate_batch(all_types_plan, name, 0, rows))
        shards.append(ShardWritten(writer.close(), rows, 1, 0.0, 1.0, 0.1, name))
        stats.append(ChunkStats(name, 0, rows))
    tallies = {name: tally_shards(name, [s for s in shards if s.table == name]) for name in sinks}
    chunk_tallies = {name: tally_stats(name, [s for s in stats if s.table == name]) for name in sinks}
    results = list(finalize_tables(None, sinks, {"customers": 7, "orders": 10}, 0, inits, tallies, chunk_tallies))
    assert [(r.table, r.rows, r.file_count) for r in results] == [("customers", 7, 1), ("orders", 10, 1)]
