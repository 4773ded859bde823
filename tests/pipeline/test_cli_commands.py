"""validate, preview, plan, schema, the stubs, and command-line errors."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.conftest import TEMPLATES


def test_validate_prints_a_summary(cli, write_config, tmp_path) -> None:
    config = {
        "seed": 3,
        "as_of": "2025-02-01",
        "output": {"format": "csv"},
        "performance": {"max_workers": 2, "batch_size": 1000},
        "environments": {"ci": {"seed": 9}},
        "tables": [
            {
                "table_name": "orders",
                "rows": 20,
                "columns": [
                    {"name": "order_id", "type": "int", "constraint": ["PK"]},
                    {"name": "customer_id", "type": "int"},
                    # the seed's correction: a str column with an integer range becomes int
                    {"name": "qty", "type": "str", "rule": {"type": "range", "min": 1, "max": 9}},
                ],
                "foreign_keys": [
                    {
                        "child_column": "customer_id",
                        "parent_table": "customers",
                        "parent_column": "customer_id",
                    }
                ],
            },
            {
                "table_name": "customers",
                "rows": 10,
                "columns": [
                    {"name": "customer_id", "type": "int", "constraint": ["PK"]},
                    {"name": "joined", "type": "date"},
                ],
            },
        ],
    }
    run = cli("validate", write_config(config), "--environment", "ci")
    assert run.code == 0, run.err
    text = run.out
    assert text.index("1. customers") < text.index("2. orders")  # generation order, parents first
    assert re.search(r"customer_id\s+int\s+PK\s+sequence", text)
    assert "foreign key -> customers.customer_id (random)" in text
    assert "corrections applied (1):" in text and "qty" in text and "str -> int" in text
    assert "seed: 9" in text and "environment: ci" in text
    assert "as_of: 2025-02-01" in text
    assert "output: csv" in text
    assert "max_workers=2" in text


def test_validate_lists_every_error(cli, write_config) -> None:
    config = {
        "tables": [
            {
                "table_name": "orders",
                "rows": 5,
                "columns": [
                    {"name": "id", "type": "int", "constraint": ["PK"]},
                    {"name": "amount", "type": "int", "rule": {"type": "range", "min": 5, "max": 1}},
                    {
                        "name": "day",
                        "type": "date",
                        "rule": {"type": "date_range", "start": "2024-02-01", "end": "2024-01-01"},
                    },
                ],
                "foreign_keys": [{"child_column": "id", "parent_table": "nope", "parent_column": "x"}],
            }
        ]
    }
    run = cli("validate", write_config(config))
    assert run.code == 1
    errors = [line for line in run.err.splitlines() if line.startswith("error: ")]
    assert len(errors) >= 3
    assert any("orders.columns[1] (amount)" in e and "min 5 > max 1" in e for e in errors)
    assert any("orders.columns[2] (day)" in e for e in errors)
    assert any("nope" in e for e in errors)
    assert run.err.splitlines()[-1].startswith("invalid:")
    assert run.out == ""


def test_validate_refuses_names_the_output_cannot_hold(cli, write_config, tmp_path) -> None:
    # A table called _report.json lost its rows to the run's report; Avro-invalid names passed validate.
    report_table = {"table_name": "_report.json", "rows": 2, "columns": [{"name": "id", "type": "int"}]}
    run = cli("validate", write_config({"tables": [report_table]}, "report.json"))
    assert run.code == 1 and run.out == ""
    assert "error: _report.json: table name '_report.json' is the name of the run's own _report.json file" in run.err
    assert cli("generate", write_config({"tables": [report_table]}, "report.json"), "--out", tmp_path / "o").code == 1
    spaced = {"tables": [{"table_name": "t", "rows": 2, "columns": [{"name": "first name", "type": "int"}]}]}
    assert cli("validate", write_config(spaced, "spaced.json")).code == 0
    run = cli("validate", write_config(spaced, "spaced.json"), "--format", "avro")
    assert run.code == 1 and "rename 'first name' or choose another format" in run.err


def test_validate_accepts_the_bundled_templates(cli) -> None:
    for template in sorted(TEMPLATES.glob("*.json")):
        assert cli("validate", template).code == 0, template


def test_validate_syntax_error_names_line_and_column(cli, tmp_path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"tables": [\n  {"table_name": "t",, }]}')
    run = cli("validate", broken)
    assert run.code == 1 and "broken.json:2:" in run.err


def test_preview_limits_and_picks_tables(cli, config_path) -> None:
    run = cli("preview", config_path, "--table", "orders", "--limit", 3)
    assert run.code == 0, run.err
    assert run.out.startswith("orders: rows 1-3 of 2,500")
    assert "customers" not in run.out
    body = [line for line in run.out.splitlines()[3:] if line.strip()]
    assert len(body) == 3
    assert cli("preview", config_path, "--table", "nope").code == 1


def test_preview_truncates_wide_cells(cli, write_config) -> None:
    config = {
        "tables": [
            {
                "table_name": "t",
                "rows": 2,
                "columns": [{"name": "long", "type": "str", "rule": {"type": "fixed", "value": "x" * 200}}],
            }
        ]
    }
    run = cli("preview", write_config(config))
    assert run.code == 0
    assert "…" in run.out and max(len(line) for line in run.out.splitlines()) < 100


def test_plan_estimates_and_writes_nothing(cli, config_path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    run = cli("plan", config_path, "--format", "avro", "--num-shards", 2)
    assert run.code == 0, run.err
    assert "2 table(s), 3,500 rows" in run.out and "as avro" in run.out
    assert "orders.customer_id -> customers.customer_id (random)" in run.out
    assert "order_id: sequence" in run.out
    assert "KB" in run.out
    assert sorted(os.listdir(tmp_path)) == before
    # Which path each column takes (the speed issue asks plan and report to say it).
    lines = run.out.splitlines()
    assert any(line.split()[:2] == ["customers.code", "str"] and "regex /[A-Z]{3}-[0-9]{4}/" in line for line in lines)
    assert any(line.split()[:2] == ["customers.customer_id", "int"] and "sequence" in line for line in lines)


def test_plan_size_estimate_is_close_to_the_real_size(cli, config_path, tmp_path) -> None:
    from synthbeam.pipeline.summary import estimate_table_bytes
    from synthbeam.rules.compiler.compile import build_plan

    out = tmp_path / "out"
    assert cli("generate", config_path, "--out", out, "--num-shards", 1).code == 0
    plan, _ = build_plan(str(config_path))
    fixed, per_row = estimate_table_bytes(plan, plan.table("orders"), "parquet")
    actual = sum(f.stat().st_size for f in (out / "orders").iterdir())
    assert 0.5 < (fixed + per_row * 2500) / actual < 2.0


def test_schema_prints_json(cli) -> None:
    run = cli("schema")
    assert run.code == 0
    schema = json.loads(run.out)
    assert "tables" in schema.get("properties", {})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "a command is required"),
        (["bogus"], "invalid choice"),
        (["generate"], "CONFIG"),
        (["generate", "c.json", "--rows", "many"], "--rows"),
        (["generate", "c.json", "--as-of", "2024-13-01"], "YYYY-MM-DD"),
        (["validate", "c.json", "--runner=DirectRunner"], "unrecognized arguments"),
        (["generate", "a.json", "b.json"], "unexpected argument 'b.json'"),
    ],
)
def test_usage_errors_are_one_line(cli, args, message) -> None:
    run = cli(*args)
    assert run.code == 1
    assert run.err.count("\n") == 1 and message in run.err, run.err


def test_unknown_and_bad_beam_options(cli, config_path, tmp_path) -> None:
    out = tmp_path / "out"
    run = cli("generate", config_path, "--out", out, "--direct_num_worker=2")
    assert run.code == 1 and "--direct_num_worker" in run.err and run.err.count("\n") == 1
    run = cli("generate", config_path, "--out", out, "--direct_num_workers=two")
    assert run.code == 1 and "invalid int value" in run.err and run.err.count("\n") == 1
    run = cli("generate", config_path, "--out", out, "--runner=NoSuchRunner")
    assert run.code == 1 and "NoSuchRunner" in run.err and run.err.count("\n") == 1
    assert not out.exists()


def test_help_goes_to_stdout(cli) -> None:
    run = cli("generate", "--help")
    assert run.code == 0 and "--overwrite" in run.out and "pipeline options" in run.out and run.err == ""
