"""Values computed from protected columns are protected like them (issue #12 item 8)."""

from __future__ import annotations

from typing import Any

from synthbeam.rules.engine.batch import generate_batch
from synthbeam.rules.security.apply import protect_batch
from synthbeam.rules.security.policy import plan_security
from tests.conftest import one_table

DOB = {
    "name": "dob",
    "type": "date",
    "rule": {"type": "date_range", "start": "1950-01-01", "end": "2000-01-01"},
    "sensitivity": "PII",
    "masking": {"strategy": "null"},
}


def _config(columns: list[dict[str, Any]], **security: Any) -> dict[str, Any]:
    config = one_table(columns, rows=200)
    config["security"] = {"enable_data_masking": True, **security}
    return config


def test_same_row_reference_inherits_null_masking(make_plan) -> None:
    copy = {"name": "dob_copy", "type": "date", "sensitivity": "PUBLIC",
            "rule": {"type": "date_range", "start": {"column": "dob"}, "end": {"column": "dob"}}}
    plan = make_plan(_config([DOB, copy]))
    security_plan, issues = plan_security(plan, env={})
    assert not issues.errors
    assert security_plan.masked() == {"t": {"dob": "null", "dob_copy": "null"}}
    assert "t.columns[1] (dob_copy): masked with 'null' like dob, whose values it is computed from" in [
        str(c) for c in issues.corrections
    ]
    batch = generate_batch(plan, "t", 0, 200)
    assert batch.column("dob_copy").equals(batch.column("dob"))  # the leak: a copy of the original
    protected = protect_batch(batch, "t", 0, security_plan)
    assert protected.column("dob_copy").null_count == 200


def test_fixed_copy_and_chains_inherit(make_plan) -> None:
    columns = [
        {"name": "email", "type": "email", "sensitivity": "PII"},
        {"name": "copy1", "type": "str", "rule": {"type": "fixed", "value": {"column": "email"}}},
        {"name": "copy2", "type": "str", "rule": {"type": "fixed", "value": {"column": "copy1"}}},
    ]
    plan = make_plan(_config(columns))
    security_plan, _ = plan_security(plan, env={})
    assert security_plan.masked() == {"t": {"email": "partial", "copy1": "partial", "copy2": "partial"}}
    batch = generate_batch(plan, "t", 0, 200)
    originals = set(batch.column("email").to_pylist())
    assert set(batch.column("copy2").to_pylist()) == originals  # fixed with a reference copies the value
    protected = protect_batch(batch, "t", 0, security_plan)
    assert not originals & set(protected.column("copy2").to_pylist())
    assert protected.column("copy2").equals(protected.column("email"))


def test_encryption_is_inherited_and_reported(make_plan, monkeypatch) -> None:
    from synthbeam.rules.security import crypto

    monkeypatch.setenv("K", crypto.encode_key(bytes(range(32))))
    columns = [
        {"name": "born", "type": "date", "sensitivity": "PII",
         "rule": {"type": "date_range", "start": "1950-01-01", "end": "2000-01-01"}},
        {"name": "born_again", "type": "date", "rule": {"type": "fixed", "value": {"column": "born"}}},
    ]
    config = _config(columns, enable_encryption=True, key_env="K")
    security_plan, issues = plan_security(make_plan(config), env={"K": crypto.encode_key(bytes(range(32)))})
    assert not issues.errors
    assert security_plan.encrypted() == {"t": {"born": "date", "born_again": "date"}}


def test_text_masking_that_cannot_apply_is_refused(make_plan) -> None:
    columns = [
        {"name": "code", "type": "str", "rule": {"type": "regex", "regex": "[1-9][0-9]{2}"}, "sensitivity": "PII"},
        {"name": "n", "type": "int", "rule": {"type": "range", "min": {"column": "code"}, "max": 1000}},
    ]
    _, issues = plan_security(make_plan(_config(columns)), env={})
    assert [str(e) for e in issues.errors] == [
        "t.columns[1] (n): its values are computed from code, which is masked with 'partial', and that masking "
        "makes text, which a column of type int cannot hold: mask this column itself "
        '("masking": {"strategy": "null"}), enable encryption, or do not refer to the protected column'
    ]


def test_cross_table_reference_inherits(make_plan) -> None:
    config = {
        "seed": 2,
        "security": {"enable_data_masking": True},
        "tables": [
            {"table_name": "people", "rows": 20, "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}, DOB]},
            {
                "table_name": "orders",
                "rows": 50,
                "columns": [
                    {"name": "pid", "type": "int"},
                    {"name": "ordered", "type": "date",
                     "rule": {"type": "date_range", "start": {"column": "people.dob"}, "end": "2001-01-01"}},
                ],
                "foreign_keys": [{"child_column": "pid", "parent_table": "people", "parent_column": "id"}],
            },
        ],
    }
    plan = make_plan(config)
    security_plan, issues = plan_security(plan, env={})
    assert security_plan.masked()["orders"] == {"ordered": "null"}
    assert "orders.columns[1] (ordered): masked with 'null' like people.dob, whose values it is computed from" in [
        str(c) for c in issues.corrections
    ]


def test_a_condition_on_a_protected_column_warns(make_plan) -> None:
    adult = {"name": "adult", "type": "str", "rule": {"type": "fixed", "value": "no"},
             "conditional_rules": [{"when": [{"column": "dob", "operator": "<", "value": "1990-01-01"}],
                                    "rule": {"type": "fixed", "value": "yes"}}]}
    security_plan, issues = plan_security(make_plan(_config([DOB, adult])), env={})
    assert not issues.errors and security_plan.masked() == {"t": {"dob": "null"}}
    assert [str(w) for w in issues.warnings] == [
        "t.columns[1] (adult).conditional_rules[0]: tests dob, which is masked with 'null': which rule a row got "
        "can reveal its value in clear; protect this column too, or test an unprotected column"
    ]


def test_a_refused_column_is_reported_once_even_when_foreign_keys_change_later(make_plan) -> None:
    config = _config(
        [
            {"name": "code", "type": "str", "rule": {"type": "regex", "regex": "[1-9][0-9]{2}"}, "sensitivity": "PII"},
            {"name": "n", "type": "int", "rule": {"type": "range", "min": {"column": "code"}, "max": 1000}},
        ]
    )
    config["tables"][0]["columns"].insert(0, {"name": "id", "type": "int", "constraint": ["PK"]})
    config["tables"].append(
        {
            "table_name": "child",
            "rows": 10,
            "columns": [{"name": "code_ref", "type": "str"}],
            "foreign_keys": [{"child_column": "code_ref", "parent_table": "t", "parent_column": "code"}],
        }
    )
    _, issues = plan_security(make_plan(config), env={})
    assert [e.place for e in issues.errors] == ["t.columns[2] (n)"]


def test_template_and_expr_columns_inherit_what_they_read(make_plan) -> None:
    """Rows that hang together: a template or expression built from PII is protected like the PII."""
    columns = [
        {"name": "first_name", "type": "str", "rule": "first_name", "sensitivity": "PII",
         "masking": {"strategy": "redact"}},
        {"name": "email", "type": "str", "sensitivity": "PUBLIC",
         "rule": {"type": "template", "template": "{first_name|lower}@example.com"}},
        {"name": "shout", "type": "str", "rule": {"type": "expr", "expr": "upper(first_name) || '!'"}},
        DOB,
        {"name": "due", "type": "date", "rule": {"type": "expr", "expr": "dob + INTERVAL 30 DAY"}},
    ]
    plan = make_plan(_config(columns))
    security_plan, issues = plan_security(plan, env={})
    assert not issues.errors
    assert security_plan.masked() == {
        "t": {"first_name": "redact", "email": "redact", "shout": "redact", "dob": "null", "due": "null"}
    }
    batch = protect_batch(generate_batch(plan, "t", 0, 200), "t", 0, security_plan)
    names = {n.lower() for n in generate_batch(plan, "t", 0, 200).column("first_name").to_pylist()}
    assert not any(e.split("@")[0] in names for e in batch.column("email").to_pylist() if e)
    assert batch.column("due").null_count == 200
