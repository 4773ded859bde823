"""Children layouts and weighted parents cost the same for 3,000 parents as for 10^10 (issue 15, items 2-3)."""

from __future__ import annotations

import pickle
import time
from collections import Counter

import numpy as np
import pytest

from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.engine.batch import generate_columns
from synthbeam.rules.relations import foreign_keys as relations
from synthbeam.rules.relations.foreign_keys import (
    EXACT_LAYOUT_PARENTS,
    PARENT_BLOCK,
    ExactLayout,
    StratifiedLayout,
    children_layout,
    weighted_parents,
)
from synthbeam.rules.relations.keys import unique_ordinals
from synthbeam.rules.relations.parent_lookup import SCAN_ROWS, _inverse_permutation, invertible


def _config(parents: int, per_parent: dict | None = None, distribution: str = "random", weights=None) -> dict:
    fk = {"child_column": "pid", "parent_table": "p", "parent_column": "id", "distribution": distribution}
    if per_parent:
        fk["children_per_parent"] = per_parent
    if weights is not None:
        fk["weights"] = weights
    return {
        "seed": 7,
        "tables": [
            {
                "table_name": "p",
                "rows": parents,
                "columns": [
                    {"name": "id", "type": "int", "constraint": ["PK"]},
                    {"name": "code", "type": "int", "rule": {"type": "range", "min": 10, "max": 10**13},
                     "constraint": ["unique"]},
                    {"name": "uid", "type": "uuid", "rule": {"type": "uuid4"}, "constraint": ["unique"]},
                ],
            },
            {
                "table_name": "c",
                "rows": 1000,
                "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}, {"name": "pid", "type": "int"}],
                "foreign_keys": [fk],
            },
        ],
    }


@pytest.mark.parametrize("distribution", ["random", "zipf"])
def test_a_large_parent_tables_children_are_sized_at_once_and_laid_out_consistently(make_plan, distribution) -> None:
    started = time.perf_counter()
    plan = make_plan(_config(10**10, {"min": 1, "max": 6}, distribution))
    seconds = time.perf_counter() - started
    layout = children_layout(plan, "c", plan.table("c").foreign_keys[0], generate_columns)
    assert isinstance(layout, StratifiedLayout)
    assert seconds < 10, seconds  # the exact sums took 19 s per 10^9 parents
    rows = plan.table("c").rows
    full_blocks = 10**10 // PARENT_BLOCK
    assert rows == full_blocks * layout.block_total + int(layout.counts(full_blocks * PARENT_BLOCK, 10**10).sum())
    # Every full block deals the same counts; each parent's count is in [min, max].
    for block in (0, 1, 12345, full_blocks - 1):
        counts = layout.counts(block * PARENT_BLOCK, (block + 1) * PARENT_BLOCK)
        assert counts.sum() == layout.block_total and counts.min() >= 1 and counts.max() <= 6
    # Children of a block's parents are contiguous, in parent order, as many as each parent's count.
    for block in (0, 77_777, full_blocks):
        start = layout.block_start(block)
        first = block * PARENT_BLOCK
        counts = layout.counts(first, min(10**10, first + PARENT_BLOCK))
        children = np.arange(start, start + int(counts.sum()), dtype=np.uint64)
        parents = layout.parent_of(children)
        assert (np.diff(parents) >= 0).all()
        assert np.array_equal(np.bincount(parents - first, minlength=len(counts)), counts)
    assert int(layout.parent_of(np.array([rows - 1], dtype=np.uint64))[0]) < 10**10


def test_stratified_counts_follow_the_distribution(make_plan) -> None:
    plan = make_plan(_config(EXACT_LAYOUT_PARENTS + 1, {"min": 0, "max": 3}))
    layout = children_layout(plan, "c", plan.table("c").foreign_keys[0], generate_columns)
    assert isinstance(layout, StratifiedLayout)
    shares = Counter(layout.counts(0, PARENT_BLOCK).tolist())
    assert shares == {k: PARENT_BLOCK // 4 for k in range(4)}
    # Dealt by a keyed shuffle, not in order: neighbouring parents' counts are unrelated.
    counts = layout.counts(0, 1000)
    assert abs(np.corrcoef(counts[:-1], counts[1:])[0, 1]) < 0.1


def test_small_parent_tables_keep_the_exact_layout(make_plan) -> None:
    plan = make_plan(_config(3000, {"min": 2, "max": 5}))
    layout = children_layout(plan, "c", plan.table("c").foreign_keys[0], generate_columns)
    assert isinstance(layout, ExactLayout)
    assert plan.table("c").rows == int(layout.counts(0, 3000).sum())


def test_the_pickled_plan_does_not_carry_the_layout_or_weights(make_plan) -> None:
    small = make_plan(_config(1000, {"min": 1, "max": 3}))
    huge = make_plan(_config(4 * 10**9, {"min": 1, "max": 3}))
    for plan in (small, huge):
        fk = plan.table("c").foreign_keys[0]
        children_layout(plan, "c", fk, generate_columns)
        restored = pickle.loads(pickle.dumps(plan))
        assert plan.table("c").foreign_keys[0].layout is not None
        assert restored.table("c").foreign_keys[0].layout is None
        assert restored.table("c").rows == plan.table("c").rows
    assert abs(len(pickle.dumps(huge)) - len(pickle.dumps(small))) < 200


def test_the_inverse_permutation_finds_every_row() -> None:
    stream = Stream.root("inverse test")
    for space in (2, 3, 17, 1000, 65_537, 10**13):
        rows = np.unique(np.array([0, 1, space // 2, space - 1], dtype=np.uint64))
        ordinals = unique_ordinals(stream, rows, space)
        assert [_inverse_permutation(stream, int(o), space) for o in ordinals] == rows.tolist()


def _weighted_fk(plan):
    return plan.table("c").foreign_keys[0]


@pytest.mark.parametrize("column", ["id", "code"])
def test_weights_on_an_invertible_key_are_found_without_a_scan(make_plan, column) -> None:
    parents = 10**10
    plan = make_plan(_config(parents, distribution="weighted", weights={"1": 1}))
    parent = plan.table("p")
    assert invertible(parent.column(column))
    rows = np.array([0, 123_456_789, parents - 1], dtype=np.uint64)
    texts = generate_columns(plan, "p", rows, [column])[column].cast("string").to_pylist()
    fk = _weighted_fk(plan)
    object.__setattr__(fk, "parent_column", column)
    object.__setattr__(fk, "weights", {texts[2]: 3.0, texts[0]: 1.0, texts[1]: 2.0, "no such value": 5.0, "-4": 1.0})
    fk.listed_parents = None
    started = time.perf_counter()
    listed, weights = weighted_parents(plan, fk, generate_columns)
    assert time.perf_counter() - started < 1.0  # a scan of 10^10 rows would take hours
    assert listed.tolist() == rows.tolist() and weights.tolist() == [1.0, 2.0, 3.0]


def _plan_and_warnings(write_config, config: dict) -> tuple:
    from synthbeam.rules.compiler.compile import build_plan

    plan, issues = build_plan(str(write_config({"as_of": "2026-01-01", **config})))
    return plan, [issue.message for issue in issues.warnings]


def test_a_missing_weight_value_on_a_huge_parent_is_reported_at_once(write_config) -> None:
    started = time.perf_counter()
    config = _config(10**10, distribution="weighted", weights={"5": 4, "10000000001": 1, "x": 1})
    plan, warnings = _plan_and_warnings(write_config, config)
    assert time.perf_counter() - started < 10
    assert weighted_parents(plan, _weighted_fk(plan), generate_columns)[0].tolist() == [4]
    assert any("2 of 3 weights name no p.id value" in w for w in warnings), warnings


def test_weights_on_a_searched_key_look_at_its_first_rows_only(write_config) -> None:
    config = _config(SCAN_ROWS + 10, distribution="weighted", weights={"not a uuid": 2})
    config["tables"][1]["foreign_keys"][0]["parent_column"] = "uid"
    config["tables"][1]["columns"][1]["type"] = "uuid"
    started = time.perf_counter()
    plan, warnings = _plan_and_warnings(write_config, config)
    assert time.perf_counter() - started < 20
    assert not invertible(plan.table("p").column("uid"))
    assert any(f"first {SCAN_ROWS:,} rows of p.uid" in w for w in warnings), warnings
    assert weighted_parents(plan, _weighted_fk(plan), generate_columns)[0].tolist() == []


def test_weighted_children_follow_the_found_parents(make_plan) -> None:
    plan = make_plan(_config(10**9, distribution="weighted", weights={"7": 10**9}))
    rows = np.arange(1000, dtype=np.uint64)
    chosen = relations.parent_index(plan, plan.table("c"), _weighted_fk(plan), rows, generate_columns)
    assert (chosen == 6).mean() > 0.4  # half the weight on row 6 (id 7), the rest spread over 10^9
