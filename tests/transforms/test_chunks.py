"""Chunking: contiguous, complete, bounded by batch size, memory and shard count."""

from __future__ import annotations

import pytest

from synthbeam.transforms.chunks import (
    MIN_CHUNK_ROWS,
    Chunk,
    bytes_per_row,
    chunk_rows,
    plan_chunks,
    table_chunks,
)
from tests.conftest import one_table


@pytest.mark.parametrize(("rows", "size"), [(0, 10), (1, 10), (10, 10), (11, 10), (12_345, 1_000)])
def test_chunks_cover_rows_exactly_once(rows: int, size: int) -> None:
    chunks = list(table_chunks("t", rows, size))
    covered = [i for chunk in chunks for i in range(chunk.start, chunk.stop)]
    assert covered == list(range(rows))
    assert [c.chunk_id for c in chunks] == list(range(len(chunks)))
    assert all(0 < c.rows <= size for c in chunks)
    assert all(c.shard == -1 for c in chunks)


def test_shards_are_assigned_round_robin() -> None:
    chunks = list(table_chunks("t", 100, 10, num_shards=3))
    assert [c.shard for c in chunks] == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def test_chunk_is_a_small_picklable_value() -> None:
    import pickle

    chunk = Chunk("t", 3, 30, 40, 1)
    assert pickle.loads(pickle.dumps(chunk)) == chunk
    assert chunk.rows == 10


def test_batch_size_sets_the_chunk(all_types_plan) -> None:
    all_types_plan.performance = {"batch_size": 300}
    sizing = chunk_rows(all_types_plan, "orders")
    assert (sizing.rows_per_chunk, sizing.limited_by) == (300, "batch_size")
    assert chunk_rows(all_types_plan, "customers", 1).rows_per_chunk == 300


def test_small_table_is_one_chunk(all_types_plan) -> None:
    sizing = chunk_rows(all_types_plan, "customers")
    assert (sizing.rows_per_chunk, sizing.limited_by) == (1000, "table")


def test_max_memory_lowers_the_chunk(all_types_plan) -> None:
    all_types_plan.table("orders").rows = 10_000_000
    per_row = bytes_per_row(all_types_plan, "orders")
    assert 20 < per_row < 200  # five scalar columns
    all_types_plan.performance = {"batch_size": 1_000_000, "max_memory_mb": 64}
    sizing = chunk_rows(all_types_plan, "orders")
    assert sizing.limited_by == "max_memory_mb"
    # one batch, times the working-set factor, fits the budget
    assert sizing.rows_per_chunk * per_row * 4 <= 64 * 2**20
    assert sizing.rows_per_chunk >= MIN_CHUNK_ROWS
    # two workers share the budget
    assert chunk_rows(all_types_plan, "orders", workers=2).rows_per_chunk < sizing.rows_per_chunk


def test_max_memory_holds_for_rows_wider_than_the_row_floor(make_plan) -> None:
    # 40 KB rows under 16 MB: the 1,000-row floor alone made chunks of 40 MB (peak RSS 550 MB).
    wide = {"name": "blob", "type": "str", "rule": {"type": "regex", "regex": "[a-z]{40000}"}}
    plan = make_plan(one_table([wide], rows=3000))
    plan.performance = {"max_memory_mb": 16}
    sizing = chunk_rows(plan, "t")
    assert sizing.limited_by == "max_memory_mb" and sizing.rows_per_chunk < MIN_CHUNK_ROWS
    assert sizing.rows_per_chunk * sizing.bytes_per_row * 4 <= 16 * 2**20


def test_num_shards_gives_every_shard_a_chunk(all_types_plan) -> None:
    sizing = chunk_rows(all_types_plan, "orders", num_shards=4)
    chunks = list(table_chunks("orders", 2500, sizing.rows_per_chunk, 4))
    assert {c.shard for c in chunks} == {0, 1, 2, 3}


def test_plan_chunks_lists_tables_in_generation_order(all_types_plan) -> None:
    chunks = plan_chunks(all_types_plan, num_shards=2)
    assert list(chunks) == ["customers", "orders"]
    assert sum(c.rows for c in chunks["orders"]) == 2500
