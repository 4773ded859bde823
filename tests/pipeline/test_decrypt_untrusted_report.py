"""``decrypt`` does not trust ``_report.json`` alone (issue #12 items 11 and 12)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from synthbeam.pipeline.decrypt import decrypt_output
from synthbeam.pipeline.errors import UserError
from synthbeam.rules.security.crypto import read_key_file
from tests.pipeline.test_decrypt import build_output, read_rows


def _edit_report(out: Path, edit) -> None:
    path = out / "_report.json"
    report = json.loads(path.read_text())
    edit(report)
    path.write_text(json.dumps(report))


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    from synthbeam.pipeline.keygen import keygen

    path = tmp_path / "keys" / "synthbeam.key"
    path.parent.mkdir()
    keygen(path)
    return path


@pytest.mark.parametrize("fmt", ["parquet", "csv", "avro"])
def test_a_column_removed_from_the_report_is_refused_not_left_encrypted(tmp_path, make_plan, key_file, fmt) -> None:
    out = tmp_path / "out"
    build_output(out, fmt, make_plan, read_key_file(key_file))
    _edit_report(out, lambda report: report["security"]["encrypted"]["t"].pop("email"))
    with pytest.raises(UserError) as caught:
        decrypt_output(out, key_file, tmp_path / "plain")
    assert str(caught.value) == (
        f"t/t-00000-of-00002.{fmt}: column email holds encrypted cells (enc:v1:...) but _report.json's "
        "security.encrypted does not list it: the report was edited or belongs to another output; refusing to "
        "leave ciphertext in the copy"
    )
    assert not (tmp_path / "plain").exists()


def test_a_table_the_report_does_not_list_is_refused(tmp_path, make_plan, key_file) -> None:
    import shutil

    out = tmp_path / "out"
    build_output(out, "parquet", make_plan, read_key_file(key_file))
    shutil.copytree(out / "t", out / "t_copy")  # a table whose ciphertext the report says nothing about
    with pytest.raises(UserError) as caught:
        decrypt_output(out, key_file, tmp_path / "plain")
    assert str(caught.value).startswith("t_copy/t-00000-of-00002.parquet: column email holds encrypted cells")
    assert not (tmp_path / "plain").exists()


@pytest.mark.parametrize("fmt", ["parquet", "avro"])
def test_a_type_changed_in_the_report_is_checked_against_the_file(tmp_path, make_plan, key_file, fmt) -> None:
    out = tmp_path / "out"
    build_output(out, fmt, make_plan, read_key_file(key_file))

    def edit(report):
        report["security"]["encrypted"]["t"]["born"] = "str"  # a date would decrypt as text

    _edit_report(out, edit)
    with pytest.raises(UserError) as caught:
        decrypt_output(out, key_file, tmp_path / "plain")
    assert str(caught.value) == (
        f"t/t-00000-of-00002.{fmt}: _report.json says t.born decrypts as str, but the file records date: the "
        "report was edited or belongs to another output"
    )


def test_avro_records_the_original_type_and_the_copy_drops_it(tmp_path, make_plan, key_file) -> None:
    import fastavro

    out, plain = tmp_path / "out", tmp_path / "plain"
    build_output(out, "avro", make_plan, read_key_file(key_file))
    with (out / "t" / "t-00000-of-00002.avro").open("rb") as handle:
        fields = {f["name"]: f for f in json.loads(fastavro.reader(handle).metadata["avro.schema"])["fields"]}
    assert fields["born"]["synthbeam.original_type"] == "date" and "synthbeam.original_type" not in fields["id"]
    decrypt_output(out, key_file, plain)
    with (plain / "t" / "t-00000-of-00002.avro").open("rb") as handle:
        fields = {f["name"]: f for f in json.loads(fastavro.reader(handle).metadata["avro.schema"])["fields"]}
    assert "synthbeam.original_type" not in fields["born"]
    assert all(not str(row["email"] or "").startswith("enc:") for row in read_rows(plain / "t", "avro"))


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_corrupted_parquet_shard_is_one_line_naming_the_file(tmp_path, make_plan, key_file, damage) -> None:
    out = tmp_path / "out"
    build_output(out, "parquet", make_plan, read_key_file(key_file))
    shard = out / "t" / "t-00001-of-00002.parquet"
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"PAR1" + os.urandom(200))
    with pytest.raises(UserError) as caught:
        decrypt_output(out, key_file, tmp_path / "plain")
    message = str(caught.value)
    assert message.startswith("cannot read t/t-00001-of-00002.parquet: not a valid parquet file ("), message
    assert "\n" not in message and not (tmp_path / "plain").exists()


def test_decrypt_cli_warns_about_an_open_key_file_and_fails_one_line_on_damage(cli, tmp_path, make_plan, key_file):
    out = tmp_path / "out"
    build_output(out, "parquet", make_plan, read_key_file(key_file))
    os.chmod(key_file, 0o644)
    run = cli("decrypt", out, "--key-file", key_file, "--out", tmp_path / "plain")
    assert run.code == 0, run.err
    assert run.err == f"warning: --key-file {key_file} is readable by other users: chmod 600 it\n"
    shard = out / "plain" / "plain-00000-of-00001.parquet"
    shard.write_bytes(shard.read_bytes()[:40])
    run = cli("decrypt", out, "--key-file", key_file, "--out", tmp_path / "plain2")
    assert run.code == 1
    assert run.err.count("\n") == 1
    assert run.err.startswith(
        "error: cannot read plain/plain-00000-of-00001.parquet: not a valid parquet file ("
    )
