"""Chunk descriptors travel as a rule: the job graph does not grow with the rows."""

from __future__ import annotations

from typing import Any

import apache_beam as beam
import pytest

from synthbeam.pipeline.build import build
from synthbeam.pipeline.options import local_runner
from synthbeam.rules.dedup import dedup_columns
from synthbeam.transforms.chunks import TableChunks, plan_chunks
from synthbeam.transforms.output import OutputLayout


def _config(rows: int) -> dict[str, Any]:
    return {
        "seed": 4,
        "tables": [
            {
                "table_name": "brands",
                "rows": rows,
                "columns": [
                    {"name": "brand_id", "type": "int", "constraint": ["PK"]},
                    # Not enumerable, so unique by a dedup pass: its chunks go into the graph too.
                    {"name": "slogan", "type": "str", "rule": {"type": "catch_phrase"}, "constraint": ["unique"]},
                ],
            },
            {
                "table_name": "ads",
                "rows": 4 * rows,
                "columns": [
                    {"name": "ad_id", "type": "int", "constraint": ["PK"]},
                    {"name": "brand_id", "type": "int"},
                ],
                "foreign_keys": [{"child_column": "brand_id", "parent_table": "brands", "parent_column": "brand_id"}],
            },
        ],
    }


def _graph_bytes(plan: Any, out: str, num_shards: int) -> int:
    pipeline = beam.Pipeline(runner=local_runner())
    chunks = plan_chunks(plan, num_shards=num_shards)
    assert all(isinstance(table_chunks, TableChunks) for table_chunks in chunks.values())
    build(
        pipeline, plan, OutputLayout(out, "graph-test"), output_format="parquet", chunks=chunks, num_shards=num_shards
    )
    return len(pipeline.to_runner_api().SerializeToString())


@pytest.mark.parametrize("num_shards", [0, 3])
def test_job_graph_is_the_same_size_for_ten_thousand_and_fifty_billion_rows(make_plan, tmp_path, num_shards) -> None:
    small = make_plan(_config(2_000))
    huge = make_plan(_config(10_000_000_000))
    assert dedup_columns(huge) == [("brands", "slogan")]
    assert sum(len(chunks) for chunks in plan_chunks(huge).values()) >= 1_000_000
    small_bytes = _graph_bytes(small, str(tmp_path / "small"), num_shards)
    huge_bytes = _graph_bytes(huge, str(tmp_path / "huge"), num_shards)
    # Listed chunks took ~9 bytes each after pickling: a million of them would add megabytes.
    assert huge_bytes < small_bytes + 5_000, (small_bytes, huge_bytes)


def test_table_chunks_expand_to_the_listed_chunks() -> None:
    from synthbeam.transforms.chunks import table_chunks

    rule = TableChunks("orders", 2_501, 500, num_shards=3)
    assert list(rule) == list(table_chunks("orders", 2_501, 500, 3))
    assert len(rule) == 6 == len(list(rule))
    assert len(TableChunks("empty", 0, 500)) == 0 == len(list(TableChunks("empty", 0, 500)))
