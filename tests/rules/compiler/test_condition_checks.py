"""Conditions must compare like with like, and with values the column can hold (issue 14, items 1 and 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.core.errors import ConfigError
from synthbeam.rules.engine.batch import generate_batch
from tests.conftest import one_table

FIXTURES = Path(__file__).parents[1] / "fixtures" / "silent"


def compiled(write_config, config: dict) -> tuple[list[str], list[str]]:
    """(warnings, errors) of compiling ``config``."""
    config.setdefault("as_of", "2026-01-01")
    try:
        _, issues = build_plan(str(write_config(config)))
    except ConfigError as exc:
        return [], [str(issue) for issue in exc.issues]
    return [str(w) for w in issues.warnings], []


def conditional(when: list[dict], read: dict) -> list[dict]:
    return [
        read,
        {
            "name": "x",
            "type": "str",
            "rule": {"type": "fixed", "value": "no"},
            "conditional_rules": [{"when": when, "rule": {"type": "fixed", "value": "yes"}}],
        },
    ]


DIGITS = {"name": "score", "type": "str", "rule": {"type": "regex", "regex": "[0-9]{1,3}"}}


def test_a_number_against_a_text_column_is_a_placed_error() -> None:
    with pytest.raises(ConfigError) as caught:
        build_plan(str(FIXTURES / "c51_condtypes.json"))
    (error,) = [str(issue) for issue in caught.value.issues]
    assert error.startswith("t.columns[3] (x).conditional_rules[0].when[0]: value 50 is a number but score is a str")
    assert 'write "50"' in error


@pytest.mark.parametrize(
    ("read", "operator", "value", "expected"),
    [
        (DIGITS, "in", ["7", 50], "in list item 50 is a number but score is a str column"),
        (DIGITS, "not_in", [True], 'write "True"'),
        ({"name": "n", "type": "int"}, ">", "50", "is text but n is an int column: write 50"),
        ({"name": "n", "type": "float"}, "==", True, "is a bool but n is a float column"),
        ({"name": "b", "type": "bool"}, "==", "true", "is text but b is a bool column: compare with true or false"),
        ({"name": "d", "type": "date"}, ">=", 20200701, 'd is a date column: write it as text, e.g. "2024-01-31"'),
    ],
)
def test_operand_types_must_fit_the_stored_type(write_config, read, operator, value, expected) -> None:
    when = [{"column": read["name"], "operator": operator, "value": value}]
    _, errors = compiled(write_config, one_table(conditional(when, read)))
    assert len(errors) == 1 and expected in errors[0], errors
    assert errors[0].startswith("t.columns[1] (x).conditional_rules[0].when[0]: ")


def test_a_condition_on_a_later_column_sees_its_corrected_type(write_config) -> None:
    # amount is declared str but a range with integer bounds makes it int (a listed correction)
    columns = conditional(
        [{"column": "amount", "operator": ">", "value": 50}],
        {"name": "amount", "type": "str", "rule": {"type": "range", "min": 1, "max": 100}},
    )
    warnings, errors = compiled(write_config, one_table(columns[::-1]))
    assert errors == [] and warnings == []


def test_well_typed_conditions_keep_their_rows() -> None:
    plan, issues = build_plan(str(FIXTURES / "c09_cond.json"))
    assert issues.warnings == []
    batch = generate_batch(plan, "t", 0, 3000).to_pydict()
    amounts = np.array([a if a is not None else 0 for a in batch["amt"]])
    assert [x == "gt50" for x in batch["x_gt"]] == list(amounts > 50)
    assert [x == 1 for x in batch["x_later"]] == [z == 1 for z in batch["z"]]


def test_a_value_the_choice_never_gives_warns() -> None:
    _, issues = build_plan(str(FIXTURES / "cond_bad_value.json"))
    (warning,) = [str(w) for w in issues.warnings if "never occurs" in str(w)]
    assert warning.startswith("subscriptions.columns[7] (canceled_on).conditional_rules[0].when[0]: ")
    assert 'value "cancelled" never occurs in status' in warning
    assert '"canceled"' in warning and "this condition never holds" in warning


CHOICE = {"name": "status", "type": "str", "rule": {"type": "choice", "value": ["new", "canceled"]}}
RANGE = {"name": "n", "type": "int", "rule": {"type": "range", "min": 1, "max": 100}}


@pytest.mark.parametrize(
    ("read", "operator", "value", "expected"),
    [
        (CHOICE, "!=", "cancelled", "this condition holds for every row with a value"),
        (CHOICE, "in", ["new", "cancelled"], 'value "cancelled" never occurs in status'),
        (CHOICE, "not_in", ["cancelled", "lost"], 'values "cancelled", "lost" never occur in status'),
        (RANGE, "==", 500, "value 500 never occurs in n (its values: [1, 100])"),
        (
            {"name": "code", "type": "str", "rule": {"type": "regex", "regex": "[AB][0-9]"}},
            "==",
            "C1",
            'value "C1" never occurs in code (its values: {"A0", "A1", "A2", "A3", "A4", "A5", ...})',
        ),
        (
            {"name": "tier", "type": "str", "rule": {"type": "choice", "value": ["gold", "silver"], "prefix": "T-"}},
            "==",
            "gold",
            'value "gold" never occurs in tier (its values: {"T-gold", "T-silver"})',
        ),
        (RANGE, ">", 100, "n > 100 never holds (its values: [1, 100])"),
        (RANGE, "<", 1, "n < 1 never holds"),
        (
            {"name": "b", "type": "bool", "rule": {"type": "bool", "probability": 1.0}},
            "==",
            False,
            "value false never occurs in b",
        ),
        (
            {"name": "d", "type": "date", "rule": {"type": "date_range", "start": "2020-01-01", "end": "2020-12-31"}},
            ">",
            "2021-01-01",
            'd > "2021-01-01" never holds',
        ),
    ],
)
def test_values_outside_what_the_column_holds_warn(write_config, read, operator, value, expected) -> None:
    when = [{"column": read["name"], "operator": operator, "value": value}]
    warnings, errors = compiled(write_config, one_table(conditional(when, read)))
    assert errors == []
    assert len(warnings) == 1 and expected in warnings[0], warnings


@pytest.mark.parametrize(
    ("read", "operator", "value"),
    [
        (CHOICE, "==", "new"),
        (CHOICE, "not_in", ["canceled"]),
        (RANGE, ">=", 100),
        (RANGE, "<=", 1),
        (RANGE, "in", [1, 50, 100]),
        ({"name": "code", "type": "str", "rule": {"type": "regex", "regex": "[AB][0-9]"}}, "in", ["A1", "B9"]),
        ({"name": "code", "type": "str", "rule": {"type": "regex", "regex": "[A-Z]{4}"}}, "==", "1234"),  # not listed
        # values a Faker rule makes are not known: nothing to say
        ({"name": "c", "type": "str", "rule": "city"}, "==", "Nowhere"),
        # a branch adds its values to what the column holds
        (
            {
                "name": "s",
                "type": "str",
                "rule": {"type": "fixed", "value": "a"},
                "conditional_rules": [{"when": [{"column": "m", "operator": ">", "value": 5}], "rule": "word"}],
            },
            "==",
            "zzz",
        ),
    ],
)
def test_reachable_values_do_not_warn(write_config, read, operator, value) -> None:
    when = [{"column": read["name"], "operator": operator, "value": value}]
    columns = [*conditional(when, read), {"name": "m", "type": "int", "rule": {"type": "range", "min": 1, "max": 9}}]
    warnings, errors = compiled(write_config, one_table(columns))
    assert errors == [] and warnings == [], (warnings, errors)


def _parent_child(when: dict) -> dict:
    return {
        "seed": 1,
        "as_of": "2026-01-01",
        "tables": [
            {
                "table_name": "org",
                "rows": 20_000,
                "columns": [
                    {"name": "org_id", "type": "int", "constraint": ["PK"]},
                    {"name": "tier", "type": "str", "rule": {"type": "choice", "value": ["free", "pro"]},
                     "constraint": []},
                ],
            },
            {
                "table_name": "user",
                "rows": 50,
                "columns": [
                    {"name": "org_id", "type": "int"},
                    {"name": "tier", "type": "str"},
                    {"name": "x", "type": "str", "rule": {"type": "fixed", "value": "n"},
                     "conditional_rules": [{"when": [when], "rule": {"type": "fixed", "value": "y"}}]},
                ],
                "foreign_keys": [
                    {"child_column": "org_id", "parent_table": "org", "parent_column": "org_id"},
                    {"child_column": "tier", "parent_table": "org", "parent_column": "tier"},
                ],
            },
        ],
    }  # fmt: skip


def test_a_foreign_key_holds_its_parent_columns_values(write_config) -> None:
    _, issues = build_plan(str(write_config(_parent_child({"column": "tier", "operator": "==", "value": "Pro"}))))
    assert 'user.columns[2] (x).conditional_rules[0].when[0]: value "Pro" never occurs in tier' in [
        str(w).split(" (its values")[0] for w in issues.warnings
    ]


def test_a_sequence_key_is_not_bounded_by_its_default_rule(write_config) -> None:
    # org_id is 1..20,000 (a sequence), although an int column's default rule is range 0..10000
    _, issues = build_plan(str(write_config(_parent_child({"column": "org_id", "operator": ">", "value": 15_000}))))
    assert not [w for w in issues.warnings if "never" in str(w)]
