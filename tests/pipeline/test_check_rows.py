"""``check`` judges conditional columns and referencing ranges row by row (issue 14, items 14-15).

The output is the engine's own rows (a clean run) in one Parquet shard per table; a test
changes one value of a row outside the determinism sample (order_id > 100), so only the
row-by-row check can see it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from synthbeam.pipeline.check import check_output, format_result
from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.core.model import Plan
from synthbeam.rules.engine.batch import generate_batch

FIXTURES = Path(__file__).parent / "fixtures"
CONFIG = FIXTURES / "rows_conditional_refs.json"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build_plan(str(CONFIG))[0]


@pytest.fixture(scope="module")
def pristine(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rows") / "out"
    for name, table in plan.tables.items():
        (out / name).mkdir(parents=True)
        rows = pa.Table.from_batches([generate_batch(plan, name, 0, table.rows)])
        pq.write_table(rows, out / name / "part-0.parquet")
    (out / "_report.json").write_text(json.dumps({"format": "parquet"}))
    return out


@pytest.fixture
def output(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "out"))


def orders(out: Path) -> pa.Table:
    return pq.read_table(out / "orders" / "part-0.parquet")


def customers(out: Path) -> dict[int, dict[str, Any]]:
    table = pq.read_table(out / "customers" / "part-0.parquet").to_pylist()
    return {row["customer_id"]: row for row in table}


def change(out: Path, where: Callable[[dict[str, Any]], bool], column: str, value: Callable[[dict], Any]) -> int:
    """Set ``column`` of the first row past the determinism sample that ``where`` picks; returns its order_id."""
    table = orders(out)
    rows = table.to_pylist()
    position = next(i for i, row in enumerate(rows) if row["order_id"] > 100 and where(row))
    values = table.column(column).to_pylist()
    values[position] = value(rows[position])
    index = table.schema.get_field_index(column)
    table = table.set_column(index, table.schema.field(column), pa.array(values, table.schema.field(column).type))
    pq.write_table(table, out / "orders" / "part-0.parquet")
    return rows[position]["order_id"]


def test_clean_output_passes_with_every_row_check_run(plan: Plan, pristine: Path) -> None:
    result = check_output(plan, pristine)
    assert result.ok, result.breaches
    checks = result.checked["orders"]["checks"]
    for name in ("row_bounds(order_date)", "conditional(shipped_on)", "row_bounds(amount)", "conditional(priority)"):
        assert name in checks
    text = format_result(result, verbose=True)
    assert "conditional rules" not in text and "refer to other columns" not in text


def test_a_value_where_the_branch_gives_null(plan: Plan, output: Path) -> None:
    change(output, lambda r: r["status"] == "pending", "shipped_on", lambda r: r["order_date"])
    [breach] = check_output(plan, output).breaches
    assert breach.startswith("orders.shipped_on: 1 rows where the column's rule (no condition held) gives null")


def test_a_branch_value_outside_its_row_bounds(plan: Plan, output: Path) -> None:
    change(output, lambda r: r["status"] == "shipped", "shipped_on", lambda r: r["order_date"] - dt.timedelta(days=3))
    [breach] = check_output(plan, output).breaches
    assert "orders.shipped_on: 1 rows where conditional_rules[0]: values outside their row's bounds" in breach
    assert "not in [order_date, 2026-01-01]" in breach


def test_a_bound_from_the_parent_row(plan: Plan, output: Path) -> None:
    signups = {k: v["signup_date"] for k, v in customers(output).items()}
    change(output, lambda r: True, "order_date", lambda r: signups[r["customer_id"]] - dt.timedelta(days=1))
    breaches = check_output(plan, output).breaches
    assert any(
        b.startswith("orders.order_date: 1 rows where its rule: values outside their row's bounds")
        and "not in [customers.signup_date, 2025-12-31]" in b
        for b in breaches
    ), breaches


def test_a_numeric_bound_from_the_parent_row(plan: Plan, output: Path) -> None:
    credit = {k: v["credit"] for k, v in customers(output).items()}
    change(
        output,
        lambda r: r["amount"] <= 400 and r["status"] != "canceled",
        "amount",
        lambda r: credit[r["customer_id"]] + 1,
    )
    breaches = check_output(plan, output).breaches
    assert any(b.startswith("orders.amount: 1 rows where its rule: values outside") for b in breaches), breaches


def test_the_branch_a_row_took_is_recomputed(plan: Plan, output: Path) -> None:
    # amount > 400 takes the first branch (high/urgent): "low" is the default rule's value, wrong here.
    change(output, lambda r: r["amount"] > 400, "priority", lambda r: "low")
    [breach] = check_output(plan, output).breaches
    assert breach.startswith("orders.priority: 1 rows where conditional_rules[0]: values not among the 2 choices")
    assert "e.g. 'low'" in breach


def test_the_cli_rejects_a_corrupted_output(cli, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    shutil.copy(CONFIG, config)
    out = tmp_path / "out"
    assert cli("generate", config, "--out", out).code == 0
    run = cli("check", config, out, "--verbose")
    assert run.code == 0, run.out
    assert "skipped shipped_on" not in run.out and "conditional(shipped_on)" in run.out
    [shard] = sorted((out / "orders").glob("*.parquet"))
    table = pq.read_table(shard)
    pending = pc.equal(table.column("status"), "pending")
    filled = pc.if_else(pending, table.column("order_date"), table.column("shipped_on"))
    pq.write_table(table.set_column(table.schema.get_field_index("shipped_on"), "shipped_on", filled), shard)
    run = cli("check", config, out)
    assert run.code == 1
    assert "orders.shipped_on:" in run.out and "gives null, but these rows hold values" in run.out


# --- item 14: choices as stored --------------------------------------------------------------


def test_mixed_choices_are_compared_as_the_generator_stores_them(cli, tmp_path: Path) -> None:
    config = tmp_path / "c47.json"
    shutil.copy(FIXTURES / "c47_choicebool.json", config)  # ["a", 1, true] on a str column
    out = tmp_path / "out"
    assert cli("generate", config, "--out", out).code == 0
    [shard] = sorted((out / "t").glob("*.parquet"))
    written = set(pq.read_table(shard).column("a").to_pylist())
    assert written == {"a", "1", "True"}
    run = cli("check", config, out)
    assert run.code == 0, run.out
    table = pq.read_table(shard)
    values = table.column("a").to_pylist()
    values[7] = "true"  # not what the generator writes for true
    pq.write_table(table.set_column(0, "a", pa.array(values, pa.string())), shard)
    run = cli("check", config, out)
    assert run.code == 1
    assert "t.a: 1 values not among the 3 choices ('a', '1', 'True'), e.g. 'true'" in run.out


def test_rows_without_a_parent_row_are_counted_not_judged(cli, write_config, tmp_path: Path) -> None:
    config = json.loads(CONFIG.read_text())
    config["tables"][1]["foreign_keys"][0]["null_probability"] = 0.3
    path = write_config(config)
    out = tmp_path / "out"
    assert cli("generate", path, "--out", out).code == 0
    run = cli("check", path, out, "--verbose")
    assert run.code == 0, run.out
    nulls = pq.read_table(sorted((out / "orders").glob("*.parquet"))[0]).column("customer_id").null_count
    assert nulls > 0
    assert f"skipped order_date: row-by-row rule check of {nulls:,} row(s) without a parent row" in run.out


def test_a_conditional_regex_rule_cut_by_length_is_no_breach(cli, write_config, tmp_path: Path) -> None:
    columns = [
        {"name": "kind", "type": "str", "rule": {"type": "choice", "value": ["a", "b"]}},
        {
            "name": "code",
            "type": "str",
            "length": 5,
            "rule": {"type": "regex", "regex": "[a-z]{8}"},
            "conditional_rules": [
                {
                    "when": [{"column": "kind", "operator": "==", "value": "a"}],
                    "rule": {"type": "regex", "regex": "[A-Z]{8}"},
                }
            ],
        },
    ]
    path = write_config({"seed": 2, "tables": [{"table_name": "t", "rows": 200, "columns": columns}]})
    out = tmp_path / "out"
    assert cli("generate", path, "--out", out).code == 0
    run = cli("check", path, out, "--verbose")
    assert run.code == 0 and "conditional(code)" in run.out, run.out
