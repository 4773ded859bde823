"""Every vectorised Faker method, in every supported locale, against Faker's own data.

Expectations are built from the provider attributes directly (name lists,
formats, card prefixes, BBAN formats), not from the compiled nodes, so a wrong
recipe cannot agree with itself.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pytest

from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.registry import Rows, RuleContext, Settings, lookup_rule
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.generators.faker import rules as faker_rules
from synthbeam.rules.generators.faker.pool import faker_generator

LOCALES = ("en_US", "de_DE", "fr_FR", "ja_JP")
ROWS = 10_000
AS_OF = dt.date(2024, 1, 1)


def make_rule(method: str, locale: str, **spec: Any) -> tuple[Any, Issues]:
    issues = Issues()
    settings = Settings(seed=1, locale=locale, as_of=AS_OF, as_of_explicit=True)
    ctx = RuleContext(
        place="t.columns[0] (c)", table="t", column="c", column_type="str", settings=settings, issues=issues
    )
    cls = lookup_rule(method, locale)
    assert cls is not None, method
    return cls({"type": method, **spec}, ctx), issues


def generate(rule: Any, rows: int = ROWS, key: str = "x", start: int = 0) -> list[Any]:
    index = np.arange(start, start + rows, dtype=np.uint64)
    return rule.generate(Rows(index), Stream.root(key)).to_pylist()


def provider_data(locale: str, attribute: str, method: str | None = None) -> Any:
    """A data attribute of the provider behind ``method`` (or of the first provider with it)."""
    if method is not None:
        return getattr(getattr(faker_generator(locale), method).__self__, attribute)
    for provider in faker_generator(locale).providers:
        if hasattr(provider, attribute) and not callable(getattr(provider, attribute)):
            return getattr(provider, attribute)
    raise AttributeError(attribute)


def names_of(data: Iterable[Any]) -> set[str]:
    return {item[0] if isinstance(item, tuple) else item for item in data}


def has_data(locale: str, attribute: str) -> bool:
    try:
        provider_data(locale, attribute)
    except AttributeError:
        return False
    return True


def numerify_regex(template: str, letters: str = "A-Za-z") -> str:
    out = []
    for char in template:
        out.append(
            {"#": r"\d", "%": "[1-9]", "$": "[2-9]", "!": r"\d?", "@": "[1-9]?", "?": f"[{letters}]"}.get(
                char, re.escape(char)
            )
        )
    return "".join(out)


def alternation(values: Iterable[str]) -> str:
    return "(?:" + "|".join(sorted((re.escape(v) for v in set(values)), key=len, reverse=True)) + ")"


# -- format skeletons: tokens become the alternation of their data, or a recursive format -------
TOKEN_DATA = {
    "first_name": "first_names",
    "last_name": "last_names",
    "city_prefix": "city_prefixes",
    "city_suffix": "city_suffixes",
    "city_name": "cities",
    "street_suffix": "street_suffixes",
    "street_prefix": "street_prefixes",
    "street_suffix_long": "street_suffixes_long",
    "street_suffix_short": "street_suffixes_short",
    "company_suffix": "company_suffixes",
    "company_prefix": "company_prefixes",
    "company_category": "company_categories",
    "prefecture": "prefectures",
    "town": "towns",
    "building_name": "building_names",
    "military_state": "military_state_abbr",
    "military_ship": "military_ship_prefix",
}
TOKEN_FORMATS = {
    "street_name": "street_name_formats",
    "street_address": "street_address_formats",
    "city": "city_formats",
    "address": "address_formats",
}
TOKEN_NUMERIFY = {
    "building_number": "building_number_formats",
    "secondary_address": "secondary_address_formats",
}
TOKEN_REGEX = {
    "postcode": r"[0-9A-Z -]+",
    "state_abbr": "[A-Z]{2}",
    "chome": r"\d{1,2}丁目",
    "ban": r"\d{1,2}番",
    "gou": r"\d{1,2}号",
    "military_apo": r"PSC \d{4}, Box \d{4}",
    "military_dpo": r"Unit \d{4} Box \d{4}",
}


def token_regex(locale: str, token: str) -> str:
    if token in TOKEN_REGEX:
        return TOKEN_REGEX[token]
    if locale == "ja_JP" and token == "city":
        return alternation(provider_data(locale, "cities"))
    if token in TOKEN_DATA:
        return alternation(names_of(provider_data(locale, TOKEN_DATA[token], token)))
    if token in TOKEN_NUMERIFY:
        return "(?:" + "|".join(numerify_regex(f) for f in provider_data(locale, TOKEN_NUMERIFY[token])) + ")"
    if token in TOKEN_FORMATS:
        return formats_regex(locale, provider_data(locale, TOKEN_FORMATS[token]))
    raise KeyError(token)


def formats_regex(locale: str, formats: Iterable[str]) -> str:
    options = []
    for template in formats:
        pieces, position = [], 0
        for match in re.finditer(r"\{\{\s*(\w+)\s*\}\}", template):
            pieces.append(re.escape(template[position : match.start()]))
            pieces.append(token_regex(locale, match.group(1)))
            position = match.end()
        pieces.append(re.escape(template[position:]))
        options.append("".join(pieces))
    return "(?:" + "|".join(options) + ")"


def assert_all_match(values: list[str], pattern: str, what: str) -> None:
    compiled = re.compile(pattern, re.S)
    bad = [v for v in values if not compiled.fullmatch(v)]
    assert not bad, f"{what}: {len(bad)} values do not match, e.g. {bad[:3]}"


def assert_within(values: list[str], allowed: set[str], what: str) -> None:
    bad = sorted({v for v in values if v not in allowed})
    assert not bad, f"{what}: values outside the provider data, e.g. {bad[:5]}"


# -- validators: method -> check(locale, values) ------------------------------------------------
def _person_set(locale: str, *attributes: str) -> set[str]:
    for attribute in attributes:
        if has_data(locale, attribute):
            return names_of(provider_data(locale, attribute))
    return {""}


def _affix_set(locale: str, kind: str, gender: str | None) -> set[str]:
    if gender and has_data(locale, f"{kind}es_{gender}"):
        return names_of(provider_data(locale, f"{kind}es_{gender}"))
    if has_data(locale, f"{kind}es"):
        return names_of(provider_data(locale, f"{kind}es"))
    found: set[str] = set()
    for other in ("male", "female", "nonbinary"):
        if has_data(locale, f"{kind}es_{other}"):
            found |= names_of(provider_data(locale, f"{kind}es_{other}"))
    return found or {""}


def _name_vocabulary(locale: str) -> set[str]:
    words: set[str] = set()
    for attribute in (
        "first_names", "first_names_male", "first_names_female", "last_names", "prefixes", "prefixes_male",
        "prefixes_female", "prefixes_nonbinary", "suffixes", "suffixes_male", "suffixes_female",
        "first_kana_names", "last_kana_names", "first_romanized_names", "last_romanized_names",
    ):
        if has_data(locale, attribute):
            for name in names_of(provider_data(locale, attribute)):
                words |= set(re.split(r"[\s-]+", name))
    return words


def check_name(locale: str, values: list[str]) -> None:
    vocabulary = _name_vocabulary(locale)
    bad = [v for v in values if not set(re.split(r"[\s-]+", v)) <= vocabulary]
    assert not bad, f"names with parts outside the provider lists: {bad[:3]}"


def check_state(locale: str, values: list[str]) -> None:
    attribute = {"en_US": "states", "de_DE": "states", "fr_FR": "regions", "ja_JP": "prefectures"}[locale]
    assert_within(values, names_of(provider_data(locale, attribute)), "state")


def check_postcode(locale: str, values: list[str]) -> None:
    pattern = {"ja_JP": r"\d{3}-\d{4}"}.get(locale, r"\d{5}")
    assert_all_match(values, pattern, "postcode")
    if locale == "en_US":
        assert all(501 <= int(v) <= 99950 for v in values)
    if locale == "fr_FR":
        departments = {
            d[0].replace("2A", "20").replace("2B", "20") for d in provider_data(locale, "departments")
        }
        assert all(v[:2] in departments or v[:3] in departments for v in values)


def template_regex(template: str, tokens: dict[str, str]) -> str:
    """A Faker format: ``{{tokens}}`` from ``tokens``, the rest numerified."""
    pieces, position = [], 0
    for match in re.finditer(r"\{\{\s*(\w+)\s*\}\}", template):
        pieces.append(numerify_regex(template[position : match.start()]))
        pieces.append(tokens[match.group(1)])
        position = match.end()
    pieces.append(numerify_regex(template[position:]))
    return "".join(pieces)


def alternation_regex(patterns: Iterable[str]) -> str:
    return "(?:" + "|".join(sorted(set(patterns))) + ")"


def check_phone(locale: str, values: list[str]) -> None:
    provider = faker_generator(locale).phone_number.__self__
    tokens = {}
    if hasattr(provider, "area_codes"):
        codes = provider.area_codes
        split = (numerify_regex(f"{c[0]} {c[1:]}") for c in codes)
        tokens["area_code_with_separator"] = alternation_regex(split)
        tokens["area_code_without_separator"] = alternation_regex(numerify_regex(c) for c in codes)
    pattern = "|".join(template_regex(t, tokens) for t in provider.formats)
    assert_all_match(values, pattern, "phone number")


def check_ssn(locale: str, values: list[str]) -> None:
    if locale in ("en_US", "ja_JP"):
        assert_all_match(values, r"\d{3}-\d{2}-\d{4}", "ssn")
        for value in values:
            area, group, serial = (int(p) for p in value.split("-"))
            assert 1 <= area <= 899 and area != 666 and 1 <= group <= 99 and 1 <= serial <= 9999, value
    elif locale == "de_DE":
        assert_all_match(values, r"\d{3}-\d{2}-\d{4}", "ssn")
    else:
        places = {f"{d[0]}{d[1]}" for d in provider_data(locale, "departments_and_municipalities")}
        assert_all_match(values, r"[12]\d{4}[0-9AB]{2}\d{8}", "NIR")
        for value in values:
            assert 1 <= int(value[3:5]) <= 12 and value[5:10] in places, value
            body = value[:13].replace("2A", "19").replace("2B", "18")
            assert 97 - int(body) % 97 == int(value[13:]), value


def check_user_name(locale: str, values: list[str]) -> None:
    assert_all_match(values, r"[a-z0-9_-]+", "user name")


def _domains(locale: str, attribute: str) -> set[str]:
    return {d.lower() for d in provider_data(locale, attribute)}


def check_email(locale: str, values: list[str], domains: set[str] | None = None) -> None:
    assert_all_match(values, r"[a-z0-9_.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", "email")
    if domains is not None:
        assert_within([v.split("@")[1] for v in values], domains, "email domain")


def check_ipv4(kind: str) -> Callable[[str, list[str]], None]:
    private = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    reserved = [
        ipaddress.ip_network(n) for n in ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4")
    ]

    def check(locale: str, values: list[str]) -> None:
        for value in values:
            address = ipaddress.IPv4Address(value)
            assert str(address) == value
            assert not any(address in n for n in reserved), value
            if kind == "private":
                assert any(address in n for n in private), value
            if kind == "public":
                assert not any(address in n for n in private), value

    return check


def check_ipv6(locale: str, values: list[str]) -> None:
    for value in values:
        address = ipaddress.IPv6Address(value)
        assert str(address) == value and int(address) >= 2**32


def _lorem(locale: str) -> tuple[set[str], str, str]:
    provider = faker_generator(locale).word.__self__
    return set(provider.word_list), provider.word_connector, provider.sentence_punctuation


def _is_sentence(text: str, words: set[str], connector: str, punctuation: str, most: int) -> bool:
    if not text.endswith(punctuation):
        return False
    body = text[: -len(punctuation)]
    starts = {w.title() for w in words}
    # reachable[i]: the word counts that can cover body[:i] (later words carry their connector)
    reachable: dict[int, set[int]] = {0: {0}}
    for end in range(1, len(body) + 1):
        counts: set[int] = set()
        for begin, before in reachable.items():
            if begin >= end:
                continue
            piece = body[begin:end]
            if begin == 0 and piece in starts:
                counts |= {c + 1 for c in before if c == 0}
            elif begin > 0 and piece.startswith(connector) and piece[len(connector) :] in words:
                counts |= {c + 1 for c in before if c > 0}
        if counts:
            reachable[end] = counts
    return any(1 <= c <= most for c in reachable.get(len(body), set()))


def check_sentence(locale: str, values: list[str]) -> None:
    words, connector, punctuation = _lorem(locale)
    bad = [v for v in values[:500] if not _is_sentence(v, words, connector, punctuation, 8)]
    assert not bad, f"sentences not made of the locale's words: {bad[:2]}"


def _split_sentences(paragraph: str, connector: str, punctuation: str) -> list[str]:
    pieces = paragraph.split(punctuation + connector) if connector else paragraph.split(punctuation)
    sentences = [p + punctuation for p in pieces if p]
    if not connector:
        return sentences
    sentences[-1] = sentences[-1][: -len(punctuation)] if paragraph.endswith(punctuation) else sentences[-1]
    return sentences


def check_paragraph(locale: str, values: list[str]) -> None:
    words, connector, punctuation = _lorem(locale)
    for paragraph in values[:300]:
        sentences = _split_sentences(paragraph, connector, punctuation)
        assert 1 <= len(sentences) <= 4, paragraph
        assert all(_is_sentence(s, words, connector, punctuation, 8) for s in sentences), paragraph


def check_text(locale: str, values: list[str]) -> None:
    words, connector, punctuation = _lorem(locale)
    assert all(0 < len(v) <= 200 for v in values)
    for text in values[:200]:
        for paragraph in text.split("\n"):
            sentences = _split_sentences(paragraph, connector, punctuation)
            assert all(_is_sentence(s, words, connector, punctuation, 8) for s in sentences), text


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def check_card_number(locale: str, values: list[str]) -> None:
    cards = faker_generator(locale).credit_card_number.__self__.credit_card_types.values()
    shapes = [(card.length, re.compile(numerify_regex(p))) for card in cards for p in card.prefixes]
    for value in values:
        assert value.isdigit() and luhn_valid(value), value
        assert any(len(value) == n and prefix.match(value) for n, prefix in shapes), value


def check_expiry(locale: str, values: list[str]) -> None:
    assert_all_match(values, r"(0[1-9]|1[0-2])/\d{2}", "expiry")
    months = {(int(v[3:]), int(v[:2])) for v in values}
    assert min(months) >= (24, 1) and max(months) <= (34, 1)


def iban_valid(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def check_bban(locale: str, values: list[str]) -> None:
    template = faker_generator(locale).bban.__self__.bban_format
    assert_all_match(values, numerify_regex(template, "A-Z"), "bban")


def check_iban(locale: str, values: list[str]) -> None:
    provider = faker_generator(locale).iban.__self__
    assert all(v[:2] == provider.country_code and iban_valid(v) for v in values), values[:3]
    check_bban(locale, [v[4:] for v in values])


def within(*attributes: str) -> Callable[[str, list[str]], None]:
    def check(locale: str, values: list[str]) -> None:
        assert_within(values, _person_set(locale, *attributes), "/".join(attributes))

    return check


def affix(kind: str, gender: str | None = None) -> Callable[[str, list[str]], None]:
    def check(locale: str, values: list[str]) -> None:
        assert_within(values, _affix_set(locale, kind, gender), kind)

    return check


def formatted(attribute: str) -> Callable[[str, list[str]], None]:
    def check(locale: str, values: list[str]) -> None:
        if locale == "ja_JP" and attribute == "city_formats":
            assert_within(values, set(provider_data(locale, "cities")), "city")
            return
        assert_all_match(values, formats_regex(locale, provider_data(locale, attribute)), attribute)

    return check


def numerified(attribute: str) -> Callable[[str, list[str]], None]:
    def check(locale: str, values: list[str]) -> None:
        pattern = "|".join(numerify_regex(f) for f in provider_data(locale, attribute))
        assert_all_match(values, pattern, attribute)

    return check


def company(locale: str, values: list[str]) -> None:
    formats = faker_generator(locale).company.__self__.formats
    assert_all_match(values, formats_regex(locale, formats), "company")


VALIDATORS: dict[str, Callable[[str, list[str]], None]] = {
    "first_name": within("first_names"),
    "last_name": within("last_names"),
    "first_name_male": within("first_names_male", "first_names"),
    "first_name_female": within("first_names_female", "first_names"),
    "first_name_nonbinary": within("first_names_nonbinary", "first_names"),
    "last_name_male": within("last_names_male", "last_names"),
    "last_name_female": within("last_names_female", "last_names"),
    "first_kana_name": within("first_kana_names"),
    "last_kana_name": within("last_kana_names"),
    "first_romanized_name": within("first_romanized_names"),
    "last_romanized_name": within("last_romanized_names"),
    "name": check_name,
    "name_male": check_name,
    "name_female": check_name,
    "kana_name": lambda locale, values: assert_all_match(
        values, alternation(provider_data(locale, "last_kana_names")) + " "
        + alternation(provider_data(locale, "first_kana_names")), "kana name"),
    "romanized_name": lambda locale, values: assert_all_match(
        values, alternation(provider_data(locale, "first_romanized_names")) + " "
        + alternation(provider_data(locale, "last_romanized_names")), "romanized name"),
    "prefix": affix("prefix"),
    "prefix_male": affix("prefix", "male"),
    "prefix_female": affix("prefix", "female"),
    "suffix": affix("suffix"),
    "suffix_male": affix("suffix", "male"),
    "suffix_female": affix("suffix", "female"),
    "address": formatted("address_formats"),
    "street_address": formatted("street_address_formats"),
    "street_name": formatted("street_name_formats"),
    "city": formatted("city_formats"),
    "building_number": numerified("building_number_formats"),
    "secondary_address": numerified("secondary_address_formats"),
    "postcode": check_postcode,
    "zipcode": check_postcode,
    "country": lambda locale, values: assert_within(
        values, set(provider_data(locale, "countries", "country")), "country"),
    "country_code": lambda locale, values: assert_within(
        values, set(provider_data(locale, "alpha_2_country_codes", "country_code")), "country code"),
    "state": check_state,
    "administrative_unit": check_state,
    "state_abbr": lambda locale, values: assert_all_match(values, "[A-Z]{2}", "state abbreviation"),
    "phone_number": check_phone,
    "msisdn": numerified("msisdn_formats"),
    "company": company,
    "job": lambda locale, values: assert_within(values, set(provider_data(locale, "jobs", "job")), "job"),
    "ssn": check_ssn,
    "user_name": check_user_name,
    "email": lambda locale, values: check_email(locale, values, _domains(locale, "safe_domain_names")),
    "safe_email": lambda locale, values: check_email(locale, values, _domains(locale, "safe_domain_names")),
    "free_email": lambda locale, values: check_email(locale, values, _domains(locale, "free_email_domains")),
    "company_email": lambda locale, values: check_email(locale, values),
    "domain_name": lambda locale, values: assert_all_match(
        values, r"[a-z0-9-]+\." + alternation(provider_data(locale, "tlds")), "domain"),
    "ipv4": check_ipv4("any"),
    "ipv4_private": check_ipv4("private"),
    "ipv4_public": check_ipv4("public"),
    "ipv6": check_ipv6,
    "word": lambda locale, values: assert_within(values, _lorem(locale)[0], "word"),
    "sentence": check_sentence,
    "paragraph": check_paragraph,
    "text": check_text,
    "credit_card_number": check_card_number,
    "credit_card_security_code": lambda locale, values: assert_all_match(values, r"\d{3,4}", "security code"),
    "credit_card_expire": check_expiry,
    "iban": check_iban,
    "bban": check_bban,
}

# Methods a locale's Faker does not have: the rule must say so.
MISSING = {
    ("de_DE", "state_abbr"), ("fr_FR", "state_abbr"), ("ja_JP", "state_abbr"),
    ("de_DE", "secondary_address"), ("fr_FR", "secondary_address"), ("ja_JP", "secondary_address"),
    *{(locale, method) for locale in ("en_US", "de_DE", "fr_FR") for method in (
        "first_kana_name", "last_kana_name", "kana_name", "first_romanized_name", "last_romanized_name",
        "romanized_name")},
}
# Faker itself returns "" here (the locale has no such data).
MAY_BE_EMPTY = {"prefix", "prefix_male", "prefix_female", "suffix", "suffix_male", "suffix_female"}

CASES = [(locale, method) for locale in LOCALES for method in faker_rules.VECTORISED_METHODS]


def test_every_vectorised_method_has_a_validator() -> None:
    assert set(faker_rules.VECTORISED_METHODS) == set(VALIDATORS)


@pytest.mark.parametrize(("locale", "method"), CASES)
def test_values_come_from_the_provider(locale: str, method: str) -> None:
    rule, issues = make_rule(method, locale)
    if (locale, method) in MISSING:
        assert issues.errors and "unknown Faker method" in issues.errors[0].message
        return
    assert not issues.errors, issues.errors
    assert rule.vectorised and "pooled" not in rule.describe(), rule.describe()
    assert rule.output_type == "str"
    values = generate(rule)
    assert len(values) == ROWS and all(isinstance(v, str) for v in values)
    if method in MAY_BE_EMPTY and "" in values:
        assert getattr(faker_generator(locale), method)() == ""
    else:
        assert all(values), "empty values"
    VALIDATORS[method](locale, values)


@pytest.mark.parametrize(("locale", "method"), CASES)
def test_rows_are_a_pure_function_of_key_and_index(locale: str, method: str) -> None:
    if (locale, method) in MISSING:
        return
    rule, _ = make_rule(method, locale)
    whole = generate(rule, 1000)
    assert generate(rule, 400) + generate(rule, 600, start=400) == whole
    assert generate(rule, 1000) == whole
    if len(set(whole)) > 1:
        assert generate(rule, 1000, key="other") != whole


@pytest.mark.parametrize(("locale", "method"), [("de_DE", "zipcode"), ("fr_FR", "Zip Code"),
                                                ("fr_FR", "state"), ("ja_JP", "State")])
def test_missing_methods_with_a_stand_in_are_corrected(locale: str, method: str) -> None:
    rule, issues = make_rule(method, locale)
    assert not issues.errors and issues.corrections
    assert rule.method in ("postcode", "administrative_unit") and rule.vectorised


def test_french_phone_area_codes_stay_whole() -> None:
    # area_code_with_separator splits one drawn area code in two: both halves must agree.
    rule, _ = make_rule("phone_number", "fr_FR")
    codes = provider_data("fr_FR", "area_codes")
    pattern = re.compile(alternation_regex(numerify_regex(c) for c in codes))
    for value in generate(rule, 5000):
        digits = re.sub(r"\D", "", value)
        digits = digits[2:] if value.startswith("+33") else digits
        digits = digits[1:] if digits.startswith("0") else digits
        assert pattern.fullmatch(digits[:3]), value


def test_expiry_dates_follow_as_of_not_the_clock() -> None:
    early, _ = make_rule("cc_expiry_date", "en_US")
    assert early.method == "credit_card_expire"
    assert generate(early, 100) == generate(early, 100)
    issues = Issues()
    settings = Settings(seed=1, locale="en_US", as_of=dt.date(2030, 6, 1), as_of_explicit=True)
    ctx = RuleContext(place="p", table="t", column="c", column_type="str", settings=settings, issues=issues)
    later = lookup_rule("cc_expiry_date", "en_US")({"type": "cc_expiry_date"}, ctx)
    years = {int(v[3:]) for v in generate(later, 2000)}
    assert min(years) >= 30 and max(years) <= 40


def test_params_are_honoured_column_wise() -> None:
    amex, _ = make_rule("credit_card_number", "en_US", params={"card_type": "amex"})
    assert amex.vectorised
    assert all(len(v) == 15 and v[:2] in ("34", "37") and luhn_valid(v) for v in generate(amex, 2000))
    short, _ = make_rule("sentence", "en_US", params={"nb_words": 3, "variable_nb_words": False})
    assert all(len(v.split(" ")) == 3 for v in generate(short, 1000))
    words, _ = make_rule("word", "fr_FR", params={"ext_word_list": ["alpha", "beta"]})
    assert set(generate(words, 1000)) == {"alpha", "beta"}
    tiny, _ = make_rule("text", "de_DE", params={"max_nb_chars": 20})
    values = generate(tiny, 2000)
    assert all(0 < len(v) <= 20 and v.endswith(".") and v[0].isupper() for v in values)
    mid, _ = make_rule("text", "en_US", params={"max_nb_chars": 60})
    assert all(0 < len(v) <= 60 and "\n" not in v for v in generate(mid, 2000))
    own_domain, _ = make_rule("email", "de_DE", params={"domain": "Firma.de"})
    assert all(v.endswith("@firma.de") for v in generate(own_domain, 500))


def test_unsupported_params_fall_back_to_the_pool() -> None:
    rule, issues = make_rule("ipv4", "en_US", params={"network": True})
    assert not issues.errors
    assert not rule.vectorised and rule.describe().startswith("faker pool ipv4")
    assert all("/" in v for v in generate(rule, 200))


@pytest.mark.parametrize("locale", ["en_US", "ja_JP"])
def test_empty_and_single_row_requests(locale: str) -> None:
    for method in faker_rules.VECTORISED_METHODS:
        if (locale, method) in MISSING:
            continue
        rule, _ = make_rule(method, locale)
        for count in (0, 1):
            assert len(generate(rule, count)) == count, method
            if rule.enumerable():
                assert len(rule.value_at(np.arange(count, dtype=np.uint64))) == count, method
