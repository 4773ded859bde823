"""The template rule: text from the row's columns and its parent's, column-wise, pure in those values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from synthbeam.rules.core.errors import ConfigError
from synthbeam.rules.engine.batch import generate_batch, generate_columns
from synthbeam.rules.generators.template import parse_filter, parse_template
from tests.conftest import one_table

ORG = {
    "table_name": "org",
    "rows": 20,
    "columns": [
        {"name": "org_id", "type": "int", "constraint": ["PK"]},
        {"name": "domain", "type": "str", "rule": "domain_name"},
    ],
}


def people(email_rule: dict, rows: int = 300, extra: list | None = None) -> dict:
    return {
        "seed": 7,
        "tables": [
            ORG,
            {
                "table_name": "users",
                "rows": rows,
                "columns": [
                    {"name": "user_id", "type": "int", "constraint": ["PK"]},
                    {"name": "org_id", "type": "int"},
                    {"name": "first_name", "type": "str", "rule": {"type": "choice", "value": ["Renée", "Mary Ann"]}},
                    {"name": "last_name", "type": "str", "rule": {"type": "choice", "value": ["O'Brien", "Żak"]}},
                    {"name": "email", "type": "email", "rule": email_rule},
                    *(extra or []),
                ],
                "foreign_keys": [{"child_column": "org_id", "parent_table": "org", "parent_column": "org_id"}],
            },
        ],
    }


def test_email_from_the_rows_names_and_the_parents_domain(make_plan) -> None:
    rule = {
        "type": "template",
        "template": "{first_name|slug}.{last_name|alnum}@{org.domain}",
        "filters": ["lower"],
    }
    plan = make_plan(people(rule))
    users = generate_batch(plan, "users", 0, 300).to_pydict()
    org = generate_batch(plan, "org", 0, 20).to_pydict()
    domain_of = dict(zip(org["org_id"], org["domain"]))
    first = {"Renée": "renee", "Mary Ann": "mary-ann"}
    last = {"O'Brien": "obrien", "Żak": "zak"}
    expected = [
        f"{first[f]}.{last[s]}@{domain_of[o]}"
        for f, s, o in zip(users["first_name"], users["last_name"], users["org_id"])
    ]
    assert users["email"] == expected
    assert len(set(users["email"])) > 4  # several organizations' domains, not one constant


def test_number_formats_and_filters() -> None:
    from synthbeam.rules.generators.template import Field, _formatted

    values = pa.array([7, -42, 123456, None], pa.int64())
    assert _formatted(values, "05d").to_pylist() == ["00007", "-0042", "123456", None]
    assert _formatted(values, "d").to_pylist() == ["7", "-42", "123456", None]
    floats = pa.array([3.14159, -0.5, 12.0])
    assert _formatted(floats, ".2f").to_pylist() == [f"{v:.2f}" for v in (3.14159, -0.5, 12.0)]
    assert _formatted(floats, "07.2f").to_pylist() == [f"{v:07.2f}" for v in (3.14159, -0.5, 12.0)]
    field = Field("x", (parse_filter("upper"), parse_filter("truncate(3)")), "")
    assert field.text(pa.array(["hello", "ab", None])).to_pylist() == ["HEL", "AB", None]
    assert parse_filter("zfill(4)")(pa.array(["7", "12345"])).to_pylist() == ["0007", "12345"]
    assert parse_filter("ascii")(pa.array(["Ångström façade"])).to_pylist() == ["Angstrom facade"]


def test_a_null_field_makes_the_value_null_and_values_are_typed_as_text(make_plan) -> None:
    config = one_table(
        [
            {
                "name": "n",
                "type": "int",
                "rule": {"type": "range", "min": 1, "max": 99},
                "nullable": True,
                "null_probability": 0.5,
            },
            {"name": "d", "type": "date", "rule": {"type": "date_range", "start": "2024-01-01", "end": "2024-12-31"}},
            {"name": "code", "type": "str", "rule": {"type": "template", "template": "C{n:03d}/{d}"}},
        ],
        rows=200,
    )
    batch = generate_batch(make_plan(config), "t", 0, 200).to_pydict()
    for n, d, code in zip(batch["n"], batch["d"], batch["code"]):
        assert code == (None if n is None else f"C{n:03d}/{d.isoformat()}")
    assert None in batch["code"] and any(batch["code"])


def test_adding_a_template_column_changes_no_other_column(make_plan) -> None:
    rule = {"type": "template", "template": "{first_name}.{last_name}@{org.domain}"}
    before = make_plan(people(rule))
    extra = [{"name": "handle", "type": "str", "rule": {"type": "template", "template": "@{last_name|lower}"}}]
    after = make_plan(people(rule, extra=extra))
    old = generate_batch(before, "users", 0, 300)
    new = generate_batch(after, "users", 0, 300)
    for name in old.schema.names:
        assert new.column(name).equals(old.column(name)), name
    assert generate_batch(after, "org", 0, 20).equals(generate_batch(before, "org", 0, 20))


def test_values_do_not_depend_on_how_rows_are_split(make_plan) -> None:
    plan = make_plan(people({"type": "template", "template": "{first_name}@{org.domain}", "filters": ["slug"]}))
    whole = generate_columns(plan, "users", np.arange(300, dtype=np.uint64), ["email"])["email"]
    parts = [
        generate_columns(plan, "users", np.arange(a, b, dtype=np.uint64), ["email"])["email"]
        for a, b in ((0, 7), (7, 150), (150, 300))
    ]
    assert pa.concat_arrays(parts).equals(whole)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"type": "template", "template": "{nope}@x"}, "template field {nope} names no column of this table"),
        ({"type": "template", "template": "{first_name|shout}"}, "unknown filter 'shout'; filters are lower"),
        ({"type": "template", "template": "{first_name|truncate}"}, "filter truncate needs a whole number"),
        ({"type": "template", "template": "{user_id:x}"}, "format :x is not one of :d, :05d"),
        ({"type": "template", "template": "{first_name:05d}"}, "a number format needs an int or float column"),
        ({"type": "template", "template": "{first_name"}, "write {{ and }} for literal braces"),
        ({"type": "template", "template": "{x.domain}"}, "has no foreign key to x"),
        ({"type": "template", "template": "{org.nope}"}, "org has no column 'nope'"),
        ({"type": "template", "template": "{email}"}, "template field {email} is the column itself"),
        ({"type": "template", "template": "{first_name}", "filters": ["lower", "bogus"]}, "unknown filter 'bogus'"),
    ],
)
def test_mistakes_are_placed_config_errors(make_plan, rule, message) -> None:
    with pytest.raises(ConfigError) as caught:
        make_plan(people(rule))
    assert "users.columns[4] (email)" in str(caught.value)
    assert message in str(caught.value)


def test_parse_template_reports_conversions() -> None:
    _, problems = parse_template("{a!r}")
    assert problems == ["template field {a!r}: use filters (|upper), not !r"]


def test_a_unique_template_that_repeats_is_refused_with_the_fix(make_plan) -> None:
    columns = [
        {"name": "id", "type": "int", "constraint": ["PK"]},
        {"name": "f", "type": "str", "rule": {"type": "choice", "value": ["a", "b", "c"]}},
        {"name": "e", "type": "str", "constraint": ["unique"], "rule": {"type": "template", "template": "{f}@x.com"}},
    ]
    with pytest.raises(ConfigError) as caught:
        make_plan(one_table(columns, rows=50))
    assert "t.columns[2] (e): is unique, but 47 of 50 of its values repeat" in str(caught.value)
    assert "put a unique column in it" in str(caught.value)
    columns[2]["rule"]["template"] = "{f}{id}@x.com"
    batch = generate_batch(make_plan(one_table(columns, rows=50)), "t", 0, 50).to_pydict()
    assert batch["e"] == [f"{f}{i}@x.com" for f, i in zip(batch["f"], batch["id"])]


def test_nullable_inputs_warn_for_a_template_and_not_for_an_expression(write_config) -> None:
    from synthbeam.rules.compiler.compile import build_plan

    columns = [
        {"name": "f", "type": "str", "rule": "first_name", "nullable": True, "null_probability": 0.2},
        {"name": "e", "type": "str", "rule": {"type": "template", "template": "{f}@x.com"}},
        {"name": "g", "type": "str", "rule": {"type": "expr", "expr": "coalesce(f, 'none') || '@x.com'"}},
    ]
    _, issues = build_plan(str(write_config(one_table(columns, rows=100))))
    warnings = [str(w) for w in issues.warnings]
    assert any("t.columns[1] (e): template refers to f, which can be null" in w and "coalesce(" in w for w in warnings)
    assert not any("(g)" in w for w in warnings)


def test_unknown_parameters_name_the_declared_ones(make_plan) -> None:
    rule = {"type": "template", "template": "{first_name}", "filter": ["lower"]}
    with pytest.raises(ConfigError) as caught:
        make_plan(people(rule))
    assert (
        "users.columns[4] (email): unknown key 'filter' in the template rule: did you mean 'filters'?"
        in str(caught.value)
    )
    with pytest.raises(ConfigError, match="unknown key 'exp' in the expr rule: did you mean 'expr'"):
        make_plan(people({"type": "expr", "exp": "first_name"}))
