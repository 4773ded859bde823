"""``decrypt`` and ``keygen`` cores on a hand-built encrypted output (Parquet, CSV, Avro).

The output is built the way ``generate`` builds one: rows from the engine,
``protect_batch`` (masking, then encryption), shards encoded by the project's
own sinks with ``protected_schema``/``protected_column_types``, and a
``_report.json`` whose ``security`` section is ``report_section``. Decrypting
it must give back exactly what a run with the same masking and no encryption
writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import io
import json
import stat
import time
import uuid
from pathlib import Path
from typing import Any

import fastavro
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from synthbeam.pipeline.decrypt import decrypt_output
from synthbeam.pipeline.errors import UserError
from synthbeam.pipeline.keygen import keygen
from synthbeam.rules.engine.batch import generate_batch
from synthbeam.rules.security.apply import protect_batch, protected_column_types, protected_schema
from synthbeam.rules.security.crypto import encode_key, key_fingerprint, read_key_file
from synthbeam.rules.security.policy import plan_security
from synthbeam.rules.security.protection import report_section
from synthbeam.transforms.sinks import sink_class
from tests.conftest import one_table

COLUMNS: list[dict[str, Any]] = [
    {"name": "id", "type": "int", "constraint": ["PK"]},
    {"name": "email", "type": "email", "sensitivity": "PII", "nullable": True, "null_probability": 0.2},
    {"name": "phone", "type": "phone", "sensitivity": "PII", "masking": {"strategy": "redact"}},
    {"name": "born", "type": "date", "sensitivity": "PII"},
    {"name": "score", "type": "float", "sensitivity": "SENSITIVE", "nullable": True, "null_probability": 0.3},
    {"name": "seen_at", "type": "timestamp", "sensitivity": "SENSITIVE"},
    {"name": "starts", "type": "time", "sensitivity": "PII"},
    {"name": "active", "type": "bool", "sensitivity": "PII"},
    {"name": "visits", "type": "int", "sensitivity": "SENSITIVE", "rule": {"type": "range", "min": 0, "max": 99}},
    {"name": "token", "type": "uuid", "sensitivity": "SENSITIVE"},
    {"name": "code", "type": "str", "rule": {"type": "regex", "regex": "00[0-9]{3}"}},
    {"name": "quote", "type": "str", "rule": {"type": "choice", "value": ["a, \"b\"", "", "line\nbreak"]}},
]
SHARDS = ((0, 70), (70, 150))  # two shards, the second starting mid-table


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "synthbeam.key"
    path.parent.mkdir()
    keygen(path)
    return path


def _config(masking: bool = True) -> dict[str, Any]:
    config = one_table([dict(c) for c in COLUMNS], rows=150)
    config["tables"].append(
        {"table_name": "plain", "rows": 20, "columns": [{"name": "n", "type": "int", "constraint": ["PK"]}]}
    )
    config["security"] = {
        "enable_data_masking": masking,
        "enable_encryption": True,
        "audit_enabled": True,
        "key_env": "SB_KEY",
    }
    return config


def _write_shard(path: Path, fmt: str, table: str, schema: pa.Schema, types: dict[str, str], batch) -> None:
    sink = sink_class(fmt)(str(path.parent / table), schema, types, table)
    with path.open("wb") as handle:
        encoder = sink.encoder(handle)
        encoder.write(batch)
        encoder.close()


def build_output(
    out: Path, fmt: str, make_plan, key: bytes, encrypt: bool = True, masking: bool = True
) -> dict[str, Any]:
    """A finished output directory as ``generate`` would leave it; returns its report."""
    plan = make_plan(_config(masking))
    security_plan, issues = plan_security(plan, env={"SB_KEY": encode_key(key)})
    assert not issues.errors
    if not encrypt:  # the same masking, no encryption: what decrypt must give back
        security_plan = dataclasses.replace(
            security_plan,
            tables={
                table: tuple(dataclasses.replace(p, encrypt=False) for p in protections)
                for table, protections in security_plan.tables.items()
            },
        )
    report: dict[str, Any] = {"format": fmt, "seed": plan.seed, "output_dir": str(out), "tables": {}}
    for name, table_plan in plan.tables.items():
        schema = protected_schema(table_plan, security_plan)
        types = protected_column_types(table_plan, security_plan)
        folder = out / name
        folder.mkdir(parents=True)
        shards = SHARDS if name == "t" else ((0, table_plan.rows),)
        files = []
        for number, (start, stop) in enumerate(shards):
            batch = protect_batch(generate_batch(plan, name, start, stop), name, start, security_plan)
            path = folder / f"{name}-{number:05d}-of-{len(shards):05d}.{fmt}"
            _write_shard(path, fmt, name, schema, types, batch)
            files.append(str(path))
        report["tables"][name] = {
            "rows_written": table_plan.rows,
            "files": len(files),
            "file_pattern": str(folder / f"{name}-*-of-{len(shards):05d}.{fmt}"),
            "columns": [{"name": c.name, "type": c.type} for c in table_plan.columns],
        }
    report["security"] = report_section(security_plan)
    (out / "_report.json").write_text(json.dumps(report, indent=2))
    (out / "_audit.jsonl").write_text('{"event": "protect"}\n')
    return report


def read_rows(folder: Path, fmt: str, typed: bool = True) -> list[dict[str, Any]]:
    """Every row of a table folder as Python values (Avro's aware UTC timestamps made naive)."""
    files = sorted(folder.glob(f"*.{fmt}"))
    assert files
    if fmt == "parquet":
        return pq.read_table(files).to_pylist()
    if fmt == "csv":
        rows = []
        for path in files:
            rows += pcsv.read_csv(path, convert_options=_csv_options(path, typed)).to_pylist()
        return rows
    rows = []
    for path in files:
        with path.open("rb") as handle:
            for record in fastavro.reader(handle):
                rows.append({k: _plain(v) for k, v in record.items()})
    return rows


def _csv_options(path: Path, typed: bool = True) -> pcsv.ConvertOptions:
    types = {
        "id": pa.int64(), "born": pa.date32(), "score": pa.float64(), "seen_at": pa.timestamp("us"),
        "starts": pa.time64("us"), "active": pa.bool_(), "visits": pa.int64(),
    } if typed else {}  # fmt: skip
    header = path.read_text(encoding="utf-8").splitlines()[0].replace('"', "").split(",")
    return pcsv.ConvertOptions(
        column_types={name: types.get(name, pa.string()) for name in header},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


@pytest.fixture
def local_time_not_utc(monkeypatch: pytest.MonkeyPatch):
    """A local zone far from UTC: a writer that took naive timestamps as local time would shift them."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("fmt", ["parquet", "csv", "avro"])
@pytest.mark.usefixtures("local_time_not_utc")
def test_decrypt_restores_what_an_unencrypted_run_writes(tmp_path: Path, make_plan, key_file: Path, fmt) -> None:
    key = read_key_file(key_file)
    out, plain_out, dest = tmp_path / "out", tmp_path / "plain", tmp_path / "dest"
    build_output(out, fmt, make_plan, key)
    build_output(plain_out, fmt, make_plan, key, encrypt=False)
    encrypted_rows = read_rows(out / "t", fmt, typed=False)
    assert all(str(row["born"]).startswith("enc:v1:") for row in encrypted_rows)

    summary = decrypt_output(out, key_file, dest)

    assert summary["tables"]["t"]["rows"] == 150 and summary["tables"]["t"]["files"] == 2
    assert summary["key_fingerprint"] == key_fingerprint(key)
    expected = read_rows(plain_out / "t", fmt)
    decrypted = read_rows(dest / "t", fmt)
    assert decrypted == expected
    assert {row["phone"] for row in decrypted} == {"[REDACTED]"}  # masked before encryption: stays masked
    assert any(row["email"] is None for row in decrypted) and any(row["score"] is None for row in decrypted)
    assert all(row["code"].startswith("00") for row in decrypted)  # text stays text
    if fmt == "parquet":
        assert pq.read_schema(sorted((dest / "t").glob("*.parquet"))[0]).equals(
            pq.read_schema(sorted((plain_out / "t").glob("*.parquet"))[0])
        )
    if fmt == "csv":  # byte for byte what the CSV sink writes without encryption
        for shard in sorted((plain_out / "t").glob("*.csv")):
            assert (dest / "t" / shard.name).read_bytes() == shard.read_bytes()
    if fmt == "avro":  # the sinks' schema: logical types back, hashed uuid as plain text

        def schema_of(path: Path) -> dict[str, Any]:
            with path.open("rb") as handle:
                return fastavro.reader(handle).writer_schema

        for shard in sorted((plain_out / "t").glob("*.avro")):
            assert schema_of(dest / "t" / shard.name) == schema_of(shard)
        fields = {f["name"]: f["type"] for f in schema_of(dest / "t" / shard.name)["fields"]}
        assert fields["born"] == ["null", {"type": "int", "logicalType": "date"}]
        assert fields["token"] == ["null", "string"]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "avro"])
def test_decrypt_without_masking_restores_the_generated_values(tmp_path: Path, make_plan, key_file, fmt) -> None:
    key = read_key_file(key_file)
    out, plain_out, dest = tmp_path / "out", tmp_path / "plain", tmp_path / "dest"
    report = build_output(out, fmt, make_plan, key, masking=False)
    assert report["security"]["encrypted"]["t"]["token"] == "uuid"
    build_output(plain_out, fmt, make_plan, key, encrypt=False, masking=False)
    decrypt_output(out, key_file, dest)
    decrypted = read_rows(dest / "t", fmt)
    assert decrypted == read_rows(plain_out / "t", fmt)
    assert len({row["phone"] for row in decrypted}) > 100  # explicit masking is inert while masking is off
    if fmt == "avro":
        with sorted((dest / "t").glob("*.avro"))[0].open("rb") as handle:
            fields = {f["name"]: f["type"] for f in fastavro.reader(handle).writer_schema["fields"]}
        assert fields["token"] == ["null", {"type": "string", "logicalType": "uuid"}]


def test_other_files_and_tables_are_copied_and_report_rewritten(tmp_path: Path, make_plan, key_file: Path) -> None:
    out, dest = tmp_path / "out", tmp_path / "dest"
    report = build_output(out, "parquet", make_plan, read_key_file(key_file))
    decrypt_output(out, key_file, dest)
    for path in [out / "_audit.jsonl", *sorted((out / "plain").iterdir())]:
        assert (dest / path.relative_to(out)).read_bytes() == path.read_bytes()
    copied = json.loads((dest / "_report.json").read_text())
    assert copied["security"]["encrypted"] == {}
    assert copied["security"]["decrypted"] == report["security"]["encrypted"]
    assert copied["decrypted"]["from"] == str(out) and "plaintext" in copied["decrypted"]["note"]
    assert copied["tables"]["t"]["file_pattern"] == str(dest / "t" / Path(report["tables"]["t"]["file_pattern"]).name)
    assert sorted(glob.glob(copied["tables"]["t"]["file_pattern"])) == sorted(
        str(p) for p in (dest / "t").iterdir()
    )
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    # the copy is not an encrypted output any more
    with pytest.raises(UserError, match="nothing to decrypt"):
        decrypt_output(dest, key_file, tmp_path / "again")


def test_decrypt_twice_is_byte_identical(tmp_path: Path, make_plan, key_file: Path) -> None:
    out = tmp_path / "out"
    build_output(out, "avro", make_plan, read_key_file(key_file))
    decrypt_output(out, key_file, tmp_path / "a")
    decrypt_output(out, key_file, tmp_path / "b")
    for shard in sorted((tmp_path / "a" / "t").iterdir()):
        assert shard.read_bytes() == (tmp_path / "b" / "t" / shard.name).read_bytes()


# --- failures leave nothing behind -----------------------------------------------------------------------


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if "decrypting" in p.name)


def test_wrong_key_fails_by_fingerprint(tmp_path: Path, make_plan, key_file: Path) -> None:
    out, dest = tmp_path / "out", tmp_path / "dest"
    build_output(out, "parquet", make_plan, read_key_file(key_file))
    other = tmp_path / "other.key"
    keygen(other)
    with pytest.raises(UserError) as caught:
        decrypt_output(out, other, dest)
    message = str(caught.value)
    assert message.startswith("decryption failed: wrong key or corrupted data in t.")
    assert "\n" not in message
    for path in (key_file, other):
        assert path.read_text().strip() not in message
    assert not dest.exists() and not _leftovers(tmp_path)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "avro"])
def test_wrong_key_fails_without_fingerprint(tmp_path: Path, make_plan, key_file: Path, fmt: str) -> None:
    out, dest = tmp_path / "out", tmp_path / "dest"
    build_output(out, fmt, make_plan, read_key_file(key_file))
    report = json.loads((out / "_report.json").read_text())
    del report["security"]["key_fingerprint"]
    (out / "_report.json").write_text(json.dumps(report))
    other = tmp_path / "other.key"
    keygen(other)
    with pytest.raises(UserError, match=r"^decryption failed: wrong key or corrupted data in t\.email, file t/"):
        decrypt_output(out, other, dest)
    assert not dest.exists() and not _leftovers(tmp_path)


def test_tampered_cell_fails(tmp_path: Path, make_plan, key_file: Path) -> None:
    out, dest = tmp_path / "out", tmp_path / "dest"
    build_output(out, "csv", make_plan, read_key_file(key_file))
    shard = sorted((out / "t").glob("*.csv"))[1]
    table = pcsv.read_csv(shard, convert_options=_csv_options(shard, typed=False))
    cells = table.column("visits").to_pylist()
    cells[5] = cells[5][:-6] + ("AAAA==" if not cells[5].endswith("AAAA==") else "BBBB==")
    table = table.set_column(table.schema.get_field_index("visits"), "visits", pa.array(cells))
    buffer = io.BytesIO()
    pcsv.write_csv(table, buffer, pcsv.WriteOptions(quoting_style="needed"))
    shard.write_bytes(buffer.getvalue())
    with pytest.raises(UserError, match=r"^decryption failed: wrong key or corrupted data in t\.visits"):
        decrypt_output(out, key_file, dest)
    assert not dest.exists() and not _leftovers(tmp_path)


def test_cell_moved_between_columns_fails(tmp_path: Path, make_plan, key_file: Path) -> None:
    out, dest = tmp_path / "out", tmp_path / "dest"
    build_output(out, "parquet", make_plan, read_key_file(key_file))
    shard = sorted((out / "t").glob("*.parquet"))[0]
    table = pq.read_table(shard)
    swapped = table.set_column(table.schema.get_field_index("born"), table.schema.field("born"), table["starts"])
    pq.write_table(swapped, shard)
    with pytest.raises(UserError, match=r"^decryption failed: wrong key or corrupted data in t\.born"):
        decrypt_output(out, key_file, dest)


def test_destination_rules(tmp_path: Path, make_plan, key_file: Path) -> None:
    out = tmp_path / "out"
    build_output(out, "parquet", make_plan, read_key_file(key_file))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="exists and is not empty"):
        decrypt_output(out, key_file, busy)
    assert (busy / "keep.txt").read_text() == "mine" and len(list(busy.iterdir())) == 1
    with pytest.raises(UserError, match="must lie outside"):
        decrypt_output(out, key_file, out / "inside")
    empty = tmp_path / "empty"
    empty.mkdir()
    decrypt_output(out, key_file, empty)
    assert (empty / "_report.json").is_file()
    nested = tmp_path / "a" / "b" / "c"
    decrypt_output(out, key_file, nested)
    assert (nested / "t").is_dir()


def test_input_problems_are_one_line_user_errors(tmp_path: Path, make_plan, key_file: Path) -> None:
    with pytest.raises(UserError, match="is not a directory"):
        decrypt_output(tmp_path / "missing", key_file, tmp_path / "d")
    (tmp_path / "bare").mkdir()
    with pytest.raises(UserError, match=r"has no _report.json"):
        decrypt_output(tmp_path / "bare", key_file, tmp_path / "d")
    out = tmp_path / "out"
    build_output(out, "parquet", make_plan, read_key_file(key_file))
    with pytest.raises(UserError, match=r"^--key-file: cannot read key file"):
        decrypt_output(out, tmp_path / "no.key", tmp_path / "d")
    bad = tmp_path / "bad.key"
    bad.write_text("hunter2hunter2")
    with pytest.raises(UserError) as caught:
        decrypt_output(out, bad, tmp_path / "d")
    assert "hunter2" not in str(caught.value) and "holds 10 bytes, not 32" in str(caught.value)
    report = json.loads((out / "_report.json").read_text())
    report["security"]["encrypted"]["t"]["born"] = "money"
    (out / "_report.json").write_text(json.dumps(report))
    with pytest.raises(UserError, match="unknown type 'money'"):
        decrypt_output(out, key_file, tmp_path / "d")
    report["security"]["encrypted"]["t"] = {"born": "date", "ghost": "int"}
    (out / "_report.json").write_text(json.dumps(report))
    with pytest.raises(UserError, match=r"t.ghost is encrypted, but .* has no such column"):
        decrypt_output(out, key_file, tmp_path / "d")
    assert not (tmp_path / "d").exists() and not _leftovers(tmp_path)


# --- keygen --------------------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k"
    fingerprint = keygen(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_fingerprint(read_key_file(path)) == fingerprint
    before = path.read_bytes()
    with pytest.raises(UserError, match=r"^keygen: .* exists; refusing to overwrite"):
        keygen(path)
    assert path.read_bytes() == before
    with pytest.raises(UserError, match=r"^keygen: cannot create key file"):
        keygen(tmp_path / "no" / "such" / "dir" / "k")
