"""The profile's combine: independent of how rows are chunked, exact when small, close when sampled."""

from __future__ import annotations

import apache_beam as beam
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from synthbeam.rules.engine.batch import generate_batch
from synthbeam.transforms.profile import ProfileFn, ProfileSettings, estimate_distinct, profile_batch

ROWS = 30_000
CONFIG = {
    "seed": 4,
    "as_of": "2026-01-01",
    "tables": [
        {
            "table_name": "people",
            "rows": 3_000,
            "columns": [{"name": "person_id", "type": "int", "constraint": ["PK"]}],
        },
        {
            "table_name": "events",
            "rows": ROWS,
            "columns": [
                {"name": "event_id", "type": "int", "constraint": ["PK"]},
                {"name": "person_id", "type": "int"},
                {"name": "first", "type": "str", "rule": "first_name"},
                {"name": "kind", "type": "str", "rule": {"type": "choice", "value": ["a", "b", "c"]}},
                {"name": "score", "type": "int", "rule": {"type": "range", "min": 1, "max": 8000},
                 "nullable": True, "null_probability": 0.25},
                {"name": "day", "type": "date", "rule": {"type": "date_range", "start": "2020-01-01",
                                                         "end": "2025-12-31"}},
            ],
            "foreign_keys": [{"child_column": "person_id", "parent_table": "people", "parent_column": "person_id",
                              "distribution": "zipf", "s": 1.1}],
        },
    ],
}
SAMPLED = ProfileSettings(sample_rows=3_000, sample_parents=1_000)


def test_small_tables_are_profiled_in_full_by_default() -> None:
    assert ProfileSettings().sample_rows >= 10_000  # the templates' tables: exact, compared with DuckDB


def _profile(plan, spans, settings):
    fn = ProfileFn(plan, settings)
    accumulators = []
    for start, stop in spans:
        accumulator = fn.create_accumulator()
        fn.add_input(accumulator, profile_batch(plan, "events", start, generate_batch(plan, "events", start, stop),
                                                settings))
        accumulators.append(accumulator)
    return fn.extract_output(fn.merge_accumulators(accumulators))["tables"]["events"]


def _spans(size: int) -> list[tuple[int, int]]:
    return [(start, min(ROWS, start + size)) for start in range(0, ROWS, size)]


def test_a_sampled_profile_does_not_depend_on_the_chunking(make_plan) -> None:
    plan = make_plan(CONFIG)
    assert _profile(plan, _spans(7_000), SAMPLED) == _profile(plan, _spans(1_234), SAMPLED)


def test_sampled_figures_against_the_exact_ones(make_plan) -> None:
    plan = make_plan(CONFIG)
    table = pa.Table.from_batches([generate_batch(plan, "events", 0, ROWS)])
    sampled = _profile(plan, _spans(5_000), SAMPLED)
    exact = _profile(plan, _spans(5_000), ProfileSettings(sample_rows=ROWS, sample_parents=ROWS))
    assert sampled["sampled_rows"] == 3_000 and exact["sampled_rows"] == ROWS
    for name, column in sampled["columns"].items():
        values = table.column(name)
        true_distinct = pc.count_distinct(values).as_py()
        assert exact["columns"][name]["distinct"] == true_distinct and exact["columns"][name]["distinct_exact"]
        assert column["nulls"] == values.null_count  # null shares stay exact when sampled
        assert not column["distinct_exact"]
        # A 10% row sample; Faker's first names are far from uniform (the estimator's model), hence 25%.
        assert column["distinct"] == pytest.approx(true_distinct, rel=0.25), name
    assert sampled["columns"]["score"]["min"] == pc.min(table.column("score")).as_py()  # numbers: every row
    spread = sampled["columns"]["person_id"]["children_per_parent"]
    truth = exact["columns"]["person_id"]["children_per_parent"]
    assert truth["exact"] and not spread["exact"]
    assert spread["mean"] == pytest.approx(truth["mean"], rel=0.15)


@pytest.mark.parametrize(
    ("seen", "sampled", "total", "expected"),
    [(10, 100, 100, 10), (100, 100, 1000, 1000), (5, 1000, 10**6, 5), (0, 10, 100, 0)],
)
def test_estimate_distinct_edges(seen: int, sampled: int, total: int, expected: int) -> None:
    assert estimate_distinct(seen, sampled, total) == expected


def test_profile_fn_runs_as_a_beam_combine(make_plan) -> None:
    plan = make_plan(CONFIG)
    partials = [profile_batch(plan, "events", s, generate_batch(plan, "events", s, e)) for s, e in _spans(10_000)]
    fn = ProfileFn(plan)
    expected = fn.extract_output(fn.merge_accumulators([fn.add_input({}, p) for p in partials]))
    assert expected["tables"]["events"]["rows"] == ROWS
    assert [p.rows for p in partials] == [10_000] * 3  # inputs are never changed
    with BeamTestPipeline() as pipeline:
        result = pipeline | beam.Create(partials) | beam.CombineGlobally(ProfileFn(plan))
        assert_that(result, equal_to([expected]))
