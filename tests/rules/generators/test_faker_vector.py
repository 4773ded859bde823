"""The vectorised node engine: placeholders, picks, joins, choices, enumeration."""

from __future__ import annotations

import collections
import itertools
import re

import numpy as np
import pytest

from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.generators.text.vector import (
    NUMERIFY,
    AliasTable,
    Concatenation,
    Const,
    IntText,
    Join,
    Mix,
    Node,
    Pattern,
    Pick,
    groups_of,
    join,
    lexify_table,
    mix,
    pick,
    placeholders,
    split_first,
)


def run(node: Node, count: int = 20_000, start: int = 0, key: str = "v") -> list[str]:
    return node.generate(np.arange(start, start + count, dtype=np.uint64), Stream.root(key)).to_pylist()


def test_numerify_characters() -> None:
    values = run(placeholders("#%$-!@", NUMERIFY))
    assert all(re.fullmatch(r"\d[1-9][2-9]-\d?[1-9]?", v) for v in values)
    lengths = collections.Counter(len(v) for v in values)
    # "!" and "@" are each empty half the time
    assert abs(lengths[4] / len(values) - 0.25) < 0.02 and abs(lengths[6] / len(values) - 0.25) < 0.02
    assert {v[0] for v in values} == set("0123456789")


def test_patterns_handle_multibyte_literals() -> None:
    values = run(placeholders("〒###-####", NUMERIFY), 1000)
    assert all(re.fullmatch(r"〒\d{3}-\d{4}", v) for v in values)


def test_lexify_and_transforms_push_into_patterns() -> None:
    node = placeholders("??#", lexify_table("ab")).substitute(NUMERIFY).map_text(str.upper)
    assert isinstance(node, Pattern)
    assert set(v[:2] for v in run(node)) == {"AA", "AB", "BA", "BB"}


def test_pick_merges_duplicates_and_weights() -> None:
    node = pick(["a", "b", "a"])
    assert isinstance(node, Pick) and node.values == ("a", "b")
    counts = collections.Counter(run(node))
    assert abs(counts["a"] / 20_000 - 2 / 3) < 0.02
    assert pick(["only"]) == Const("only")


def test_substitute_reaches_placeholders_inside_picks() -> None:
    node = pick(["no digits", "n#"]).substitute(NUMERIFY)
    values = set(run(node))
    assert "no digits" in values and {v for v in values if v != "no digits"} == {f"n{d}" for d in range(10)}


def test_alias_table_matches_weights() -> None:
    weights = [5.0, 1.0, 0.0, 4.0]
    chosen = AliasTable(weights).choose(np.arange(200_000, dtype=np.uint64), Stream.root("a"))
    frequencies = np.bincount(chosen, minlength=4) / len(chosen)
    assert np.allclose(frequencies, np.array(weights) / 10, atol=0.005)


def test_mix_simplifies() -> None:
    merged = mix([Const("a"), pick(["b", "c"])], [0.5, 0.5])
    assert isinstance(merged, Pick) and dict(zip(merged.values, merged.probabilities())) == pytest.approx(
        {"a": 0.5, "b": 0.25, "c": 0.25})
    digits = placeholders("###", NUMERIFY)
    factored = mix([join(Const("75"), digits), join(Const("13"), digits)])
    assert isinstance(factored, Join) and isinstance(factored.parts[0], Pick)


def test_mix_generates_each_option_on_its_rows() -> None:
    node = mix([placeholders("A##", NUMERIFY), join(pick(["x", "y"]), Const("-"), IntText(1, 3))], [0.3, 0.7])
    assert isinstance(node, Mix)
    values = run(node)
    assert all(re.fullmatch(r"A\d\d|[xy]-[1-3]", v) for v in values)
    assert abs(sum(v.startswith("A") for v in values) / len(values) - 0.3) < 0.02
    assert run(node, 300) + run(node, 700, start=300) == run(node, 1000)


def test_enumeration_is_one_to_one() -> None:
    for node in (
        placeholders("?#", lexify_table("xyz")).substitute(NUMERIFY),
        join(pick(["a", "ab"]), Const("-"), pick(["x", "y", "z"])),
        IntText(5, 500, 5, width=4),
        join(IntText(0, 99, width=2), Const("."), pick(["p", "q"])),
    ):
        assert node.enumerable()
        count = node.cardinality()
        values = node.value_at(np.arange(count, dtype=np.uint64)).to_pylist()
        assert len(set(values)) == count
        assert set(run(node, 5000)) <= set(values)


def test_ambiguous_concatenations_have_no_exact_count() -> None:
    assert join(pick(["a", "ab"]), pick(["b", "bc"])).cardinality() is None
    assert not placeholders("!", NUMERIFY).enumerable()


def test_split_first_cuts_at_the_first_separator() -> None:
    company = mix([
        join(pick(["Smith", "de Vries"]), Const(" "), pick(["Inc", "LLC"])),
        join(pick(["Lee"]), Const("-"), pick(["Kim"])),
    ])
    assert set(run(split_first(company, " "))) == {"Smith", "de", "Lee-Kim"}


def test_int_text_pads() -> None:
    values = run(IntText(501, 99950, width=5), 5000)
    assert all(len(v) == 5 and 501 <= int(v) <= 99950 for v in values)
    assert IntText(501, 99950, width=5).fixed_length() == 5


# -- the fast paths: chunk tables, single-take concatenation, in-place mixes ------------------------
def test_concatenation_equals_joining_the_entries() -> None:
    tables = [["a", "bb", ""], ["-"], ["x", "yyy"]]
    generator = np.random.default_rng(0)
    first, last = generator.integers(0, 3, 500), generator.integers(0, 2, 500)
    parts = Concatenation(tables)
    assert parts.build([first, 0, last], 500).to_pylist() == [
        tables[0][f] + "-" + tables[2][s] for f, s in zip(first, last)
    ]
    assert parts.build([first[:0], 0, last[:0]], 0).to_pylist() == []
    assert Concatenation([["p", "q"]]).build([np.array([1, 0, 1])], 3).to_pylist() == ["q", "p", "q"]


def test_long_patterns_span_several_chunks_and_draws() -> None:
    node = placeholders("#" * 30 + "-??", {**NUMERIFY, **lexify_table("ab")})
    assert len(node._plan.chunks) > 3 and len(node._plan.groups) > 1
    values = run(node)
    assert all(re.fullmatch(r"\d{30}-[ab]{2}", v) for v in values)
    for position in range(0, 30, 3):  # every position uniform, across chunk and draw boundaries
        counts = collections.Counter(v[position] for v in values)
        assert set(counts) == set("0123456789") and max(counts.values()) < 2_250
    assert run(node, 300) + run(node, 700, start=300) == run(node, 1000)


def test_pattern_enumeration_is_mixed_radix_last_slot_fastest() -> None:
    node = placeholders("?#-?", {**NUMERIFY, **lexify_table("xy")})
    expected = ["".join(p) for p in itertools.product("xy", "0123456789", "-", "xy")]
    assert node.value_at(np.arange(40, dtype=np.uint64)).to_pylist() == expected
    assert node.matrix_at(np.arange(40, dtype=np.uint64)).tobytes().decode() == "".join(expected)


def test_variable_width_patterns_are_one_take() -> None:
    node = placeholders("〒#!-@#", NUMERIFY)
    assert not node.is_fixed_width()
    values = run(node)
    assert all(re.fullmatch(r"〒\d\d?-[1-9]?\d", v) for v in values)
    assert run(node, 300) + run(node, 700, start=300) == run(node, 1000)


def test_mix_of_fixed_patterns_writes_each_option_in_place() -> None:
    node = mix(
        [placeholders("###-####", NUMERIFY), placeholders("(###) ###", NUMERIFY), placeholders("+1 #", NUMERIFY)],
        [0.5, 0.3, 0.2],
    )
    assert isinstance(node, Mix) and node.pattern_widths is not None
    values = run(node)
    assert all(re.fullmatch(r"\d{3}-\d{4}|\(\d{3}\) \d{3}|\+1 \d", v) for v in values)
    shares = collections.Counter(len(v) for v in values)
    assert abs(shares[8] / len(values) - 0.5) < 0.02 and abs(shares[4] / len(values) - 0.2) < 0.02
    assert run(node, 300) + run(node, 700, start=300) == run(node, 1000)
    assert run(node, 0) == []


def test_joins_of_picks_and_constants_are_one_take() -> None:
    node = join(pick(["Ann", "Bo"]), Const(" "), pick(["Lee", "Kim", "Ng"], [0.5, 0.25, 0.25]))
    assert isinstance(node, Join) and node._static is not None
    values = run(node)
    assert all(re.fullmatch(r"(Ann|Bo) (Lee|Kim|Ng)", v) for v in values)
    assert abs(sum(v.endswith("Lee") for v in values) / len(values) - 0.5) < 0.02
    assert run(node, 300) + run(node, 700, start=300) == run(node, 1000)


def test_groups_of_lists_every_row_once_in_order() -> None:
    choice = np.random.default_rng(1).integers(0, 300, 5000)
    groups = list(groups_of(choice, 300))
    assert sorted(np.concatenate([p for _, p in groups]).tolist()) == list(range(5000))
    for option, positions in groups:
        assert (choice[positions] == option).all() and (np.diff(positions) > 0).all()
