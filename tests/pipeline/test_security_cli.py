"""Masking, encryption, audit and decrypt end to end: generate, read back, decrypt, compare."""

from __future__ import annotations

import json
import os
import stat

import pyarrow.parquet as pq
import pytest

from tests.pipeline.conftest import read_parquet_table, read_report

CONFIG = {
    "seed": 11,
    "as_of": "2026-01-01",
    "security": {"enable_data_masking": True, "enable_encryption": True, "audit_enabled": True,
                 "key_file": "secret.key"},
    "tables": [{"table_name": "people", "rows": 300, "columns": [
        {"name": "person_id", "type": "int", "constraint": ["PK"]},
        {"name": "email", "type": "email", "sensitivity": "PII"},
        {"name": "iban", "type": "str", "rule": "iban", "sensitivity": "SENSITIVE"},
        {"name": "salary", "type": "int", "rule": {"type": "range", "min": 1, "max": 9}, "sensitivity": "CONFIDENTIAL",
         "masking": {"strategy": "null"}},
        {"name": "city", "type": "str", "rule": "city"},
    ]}],
}


@pytest.fixture
def keyed_config(cli, write_config, tmp_path):
    run = cli("keygen", tmp_path / "secret.key")
    assert run.code == 0, run.err
    assert stat.S_IMODE(os.stat(tmp_path / "secret.key").st_mode) == 0o600
    return write_config(CONFIG, "people.json")


def test_generate_masks_encrypts_audits_and_decrypt_restores(cli, keyed_config, tmp_path) -> None:
    out, plain = tmp_path / "out", tmp_path / "plain"
    run = cli("generate", keyed_config, "--out", out)
    assert run.code == 0, run.err
    key_text = (tmp_path / "secret.key").read_text().strip()
    table = read_parquet_table(out, "people")
    emails, ibans = table.column("email").to_pylist(), table.column("iban").to_pylist()
    assert all(e.startswith("enc:v1:") for e in emails) and all(i.startswith("enc:v1:") for i in ibans)
    assert table.column("salary").null_count == 300
    assert all(city and not city.startswith("enc:") for city in table.column("city").to_pylist())
    report = read_report(out)
    assert report["security"]["encrypted"] == {"people": {"email": "str", "iban": "str"}}
    audit = [json.loads(line) for line in (out / "_audit.jsonl").read_text().splitlines()]
    assert audit[0]["table"] == "people" and set(audit[0]["encrypted"]) == {"email", "iban"}
    for path in out.rglob("*"):
        if path.is_file():
            assert key_text not in path.read_bytes().decode("latin-1"), path

    run = cli("decrypt", out, "--key-file", tmp_path / "secret.key", "--out", plain)
    assert run.code == 0, run.err
    restored = pq.read_table(sorted((plain / "people").glob("*.parquet")))
    masked_emails = restored.column("email").to_pylist()
    assert all("*****@" in email for email in masked_emails)
    assert all(iban.startswith("h:") and len(iban) == 18 for iban in restored.column("iban").to_pylist())


def test_encryption_without_key_is_rejected_before_writing(cli, write_config, tmp_path) -> None:
    config = json.loads(json.dumps(CONFIG))
    config["security"].pop("key_file")
    out = tmp_path / "out"
    run = cli("generate", write_config(config, "nokey.json"), "--out", out)
    assert run.code == 1 and "no key" in run.err and run.err.count("\n") == 1
    assert not out.exists()


def test_wrong_key_fails_decrypt_cleanly(cli, keyed_config, tmp_path) -> None:
    out = tmp_path / "out"
    assert cli("generate", keyed_config, "--out", out).code == 0
    assert cli("keygen", tmp_path / "other.key").code == 0
    run = cli("decrypt", out, "--key-file", tmp_path / "other.key", "--out", tmp_path / "plain")
    assert run.code == 1 and run.err.count("\n") == 1
    assert not (tmp_path / "plain").exists()


def test_a_remote_runner_is_told_the_key_travels_with_the_job(cli, keyed_config, tmp_path, monkeypatch) -> None:
    # A runner that is not local receives the pickled steps, key included. Stand one in with the
    # local FnApiRunner marked remote, so the whole generate path runs here.
    from synthbeam.pipeline import run as run_module
    from synthbeam.pipeline.options import beam_setup

    def remote_setup(beam_args, plan=None):
        setup = beam_setup(beam_args, plan)
        setup.local, setup.runner_name = False, "SomeRemoteRunner"
        return setup

    monkeypatch.setattr(run_module, "beam_setup", remote_setup)
    out = tmp_path / "out"
    run = cli("generate", keyed_config, "--out", out)
    assert run.code == 0, run.err
    warnings = [line for line in run.err.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        "warning: SomeRemoteRunner receives the encryption key (or the hashing key derived from it) inside the "
        "submitted job, in the pickled steps that use it: whoever can read the job or its staging files can "
        "read that key. Give security.key_file as a URL the workers can read (gs://...) to keep it out"
    ]
    assert warnings[0].removeprefix("warning: ") in read_report(out)["notes"]
    assert (tmp_path / "secret.key").read_text().strip() not in run.err


def test_a_local_run_or_a_run_without_a_key_has_no_such_warning(cli, keyed_config, write_config, tmp_path) -> None:
    run = cli("generate", keyed_config, "--out", tmp_path / "local")
    assert run.code == 0 and "warning:" not in run.err, run.err
    from synthbeam.pipeline.config import load_plan
    from synthbeam.pipeline.options import beam_setup
    from synthbeam.pipeline.run import key_leaves_with_job

    unkeyed = {**CONFIG, "security": {"enable_data_masking": True}}
    plan, _ = load_plan(str(write_config(unkeyed, "unkeyed.json")))
    setup = beam_setup([], plan)
    setup.local = False
    assert key_leaves_with_job(plan, setup) is None  # masking alone: hashes keyed by the seed, no secret


def test_an_encrypted_key_and_its_foreign_keys_decrypt_to_joinable_values(cli, write_config, tmp_path) -> None:
    # The encrypted email is the file's first column and barely compresses: decrypt once chose its
    # writer's codec from that column ('uncompressed', which ParquetWriter refuses).
    key = tmp_path / "k.key"
    assert cli("keygen", key).code == 0
    customers = {
        "table_name": "c",
        "rows": 20,
        "columns": [{"name": "email", "type": "email", "constraint": ["PK"], "sensitivity": "PII"}],
    }
    orders = {
        "table_name": "o",
        "rows": 60,
        "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}, {"name": "buyer", "type": "email"}],
        "foreign_keys": [{"child_column": "buyer", "parent_table": "c", "parent_column": "email"}],
    }
    security = {"enable_encryption": True, "key_file": str(key)}
    config = write_config({"seed": 1, "security": security, "tables": [customers, orders]})
    out, plain = tmp_path / "out", tmp_path / "plain"
    assert cli("generate", config, "--out", out).code == 0
    buyers = read_parquet_table(out, "o").column("buyer").to_pylist()
    assert all(b.startswith("enc:v1:") for b in buyers)  # the key's values do not leak through the child
    run = cli("decrypt", out, "--key-file", key, "--out", plain)
    assert run.code == 0, run.err
    emails = set(read_parquet_table(plain, "c").column("email").to_pylist())
    assert set(read_parquet_table(plain, "o").column("buyer").to_pylist()) <= emails


def test_a_key_file_url_stays_out_of_the_job(cli, write_config, tmp_path, monkeypatch) -> None:
    # key_file on a bucket: the plan carries the URL and the key's fingerprint; each worker reads the key.
    import pickle

    import synthbeam.transforms.keys  # noqa: F401  (installs the FileSystems reader, replaced below)
    from synthbeam.pipeline import run as run_module
    from synthbeam.pipeline.config import load_plan
    from synthbeam.pipeline.options import beam_setup
    from synthbeam.rules.security import crypto

    key_path = tmp_path / "k.key"
    assert cli("keygen", key_path).code == 0
    bucket = {"mem://keys/k.key": key_path.read_bytes()}
    reads = []
    monkeypatch.setattr(crypto, "_url_reader", lambda url: reads.append(url) or bucket[url])
    security = {"enable_data_masking": True, "enable_encryption": True, "key_file": "mem://keys/k.key"}
    config = write_config({**CONFIG, "security": security}, "bucket.json")

    plan, _ = load_plan(str(config))
    key = crypto.read_key_file(key_path)
    job = pickle.dumps(plan)
    assert key not in job and crypto.derive_subkey(key, "hash") not in job
    assert key_path.read_text().strip().encode() not in job
    shipped = pickle.loads(job).protection
    assert shipped.key.reveal() == key and shipped.hash_key.reveal() == crypto.derive_subkey(key, "hash")

    def remote_setup(beam_args, plan=None):
        setup = beam_setup(beam_args, plan)
        setup.local, setup.runner_name = False, "SomeRemoteRunner"
        return setup

    monkeypatch.setattr(run_module, "beam_setup", remote_setup)
    out, plain = tmp_path / "out", tmp_path / "plain"
    before = len(reads)
    run = cli("generate", config, "--out", out)
    assert run.code == 0 and "warning:" not in run.err, run.err
    assert len(reads) > before + 1  # the launcher, then the steps unpickled on the worker, read the URL
    assert cli("decrypt", out, "--key-file", key_path, "--out", plain).code == 0
    assert cli("decrypt", out, "--key-file", "mem://keys/k.key", "--out", tmp_path / "plain2").code == 0

    bucket["mem://keys/k.key"] = crypto.encode_key(b"\x01" * 32).encode()  # the key was replaced since
    with pytest.raises(crypto.KeyLoadError, match="is not the one this run was planned with"):
        pickle.loads(job).protection.key.reveal()
