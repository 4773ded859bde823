"""``synthbeam generate`` end to end: three formats read back, report, overwrite rules, failures."""

from __future__ import annotations

import datetime as dt
import glob
import os
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb
import fastavro
import pyarrow as pa
import pytest

from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.engine.batch import generate_batch
from tests.pipeline.conftest import listing, read_parquet_table, read_report

EXPECTED_DUCKDB_TYPES = {
    "customer_id": "BIGINT",
    "code": "VARCHAR",
    "tier": "VARCHAR",
    "remark": "VARCHAR",
    "token": "VARCHAR",
    "active": "BOOLEAN",
    "signup": "DATE",
    "wake": "TIME",
    "seen": "TIMESTAMP",
    "score": "DOUBLE",
}


def _duckdb_source(out: Path, table: str, output_format: str) -> str:
    pattern = str(out / table / f"*.{output_format}")
    if output_format == "parquet":
        return f"read_parquet('{pattern}')"
    # quoted "" is an empty string, an empty field a null (DuckDB merges them unless told)
    return f"read_csv('{pattern}', header = true, allow_quoted_nulls = false)"


def _avro_as_arrow(out: Path, table: str, schema: pa.Schema) -> pa.Table:
    """Avro shards through fastavro into Arrow: DuckDB's own Avro extension downloads itself at run time."""
    records = []
    for path in sorted(glob.glob(str(out / table / "*.avro"))):
        with open(path, "rb") as handle:
            for record in fastavro.reader(handle):
                records.append(
                    {
                        key: str(value)
                        if isinstance(value, uuid.UUID)
                        else value.astimezone(dt.timezone.utc).replace(tzinfo=None)
                        if isinstance(value, dt.datetime) and value.tzinfo
                        else value
                        for key, value in record.items()
                    }
                )
    return pa.Table.from_pylist(records, schema=schema)


def _check_with_duckdb(out: Path, output_format: str, plan=None) -> None:
    con = duckdb.connect()
    if output_format == "avro":
        for table in ("customers", "orders"):
            con.register(f"{table}_avro", _avro_as_arrow(out, table, plan.table(table).schema))
        customers, orders = "customers_avro", "orders_avro"
    else:
        customers = _duckdb_source(out, "customers", output_format)
        orders = _duckdb_source(out, "orders", output_format)
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {customers}").fetchall()}
    assert types == EXPECTED_DUCKDB_TYPES
    count, ids, low, high, nulls, empties, min_wake, max_wake, min_score, max_score = con.execute(
        f"""SELECT count(*), count(DISTINCT customer_id), min(signup), max(signup),
                   count(*) - count(tier), count(*) FILTER (WHERE remark = ''),
                   min(wake), max(wake), min(score), max(score) FROM {customers}"""
    ).fetchone()
    assert (count, ids) == (1000, 1000)
    assert dt.date(2020, 1, 1) <= low <= high <= dt.date(2024, 12, 31)
    assert 100 < nulls < 300  # null_probability 0.2
    assert empties > 0  # an empty string is not a null
    assert dt.time(6) <= min_wake <= max_wake <= dt.time(9)
    assert 0.0 <= min_score <= max_score <= 100.0
    orphans, shipped_without_date, pending_with_date, total = con.execute(
        f"""SELECT count(*) FILTER (WHERE c.customer_id IS NULL),
                   count(*) FILTER (WHERE o.status = 'shipped' AND o.shipped_on IS NULL),
                   count(*) FILTER (WHERE o.status = 'pending' AND o.shipped_on IS NOT NULL),
                   count(*)
            FROM {orders} o LEFT JOIN {customers} c ON o.customer_id = c.customer_id"""
    ).fetchone()
    assert (orphans, shipped_without_date, pending_with_date, total) == (0, 0, 0, 2500)


@pytest.mark.parametrize("output_format", ["parquet", "csv", "avro"])
def test_generate_reads_back_with_duckdb(cli, config_path, tmp_path, output_format) -> None:
    out = tmp_path / "out"
    run = cli("generate", config_path, "--out", out, "--format", output_format)
    assert run.code == 0, run.err
    assert run.err == ""
    assert str(out) in run.out
    assert "customers" in run.out and "1,000" in run.out and "2,500" in run.out
    assert sorted(os.listdir(out)) == ["_profile.json", "_report.html", "_report.json", "customers", "orders"]
    assert all(f.endswith("." + output_format) for f in os.listdir(out / "customers"))
    _check_with_duckdb(out, output_format, build_plan(str(config_path))[0])


def test_generate_parquet_equals_the_engines_rows(cli, config_path, tmp_path) -> None:
    out = tmp_path / "out"
    assert cli("generate", config_path, "--out", out, "--num-shards", 3).code == 0
    assert len(os.listdir(out / "orders")) == 3
    plan, _ = build_plan(str(config_path))
    for table, key in (("customers", "customer_id"), ("orders", "order_id")):
        written = read_parquet_table(out, table).sort_by(key)
        expected = pa.Table.from_batches([generate_batch(plan, table, 0, plan.table(table).rows)])
        assert written.equals(expected), table


def test_generate_avro_reads_back_with_fastavro(cli, config_path, tmp_path) -> None:
    out = tmp_path / "out"
    assert cli("generate", config_path, "--out", out, "--format", "avro").code == 0
    records = []
    for path in sorted(glob.glob(str(out / "customers" / "*.avro"))):
        with open(path, "rb") as handle:
            reader = fastavro.reader(handle)
            fields = {f["name"]: f["type"] for f in reader.writer_schema["fields"]}
            records.extend(reader)
    assert len(records) == 1000
    assert fields["token"] == ["null", {"type": "string", "logicalType": "uuid"}]
    assert fields["seen"][1]["logicalType"] == "local-timestamp-micros"
    first = min(records, key=lambda r: r["customer_id"])
    assert isinstance(first["signup"], dt.date) and isinstance(first["wake"], dt.time)
    assert isinstance(first["seen"], dt.datetime) and first["seen"].tzinfo is None  # no zone, as in Parquet


def test_uuid_columns_that_are_not_all_uuids_are_stored_as_text(cli, write_config, tmp_path) -> None:
    # Avro readers reject a uuid-typed field holding "U-..." or a word; such columns become str.
    columns = [
        {"name": "id", "type": "int", "constraint": ["PK"]},
        {"name": "token", "type": "uuid", "constraint": ["unique"]},
        {"name": "badge", "type": "uuid", "constraint": ["unique"], "rule": {"type": "uuid", "prefix": "U-"}},
        {"name": "word", "type": "uuid", "rule": "word"},
    ]
    child = {
        "table_name": "c",
        "rows": 30,
        "columns": [{"name": "token_ref", "type": "uuid"}, {"name": "badge_ref", "type": "uuid"}],
        "foreign_keys": [
            {"child_column": "token_ref", "parent_table": "p", "parent_column": "token"},
            {"child_column": "badge_ref", "parent_table": "p", "parent_column": "badge"},
        ],
    }
    config = {"as_of": "2025-01-01", "tables": [{"table_name": "p", "rows": 20, "columns": columns}, child]}
    out = tmp_path / "out"
    run = cli("generate", write_config(config), "--out", out, "--format", "avro")
    assert run.code == 0, run.err
    fields, records = {}, []
    for table in ("p", "c"):
        for path in sorted(glob.glob(str(out / table / "*.avro"))):
            with open(path, "rb") as handle:
                reader = fastavro.reader(handle)
                for field in reader.writer_schema["fields"]:
                    union = field["type"] if isinstance(field["type"], list) else [field["type"]]
                    fields[field["name"]] = next(branch for branch in union if branch != "null")
                records.extend(reader)
    assert len(records) == 50
    assert fields["token"] == {"type": "string", "logicalType": "uuid"}
    assert fields["token_ref"] == {"type": "string", "logicalType": "uuid"}
    for text_column in ("badge", "word", "badge_ref"):
        assert fields[text_column] == "string", text_column
    assert all(r["badge"].startswith("U-") for r in records if "badge" in r)
    assert cli("check", write_config(config), out).code == 0


def test_report_describes_the_run(cli, config_path, tmp_path) -> None:
    out = tmp_path / "out"
    assert cli("generate", config_path, "--out", out, "--seed", 5).code == 0
    report = read_report(out)
    assert report["seed"] == 5
    assert len(report["config_sha256"]) == 64
    assert report["source"] == str(config_path)
    assert report["as_of"] == "2025-01-01" and report["as_of_is_run_date"] is False
    assert report["format"] == "parquet" and report["output_dir"] == str(out)
    assert report["runner"].startswith("DirectRunner (FnApiRunner")
    assert report["total_rows"] == 3500
    assert report["peak_rss_mb"] > 50 and report["wall_seconds"] > 0 and report["rows_per_second"] > 0
    assert list(report["tables"]) == ["customers", "orders"]
    orders = report["tables"]["orders"]
    assert orders["rows"] == orders["rows_written"] == 2500
    assert orders["seconds"] >= 0 and orders["files"] >= 1
    # Files by pattern and count, not listed: the report stays the same size at any row count.
    assert orders["file_pattern"].startswith(str(out / "orders" / "orders-"))
    assert len(glob.glob(orders["file_pattern"])) == orders["files"] == len(os.listdir(out / "orders"))
    columns = {c["name"]: c for c in orders["columns"]}
    assert columns["order_id"]["key_strategy"] == "sequence"
    assert columns["customer_id"]["generated_by"].startswith("foreign key -> customers.customer_id")
    assert columns["amount"]["type"] == "float" and columns["amount"]["generated_by"].startswith("range")
    assert report["beam_metrics"]["orders"]["rows"] == 2500


def test_reportable_events_reach_the_report(cli, write_config, tmp_path) -> None:
    config = {
        "as_of": "2025-01-01",
        "tables": [
            {
                "table_name": "t",
                "rows": 400,
                "columns": [
                    {
                        "name": "checked",
                        "type": "str",
                        "nullable": True,
                        "rule": {
                            "type": "choice",
                            "value": ["ok", "bad"],
                            "probabilities": {"bad": 0.95},
                            "regex": "^ok$",
                        },
                    },
                ],
            }
        ],
    }
    out = tmp_path / "out"
    run = cli("generate", write_config(config), "--out", out)
    assert run.code == 0, run.err
    events = read_report(out)["tables"]["t"]["events"]
    assert events["checked:regex_unmatched"] > 50
    assert "checked:regex_unmatched=" in run.out
    assert read_report(out)["beam_metrics"]["t"]["events"] == events


def test_existing_output_without_overwrite_is_left_untouched(cli, config_path, tmp_path) -> None:
    out = tmp_path / "out"
    assert cli("generate", config_path, "--out", out).code == 0
    before = listing(out)
    run = cli("generate", config_path, "--out", out, "--format", "csv")
    assert run.code == 1
    assert run.err.count("\n") == 1 and "--overwrite" in run.err and "Traceback" not in run.err
    assert listing(out) == before


def test_non_empty_foreign_directory_is_refused_too(cli, config_path, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert cli("generate", config_path, "--out", out).code == 1
    assert os.listdir(out) == ["keep.txt"]


def test_overwrite_replaces_previous_output(cli, config_path, tmp_path) -> None:
    out = tmp_path / "out"
    assert cli("generate", config_path, "--out", out).code == 0
    (out / "stale_table").mkdir()
    (out / "stale_table" / "x.parquet").write_text("old")
    run = cli("generate", config_path, "--out", out, "--format", "csv", "--overwrite")
    assert run.code == 0, run.err
    assert sorted(os.listdir(out)) == ["_profile.json", "_report.html", "_report.json", "customers", "orders"]
    assert all(f.endswith(".csv") for f in os.listdir(out / "orders"))


def test_overwrite_refuses_the_working_directory(cli, config_path, tmp_path, monkeypatch) -> None:
    (tmp_path / "something").write_text("x")
    monkeypatch.chdir(tmp_path)
    run = cli("generate", config_path, "--out", ".", "--overwrite")
    assert run.code == 1 and "refusing" in run.err
    assert (tmp_path / "something").exists() and (tmp_path / "shop.json").exists()


def _fail_orders(monkeypatch) -> None:
    import synthbeam.transforms.generate as generate_module

    real = generate_module.generate_batch_counted

    def failing(plan, table, start, stop):
        if table == "orders":
            raise ValueError(f"injected failure in {table} rows {start}-{stop}")
        return real(plan, table, start, stop)

    monkeypatch.setattr(generate_module, "generate_batch_counted", failing)


def test_failed_run_leaves_no_output(cli, config_path, tmp_path, monkeypatch) -> None:
    _fail_orders(monkeypatch)
    out = tmp_path / "out"
    run = cli("generate", config_path, "--out", out)
    assert run.code == 1
    assert run.err.count("\n") == 1, run.err
    assert "injected failure in orders" in run.err and "Traceback" not in run.err
    assert not out.exists()


def test_failed_overwrite_keeps_the_previous_output(cli, config_path, tmp_path, monkeypatch) -> None:
    out = tmp_path / "out"
    assert cli("generate", config_path, "--out", out).code == 0
    before = listing(out)
    _fail_orders(monkeypatch)
    run = cli("generate", config_path, "--out", out, "--overwrite", "--num-shards", 2)
    assert run.code == 1
    assert listing(out) == before  # staging removed, old tables intact


def test_debug_shows_the_traceback(cli, config_path, tmp_path, monkeypatch) -> None:
    _fail_orders(monkeypatch)
    run = cli("generate", config_path, "--out", tmp_path / "out", "--debug")
    assert run.code == 1 and "Traceback" in run.err


def test_unwritable_output_is_one_line(cli, config_path, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    run = cli("generate", config_path, "--out", blocker / "out")
    assert run.code == 1 and run.err.count("\n") == 1
    run = cli("generate", config_path, "--out", blocker)
    assert run.code == 1 and "not a directory" in run.err
    run = cli("generate", config_path, "--out", "nosuchscheme://bucket/out")
    assert run.code == 1 and run.err.startswith("error: cannot use output nosuchscheme://bucket/out")


def test_config_errors_are_one_line(cli, write_config, tmp_path) -> None:
    bad = write_config(
        {
            "tables": [
                {
                    "table_name": "t",
                    "rows": 5,
                    "columns": [
                        {"name": "a", "type": "int", "rule": {"type": "range", "min": 5, "max": 1}},
                        {"name": "b", "type": "int", "rule": {"type": "range", "min": 9, "max": 2}},
                    ],
                }
            ]
        }
    )
    run = cli("generate", bad, "--out", tmp_path / "out")
    assert run.code == 1 and run.err.count("\n") == 1
    assert "min 5 > max 1" in run.err and "1 more" in run.err
    assert not (tmp_path / "out").exists()


def test_preview_shows_the_first_rows_generate_writes(cli, config_path, tmp_path) -> None:
    from synthbeam.pipeline.textview import format_cell

    out = tmp_path / "out"
    assert cli("generate", config_path, "--out", out, "--num-shards", 1, "--format", "parquet").code == 0
    preview = cli("preview", config_path, "--limit", 4)
    assert preview.code == 0
    for table in ("customers", "orders"):
        written = read_parquet_table(out, table).slice(0, 4).to_pylist()  # one shard: rows in order
        section = preview.out.split(f"{table}: rows 1-4")[1]
        lines = [line for line in section.splitlines() if line.strip()]
        for row in written:
            cells = [format_cell(v)[:20] for k, v in row.items() if k not in ("remark",)]
            assert any(all(cell in line for cell in cells[:6]) for line in lines), (table, row)


def test_console_script_and_module_entry(config_path, tmp_path) -> None:
    script = Path(sys.executable).parent / "synthbeam"
    out = tmp_path / "out"
    done = subprocess.run(
        [str(script), "generate", str(config_path), "--out", str(out), "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # quiet: no Beam chatter
    assert "wrote 3,500 rows" in done.stdout
    count = duckdb.connect().execute(f"SELECT count(*) FROM read_csv('{out}/orders/*.csv')").fetchone()[0]
    assert count == 2500
    helped = subprocess.run(
        [sys.executable, "-m", "synthbeam.pipeline", "--help"], capture_output=True, text=True, timeout=120
    )
    assert helped.returncode == 0 and "generate" in helped.stdout and helped.stderr == ""


def test_dedup_columns_are_unique_in_the_output(cli, write_config, tmp_path) -> None:
    config = {
        "seed": 1,
        "as_of": "2025-01-01",
        "tables": [
            {
                "table_name": "firms",
                "rows": 3000,
                "columns": [
                    {"name": "id", "type": "int", "constraint": ["PK"]},
                    # Company names cut to a length can collide though the names differ: the dedup pass
                    {"name": "name", "type": "str", "rule": "company", "length": 30, "constraint": ["unique"]},
                ],
            }
        ],
    }
    path = write_config(config, "firms.json")
    out = tmp_path / "out"
    run = cli("generate", path, "--out", out, "--num-shards", 1)
    assert run.code == 0, run.err
    report = read_report(out)
    assert report["tables"]["firms"]["columns"][1]["key_strategy"] == "dedup"
    assert report["dedup_collisions"]["firms.name"] > 0
    rows, distinct = (
        duckdb.connect()
        .execute(f"SELECT count(*), count(DISTINCT name) FROM read_parquet('{out}/firms/*.parquet')")
        .fetchone()
    )
    assert rows == distinct == 3000
    names = read_parquet_table(out, "firms").column("name").to_pylist()[:5]
    preview = cli("preview", path, "--limit", 5)
    assert all(name[:30] in preview.out for name in names)  # preview applies the same pass
