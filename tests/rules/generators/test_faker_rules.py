"""Faker rules: name resolution, the generic pool rule, uniqueness, pickling, distributions."""

from __future__ import annotations

import collections
import datetime as dt
import math
import pickle
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from faker import Faker

from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.registry import Rows, RuleContext, Settings, lookup_rule
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.generators.faker import rules as faker_rules
from synthbeam.rules.generators.faker.pool import faker_generator
from synthbeam.rules.generators.faker.rules import (
    TAG_SPACE,
    FakerMethod,
    VectorisedFaker,
    faker_method_name,
    suggest_faker_methods,
    tag_space,
)
from synthbeam.rules.relations.keys import unique_ordinals


def context(locale: str = "de_DE", issues: Issues | None = None, column_type: str = "str") -> RuleContext:
    settings = Settings(seed=1, locale=locale, as_of=dt.date(2024, 1, 1), as_of_explicit=True)
    return RuleContext(
        place="t.columns[0] (c)", table="t", column="c", column_type=column_type, settings=settings,
        issues=issues if issues is not None else Issues(),
    )


def build(name: str, locale: str = "de_DE", **spec: Any) -> tuple[Any, Issues]:
    issues = Issues()
    cls = lookup_rule(name, locale)
    assert cls is not None, name
    return cls({"type": name, **spec}, context(locale, issues)), issues


def rows(count: int, start: int = 0) -> Rows:
    return Rows(np.arange(start, start + count, dtype=np.uint64))


# -- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("first_name", "first_name"),
        ("First Name", "first_name"),
        ("firstname", "first_name"),
        ("FIRST_NAME", "first_name"),
        ("date of birth", "date_of_birth"),
        ("pyInt", "pyint"),
    ],
)
def test_method_names_ignore_case_spaces_and_underscores(written: str, expected: str) -> None:
    assert faker_method_name(written, "en_US") == expected


@pytest.mark.parametrize(
    "plumbing",
    ["seed_instance", "seed", "add_provider", "format", "parse", "random", "get_formatter", "set_formatter",
     "providers", "_to_ascii", "get_providers", "set_arguments", ""],
)
def test_generator_plumbing_is_not_a_method(plumbing: str) -> None:
    assert faker_method_name(plumbing, "en_US") is None


def test_locale_specific_methods_resolve_only_in_their_locale() -> None:
    assert faker_method_name("kana_name", "ja_JP") == "kana_name"
    assert faker_method_name("kana_name", "en_US") is None
    assert faker_method_name("first_name", "xx_XX") is None


def test_unknown_methods_get_suggestions() -> None:
    assert "first_name" in suggest_faker_methods("frist_name", "en_US")
    assert lookup_rule("frist_name", "en_US") is None
    issues = Issues()
    FakerMethod({"type": "frist_name"}, context("en_US", issues))
    assert len(issues.errors) == 1
    message = issues.errors[0].message
    assert "unknown Faker method 'frist_name'" in message and "first_name" in message
    assert str(issues.errors[0]).startswith("t.columns[0] (c): ")


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("first_name", "FakerNames"),
        ("firstname", "FakerNames"),
        ("lastname", "FakerNames"),
        ("phone", "FakerPhone"),
        ("phonenumber", "FakerPhone"),
        ("Phone Number", "FakerPhone"),
        ("cc", "FakerCreditCard"),
        ("cc_cvv", "FakerCreditCard"),
        ("cc_expiry_date", "FakerCreditCard"),
        ("email", "FakerEmail"),
        ("user_name", "FakerUserName"),
        ("date_of_birth", "FakerMethod"),
        ("catch_phrase", "FakerMethod"),
    ],
)
def test_lookup_reaches_the_right_class(name: str, family: str) -> None:
    assert lookup_rule(name, "en_US").__name__ == family


def test_shortcuts_map_to_faker_methods() -> None:
    for shortcut, method in [("cc", "credit_card_number"), ("cc_cvv", "credit_card_security_code"),
                             ("cc_expiry_date", "credit_card_expire"), ("phone", "phone_number"),
                             ("firstname", "first_name"), ("lastname", "last_name")]:
        rule, issues = build(shortcut, "en_US")
        assert not issues.errors and rule.method == method and rule.vectorised


def test_vectorised_methods_are_all_registered_once() -> None:
    families = {lookup_rule(name, "en_US") for name in faker_rules.VECTORISED_METHODS}
    assert all(issubclass(f, VectorisedFaker) for f in families)
    assert len(faker_rules.VECTORISED_METHODS) == len(set(faker_rules.VECTORISED_METHODS))


def test_unknown_locale_is_an_error() -> None:
    issues = Issues()
    FakerMethod({"type": "pyint"}, context("xx_XX", issues))
    assert issues.errors and "locale" in issues.errors[0].message


# -- the generic pool rule ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "params", "output_type", "arrow_type"),
    [
        ("company_suffix", {}, "str", pa.string()),
        ("catch_phrase", {}, "str", pa.string()),
        ("pyint", {"min_value": 5, "max_value": 50}, "int", pa.int64()),
        ("pyfloat", {"min_value": 0, "max_value": 1}, "float", pa.float64()),
        ("pybool", {}, "bool", pa.bool_()),
        ("date_of_birth", {"minimum_age": 18, "maximum_age": 30}, "date", pa.date32()),
        ("date_time", {}, "timestamp", pa.timestamp("us")),
        ("time_object", {}, "time", pa.time64("us")),
        ("pydict", {"nb_elements": 2}, "str", pa.string()),
        ("binary", {"length": 4}, "str", pa.string()),
    ],
)
def test_any_faker_method_is_a_pooled_rule(
    method: str, params: dict, output_type: str, arrow_type: Any
) -> None:
    rule, issues = build(method, "fr_FR", params=params)
    assert type(rule) is FakerMethod and not issues.errors
    assert rule.output_type == output_type
    assert rule.describe() == f"faker pool {method} (10000)"
    values = rule.generate(rows(3000), Stream.root("x"))
    assert values.type == arrow_type and values.null_count == 0
    assert rule.generate(rows(1000), Stream.root("x")) == values.slice(0, 1000)
    assert rule.generate(rows(2000, 1000), Stream.root("x")) == values.slice(1000)
    assert rule.generate(rows(1000), Stream.root("y")) != values.slice(0, 1000)


def test_pool_values_are_faker_values() -> None:
    rule, _ = build("company_suffix", "de_DE")
    suffixes = set(faker_generator("de_DE").company_suffix.__self__.company_suffixes)
    assert set(rule.generate(rows(5000), Stream.root("x")).to_pylist()) <= suffixes
    ints, _ = build("pyint", params={"min_value": 5, "max_value": 50})
    assert all(5 <= v <= 50 for v in ints.generate(rows(5000), Stream.root("x")).to_pylist())
    birthdays, _ = build("date_of_birth", params={"minimum_age": 18, "maximum_age": 30})
    today = dt.date.today()
    ages = {(today - d).days // 366 for d in birthdays.generate(rows(2000), Stream.root("x")).to_pylist()}
    assert min(ages) >= 17 and max(ages) <= 31
    blobs, _ = build("binary", params={"length": 4})
    hexes = blobs.generate(rows(100), Stream.root("x")).to_pylist()
    assert all(re.fullmatch("[0-9a-f]{8}", v) for v in hexes)


def test_pool_size_bounds_distinct_values() -> None:
    rule, _ = build("pyint", params={"min_value": 0, "max_value": 10**9}, pool_size=50)
    assert rule.describe() == "faker pool pyint (50)"
    assert len(set(rule.generate(rows(5000), Stream.root("x")).to_pylist())) <= 50


def test_bad_params_are_reported_not_raised() -> None:
    rule, issues = build("pyint", params={"bogus": 1})
    assert issues.errors and "bogus" in issues.errors[0].message and "pyint" in issues.errors[0].message
    assert rule.generate(rows(3), Stream.root("x")).null_count == 3
    _, issues = build("pyint", params=[1, 2])
    assert issues.errors and "params" in issues.errors[0].message
    _, issues = build("pyint", pool_size=0)
    assert issues.errors and "pool_size" in issues.errors[0].message


def test_huge_values_shrink_the_pool() -> None:
    rule, issues = build("binary", params={"length": 100_000})
    assert rule.pool_size < 10_000 and issues.warnings


def test_per_row_values_are_independent_of_the_slice() -> None:
    rule, _ = build("catch_phrase", "en_US")
    assert not rule.row_independent
    whole = rule.per_row(rows(60), Stream.root("x")).to_pylist()
    assert rule.per_row(rows(30, 30), Stream.root("x")).to_pylist() == whole[30:]
    assert len(set(whole)) == 60
    vectorised, _ = build("ssn", "en_US")
    assert vectorised.row_independent
    assert vectorised.per_row(rows(50), Stream.root("x")) == vectorised.generate(rows(50), Stream.root("x"))


# -- uniqueness ------------------------------------------------------------------------------------
@pytest.mark.parametrize("locale", ["en_US", "de_DE", "fr_FR", "ja_JP"])
@pytest.mark.parametrize("method", ["email", "free_email", "company_email", "safe_email", "user_name"])
def test_unique_emails_by_construction(method: str, locale: str) -> None:
    rule, _ = build(method, locale)
    assert rule.enumerable() and rule.cardinality() >= 1_000_000
    count = 200_000 if (method, locale) == ("email", "de_DE") else 20_000
    ordinals = unique_ordinals(Stream.root("key"), np.arange(count, dtype=np.uint64), rule.cardinality())
    values = rule.value_at(ordinals).to_pylist()
    assert len(set(values)) == count
    local = r"[a-z0-9-]+\.[a-z0-9-]+\d{0,4}"
    pattern = local if method == "user_name" else local + r"@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}"
    assert all(re.fullmatch(pattern, v) for v in values), values[:3]
    assert rule.value_at(ordinals[:10]).to_pylist() == values[:10]


def test_unique_email_space_sits_just_below_a_power_of_four() -> None:
    """The key permutation covers the next power of four: a space just below it never cycle-walks far."""
    for locale in ("en_US", "de_DE", "ja_JP"):
        space = build("email", locale)[0].cardinality()
        power = 4 ** ((space.bit_length() + 1) // 2)
        assert power // 4 < space <= power and space > power * (1 - 1 / 2_500), (locale, space)


@pytest.mark.parametrize("names", [1, 7, 400, 690_000, 2_070_000, 10**9])
def test_tag_space_fills_a_power_of_four(names: int) -> None:
    tags = tag_space(names)
    largest = 4 ** (((names * TAG_SPACE).bit_length() - 1) // 2)  # largest power of four <= names * TAG_SPACE
    assert TAG_SPACE // 4 < tags <= TAG_SPACE
    assert names * tags <= largest < names * (tags + 1)


def test_unique_emails_spread_over_the_domains() -> None:
    rule, _ = build("email", "en_US")
    values = rule.value_at(unique_ordinals(Stream.root("d"), np.arange(30_000, dtype=np.uint64),
                                           rule.cardinality())).to_pylist()
    domains = collections.Counter(v.split("@")[1] for v in values)
    assert set(domains) == {"example.org", "example.com", "example.net"}
    assert all(abs(n / len(values) - 1 / 3) < 0.02 for n in domains.values())
    tags = collections.Counter(bool(re.search(r"\d@", v)) for v in values)
    assert tags[True] > 0.99 * len(values)


def test_unique_email_domain_follows_params() -> None:
    rule, _ = build("email", params={"domain": "Example.ORG"})
    values = rule.value_at(np.arange(100, dtype=np.uint64)).to_pylist()
    assert all(v.endswith("@example.org") for v in values)


@pytest.mark.parametrize(
    ("method", "locale"),
    [("ssn", "en_US"), ("ssn", "de_DE"), ("ipv4", "en_US"), ("ipv4_private", "de_DE"), ("postcode", "ja_JP"),
     ("iban", "de_DE"), ("last_name", "en_US"), ("name_male", "ja_JP")],
)
def test_enumerable_rules_give_distinct_values(method: str, locale: str) -> None:
    rule, _ = build(method, locale)
    assert rule.enumerable()
    count = min(rule.cardinality(), 50_000)
    ordinals = unique_ordinals(Stream.root("k"), np.arange(count, dtype=np.uint64), rule.cardinality())
    values = rule.value_at(ordinals).to_pylist()
    assert len(set(values)) == count


def test_cardinality_is_honest() -> None:
    assert build("ssn", "en_US")[0].cardinality() == 898 * 99 * 9999
    assert build("last_name", "en_US")[0].cardinality() == len(
        faker_generator("en_US").last_name.__self__.last_names)
    assert build("phone_number", "en_US")[0].cardinality() is None
    assert build("company_suffix", "en_US")[0].cardinality() is None
    assert not build("company_suffix", "en_US")[0].enumerable()


# -- distributions ----------------------------------------------------------------------------------
def test_weighted_first_names_follow_provider_weights() -> None:
    rule, _ = build("first_name", "en_US")
    counts = collections.Counter(rule.generate(rows(50_000), Stream.root("w")).to_pylist())
    weights = faker_generator("en_US").first_name.__self__.first_names
    total = sum(weights.values())
    for name, weight in sorted(weights.items(), key=lambda kv: -kv[1])[:15]:
        expected = 50_000 * weight / total
        assert abs(counts[name] - expected) < 5 * math.sqrt(expected) + 5, name
    assert counts.most_common(1)[0][0] in {n for n, _ in sorted(weights.items(), key=lambda kv: -kv[1])[:3]}


def test_japanese_surnames_follow_weights_and_german_names_are_uniform() -> None:
    rule, _ = build("last_name", "ja_JP")
    counts = collections.Counter(rule.generate(rows(50_000), Stream.root("w")).to_pylist())
    assert counts.most_common(1)[0][0] == "佐藤"
    german, _ = build("last_name", "de_DE")
    names = faker_generator("de_DE").last_name.__self__.last_names
    expected = collections.Counter(names)
    observed = collections.Counter(german.generate(rows(50_000), Stream.root("w")).to_pylist())
    scale = 50_000 / len(names)
    chi2 = sum((observed[n] - scale * k) ** 2 / (scale * k) for n, k in expected.items())
    dof = len(expected) - 1
    assert chi2 < dof + 6 * math.sqrt(2 * dof)


def test_name_formats_keep_their_weights() -> None:
    rule, _ = build("name", "en_US")
    prefixes = set(faker_generator("en_US").prefix.__self__.prefixes_male) | set(
        faker_generator("en_US").prefix.__self__.prefixes_female)
    values = rule.generate(rows(50_000), Stream.root("w")).to_pylist()
    share = sum(v.split(" ")[0] in prefixes for v in values) / len(values)
    assert 0.015 < share < 0.025  # formats with a prefix weigh 0.015 + 0.005


def _shape(value: str) -> str:
    return re.sub(r"\d", "#", value)


def _digit_count(value: str) -> int:
    return sum(c.isdigit() for c in value)


@pytest.mark.parametrize(
    ("locale", "method", "key"),
    [("en_US", "phone_number", _shape), ("fr_FR", "phone_number", _shape),
     ("de_DE", "building_number", _shape), ("en_US", "street_address", _digit_count),
     ("fr_FR", "street_address", _digit_count), ("en_US", "credit_card_number", len)],
)
def test_format_mix_matches_faker(locale: str, method: str, key: Any) -> None:
    count = 20_000
    fake = Faker(locale)
    fake.seed_instance(7)
    theirs = collections.Counter(key(getattr(fake, method)()) for _ in range(count))
    rule, _ = build(method, locale)
    ours = collections.Counter(key(v) for v in rule.generate(rows(count), Stream.root("w")).to_pylist())
    for shape in set(theirs) | set(ours):
        assert abs(theirs[shape] - ours[shape]) / count < 0.015, (shape, theirs[shape], ours[shape])


# -- pickling ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "locale"), [("name", "de_DE"), ("email", "fr_FR"), ("text", "ja_JP"),
                                                ("company_suffix", "en_US"), ("iban", "de_DE"),
                                                ("pyint", "en_US")])
def test_rules_pickle_after_generating(method: str, locale: str) -> None:
    rule, _ = build(method, locale)
    before = rule.generate(rows(500), Stream.root("p"))
    state = pickle.dumps(rule)
    assert not any(k.startswith("_cache") for k in vars(pickle.loads(state)))
    assert len(state) < 20_000
    restored = pickle.loads(state)
    assert restored.generate(rows(500), Stream.root("p")) == before
    if rule.enumerable():
        first = np.arange(20, dtype=np.uint64)
        assert restored.value_at(first) == rule.value_at(first)


def test_describe_says_how_values_are_made() -> None:
    assert build("first_name", "en_US")[0].describe() == "faker first_name (vectorised)"
    assert build("job")[0].describe() == "faker job (vectorised)"
