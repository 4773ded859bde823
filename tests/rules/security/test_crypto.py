"""Keys, per-cell encryption and the security plan: round trips, determinism, tamper and leak checks."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import os
import pickle
import stat
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from synthbeam.rules.engine.batch import generate_batch
from synthbeam.rules.security.apply import protect_batch, protected_schema
from synthbeam.rules.security.crypto import (
    ENCRYPTED_PREFIX,
    DecryptionError,
    KeyFileExists,
    KeyLoadError,
    decrypt_column,
    encode_key,
    encrypt_column,
    from_text,
    key_fingerprint,
    load_key,
    read_key_file,
    write_key_file,
)
from synthbeam.rules.security.masking import mask_partial
from synthbeam.rules.security.policy import NO_KEY_MESSAGE, plan_security
from synthbeam.rules.security.protection import audit_lines, audit_record, report_section
from tests.conftest import one_table

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def key_traces(key: bytes) -> list[str]:
    """Every form a key could leak in: its text, hex, and the raw bytes' repr."""
    text = encode_key(key)
    return [text, text.rstrip("="), key.hex(), repr(key)[2:-1], base64.b64encode(key).decode()]


def assert_no_key(text: str, key: bytes) -> None:
    for trace in key_traces(key):
        assert trace not in text


def rows(n: int, start: int = 0) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.uint64)


def round_trip(values: pa.Array, column_type: str, table: str = "t", column: str = "c") -> pa.Array:
    encrypted = encrypt_column(values, KEY, table, column, rows(len(values)))
    return from_text(decrypt_column(encrypted, KEY, table, column), column_type)


# --- round trips --------------------------------------------------------------------------------------

TYPED_VALUES = [
    ("str", pa.array(["alice", "", "ünïcødé ✓", None, "x" * 500], pa.string())),
    ("email", pa.array(["a@example.com", None], pa.string())),
    ("int", pa.array([0, -1, 2**63 - 1, -(2**63), None, 42], pa.int64())),
    ("float", pa.array([0.1, -0.0, 1e300, 5e-324, 1 / 3, math.inf, -math.inf, None, 123456.789], pa.float64())),
    ("bool", pa.array([True, False, None], pa.bool_())),
    ("date", pa.array([dt.date(1970, 1, 1), dt.date(1, 1, 1), dt.date(9999, 12, 31), None], pa.date32())),
    (
        "time",
        pa.array([dt.time(0, 0), dt.time(23, 59, 59, 999999), dt.time(12, 34, 56, 7), None], pa.time64("us")),
    ),
    (
        "timestamp",
        pa.array(
            [dt.datetime(2024, 2, 29, 13, 14, 15, 161718), dt.datetime(1969, 12, 31, 23, 59, 59), None],
            pa.timestamp("us"),
        ),
    ),
]


@pytest.mark.parametrize(("column_type", "values"), TYPED_VALUES, ids=[t for t, _ in TYPED_VALUES])
def test_round_trip_every_type(column_type: str, values: pa.Array) -> None:
    encrypted = encrypt_column(values, KEY, "t", "c", rows(len(values)))
    assert encrypted.type == pa.string()
    assert encrypted.is_null().equals(values.is_null())
    assert all(cell.startswith(ENCRYPTED_PREFIX) for cell in encrypted.drop_null().to_pylist())
    restored = from_text(decrypt_column(encrypted, KEY, "t", "c"), column_type)
    assert restored.type == values.type
    assert restored.equals(values)


def test_nan_round_trips() -> None:
    restored = round_trip(pa.array([math.nan, 1.0]), "float").to_pylist()
    assert math.isnan(restored[0]) and restored[1] == 1.0


def test_nulls_only_and_empty_columns() -> None:
    assert round_trip(pa.nulls(3, pa.int64()), "int").to_pylist() == [None, None, None]
    assert round_trip(pa.array([], pa.string()), "str").to_pylist() == []


def test_ciphertext_hides_the_value() -> None:
    encrypted = encrypt_column(pa.array(["alice@example.com"]), KEY, "t", "c", rows(1))
    assert "alice" not in encrypted[0].as_py() and "example" not in encrypted[0].as_py()


# --- determinism and nonces ---------------------------------------------------------------------------


def _nonce(cell: str) -> bytes:
    return base64.urlsafe_b64decode(cell[len(ENCRYPTED_PREFIX) :])[:12]


def test_equal_values_get_distinct_nonces_and_ciphertexts() -> None:
    values = pa.array(["same"] * 1000)
    cells = encrypt_column(values, KEY, "t", "c", rows(1000)).to_pylist()
    assert len(set(cells)) == 1000
    assert len({_nonce(cell) for cell in cells}) == 1000


def test_nonces_differ_between_columns_and_tables_for_the_same_row() -> None:
    values = pa.array(["same"])
    cells = {
        encrypt_column(values, KEY, table, column, rows(1))[0].as_py()
        for table, column in (("t", "a"), ("t", "b"), ("u", "a"))
    }
    assert len({_nonce(cell) for cell in cells}) == 3


def test_rerun_gives_identical_ciphertext_whatever_the_chunking() -> None:
    values = pa.array([f"v{i}" for i in range(100)])
    whole = encrypt_column(values, KEY, "t", "c", rows(100))
    again = encrypt_column(values, KEY, "t", "c", rows(100))
    parts = pa.concat_arrays(
        [
            encrypt_column(values.slice(0, 37), KEY, "t", "c", rows(37)),
            encrypt_column(values.slice(37), KEY, "t", "c", rows(63, 37)),
        ]
    )
    assert whole.equals(again) and whole.equals(parts)
    shifted = encrypt_column(values, KEY, "t", "c", rows(100, 1))
    assert not any(a == b for a, b in zip(whole.to_pylist(), shifted.to_pylist()))


def test_row_index_length_must_match() -> None:
    with pytest.raises(ValueError, match="row indices"):
        encrypt_column(pa.array(["a", "b"]), KEY, "t", "c", rows(1))


# --- failures -----------------------------------------------------------------------------------------

FAILURE = "decryption failed: wrong key or corrupted data in t.c"


def _encrypted(text: str = "secret value") -> str:
    return encrypt_column(pa.array([text]), KEY, "t", "c", rows(1))[0].as_py()


def _tampered(cell: str, position: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cell[len(ENCRYPTED_PREFIX) :]))
    raw[position] ^= 0x01
    return ENCRYPTED_PREFIX + base64.urlsafe_b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("position", [0, 11, 12, 20, -1], ids=["nonce", "nonce-end", "body", "body2", "tag"])
def test_tampered_ciphertext_fails(position: int) -> None:
    with pytest.raises(DecryptionError) as caught:
        decrypt_column(pa.array([_tampered(_encrypted(), position)]), KEY, "t", "c")
    assert str(caught.value) == FAILURE


@pytest.mark.parametrize(
    "cell",
    [
        "secret value",  # never encrypted
        ENCRYPTED_PREFIX + "!!!not base64!!!",
        ENCRYPTED_PREFIX + base64.urlsafe_b64encode(b"short").decode(),
        "enc:v2:" + "A" * 40,
    ],
)
def test_malformed_cells_fail(cell: str) -> None:
    with pytest.raises(DecryptionError, match=r"^decryption failed: wrong key or corrupted data in t\.c$"):
        decrypt_column(pa.array([cell]), KEY, "t", "c")


def test_wrong_key_fails_without_showing_either_key() -> None:
    with pytest.raises(DecryptionError) as caught:
        decrypt_column(pa.array([_encrypted()]), OTHER_KEY, "t", "c")
    assert str(caught.value) == FAILURE
    assert_no_key(str(caught.value), KEY)
    assert_no_key(str(caught.value), OTHER_KEY)


def test_ciphertext_moved_to_another_column_or_table_fails() -> None:
    cell = pa.array([_encrypted()])
    assert decrypt_column(cell, KEY, "t", "c").to_pylist() == ["secret value"]
    with pytest.raises(DecryptionError, match=r"in t\.other$"):
        decrypt_column(cell, KEY, "t", "other")
    with pytest.raises(DecryptionError, match=r"in u\.c$"):
        decrypt_column(cell, KEY, "u", "c")
    # names are length-prefixed: "t.c" split differently is another place
    moved = encrypt_column(pa.array(["x"]), KEY, "a.b", "c", rows(1))
    with pytest.raises(DecryptionError):
        decrypt_column(moved, KEY, "a", "b.c")


def test_typed_column_that_was_never_encrypted_fails() -> None:
    with pytest.raises(DecryptionError, match="not encrypted text"):
        decrypt_column(pa.array([1, 2]), KEY, "t", "c")


def test_from_text_rejects_non_canonical_text() -> None:
    with pytest.raises(ValueError, match="int"):
        from_text(pa.array(["twelve"]), "int")
    with pytest.raises(ValueError, match="time"):
        from_text(pa.array(["25:61:00"]), "time")
    with pytest.raises(ValueError, match="time"):
        from_text(pa.array(["noon"]), "time")


# --- keys ---------------------------------------------------------------------------------------------


def test_load_key_from_env() -> None:
    assert load_key({"key_env": "MY_KEY"}, {"MY_KEY": encode_key(KEY) + "\n"}) == KEY
    # standard base64 (openssl rand -base64 32) is accepted as well
    assert load_key({"key_env": "MY_KEY"}, {"MY_KEY": base64.b64encode(KEY).decode()}) == KEY
    assert load_key({}, {"MY_KEY": encode_key(KEY)}) is None


def test_load_key_from_file_relative_to_the_config(tmp_path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "k").write_text(encode_key(KEY) + "\n")
    assert load_key({"key_file": "keys/k"}, {}, base_dir=tmp_path) == KEY
    assert load_key({"key_file": str(tmp_path / "keys" / "k")}, {}) == KEY


@pytest.mark.parametrize(
    ("security", "env", "message"),
    [
        ({"key_env": "K", "key_file": "f"}, {}, "security: set key_env or key_file, not both"),
        ({"key_env": "K"}, {}, "security.key_env: environment variable K is not set"),
        ({"key_env": "K"}, {"K": "  "}, "security.key_env: environment variable K is not set"),
        ({"key_env": "K"}, {"K": encode_key(KEY[:31])}, "security.key_env: environment variable K holds 31 bytes"),
        ({"key_env": "K"}, {"K": "not a key at all!"}, "security.key_env: environment variable K does not hold a key"),
        ({"key_file": "/nonexistent/k"}, {}, "security.key_file: cannot read key file /nonexistent/k"),
    ],
)
def test_load_key_errors_name_the_place_never_the_key(security, env, message) -> None:
    with pytest.raises(KeyLoadError) as caught:
        load_key(security, env)
    text = str(caught.value)
    assert text.startswith(message) and "\n" not in text
    for value in env.values():
        if value.strip():
            assert value not in text


def test_bad_key_file_content_is_not_echoed(tmp_path) -> None:
    path = tmp_path / "k"
    secret_text = encode_key(KEY)[:-6]  # truncated: a plausible secret, not a key
    path.write_text(secret_text)
    with pytest.raises(KeyLoadError) as caught:
        read_key_file(path)
    assert str(path) in str(caught.value) and secret_text not in str(caught.value)
    assert_no_key(str(caught.value), KEY)


def test_write_key_file_mode_0600_and_loadable(tmp_path) -> None:
    path = tmp_path / "new.key"
    old_umask = os.umask(0)  # even a permissive umask must not widen the mode
    try:
        fingerprint = write_key_file(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = read_key_file(path)
    assert len(key) == 32 and key_fingerprint(key) == fingerprint
    assert_no_key(fingerprint, key)
    assert read_key_file(path) != read_key_file_of_new(tmp_path / "other.key")


def read_key_file_of_new(path) -> bytes:
    write_key_file(path)
    return read_key_file(path)


def test_write_key_file_refuses_to_overwrite(tmp_path) -> None:
    path = tmp_path / "k"
    write_key_file(path)
    before = path.read_bytes()
    with pytest.raises(KeyFileExists, match="exists; refusing to overwrite"):
        write_key_file(path)
    assert path.read_bytes() == before
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "target-does-not-exist")
    with pytest.raises(KeyFileExists):
        write_key_file(link)
    assert not (tmp_path / "target-does-not-exist").exists()


def test_write_key_file_in_missing_folder(tmp_path) -> None:
    with pytest.raises(KeyLoadError, match="cannot create key file"):
        write_key_file(tmp_path / "missing" / "k")


# --- the security plan --------------------------------------------------------------------------------

COLUMNS: list[dict[str, Any]] = [
    {"name": "id", "type": "int", "constraint": ["PK"]},
    {"name": "email", "type": "email", "sensitivity": "PII"},
    {"name": "born", "type": "date", "sensitivity": "PII", "masking": {"strategy": "null"}},
    {"name": "score", "type": "float", "sensitivity": "SENSITIVE", "nullable": True, "null_probability": 0.2},
    {"name": "seen_at", "type": "timestamp", "sensitivity": "SENSITIVE"},
    {"name": "starts", "type": "time", "sensitivity": "PII"},
    {"name": "active", "type": "bool", "sensitivity": "PII"},
    {"name": "token", "type": "uuid", "sensitivity": "SENSITIVE", "masking": {"strategy": "hash"}},
    {"name": "city", "type": "str", "rule": "city", "sensitivity": "CONFIDENTIAL"},
]


def security_config(masking: bool = False, **security: Any) -> dict[str, Any]:
    config = one_table([dict(c) for c in COLUMNS], rows=300)
    config["security"] = {"enable_data_masking": masking, "enable_encryption": True, **security}
    return config


def test_encryption_without_a_key_is_a_plan_error(make_plan) -> None:
    _, issues = plan_security(make_plan(security_config()), env={})
    assert [str(e) for e in issues.errors] == [NO_KEY_MESSAGE]
    assert str(issues.errors[0]) == (
        "security.enable_encryption is true but no key: set the environment variable named by "
        "security.key_env or security.key_file"
    )


def test_missing_key_variable_is_a_plan_error(make_plan) -> None:
    _, issues = plan_security(make_plan(security_config(key_env="SB_KEY")), env={})
    assert [str(e) for e in issues.errors] == ["security.key_env: environment variable SB_KEY is not set"]


def test_open_key_file_warns(make_plan, tmp_path) -> None:
    path = tmp_path / "open.key"
    path.write_text(encode_key(KEY))
    path.chmod(0o644)
    security_plan, issues = plan_security(make_plan(security_config(key_file=str(path))), env={})
    assert not issues.errors and security_plan.key_fingerprint == key_fingerprint(KEY)
    assert any("chmod 600" in str(w) for w in issues.warnings)


def test_encrypts_pii_and_sensitive_and_keeps_original_types(make_plan) -> None:
    plan = make_plan(security_config(key_env="SB_KEY"))
    security_plan, issues = plan_security(plan, env={"SB_KEY": encode_key(KEY)})
    assert not issues.errors
    # masking is off: 'born' (null) and 'token' (hash) are encrypted as they are
    assert security_plan.encrypted() == {
        "t": {
            "email": "email",
            "born": "date",
            "score": "float",
            "seen_at": "timestamp",
            "starts": "time",
            "active": "bool",
            "token": "uuid",
        }
    }
    assert security_plan.masked() == {}
    schema = protected_schema(plan.table("t"), security_plan)
    assert schema.field("born").type == pa.string() and schema.field("city").type == pa.string()
    assert schema.field("id").type == pa.int64()
    assert schema.field("born").metadata[b"synthbeam.original_type"] == b"date"


def test_protect_then_decrypt_restores_every_type(make_plan) -> None:
    plan = make_plan(security_config(key_env="SB_KEY"))
    security_plan, _ = plan_security(plan, env={"SB_KEY": encode_key(KEY)})
    batch = generate_batch(plan, "t", 100, 300)
    protected = protect_batch(batch, "t", 100, security_plan)
    assert protected.schema == protected_schema(plan.table("t"), security_plan)
    assert protected.column("id").equals(batch.column("id"))
    assert protected.column("city").equals(batch.column("city"))
    for column, column_type in security_plan.encrypted()["t"].items():
        cells = protected.column(column)
        assert cells.type == pa.string()
        assert cells.null_count == batch.column(column).null_count
        restored = from_text(decrypt_column(cells, KEY, "t", column), column_type)
        assert restored.equals(batch.column(column)), column
    assert protected.column("score").null_count > 0


def test_masked_and_encrypted_column_decrypts_to_the_masked_value(make_plan) -> None:
    plan = make_plan(security_config(masking=True, key_env="SB_KEY"))
    security_plan, issues = plan_security(plan, env={"SB_KEY": encode_key(KEY)})
    assert not issues.errors
    assert "born" not in security_plan.encrypted()["t"]  # masked to null: nothing left to encrypt
    assert security_plan.masked()["t"]["email"] == "partial"
    # non-string SENSITIVE/PII columns: the text defaults cannot apply, encryption alone protects them
    assert {"score", "seen_at", "starts", "active"} <= set(security_plan.encrypted()["t"])
    assert not {"score", "seen_at", "starts", "active"} & set(security_plan.masked()["t"])
    assert security_plan.hash_key_source == "encryption key"
    batch = generate_batch(plan, "t", 0, 50)
    protected = protect_batch(batch, "t", 0, security_plan)
    emails = decrypt_column(protected.column("email"), KEY, "t", "email")
    assert emails.equals(mask_partial(batch.column("email"), "email"))
    assert all(e.split("@")[0].endswith("*****") for e in emails.to_pylist())
    tokens = decrypt_column(protected.column("token"), KEY, "t", "token").to_pylist()
    assert all(t.startswith("h:") and len(t) == 18 for t in tokens)
    assert protected.column("born").null_count == 50 and protected.schema.field("born").type == pa.date32()


def test_hash_key_depends_on_the_encryption_key(make_plan) -> None:
    plan = make_plan(security_config(masking=True, key_env="SB_KEY"))
    batch = generate_batch(plan, "t", 0, 20)

    def tokens(key: bytes) -> list[str]:
        security_plan, _ = plan_security(plan, env={"SB_KEY": encode_key(key)})
        cells = protect_batch(batch, "t", 0, security_plan).column("token")
        return decrypt_column(cells, key, "t", "token").to_pylist()

    assert tokens(KEY) == tokens(KEY) and tokens(KEY) != tokens(OTHER_KEY)


def test_rerun_is_byte_identical(make_plan) -> None:
    env = {"SB_KEY": encode_key(KEY)}
    first_plan = make_plan(security_config(masking=True, key_env="SB_KEY"))
    second_plan = make_plan(security_config(masking=True, key_env="SB_KEY"))

    def protected(plan) -> pa.RecordBatch:
        security_plan, _ = plan_security(plan, env=env)
        return protect_batch(generate_batch(plan, "t", 0, 300), "t", 0, security_plan)

    assert protected(first_plan).equals(protected(second_plan))


def test_key_never_in_repr_pickle_report_or_audit(make_plan) -> None:
    plan = make_plan(security_config(masking=True, key_env="SB_KEY", audit_enabled=True))
    security_plan, issues = plan_security(plan, env={"SB_KEY": encode_key(KEY)})
    revived = pickle.loads(pickle.dumps(security_plan))
    assert revived.key.reveal() == KEY  # workers need it ...
    texts = [
        repr(security_plan),
        str(security_plan),
        repr(revived),
        repr(vars(security_plan)),
        repr(security_plan.key),
        repr(security_plan.hash_key),
        json.dumps(report_section(security_plan)),
        json.dumps(audit_record(security_plan, "t", rows=300)),
        "\n".join(audit_lines(security_plan, {"t": 300})),
        "\n".join(str(i) for i in issues.items),
    ]
    for text in texts:  # ... but nothing shows it
        assert_no_key(text, KEY)
        assert_no_key(text, security_plan.hash_key.reveal())
    assert key_fingerprint(KEY) in repr(security_plan)


def test_report_section_and_audit_record(make_plan) -> None:
    plan = make_plan(security_config(masking=True, key_env="SB_KEY", audit_enabled=True))
    security_plan, _ = plan_security(plan, env={"SB_KEY": encode_key(KEY)})
    section = report_section(security_plan)
    assert section["encrypted"] == security_plan.encrypted() and section["key_fingerprint"] == key_fingerprint(KEY)
    assert section["masked"]["t"]["born"] == "null" and section["audit_enabled"] is True
    record = audit_record(security_plan, "t", rows=300)
    assert record["table"] == "t" and record["rows"] == 300 and record["key_fingerprint"] == key_fingerprint(KEY)
    assert record["masked"]["token"] == "hash" and "email" in record["encrypted"] and "born" not in record["encrypted"]
    by_column = {c["column"]: c for c in record["columns"]}
    assert by_column["email"] == {
        "column": "email",
        "sensitivity": "PII",
        "masking": "partial",
        "masking_from": "sensitivity",
        "encrypted": True,
        "original_type": "email",
    }
    [line] = audit_lines(security_plan, {"t": 300})
    assert json.loads(line) == record
