"""``synthbeam import parquet``: a generate output folder read back into a config that validates,
with keys inferred, null shares and category shares kept, and personal values never copied."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc

from tests.pipeline.conftest import read_parquet_table
from tests.pipeline.importing.test_import_db import SOURCE


def test_parquet_folder_round_trip(cli, tmp_path: Path) -> None:
    (tmp_path / "source.json").write_text(json.dumps(SOURCE), encoding="utf-8")
    original = tmp_path / "original"
    assert cli("generate", tmp_path / "source.json", "--out", original, "--no-progress").code == 0
    run = cli("import", "parquet", original, "--as-of", "2026-01-01", "--out", tmp_path / "imported.json")
    assert run.code == 0, run.err
    assert cli("validate", tmp_path / "imported.json").code == 0
    text = (tmp_path / "imported.json").read_text(encoding="utf-8")
    tables = {t["table_name"]: t for t in json.loads(text)["tables"]}
    customers = {c["name"]: c for c in tables["customers"]["columns"]}
    assert customers["customer_id"]["constraint"] == ["PK"]
    assert customers["email"]["rule"] == "email" and "unique" in customers["email"]["constraint"]
    assert tables["orders"]["foreign_keys"][0]["parent_table"] == "customers"
    assert tables["orders"]["rows"] == 12000
    source = read_parquet_table(original, "customers")
    for name in ("email", "city"):
        assert not any(json.dumps(v) in text for v in source.column(name).to_pylist() if v), name
    out = tmp_path / "again"
    assert cli("generate", tmp_path / "imported.json", "--out", out, "--no-progress").code == 0
    for table, column in (("customers", "tier"), ("customers", "city"), ("orders", "status"), ("orders", "amount")):
        before, after = (
            read_parquet_table(original, table).column(column),
            read_parquet_table(out, table).column(column),
        )
        assert abs(before.null_count / len(before) - after.null_count / len(after)) <= 0.02, column
        if column in ("tier", "status"):
            share = {e["values"]: e["counts"] for e in pc.value_counts(before.drop_null()).to_pylist()}
            again = {e["values"]: e["counts"] for e in pc.value_counts(after.drop_null()).to_pylist()}
            assert share.keys() == again.keys()
            for value in share:
                assert abs(share[value] / len(before.drop_null()) - again[value] / len(after.drop_null())) <= 0.02


def test_small_sample_copies_no_categories(cli, tmp_path: Path) -> None:
    """--sample bounds what is read: 12 rows are too few to call status's 4 values a category (5 rows per
    value are needed), so none of its values is copied."""
    (tmp_path / "source.json").write_text(json.dumps(SOURCE), encoding="utf-8")
    original = tmp_path / "original"
    assert cli("generate", tmp_path / "source.json", "--out", original, "--no-progress").code == 0
    run = cli("import", "parquet", original, "--sample", "12", "--as-of", "2026-01-01")
    assert run.code == 0, run.err
    tables = {t["table_name"]: t for t in json.loads(run.out)["tables"]}
    status = {c["name"]: c for c in tables["orders"]["columns"]}["status"]
    assert status.get("rule") != "choice" and "probabilities" not in json.dumps(status)
    assert "first 12 rows" in run.err


def test_missing_folder_is_one_line(cli, tmp_path: Path) -> None:
    run = cli("import", "parquet", tmp_path / "nothing")
    assert run.code == 1 and run.err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    run = cli("import", "parquet", tmp_path / "empty")
    assert run.code == 1 and "no <table>/*.parquet" in run.err
