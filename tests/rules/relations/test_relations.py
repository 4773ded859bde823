"""Foreign keys by computation: no orphans, distributions as asked, acyclic hierarchies."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np

from synthbeam.rules.engine.batch import generate_batch

PARENT = {
    "table_name": "parent",
    "rows": 50,
    "columns": [
        {"name": "id", "type": "int", "constraint": ["PK"]},
        {
            "name": "code",
            "type": "str",
            "rule": {"type": "regex", "regex": "P[0-9]{4}"},
            "constraint": ["unique"],
        },
        {
            "name": "since",
            "type": "date",
            "rule": {"type": "date_range", "start": "2020-01-01", "end": "2022-12-31"},
        },
    ],
}


def child(fk: dict, rows: int = 20_000, extra_columns: list | None = None) -> dict:
    return {
        "table_name": "child",
        "rows": rows,
        "columns": [
            {"name": "id", "type": "int", "constraint": ["PK"]},
            {"name": "parent_ref", "type": "int"},
            *(extra_columns or []),
        ],
        "foreign_keys": [{"child_column": "parent_ref", "parent_table": "parent", **fk}],
    }


def tables(plan, name):
    table = plan.table(name)
    return generate_batch(plan, name, 0, table.rows).to_pydict()


def test_random_fk_has_no_orphans_and_is_uniform(make_plan) -> None:
    plan = make_plan({"tables": [PARENT, child({"parent_column": "id"})]})
    parents = set(tables(plan, "parent")["id"])
    refs = tables(plan, "child")["parent_ref"]
    assert set(refs) <= parents
    counts = np.array([Counter(refs)[p] for p in parents])
    assert ((counts - 400) ** 2 / 400).sum() < 86.7  # chi-square, 49 dof, p = 0.001


def test_fk_to_a_non_integer_key(make_plan) -> None:
    plan = make_plan({"tables": [PARENT, child({"parent_column": "code"})]})
    assert plan.table("child").column("parent_ref").type == "str"
    assert set(tables(plan, "child")["parent_ref"]) <= set(tables(plan, "parent")["code"])


def test_even_distribution_within_one(make_plan) -> None:
    plan = make_plan({"tables": [PARENT, child({"parent_column": "id", "distribution": "even"}, rows=1013)]})
    counts = Counter(tables(plan, "child")["parent_ref"])
    assert len(counts) == 50 and max(counts.values()) - min(counts.values()) <= 1


def test_zipf_rank_frequency_slope(make_plan) -> None:
    big_parent = {**PARENT, "rows": 1000}
    plan = make_plan(
        {
            "tables": [
                big_parent,
                child({"parent_column": "id", "distribution": "zipf", "s": 1.5}, rows=100_000),
            ]
        }
    )
    frequencies = np.array(
        sorted(Counter(tables(plan, "child")["parent_ref"]).values(), reverse=True), dtype=float
    )
    ranks = np.arange(1, len(frequencies) + 1)
    top = slice(0, 50)
    slope = np.polyfit(np.log(ranks[top]), np.log(frequencies[top]), 1)[0]
    assert -1.8 < slope < -1.2, slope


def test_weighted_chi_square(make_plan) -> None:
    weights = {"1": 10, "2": 5, "3": 0}
    plan = make_plan(
        {
            "tables": [
                {**PARENT, "rows": 5},
                child({"parent_column": "id", "distribution": "weighted", "weights": weights}),
            ]
        }
    )
    counts = Counter(tables(plan, "child")["parent_ref"])
    total_weight = 10 + 5 + 0 + 1 + 1
    expected = {1: 10, 2: 5, 3: 0, 4: 1, 5: 1}
    assert counts[3] == 0
    chi = sum(
        (counts[k] - 20_000 * w / total_weight) ** 2 / (20_000 * w / total_weight)
        for k, w in expected.items()
        if w
    )
    assert chi < 18.5  # 4 dof, p = 0.001


def test_null_probability(make_plan) -> None:
    plan = make_plan({"tables": [PARENT, child({"parent_column": "id", "null_probability": 0.25})]})
    refs = tables(plan, "child")["parent_ref"]
    assert abs(refs.count(None) / len(refs) - 0.25) < 0.015


def test_children_per_parent(make_plan) -> None:
    plan = make_plan(
        {"tables": [PARENT, child({"parent_column": "id", "children_per_parent": {"min": 2, "max": 5}})]}
    )
    refs = tables(plan, "child")["parent_ref"]
    counts = Counter(refs)
    assert plan.table("child").rows == len(refs) == sum(counts.values())
    assert set(counts) == set(range(1, 51))
    assert min(counts.values()) >= 2 and max(counts.values()) <= 5
    assert refs == sorted(refs)  # laid out parent after parent


def test_self_reference_is_a_forest(make_plan) -> None:
    plan = make_plan(
        {
            "tables": [
                {
                    "table_name": "emp",
                    "rows": 5000,
                    "columns": [
                        {"name": "id", "type": "int", "constraint": ["PK"]},
                        {"name": "boss", "type": "int"},
                    ],
                    "foreign_keys": [{"child_column": "boss", "parent_table": "emp", "parent_column": "id"}],
                }
            ]
        }
    )
    rows = tables(plan, "emp")
    boss = dict(zip(rows["id"], rows["boss"]))
    assert boss[1] is None
    assert all(b is None or b < i for i, b in boss.items())


def test_cross_table_reference_holds_in_every_row(make_plan) -> None:
    plan = make_plan(
        {
            "tables": [
                PARENT,
                child(
                    {"parent_column": "id"},
                    extra_columns=[
                        {
                            "name": "after",
                            "type": "date",
                            "rule": {
                                "type": "date_range",
                                "start": {"column": "parent.since"},
                                "end": "2025-01-01",
                            },
                        }
                    ],
                ),
            ]
        }
    )
    parent = tables(plan, "parent")
    since = dict(zip(parent["id"], parent["since"]))
    rows = tables(plan, "child")
    assert all(since[p] <= a <= dt.date(2025, 1, 1) for p, a in zip(rows["parent_ref"], rows["after"]))
