"""The distributed dedup pass agrees with the in-process one and makes unique columns unique."""

from __future__ import annotations

import numpy as np
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that

from synthbeam.rules.dedup import apply_dedup
from synthbeam.transforms.chunks import table_chunks
from synthbeam.transforms.dedup import DedupPlan, LowestRowWins

CONFIG = {
    "seed": 4,
    "tables": [
        {
            "table_name": "brands",
            "rows": 2500,
            "columns": [
                {"name": "brand_id", "type": "int", "constraint": ["PK"]},
                {
                    "name": "slogan",
                    "type": "str",
                    "rule": {"type": "catch_phrase", "pool_size": 400},
                    "constraint": ["unique"],
                },
            ],
        },
        {
            "table_name": "ads",
            "rows": 6000,
            "columns": [
                {"name": "ad_id", "type": "int", "constraint": ["PK"]},
                {"name": "slogan", "type": "str"},
            ],
            "foreign_keys": [{"child_column": "slogan", "parent_table": "brands", "parent_column": "slogan"}],
        },
    ],
}


def test_lowest_row_wins_combine() -> None:
    combine = LowestRowWins()
    left = combine.add_input(combine.add_input(combine.create_accumulator(), 9), 4)
    right = combine.add_input(combine.create_accumulator(), 7)
    assert sorted(combine.extract_output(combine.merge_accumulators([left, right]))) == [7, 9]
    assert combine.extract_output(combine.add_input(combine.create_accumulator(), 3)) == []


def test_distributed_dedup_matches_in_process(make_plan, runner) -> None:
    plan = make_plan(CONFIG)
    expected = make_plan(CONFIG)
    apply_dedup(expected)
    want = expected.replacements["brands.slogan"]
    assert len(want) > 0
    chunks = {"brands": list(table_chunks("brands", 2500, 300)), "ads": list(table_chunks("ads", 6000, 1000))}

    def matches(elements):
        assert len(elements) == 1
        key, got = elements[0]
        assert key == "brands.slogan"
        assert np.array_equal(got.row_index, want.row_index)
        assert got.values.to_pylist() == want.values.to_pylist()

    with BeamTestPipeline(runner=runner) as pipeline:
        assert_that(pipeline | DedupPlan(plan, chunks), matches)
