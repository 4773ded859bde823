"""The issue's repro end to end: a PUBLIC copy of a null-masked dob is written null (issue #12 item 8)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.pipeline.conftest import read_parquet_table

FIXTURE = Path(__file__).parent / "fixtures" / "issue12" / "derived_from_protected.json"


def test_values_derived_from_protected_columns_are_written_protected(cli, tmp_path: Path) -> None:
    config = shutil.copy(FIXTURE, tmp_path / "c.json")
    out = tmp_path / "out"
    run = cli("generate", config, "--out", out, "--no-progress")
    assert run.code == 0, run.err
    people, orders = read_parquet_table(out, "people"), read_parquet_table(out, "orders")
    for name in ("dob", "dob_copy", "dob_fixed"):
        assert people.column(name).null_count == people.num_rows, name
    assert orders.column("buyer_dob").null_count == orders.num_rows
    assert people.column("email_copy").equals(people.column("email"))
    assert all("*****@" in e for e in people.column("email").to_pylist())
    assert set(orders.column("buyer_email").to_pylist()) <= set(people.column("email").to_pylist())
    run = cli("check", config, out)
    assert run.code == 0, run.out + run.err
