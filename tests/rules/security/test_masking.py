"""Masking: each strategy on real values, nulls kept, hashes keyed, and the plan-time choices."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pytest

from synthbeam.rules.engine.batch import generate_batch
from synthbeam.rules.security.apply import protect_batch, protected_schema
from synthbeam.rules.security.masking import (
    REDACTED,
    apply_masking,
    mask_hash,
    mask_null,
    mask_partial,
    mask_redact,
)
from synthbeam.rules.security.policy import plan_security
from tests.conftest import one_table

KEY_A = b"a" * 32
KEY_B = b"b" * 32


def strings(*values: str | None) -> pa.Array:
    return pa.array(list(values), pa.string())


# --- partial -----------------------------------------------------------------------------------


def test_partial_text_keeps_the_last_four_characters() -> None:
    masked = mask_partial(strings("Johnathan", "Smith", "héllo wörld", None, "")).to_pylist()
    assert masked == ["*****than", "*mith", "*******örld", None, ""]


def test_partial_never_reveals_a_whole_short_value() -> None:
    assert mask_partial(strings("Ann", "Bo", "Lee4", "x")).to_pylist() == ["***", "**", "****", "*"]


def test_partial_email_keeps_first_character_and_domain() -> None:
    masked = mask_partial(
        strings("john.doe@example.com", "a@b.org", "jane_smith+tag@mail.example.co.uk", None), "email"
    ).to_pylist()
    assert masked == ["j*****@example.com", "a*****@b.org", "j*****@mail.example.co.uk", None]


def test_partial_email_column_masks_non_email_values_as_text() -> None:
    assert mask_partial(strings("not an email", "@nouser.com"), "email").to_pylist() == [
        "********mail",
        "*******.com",
    ]


def test_partial_phone_keeps_last_four_digits_and_the_format() -> None:
    masked = mask_partial(
        strings("+1 (555) 123-4567", "555.867.5309", "001-202-555-0143x1234", "1234", "12-3", None), "phone"
    ).to_pylist()
    assert masked == [
        "+* (***) ***-4567",
        "***.***.5309",
        "***-***-***-****x1234",  # the last four digits are the extension's: the number loses all
        "****",  # four digits or fewer: nothing kept
        "**-*",
        None,
    ]


def test_partial_keeps_large_string_type() -> None:
    values = pa.array(["555-123-4567", None], pa.large_string())
    masked = mask_partial(values, "phone")
    assert masked.type == pa.large_string() and masked.to_pylist() == ["***-***-4567", None]


def test_partial_rejects_unknown_kind_and_non_strings() -> None:
    with pytest.raises(ValueError, match="kind"):
        mask_partial(strings("x"), "postcode")
    with pytest.raises(TypeError, match="string"):
        mask_partial(pa.array([1, 2]))


# --- redact, null -------------------------------------------------------------------------------


def test_redact_is_fixed_text_and_keeps_nulls() -> None:
    assert mask_redact(strings("secret", "", None)).to_pylist() == [REDACTED, REDACTED, None]


def test_null_works_on_every_type_and_keeps_it() -> None:
    for values in (pa.array([1, 2]), pa.array([1.5]), strings("a", None), pa.array([True])):
        masked = mask_null(values)
        assert masked.type == values.type and masked.null_count == len(values)


# --- hash ---------------------------------------------------------------------------------------


def test_hash_format_and_nulls() -> None:
    hashed = mask_hash(strings("alice", None, "bob"), KEY_A).to_pylist()
    assert hashed[1] is None
    assert all(re.fullmatch(r"h:[0-9a-f]{16}", text) for text in (hashed[0], hashed[2]))
    assert hashed[0] != hashed[2]


def test_hash_is_deterministic_and_consistent_across_rows() -> None:
    first = mask_hash(strings("alice", "bob", "alice"), KEY_A).to_pylist()
    again = mask_hash(strings("bob", "alice"), KEY_A).to_pylist()
    assert first[0] == first[2] == again[1] and first[1] == again[0]


def test_hash_is_keyed() -> None:
    import hashlib

    hashed_a = mask_hash(strings("alice"), KEY_A).to_pylist()[0]
    hashed_b = mask_hash(strings("alice"), KEY_B).to_pylist()[0]
    assert hashed_a != hashed_b
    # not an unkeyed digest of the value
    assert hashed_a[2:] != hashlib.sha256(b"alice").hexdigest()[:16]


def test_apply_masking_dispatch_and_errors() -> None:
    values = strings("Johnathan")
    assert apply_masking(values, "partial").to_pylist() == ["*****than"]
    assert apply_masking(values, "redact").to_pylist() == [REDACTED]
    assert apply_masking(values, "null").to_pylist() == [None]
    assert apply_masking(values, "hash", hash_key=KEY_A).equals(mask_hash(values, KEY_A))
    with pytest.raises(ValueError, match="needs a key"):
        apply_masking(values, "hash")
    with pytest.raises(ValueError, match="unknown masking strategy"):
        apply_masking(values, "scramble")


# --- the plan-time decision ------------------------------------------------------------------------


def _columns() -> list[dict[str, Any]]:
    return [
        {"name": "id", "type": "int", "constraint": ["PK"]},
        {"name": "email", "type": "str", "rule": {"type": "email"}, "sensitivity": "PII"},
        {"name": "phone", "type": "phone", "sensitivity": "PII", "nullable": True, "null_probability": 0.3},
        {"name": "first_name", "type": "str", "rule": "first_name", "sensitivity": "pii"},
        {"name": "iban", "type": "str", "rule": "iban", "sensitivity": "SENSITIVE"},
        {"name": "salary", "type": "int", "sensitivity": "CONFIDENTIAL", "masking": {"strategy": "null"}},
        {"name": "city", "type": "str", "rule": "city", "sensitivity": "INTERNAL"},
        {"name": "notes", "type": "str", "rule": "word", "masking": {"strategy": "redact"}},
    ]


def _config(columns: list[dict[str, Any]], **security: Any) -> dict[str, Any]:
    config = one_table(columns, rows=200)
    config["security"] = {"enable_data_masking": True, **security}
    return config


def test_defaults_by_sensitivity_and_explicit_strategies(make_plan) -> None:
    plan = make_plan(_config(_columns()))
    security_plan, issues = plan_security(plan, env={})
    assert not issues.errors
    assert security_plan.masked() == {
        "t": {
            "email": "partial",
            "phone": "partial",
            "first_name": "partial",
            "iban": "hash",
            "salary": "null",
            "notes": "redact",
        }
    }
    kinds = {p.column: p.partial_kind for p in security_plan.columns("t")}
    assert kinds["email"] == "email" and kinds["phone"] == "phone" and kinds["first_name"] == "text"
    assert security_plan.encrypted() == {}
    assert security_plan.hash_key_source == "seed"
    assert any("pseudonyms" in str(w) for w in issues.warnings)


def test_masking_disabled_leaves_everything(make_plan) -> None:
    config = _config(_columns())
    config["security"]["enable_data_masking"] = False
    security_plan, issues = plan_security(make_plan(config), env={})
    assert not issues.errors and not security_plan.active


def test_protect_batch_masks_generated_rows(make_plan) -> None:
    plan = make_plan(_config(_columns()))
    security_plan, _ = plan_security(plan, env={})
    batch = generate_batch(plan, "t", 0, 200)
    protected = protect_batch(batch, "t", 0, security_plan)
    assert protected.schema == protected_schema(plan.table("t"), security_plan)
    original, masked = batch.to_pydict(), protected.to_pydict()
    assert masked["id"] == original["id"] and masked["city"] == original["city"]
    for before, after in zip(original["email"], masked["email"]):
        local, domain = before.split("@")
        assert after == f"{local[0]}*****@{domain}"
    for before, after in zip(original["phone"], masked["phone"]):
        if before is None:
            assert after is None
        else:
            digits = [c for c in before if c.isdigit()]
            assert [c for c in after if c.isdigit()] == digits[-4:]
            assert [c for c in after if not c.isdigit() and c != "*"] == [c for c in before if not c.isdigit()]
    assert original["phone"].count(None) == masked["phone"].count(None) > 0
    for before, after in zip(original["first_name"], masked["first_name"]):
        expected = "*" * len(before) if len(before) <= 4 else "*" * (len(before) - 4) + before[-4:]
        assert after == expected
    assert any(len(name) > 4 for name in original["first_name"])
    assert all(re.fullmatch(r"h:[0-9a-f]{16}", v) for v in masked["iban"])
    assert masked["salary"] == [None] * 200 and protected.schema.field("salary").nullable
    assert protected.schema.field("salary").type == pa.int64()
    assert set(masked["notes"]) == {REDACTED}


def test_masking_is_a_function_of_the_value_not_the_chunking(make_plan) -> None:
    plan = make_plan(_config(_columns()))
    security_plan, _ = plan_security(plan, env={})
    whole = protect_batch(generate_batch(plan, "t", 0, 200), "t", 0, security_plan)
    parts = [protect_batch(generate_batch(plan, "t", a, b), "t", a, security_plan) for a, b in ((0, 70), (70, 200))]
    assert pa.Table.from_batches(parts).equals(pa.Table.from_batches([whole]))


def test_text_masking_on_non_string_column_is_a_config_error(make_plan) -> None:
    columns = [
        {"name": "id", "type": "int", "constraint": ["PK"]},
        {"name": "amount", "type": "int", "masking": {"strategy": "partial"}},
        {"name": "born", "type": "date", "masking": {"strategy": "hash"}},
        {"name": "ok", "type": "date", "masking": {"strategy": "null"}},
    ]
    _, issues = plan_security(make_plan(_config(columns)), env={})
    messages = [str(e) for e in issues.errors]
    assert len(messages) == 2
    assert messages[0].startswith("t.columns[1] (amount): masking 'partial'") and "type int" in messages[0]
    assert messages[1].startswith("t.columns[2] (born): masking 'hash'") and '{"strategy": "null"}' in messages[1]


def test_default_masking_on_non_string_pii_is_a_config_error(make_plan) -> None:
    columns = [{"name": "birth_date", "type": "date", "sensitivity": "PII"}]
    _, issues = plan_security(make_plan(_config(columns)), env={})
    [error] = issues.errors
    assert error.place == "t.columns[0] (birth_date)"
    assert "sensitivity PII" in error.message and "'partial'" in error.message and "type date" in error.message


def test_text_masking_on_int_only_warns_while_masking_is_off(make_plan) -> None:
    config = _config([{"name": "amount", "type": "int", "masking": {"strategy": "redact"}}])
    config["security"]["enable_data_masking"] = False
    _, issues = plan_security(make_plan(config), env={})
    assert not issues.errors
    assert any("rejected once security.enable_data_masking is on" in str(w) for w in issues.warnings)


def test_masking_a_unique_column_warns(make_plan) -> None:
    columns = [{"name": "email", "type": "email", "constraint": ["unique"], "sensitivity": "PII"}]
    _, issues = plan_security(make_plan(_config(columns)), env={})
    assert not issues.errors
    assert any("uniqueness" in str(w) and w.place == "t.columns[0] (email)" for w in issues.warnings)


def test_foreign_keys_are_protected_like_the_parent_values_they_hold(make_plan) -> None:
    # orders.buyer holds customers.email: masking only the parent left the addresses in the child.
    customers = {
        "table_name": "customers",
        "rows": 50,
        "columns": [
            {"name": "email", "type": "email", "constraint": ["PK"], "sensitivity": "SENSITIVE"},
            {"name": "nick", "type": "str", "rule": "user_name", "constraint": ["unique"], "sensitivity": "PII"},
        ],
    }
    orders = {
        "table_name": "orders",
        "rows": 200,
        "columns": [{"name": "buyer", "type": "email"}, {"name": "by_nick", "type": "str"}],
        "foreign_keys": [
            {"child_column": "buyer", "parent_table": "customers", "parent_column": "email"},
            {"child_column": "by_nick", "parent_table": "customers", "parent_column": "nick"},
        ],
    }
    plan = make_plan({"seed": 1, "security": {"enable_data_masking": True}, "tables": [customers, orders]})
    security_plan, issues = plan_security(plan, env={})
    assert not issues.errors
    assert security_plan.masked()["orders"] == {"buyer": "hash", "by_nick": "partial"}
    assert "orders.columns[0] (buyer): masked with 'hash' like customers.email, whose values it holds" in [
        str(c) for c in issues.corrections
    ]
    parents = protect_batch(generate_batch(plan, "customers", 0, 50), "customers", 0, security_plan)
    children = protect_batch(generate_batch(plan, "orders", 0, 200), "orders", 0, security_plan)
    plain_emails = set(generate_batch(plan, "customers", 0, 50).column("email").to_pylist())
    assert not plain_emails & set(children.column("buyer").to_pylist())  # no address leaks through the key
    assert set(children.column("buyer").to_pylist()) <= set(parents.column("email").to_pylist())  # still joins
    assert set(children.column("by_nick").to_pylist()) <= set(parents.column("nick").to_pylist())
