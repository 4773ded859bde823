"""Unique Faker columns made of word lists and formats: counted, and unique by construction (issue 15, item 1)."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.core.errors import ConfigError
from synthbeam.rules.engine.batch import generate_batch
from synthbeam.rules.generators.faker.compile import compiler_for
from synthbeam.rules.generators.faker.symbolic import as_node
from synthbeam.rules.generators.faker.unique import disjoint, merge_formats, quotas, space_bound, unique_choice
from synthbeam.rules.generators.text.vector import Const, Join, Pick, join, mix, pick


def _unique(rule: str, rows: int) -> dict:
    return {
        "seed": 3,
        "as_of": "2026-01-01",
        "tables": [
            {
                "table_name": "t",
                "rows": rows,
                "columns": [
                    {"name": "id", "type": "int", "constraint": ["PK"]},
                    {"name": "v", "type": "str", "rule": {"type": rule}, "constraint": ["unique"]},
                ],
            }
        ],
    }


def test_formats_told_apart_by_a_separator_count() -> None:
    last = pick(["Smith", "Jones", "Brown"])
    suffix = pick(["Inc", "and Sons"])
    one = join(last, Const(" "), suffix)
    two = join(last, Const("-"), last)
    three = join(last, Const(", "), last, Const(" and "), last)
    assert disjoint(one, two) and disjoint(two, three) and disjoint(one, three)
    # "Smith-Jones" could come from either: the same shape over lists that share a word
    assert not disjoint(two, join(pick(["Smith-Jones", "Ng"]), Const("-"), last))


def test_formats_told_apart_by_their_words() -> None:
    first, last = pick(["Ann", "Bob"]), pick(["Lee", "Ray"])
    with_prefix = join(pick(["Mr.", "Dr."]), Const(" "), first, Const(" "), last)
    with_suffix = join(first, Const(" "), last, Const(" "), pick(["Jr.", "MD"]))
    assert disjoint(with_prefix, with_suffix)  # a prefix is never a first name
    overlapping = join(pick(["Dr.", "Ms."]), Const(" "), pick(["Ann", "Cy"]), Const(" "), last)
    assert not disjoint(with_prefix, overlapping)  # "Dr. Ann Lee" is in both


def test_formats_differing_in_one_list_merge_into_exactly_their_union() -> None:
    last = pick(["Lee", "Ray", "Roe"])
    male = join(pick(["Bob", "Sam"]), Const(" "), last)
    female = join(pick(["Ann", "Sam"]), Const(" "), last)
    [(merged, weight)] = merge_formats([(male, 0.5), (female, 0.5)])
    assert weight == 1.0 and isinstance(merged, Join)
    assert merged.cardinality() == 3 * 3  # Bob, Sam, Ann: "Sam Lee" counted once
    values = set(merged.value_at(np.arange(9)).to_pylist())
    assert values == {f"{f} {s}" for f in ("Bob", "Sam", "Ann") for s in ("Lee", "Ray", "Roe")}


def test_quotas_follow_the_weights_until_a_format_runs_out() -> None:
    assert quotas([10**6, 10**6], [0.5, 0.5], 1000) == [500, 500]
    assert quotas([100, 10**6, 10**6], [1 / 3, 1 / 3, 1 / 3], 3000) == [100, 1450, 1450]
    assert sum(quotas([7, 11, 13], [0.2, 0.3, 0.5], 31)) == 31
    assert quotas([7, 11], [0.5, 0.5], 19) is None


def test_a_unique_choice_is_one_to_one_and_keeps_the_shares() -> None:
    first, last = pick([f"F{i}" for i in range(40)]), pick([f"L{i}" for i in range(50)])
    node = mix([join(first, Const(" "), last), join(last, Const(", "), first)], [0.75, 0.25])
    choice = unique_choice(node, 2000, salt=9)
    assert choice is not None and choice.quotas == (1500, 500) and choice.space == 2000
    values = choice.value_at(np.arange(2000, dtype=np.uint64)).to_pylist()
    assert len(set(values)) == 2000
    assert sum("," in v for v in values) == 500
    # the words are spread over the lists, not counted up from their first entries
    assert len({v.split(" ")[0] for v in values if "," not in v}) == 40
    assert choice.value_at(np.array([5, 1700], dtype=np.uint64)).to_pylist() == [values[5], values[1700]]


def test_company_and_name_are_counted_from_faker_data() -> None:
    compiler = compiler_for("en_US")
    last = len(compiler.generator.last_name.__self__.last_names)
    suffixes = len(compiler.generator.company_suffix.__self__.company_suffixes)
    assert space_bound(as_node(compiler.value("company"))) == last * suffixes + last**2 + last**3
    assert space_bound(as_node(compiler.value("name"))) == 19_185_000


@pytest.mark.parametrize("rule", ["company", "name"])
def test_unique_company_and_name_are_made_by_a_permutation_and_are_distinct(make_plan, rule) -> None:
    plan = make_plan(_unique(rule, 120_000))
    column = plan.table("t").column("v")
    assert column.key_strategy == "permutation"
    whole = generate_batch(plan, "t", 0, 120_000).column("v").to_pylist()
    assert len(set(whole)) == 120_000 and None not in whole
    # any range of rows gives the same values, as everywhere else
    assert generate_batch(plan, "t", 70_000, 70_100).column("v").to_pylist() == whole[70_000:70_100]
    if rule == "company":
        forms = collections.Counter("," in v or "-" in v for v in whole)
        assert forms[False] == 6000  # "Last Suffix": all its 1000 x 6 values, the rest split evenly
        assert collections.Counter("," in v for v in whole)[True] == 57_000


def test_unique_name_at_a_million_rows_is_built_not_deduplicated(write_config) -> None:
    """Validate alone, fast: the counted space covers a million rows, so no dedup pass is planned."""
    plan, issues = build_plan(str(write_config(_unique("name", 1_000_000))))
    assert issues.errors == []
    assert plan.table("t").column("v").key_strategy == "permutation"
    values = generate_batch(plan, "t", 999_000, 1_000_000).column("v").to_pylist()
    assert len(set(values)) == 1000


def test_unique_name_beyond_its_counted_space_is_refused_with_the_count(write_config) -> None:
    with pytest.raises(ConfigError) as caught:
        build_plan(str(write_config(_unique("name", 20_000_000))))
    assert [str(issue) for issue in caught.value.issues] == [
        "t.columns[1] (v): is unique but its rule (faker name (vectorised)) has at most 19,185,000 (counted "
        "from its word lists and formats) distinct values for 20,000,000 rows"
    ]


def test_formats_mostly_uncountable_keep_the_dedup_pass(make_plan) -> None:
    plan = make_plan(_unique("city", 2000))
    assert plan.table("t").column("v").key_strategy == "dedup"


def test_an_uncountable_unique_column_larger_than_validate_tries_is_warned_about(write_config, monkeypatch) -> None:
    monkeypatch.setenv("SYNTHBEAM_PLAN_DEDUP_ROWS", "500")
    config = _unique("catch_phrase", 600)
    plan, issues = build_plan(str(write_config(config)))
    assert plan.table("t").column("v").key_strategy == "dedup"
    assert any("value space cannot be counted" in str(w) and "first 500 of 600 rows" in str(w)
               for w in issues.warnings), issues.warnings


def test_pick_merging_keeps_the_words_in_order() -> None:
    merged = merge_formats([(join(Pick(("a", "b")), Const("."), Pick(("x", "y"))), 1.0),
                            (join(Pick(("b", "c")), Const("."), Pick(("x", "y"))), 1.0)])
    assert merged[0][0].parts[0] == Pick(("a", "b", "c"))
