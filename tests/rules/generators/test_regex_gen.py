from __future__ import annotations

import collections
import itertools
import pickle
import re

import numpy as np
import pytest

from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.generators.regex.sampler import RegexGenerator, RegexUnsupported, compile_regex

MATCHING_PATTERNS = [
    r"[abc]",
    r"[a-z0-9_]{5}",
    r"[^aeiou]{4}",
    r"\d{3}-\d{4}",
    r"[A-Z]{3}-[0-9]{6}",
    r"^[A-Z]{3}-[0-9]{6}$",
    r"(foo|ba[rz])+",
    r"[a-z]{3,8}@(example|test)\.(com|org)",
    r"\w+\s\W*\S?\D{2}",
    r"colou?r",
    r"a*b+c?",
    r"x{2,}y{1,3}?z*?",
    r"(?:ab|cd){2}(?P<tail>e|f)",
    r"\A\.\+\*\?\(\)\[\]\{\}\\\|\Z",
    r".{0,12}",
    r"[\-.+]{1,4}",
    r"(?i)[a-c]x[^b]",
    r"(?i:hello) World",
    r"(a|b(c|d(e|f)))",
    r"\t\n?\x00?",
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    r"(\d{1,3}\.){3}\d{1,3}",
    r"[é-ë]+ü",
    r"(^a|b)c(d$|e)",
    r"",
]

ROWS_2000 = np.arange(2000, dtype=np.uint64)


def stream(*names: object) -> Stream:
    return Stream.root("test_regex_gen", *names)


@pytest.mark.parametrize("pattern", MATCHING_PATTERNS)
def test_generated_values_fully_match(pattern: str) -> None:
    values = compile_regex(pattern).generate(stream(pattern), ROWS_2000)
    assert values.dtype == object
    assert values.shape == (2000,)
    mismatches = [value for value in values if not isinstance(value, str) or not re.fullmatch(pattern, value)]
    assert mismatches == []


@pytest.mark.parametrize("pattern", MATCHING_PATTERNS)
def test_arrow_values_equal_the_object_values_in_any_slicing(pattern: str) -> None:
    generator = compile_regex(pattern)
    values = generator.generate_arrow(stream(pattern), ROWS_2000).to_pylist()
    assert values == generator.generate(stream(pattern), ROWS_2000).tolist()
    pieces = generator.generate_arrow(stream(pattern), ROWS_2000[:700]).to_pylist()
    assert pieces + generator.generate_arrow(stream(pattern), ROWS_2000[700:]).to_pylist() == values


def test_fixed_shape_patterns_generate_through_chunk_tables() -> None:
    fixed = compile_regex(r"^[A-Z]{3}-[0-9]{6}$")
    assert fixed._pattern is not None and compile_regex(r"(foo|ba[rz])+")._pattern is None
    values = fixed.generate_arrow(stream(), np.arange(30_000)).to_pylist()
    letters = collections.Counter(v[1] for v in values)
    digits = collections.Counter(v[-1] for v in values)
    assert len(letters) == 26 and max(letters.values()) < 1.15 * 30_000 / 26
    assert len(digits) == 10 and max(digits.values()) < 1.06 * 3_000


def test_value_at_arrow_equals_value_at() -> None:
    generator = compile_regex(r"[ab]{1,3}-\d")
    ordinals = np.arange(generator.cardinality())
    assert generator.value_at_arrow(ordinals).to_pylist() == generator.value_at(ordinals).tolist()


@pytest.mark.parametrize("pattern", [r"(foo|ba[rz])+", r"[a-z]{3,8}@(example|test)\.(com|org)", r".{0,12}"])
def test_variable_patterns_produce_varied_values(pattern: str) -> None:
    values = compile_regex(pattern).generate(stream(), ROWS_2000)
    assert len(set(values)) > 1000
    assert len({len(value) for value in values}) > 3


def test_quantifier_counts_are_uniform_and_bounded() -> None:
    values = compile_regex(r"a{2,5}").generate(stream(), np.arange(20_000))
    lengths = np.array([len(value) for value in values])
    assert set(lengths.tolist()) == {2, 3, 4, 5}
    assert np.all(np.abs(np.bincount(lengths)[2:] / len(lengths) - 0.25) < 0.02)
    unbounded = compile_regex(r"b+", max_repeat=3).generate(stream(), np.arange(5000))
    assert {len(value) for value in unbounded} == {1, 2, 3, 4}


def test_generation_is_a_function_of_key_and_row() -> None:
    generator = compile_regex(r"[a-z]{3,8}@(example|test)\.(com|org)")
    whole = generator.generate(stream("a"), np.arange(1000, dtype=np.uint64))
    parts = np.concatenate(
        [
            generator.generate(stream("a"), np.arange(0, 400, dtype=np.uint64)),
            generator.generate(stream("a"), np.arange(400, 1000, dtype=np.uint64)),
        ]
    )
    assert whole.tolist() == parts.tolist()
    shuffled_rows = np.arange(1000, dtype=np.uint64)[::-1]
    assert generator.generate(stream("a"), shuffled_rows).tolist() == whole[::-1].tolist()
    fresh = RegexGenerator(generator.pattern)
    assert fresh.generate(stream("a"), np.arange(1000)).tolist() == whole.tolist()
    other_key = generator.generate(stream("b"), np.arange(1000, dtype=np.uint64))
    assert sum(a != b for a, b in zip(whole, other_key)) > 950


def test_single_class_is_uniform() -> None:
    values = compile_regex(r"[abc]").generate(stream("uniform"), np.arange(30_000))
    for char in "abc":
        assert abs(np.count_nonzero(values == char) / 30_000 - 1 / 3) < 0.03


def test_alternation_branches_are_equally_likely() -> None:
    values = compile_regex(r"x|yy|zzz").generate(stream(), np.arange(30_000))
    for option in ("x", "yy", "zzz"):
        assert abs(np.count_nonzero(values == option) / 30_000 - 1 / 3) < 0.03


@pytest.mark.parametrize(
    ("pattern", "max_repeat", "expected"),
    [
        (r"[A-C]{2}", 8, 9),
        (r"(a|bc)d?", 8, 4),
        (r"\d{3}", 8, 1000),
        (r"[A-Z]{3}-[0-9]{6}", 8, 26**3 * 10**6),
        (r"^[A-Z]{3}-[0-9]{6}$", 8, 26**3 * 10**6),
        (r"[a-z]{3,8}@(example|test)\.(com|org)", 8, sum(26**n for n in range(3, 9)) * 4),
        (r"[ab]*", 3, 1 + 2 + 4 + 8),
        (r"x+", 8, 9),
        (r"a?a?", 8, 3),
        (r"(a|ab)(b|)", 8, 3),
        (r"(?i)k", 8, 2),
        (r"", 8, 1),
        (r"[^ -z]", 8, 4),
    ],
)
def test_cardinality_counts_distinct_values(pattern: str, max_repeat: int, expected: int) -> None:
    assert RegexGenerator(pattern, max_repeat).cardinality() == expected


@pytest.mark.parametrize("pattern", [r".{20}", r"\w{100}", r"[a-z]+[a-z0-9]*", r"(a?){4000}"])
def test_cardinality_is_none_when_huge(pattern: str) -> None:
    generator = compile_regex(pattern)
    assert generator.cardinality() is None
    with pytest.raises(RegexUnsupported, match="cannot be enumerated"):
        generator.value_at(np.arange(3))


def exhaustive_matches(pattern: str, alphabet: str, max_length: int) -> set[str]:
    return {
        "".join(chars)
        for length in range(max_length + 1)
        for chars in itertools.product(alphabet, repeat=length)
        if re.fullmatch(pattern, "".join(chars))
    }


@pytest.mark.parametrize(
    ("pattern", "max_repeat", "bounded_equivalent", "alphabet"),
    [
        (r"(a|bc)d?", 8, r"(a|bc)d?", "abcd"),
        (r"[A-C]{2}", 8, r"[A-C]{2}", "ABCD"),
        (r"a?a?", 8, r"a?a?", "a"),
        (r"(a|ab)(c|bcd)", 8, r"(a|ab)(c|bcd)", "abcd"),
        (r"[ab]*c?", 3, r"[ab]{0,3}c?", "abc"),
        (r"(x|y){1,3}z+", 2, r"(x|y){1,3}z{1,3}", "xyz"),
        (r"(?i)a[b-c]", 8, r"(?i)a[b-c]", "aAbBcCdD"),
        (r"[ab]*a[ab]{2}", 4, r"[ab]{0,4}a[ab]{2}", "ab"),
    ],
)
def test_value_at_enumerates_exactly_the_language_in_sorted_order(
    pattern: str, max_repeat: int, bounded_equivalent: str, alphabet: str
) -> None:
    generator = RegexGenerator(pattern, max_repeat)
    total = generator.cardinality()
    assert total is not None
    values = generator.value_at(np.arange(total, dtype=np.int64)).tolist()
    longest = max(map(len, values))
    assert values == sorted(exhaustive_matches(bounded_equivalent, alphabet, longest + 1))


@pytest.mark.parametrize("pattern", [r"\d{3}", r"(foo|ba[rz]){1,3}", r"[a-c]{0,4}x?", r"\t\x00?a"])
def test_value_at_small_spaces_are_distinct_and_matching(pattern: str) -> None:
    generator = compile_regex(pattern)
    total = generator.cardinality()
    assert total is not None
    values = generator.value_at(np.arange(total, dtype=np.uint64))
    assert len(set(values)) == total
    assert all(re.fullmatch(pattern, value) for value in values)
    assert set(generator.generate(stream(), np.arange(3000))) <= set(values)


def test_value_at_big_space_is_injective() -> None:
    pattern = r"[A-Z]{3}-[0-9]{6}"
    generator = compile_regex(pattern)
    total = generator.cardinality()
    assert total is not None
    draws = stream("ordinals").integers(np.arange(120_000), 0, total - 1)
    ordinals = np.unique(draws)[:100_000]
    assert len(ordinals) == 100_000
    values = generator.value_at(ordinals)
    assert len(set(values)) == 100_000
    assert all(re.fullmatch(pattern, value) for value in values)
    assert generator.value_at(np.array([0, total - 1])).tolist() == ["AAA-000000", "ZZZ-999999"]
    assert generator.value_at(ordinals.astype(np.uint64)).tolist() == values.tolist()


def test_value_at_handles_ambiguous_patterns_at_scale() -> None:
    pattern = r"[a-f]*[a-c]*[b-f]{2}"
    generator = compile_regex(pattern)
    total = generator.cardinality()
    assert total is not None
    ordinals = np.unique(stream("ambiguous").integers(np.arange(50_000), 0, total - 1))
    values = generator.value_at(ordinals)
    assert len(set(values)) == len(ordinals)
    assert all(re.fullmatch(pattern, value) for value in values)
    assert values.tolist() == sorted(values.tolist())


def test_value_at_rejects_out_of_range_ordinals() -> None:
    generator = compile_regex(r"[A-C]{2}")
    with pytest.raises(ValueError, match="outside"):
        generator.value_at(np.array([9]))
    with pytest.raises(ValueError, match="negative"):
        generator.value_at(np.array([-1]))
    assert generator.value_at(np.array([], dtype=np.int64)).tolist() == []


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"(a)\1", "backreference"),
        (r"a(?=b)", r"lookahead \(\?=\.\.\.\) cannot be generated"),
        (r"a(?!b)", "negative lookahead"),
        (r"(?<=a)b", "lookbehind"),
        (r"(a)?(?(1)b|c)", "conditional"),
        (r"\bword", r"word boundary \\b"),
        (r"[a-", "invalid regex"),
        (r"a{3,1}", "invalid regex"),
        (r"a^b", "anchor \\^ must be at the start"),
        (r"a$b", "anchor \\$ must be at the end"),
        (r"[^ -~]", "no character to generate"),
    ],
)
def test_unsupported_patterns_are_rejected_with_reason(pattern: str, message: str) -> None:
    with pytest.raises(RegexUnsupported, match=message):
        RegexGenerator(pattern)
    assert issubclass(RegexUnsupported, ValueError)


def test_empty_index_and_empty_pattern() -> None:
    assert compile_regex(r"[a-z]{2,4}").generate(stream(), np.arange(0)).tolist() == []
    assert compile_regex(r"").generate(stream(), np.arange(3)).tolist() == ["", "", ""]
    assert compile_regex(r"^$").value_at(np.array([0])).tolist() == [""]


def test_compile_regex_is_cached_and_generators_pickle() -> None:
    generator = compile_regex(r"(foo|ba[rz])+")
    assert compile_regex(r"(foo|ba[rz])+") is generator
    restored = pickle.loads(pickle.dumps(generator))
    assert restored.pattern == generator.pattern
    rows = np.arange(500)
    assert restored.generate(stream(), rows).tolist() == generator.generate(stream(), rows).tolist()
