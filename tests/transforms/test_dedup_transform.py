"""The distributed dedup pass agrees with the in-process one and makes unique columns unique."""

from __future__ import annotations

import pickle

import pyarrow as pa
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that

from synthbeam.rules.core.model import Replacements
from synthbeam.rules.engine import dedup as dedup_rules
from synthbeam.rules.engine.batch import generate_batch
from synthbeam.rules.engine.dedup import apply_dedup
from synthbeam.transforms.chunks import table_chunks
from synthbeam.transforms.dedup import DedupPlan

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


def _merged(elements) -> dict:
    """``(("table.column", block), Replacements)`` elements -> row -> value per column (the check's marker left out)."""
    merged: dict = {}
    for (key, block), piece in elements:
        if piece is None:
            assert (key, block) == ("", -1)
            continue
        assert all(int(row) // dedup_rules.BLOCK_ROWS == block for row in piece.row_index)
        merged.setdefault(key, {}).update(zip(piece.row_index.tolist(), piece.values.to_pylist()))
    return merged


def test_distributed_dedup_matches_in_process(make_plan, runner) -> None:
    plan = make_plan(CONFIG)
    expected = make_plan(CONFIG)
    apply_dedup(expected)
    want = expected.replacements["brands.slogan"]
    assert len(want) > 0
    chunks = {"brands": list(table_chunks("brands", 2500, 300)), "ads": list(table_chunks("ads", 6000, 1000))}

    def matches(elements):
        merged = _merged(elements)
        assert list(merged) == ["brands.slogan"]
        assert merged["brands.slogan"] == dict(zip(want.row_index.tolist(), want.values.to_pylist()))

    with BeamTestPipeline(runner=runner) as pipeline:
        assert_that(pipeline | DedupPlan(plan, chunks), matches)


CUT_COMPANY = {
    "seed": 3,
    "tables": [
        {
            "table_name": "t",
            "rows": 20_000,
            "columns": [
                {"name": "id", "type": "int", "constraint": ["PK"]},
                # cut to a length, so made unique by the dedup pass (weighted last names collide often)
                {"name": "v", "type": "str", "rule": "company", "length": 40, "constraint": ["unique"]},
            ],
        }
    ],
}


def test_replacements_travel_in_blocks_of_bounded_size(make_plan, runner, monkeypatch) -> None:
    """No element holds more than one block of rows' replacements, and together they are the in-process result."""
    monkeypatch.setattr(dedup_rules, "BLOCK_ROWS", 1024)
    plan = make_plan(CUT_COMPANY)
    assert plan.table("t").column("v").key_strategy == "dedup"
    expected = make_plan(CUT_COMPANY)
    apply_dedup(expected)
    want = expected.replacements["t.v"]
    assert len(want) > 3000  # thousands of re-draws: one map of them all is what used to travel

    def bounded(elements):
        blocks = [(key, piece) for key, piece in elements if piece is not None]
        assert len(blocks) == 20  # one per 1,024 rows, each with some re-draws
        for (_, block), piece in blocks:
            assert set((piece.row_index // 1024).tolist()) == {block}
            assert len(pickle.dumps(piece)) < 1024 * 80
        merged = _merged(elements)["t.v"]
        assert merged == dict(zip(want.row_index.tolist(), want.values.to_pylist()))

    chunks = {"t": list(table_chunks("t", 20_000, 2_500))}
    with BeamTestPipeline(runner=runner) as pipeline:
        assert_that(pipeline | DedupPlan(plan, chunks), bounded)


def test_a_chunk_fetches_only_its_own_blocks(make_plan, monkeypatch) -> None:
    monkeypatch.setattr(dedup_rules, "BLOCK_ROWS", 1024)
    whole = make_plan(CUT_COMPANY)
    apply_dedup(whole)
    full = whole.replacements["t.v"]
    asked: list[tuple[str, int]] = []

    def lookup(key: str, block: int):
        asked.append((key, block))
        keep = (full.row_index // 1024) == block
        return Replacements(full.row_index[keep], full.values.filter(pa.array(keep)))

    blocked = make_plan(CUT_COMPANY)
    blocked.replacements = dedup_rules.replacement_blocks(blocked, lookup)
    got = generate_batch(blocked, "t", 5000, 6000).column("v").to_pylist()
    assert got == generate_batch(whole, "t", 5000, 6000).column("v").to_pylist()
    assert sorted(set(asked)) == [("t.v", 4), ("t.v", 5)]


LEVELS = {
    "seed": 5,
    "tables": [
        {
            "table_name": "t",
            "rows": 3000,
            "columns": [
                {"name": "id", "type": "int", "constraint": ["PK"]},
                {"name": "a", "type": "int", "rule": {"type": "pyint", "params": {"min_value": 0, "max_value": 9000}},
                 "constraint": ["unique"]},
                # reads a, so its values depend on a's re-draws: it settles in the next level
                {"name": "b", "type": "int", "rule": {"type": "range", "min": {"column": "a"}, "max": 12_000},
                 "constraint": ["unique"]},
                {"name": "c", "type": "str", "rule": {"type": "catch_phrase", "pool_size": 900},
                 "constraint": ["unique"]},
            ],
        }
    ],
}


def test_a_column_reading_another_dedup_column_settles_after_it(make_plan, runner) -> None:
    plan = make_plan(LEVELS)
    assert dedup_rules.dedup_levels(plan) == [[("t", "a"), ("t", "c")], [("t", "b")]]
    expected = make_plan(LEVELS)
    collisions = apply_dedup(expected)
    assert all(collisions[key] > 0 for key in ("t.a", "t.b", "t.c")), collisions

    def matches(elements):
        merged = _merged(elements)
        assert sorted(merged) == ["t.a", "t.b", "t.c"]
        for key, want in expected.replacements.items():
            assert merged[key] == dict(zip(want.row_index.tolist(), want.values.to_pylist())), key

    with BeamTestPipeline(runner=runner) as pipeline:
        assert_that(pipeline | DedupPlan(plan, {"t": list(table_chunks("t", 3000, 700))}), matches)
