"""Chunk descriptors travel as a rule: the job graph does not grow with the rows."""

from __future__ import annotations

from typing import Any

import apache_beam as beam
import pytest
from apache_beam.portability.api import beam_runner_api_pb2

from synthbeam.pipeline.build import build
from synthbeam.pipeline.options import local_runner
from synthbeam.rules.engine.dedup import dedup_columns
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


def _dedup_columns_config(count: int) -> dict[str, Any]:
    rules = ["catch_phrase", "bs", "sentence", "paragraph"]
    columns = [{"name": "id", "type": "int", "constraint": ["PK"]}]
    columns += [
        {"name": f"text_{number}", "type": "str", "rule": {"type": rules[number]}, "length": 60,
         "constraint": ["unique"]}
        for number in range(count)
    ]
    return {"seed": 4, "tables": [{"table_name": "notes", "rows": 5_000, "columns": columns}]}


def _transforms(plan: Any, out: str) -> int:
    pipeline = beam.Pipeline(runner=local_runner())
    build(pipeline, plan, OutputLayout(out, "graph-test"), output_format="parquet", chunks=plan_chunks(plan))
    return len(pipeline.to_runner_api().components.transforms)


def test_dedup_columns_share_one_set_of_stages(make_plan, tmp_path, monkeypatch) -> None:
    """Each dedup column once added ~170 transforms and 300 KB; now they share the stages, a few KB each."""
    monkeypatch.setenv("SYNTHBEAM_PLAN_DEDUP_ROWS", "0")  # the graph is the point here, not validation
    one, four = make_plan(_dedup_columns_config(1)), make_plan(_dedup_columns_config(4))
    assert len(dedup_columns(one)) == 1 and len(dedup_columns(four)) == 4
    assert _transforms(one, str(tmp_path / "a")) == _transforms(four, str(tmp_path / "b"))
    one_bytes = _graph_bytes(one, str(tmp_path / "one"), 0)
    four_bytes = _graph_bytes(four, str(tmp_path / "four"), 0)
    # The plan (which names the columns) is pickled into the few steps that generate values.
    assert four_bytes - one_bytes < 3 * 8_000, (one_bytes, four_bytes)
    # Generation reads the replacements by key (block), not as one iterable every worker loads.
    pipeline = beam.Pipeline(runner=local_runner())
    build(pipeline, four, OutputLayout(str(tmp_path / "c"), "graph-test"), output_format="parquet",
          chunks=plan_chunks(four))
    transforms = pipeline.to_runner_api().components.transforms.values()
    [generate] = [t for t in transforms if t.unique_name.endswith("ParDo(GenerateChunks)")]
    side_inputs = beam_runner_api_pb2.ParDoPayload.FromString(generate.spec.payload).side_inputs.values()
    assert [s.access_pattern.urn for s in side_inputs] == ["beam:side_input:multimap:v1"]


def test_a_unique_company_column_needs_no_dedup_stage_nor_side_input(make_plan, tmp_path) -> None:
    """Built by a permutation: nothing per row or per collision reaches any element, at any row count."""
    config = {
        "seed": 4,
        "tables": [
            {
                "table_name": "firms",
                "rows": 150_000,
                "columns": [
                    {"name": "firm_id", "type": "int", "constraint": ["PK"]},
                    {"name": "company", "type": "str", "rule": "company", "constraint": ["unique"]},
                ],
            }
        ],
    }
    plan = make_plan(config)
    assert plan.table("firms").column("company").key_strategy == "permutation"
    assert dedup_columns(plan) == []
    pipeline = beam.Pipeline(runner=local_runner())
    build(pipeline, plan, OutputLayout(str(tmp_path), "graph-test"), output_format="parquet",
          chunks=plan_chunks(plan))
    transforms = pipeline.to_runner_api().components.transforms.values()
    assert not [t.unique_name for t in transforms if "Dedup" in t.unique_name]
    generate = [t for t in transforms if t.unique_name.endswith("ParDo(GenerateChunks)")]
    assert len(generate) == 1
    assert not beam_runner_api_pb2.ParDoPayload.FromString(generate[0].spec.payload).side_inputs
