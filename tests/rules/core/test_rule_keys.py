"""Rule keys come from the classes' declarations: unknown ones are placed errors with the closest key (issue #13).

Each of these configs once validated with no warning and wrote wrong data (uniform choices, values
0..10000 instead of the written bounds, dates from 1950, Faker arguments ignored).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthbeam.rules.config import catalog  # noqa: F401
from synthbeam.rules.config.schema import config_schema
from synthbeam.rules.core.declared import rules_markdown, schema_description
from synthbeam.rules.core.registry import COMMON_PARAMS, iter_rule_classes
from tests.conftest import REPO, errors_of, one_table, single_error

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_misspelt_choice_probabilities(make_plan) -> None:
    rule = {"type": "choice", "value": ["x", "y"], "probabilites": {"x": 0.9}}
    message = single_error(make_plan, [{"name": "a", "type": "str", "rule": rule}])
    assert message == "t.columns[0] (a): unknown key 'probabilites' in the choice rule: did you mean 'probabilities'?"


def test_range_with_a_short_misspelling(make_plan) -> None:
    rule = {"type": "range", "mn": 500, "max": 510}
    message = single_error(make_plan, [{"name": "m", "type": "int", "rule": rule}])
    assert message == "t.columns[0] (m): unknown key 'mn' in the range rule: did you mean 'min'?"


def test_range_with_long_names(make_plan) -> None:
    rule = {"type": "range", "minimum": 5, "maximum": 9}
    errors = errors_of(make_plan, one_table([{"name": "m", "type": "int", "rule": rule}]))
    assert errors == [
        "t.columns[0] (m): unknown key 'minimum' in the range rule: did you mean 'min'?",
        "t.columns[0] (m): unknown key 'maximum' in the range rule: did you mean 'max'?",
    ]


def test_date_range_with_start_date_and_end_date(make_plan) -> None:
    rule = {"type": "date_range", "start_date": "2024-01-01", "end_date": "2024-12-31"}
    errors = errors_of(make_plan, one_table([{"name": "d", "type": "date", "rule": rule}]))
    assert errors == [
        "t.columns[0] (d): unknown key 'start_date' in the date_range rule: did you mean 'start'?",
        "t.columns[0] (d): unknown key 'end_date' in the date_range rule: did you mean 'end'?",
    ]


def test_faker_arguments_outside_params_say_put_it_in_params(make_plan) -> None:
    rule = {"type": "pyint", "min_value": 1, "max_value": 9}
    errors = errors_of(make_plan, one_table([{"name": "p", "type": "int", "rule": rule}]))
    assert errors == [
        "t.columns[0] (p): unknown key 'min_value' in the pyint rule: it is an argument of Faker pyint: "
        'put it in params, {"type": "pyint", "params": {"min_value": 1}}',
        "t.columns[0] (p): unknown key 'max_value' in the pyint rule: it is an argument of Faker pyint: "
        'put it in params, {"type": "pyint", "params": {"max_value": 9}}',
    ]


def test_vectorised_faker_rules_check_their_keys_too(make_plan) -> None:
    message = single_error(make_plan, [{"name": "n", "type": "str", "rule": {"type": "first_name", "pool": 5}}])
    assert message == "t.columns[0] (n): unknown key 'pool' in the first_name rule: did you mean 'pool_size'?"


def test_unknown_key_in_a_column_reference(make_plan) -> None:
    columns = [
        {
            "name": "issued_on",
            "type": "date",
            "rule": {"type": "date_range", "start": "2024-01-01", "end": "2024-06-30"},
        },
        {
            "name": "due",
            "type": "date",
            "rule": {"type": "date_range", "start": {"column": "issued_on", "offset_days": 30}, "end": "2025-12-31"},
        },
    ]
    message = single_error(make_plan, columns)
    # One error, about the key: not the misleading "not a valid date" the reference used to get.
    assert message.startswith(
        "t.columns[1] (due): start: unknown key 'offset_days' in the column reference to 'issued_on': "
    ), message
    assert "not a valid" not in message


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"min_valu": 1}, "params: 'min_valu' is not an argument of Faker pyint: did you mean 'min_value'?"),
        ({"digits": 3}, "params: 'digits' is not an argument of Faker pyint: it takes "),
    ],
)
def test_faker_params_are_checked_against_the_signature(make_plan, params, expected) -> None:
    rule = {"type": "pyint", "params": params}
    message = single_error(make_plan, [{"name": "p", "type": "int", "rule": rule}])
    assert message.startswith(f"t.columns[0] (p): {expected}"), message


def test_conditional_rules_check_their_keys(make_plan) -> None:
    columns = [
        {"name": "s", "type": "str", "rule": {"type": "choice", "value": ["a", "b"]}},
        {
            "name": "n",
            "type": "int",
            "conditional_rules": [
                {"when": [{"column": "s", "operator": "==", "value": "a"}], "rule": {"type": "range", "mx": 3}}
            ],
        },
    ]
    message = single_error(make_plan, columns)
    assert message == "t.columns[1] (n).conditional_rules[0]: unknown key 'mx' in the range rule: did you mean 'max'?"


@pytest.mark.parametrize(
    ("fixture", "count"),
    [("c41_typo.json", 5), ("c40_extra.json", 4)],
)
def test_repro_configs_are_rejected(make_plan, fixture, count) -> None:
    config = json.loads((FIXTURES / fixture).read_text())
    errors = errors_of(make_plan, config)
    assert len(errors) == count and all("unknown key" in e for e in errors), errors
    assert all("did you mean" in e or "put it in params" in e or "takes" in e for e in errors), errors


def test_declared_keys_pass(make_plan) -> None:
    """Every key a class declares is accepted (its own example, and the common keys)."""
    rule = {"type": "range", "min": 1, "max": 9, "precision": 0, "prefix": "#", "regex": "#[0-9]"}
    plan = make_plan(one_table([{"name": "n", "type": "str", "rule": rule}]))
    assert plan.tables["t"].column("n").rule is not None


# --- what the declarations make ----------------------------------------------------------------------


def test_docs_rules_md_is_what_the_declarations_give() -> None:
    written = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert written == rules_markdown(), (
        "docs/rules.md is out of date: python -c 'from synthbeam.rules import catalog; "
        "from synthbeam.rules.core.declared import write_docs; write_docs()'"
    )


def test_schema_describes_every_registered_rule_and_its_keys() -> None:
    description = config_schema()["$defs"]["rule_object"]["description"]
    assert description == schema_description()
    for cls in iter_rule_classes():
        assert cls.names[0] in description, cls
        for param in cls.parameters or ():
            assert param.name in description, (cls, param.name)


def test_common_keys_are_declared_once_on_the_base() -> None:
    common = {param.name for param in COMMON_PARAMS}
    assert common == {"type", "prefix", "suffix", "regex"}
    for cls in iter_rule_classes():
        own = {param.name for param in cls.parameters or ()}
        # Only the regex rule redeclares 'regex' (there it is the pattern, not a check).
        assert own & common <= ({"regex"} if cls.regex_is_pattern else set()), cls
