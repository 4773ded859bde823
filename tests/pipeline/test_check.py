"""``pipeline.check``: clean outputs pass in every format; each kind of breach is found.

Outputs are written here directly from ``generate_batch`` (not by the Beam pipeline):
rows are shuffled and split into three shards per table, as a multi-worker run would
leave them, then individual shards are mutated to plant one breach at a time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from synthbeam.pipeline.check import CheckResult, check_output, format_result
from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.core.model import Plan
from synthbeam.rules.engine.batch import generate_batch
from synthbeam.rules.engine.dedup import apply_dedup
from synthbeam.transforms.avro_schema import AVRO_TYPES

FORMATS = ("parquet", "csv", "avro")
SHARDS = 3

CONFIG: dict[str, Any] = {
    "seed": 7,
    "as_of": "2026-01-01",
    "tables": [
        {
            "table_name": "customers",
            "rows": 1200,
            "unique": [["code", "tier"]],
            "columns": [
                {"name": "customer_id", "type": "int", "constraint": ["PK"]},
                {
                    "name": "code",
                    "type": "str",
                    "rule": {"type": "regex", "regex": "[A-Z]{3}-[0-9]{4}"},
                    "constraint": ["unique"],
                },
                {
                    "name": "tier",
                    "type": "str",
                    "constraint": ["not_null"],
                    "rule": {"type": "choice", "value": ["gold", "silver", "bronze"], "probabilities": {"gold": 0.2}},
                },
                {"name": "score", "type": "int", "rule": {"type": "range", "min": 1, "max": 100}},
                {"name": "balance", "type": "float", "rule": {"type": "range", "min": 0, "max": 1000}},
                {
                    "name": "signup",
                    "type": "date",
                    "rule": {"type": "date_range", "start": "2020-01-01", "end": "2024-12-31"},
                },
                {
                    "name": "login",
                    "type": "time",
                    "rule": {"type": "time_range", "start": "08:00:00", "end": "18:00:00"},
                },
                {
                    "name": "updated_at",
                    "type": "timestamp",
                    "rule": {"type": "timestamp_range", "start": "2024-01-01 00:00:00", "end": "2024-06-30 23:59:59"},
                },
                {
                    "name": "ref",
                    "type": "str",
                    "rule": {"type": "choice", "value": ["a1", "b2", "c3"], "prefix": "R-", "regex": "R-[a-z][0-9]"},
                },
                {
                    "name": "nickname",
                    "type": "str",
                    "rule": "first_name",
                    "nullable": True,
                    "null_probability": 0.3,
                    "length": 6,
                },
                {"name": "email", "type": "email", "constraint": ["unique"]},
                {"name": "slogan", "type": "str", "rule": "catch_phrase", "constraint": ["unique"]},  # dedup pass
                {"name": "address", "type": "str", "rule": "address"},  # has newlines: CSV quoting
                {"name": "active", "type": "bool"},
            ],
        },
        {
            "table_name": "orders",
            "rows": 1500,
            "columns": [
                {"name": "order_id", "type": "int", "constraint": ["PK"]},
                {"name": "customer_id", "type": "int"},
                {"name": "status", "type": "str", "rule": {"type": "choice", "value": ["pending", "shipped"]}},
                {"name": "amount", "type": "float", "rule": {"type": "range", "min": 5, "max": 500}},
                {"name": "parent_order", "type": "int"},
            ],
            "foreign_keys": [
                {
                    "child_column": "customer_id",
                    "parent_table": "customers",
                    "parent_column": "customer_id",
                    "null_probability": 0.1,
                },
                {"child_column": "parent_order", "parent_table": "orders", "parent_column": "order_id"},
            ],
        },
    ],
}


# --- writing and rewriting shards ------------------------------------------------------------

# What the sinks write, plus int32 (which they never write) to rewrite a column with the wrong type.
_AVRO_TYPES: dict[str, Any] = {**AVRO_TYPES, "int32": "int"}


def write_shard(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "csv":
        pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
    else:
        fields = [{"name": f.name, "type": ["null", _AVRO_TYPES[str(f.type)]]} for f in table.schema]
        schema = fastavro.parse_schema({"type": "record", "name": "row", "fields": fields})
        with path.open("wb") as handle:
            fastavro.writer(handle, schema, table.to_pylist())


def read_shard(path: Path, plan: Plan, table: str) -> pa.Table:
    schema = plan.table(table).schema
    if path.suffix == ".parquet":
        return pq.read_table(path)
    if path.suffix == ".csv":
        types = {f.name: f.type for f in schema}
        options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False)
        parse = pacsv.ParseOptions(newlines_in_values=True)
        return pacsv.read_csv(path, parse_options=parse, convert_options=options)
    with path.open("rb") as handle:
        reader = fastavro.reader(handle)
        written = {f["name"]: json.dumps(f["type"][-1], sort_keys=True) for f in reader.writer_schema["fields"]}
        records = list(reader)
    arrow_by_avro = {json.dumps(avro, sort_keys=True): arrow for arrow, avro in _AVRO_TYPES.items()}
    types = {name: pa.type_for_alias(arrow_by_avro[avro]) for name, avro in written.items()}
    return pa.Table.from_pylist(records, schema=pa.schema([(name, types[name]) for name in written]))


def write_output(plan: Plan, out: Path, fmt: str, report: dict[str, Any] | None = None) -> Path:
    """Every table as SHARDS shuffled shards under ``out/<table>/``, plus a minimal report."""
    rng = np.random.default_rng(3)
    for name, table in plan.tables.items():
        rows = pa.Table.from_batches([generate_batch(plan, name, 0, table.rows)])
        rows = rows.take(pa.array(rng.permutation(table.rows)))  # shard order is not row order
        (out / name).mkdir(parents=True)
        bounds = np.linspace(0, table.rows, SHARDS + 1).astype(int)
        for number, (start, stop) in enumerate(itertools.pairwise(bounds)):
            write_shard(rows.slice(start, stop - start), out / name / f"part-{number:05d}.{fmt}", fmt)
    (out / "_report.json").write_text(json.dumps(report if report is not None else {"format": fmt}))
    return out


def mutate(out: Path, plan: Plan, table: str, change: Callable[[pa.Table], pa.Table], shard: int = 0) -> None:
    path = sorted((out / table).iterdir())[shard]
    write_shard(change(read_shard(path, plan, table)), path, path.suffix[1:])


def set_value(table: pa.Table, column: str, row: int, value: Any, type_: pa.DataType | None = None) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    position = table.schema.get_field_index(column)
    array = pa.array(values, type_ or table.schema.field(column).type)
    return table.set_column(position, pa.field(column, array.type), array)


def row_of(table: pa.Table, column: str, value: Any) -> int:
    return table.column(column).to_pylist().index(value)


def shard_holding(out: Path, plan: Plan, table: str, column: str, value: Any) -> int:
    for number, path in enumerate(sorted((out / table).iterdir())):
        if value in read_shard(path, plan, table).column(column).to_pylist():
            return number
    raise AssertionError(f"no shard of {table} holds {column}={value!r}")


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "shop.json"
    path.write_text(json.dumps(CONFIG), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def plan(config_file: Path) -> Plan:
    """The plan as ``synthbeam check`` builds it: no dedup replacements."""
    return build_plan(str(config_file))[0]


@pytest.fixture(scope="module")
def run_plan(config_file: Path) -> Plan:
    """The plan as a run uses it: dedup pass applied."""
    built = build_plan(str(config_file))[0]
    apply_dedup(built)
    return built


@pytest.fixture(scope="module")
def pristine(run_plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("outputs")
    return {fmt: write_output(run_plan, root / fmt, fmt) for fmt in FORMATS}


@pytest.fixture
def output(pristine: dict[str, Path], tmp_path: Path) -> Callable[[str], Path]:
    """A fresh copy of a clean output, to mutate."""

    def copy(fmt: str = "parquet") -> Path:
        return Path(shutil.copytree(pristine[fmt], tmp_path / fmt))

    return copy


def breaches_with(result: CheckResult, *words: str) -> list[str]:
    return [line for line in result.breaches if all(word in line for word in words)]


# --- clean outputs ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_clean_output_passes(plan: Plan, pristine: dict[str, Path], fmt: str) -> None:
    result = check_output(plan, pristine[fmt])
    assert result.ok, result.breaches
    assert result.format == fmt
    assert result.checked["customers"]["rows"] == 1200
    assert result.checked["orders"]["rows"] == 1500
    assert result.checked["customers"]["shards"] == SHARDS
    checks = result.checked["customers"]["checks"] + result.checked["orders"]["checks"]
    for expected in (
        "rows",
        "schema",
        "not_null(customer_id)",
        "not_null(tier)",
        "null_share(nickname)",
        "unique(customer_id)",
        "unique(code)",
        "unique(code, tier)",
        "choice(tier)",
        "choice(ref)",
        "regex(code)",
        "regex_check(ref)",
        "range(score)",
        "range(balance)",
        "date_range(signup)",
        "time_range(login)",
        "timestamp_range(updated_at)",
        "max_length(nickname)",
        "sequence(customer_id)",
        "determinism(100 rows)",
        "fk(customer_id -> customers.customer_id)",
        "fk(parent_order -> orders.order_id)",
        "null_share(customer_id)",
    ):
        assert expected in checks, expected
    summary = format_result(result)
    assert summary == f"ok: 2 tables, 2,700 rows, {result.checks} checks"


def test_dedup_columns_are_left_out_of_determinism(plan: Plan, pristine: dict[str, Path]) -> None:
    skipped = check_output(plan, pristine["parquet"]).checked["customers"]["skipped"]
    assert any("determinism of slogan" in reason for reason in skipped)


def test_format_from_extensions_without_report(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("avro")
    (out / "_report.json").unlink()
    result = check_output(plan, out)
    assert result.ok, result.breaches
    assert result.format == "avro"


def test_explicit_format_overrides_detection(plan: Plan, pristine: dict[str, Path]) -> None:
    result = check_output(plan, pristine["csv"], fmt="parquet")
    assert breaches_with(result, "customers", "no .parquet shard files")
    assert breaches_with(result, "another format")


def write_report(out: Path, **extra: Any) -> None:
    report = json.loads((out / "_report.json").read_text())
    (out / "_report.json").write_text(json.dumps({**report, **extra}))


def test_masked_columns_skip_value_checks(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    write_report(out, security={"masked": {"customers": {"nickname": "partial", "code": "hash"}}, "encrypted": {}})
    mutate(out, plan, "customers", lambda t: set_value(t, "code", 0, "h:3f9a0c"))
    result = check_output(plan, out)
    assert result.ok, result.breaches
    checked = result.checked["customers"]
    assert "regex(code)" not in checked["checks"]
    assert "unique(code)" not in checked["checks"]
    assert any("code, nickname: value checks (masked/encrypted)" in s for s in checked["skipped"])


def test_null_masked_column_must_be_empty(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("csv")
    write_report(out, security={"masked": {"customers": {"nickname": "null"}}})
    for shard in range(SHARDS):
        mutate(out, plan, "customers", lambda t: set_value_all(t, "nickname", None), shard=shard)
    assert check_output(plan, out).ok
    mutate(out, plan, "customers", lambda t: set_value(t, "nickname", 0, "Ann"))
    assert breaches_with(check_output(plan, out), "customers.nickname: 1 values left in a column masked with 'null'")


def set_value_all(table: pa.Table, column: str, value: Any) -> pa.Table:
    position = table.schema.get_field_index(column)
    field_ = table.schema.field(column)
    return table.set_column(position, field_, pa.array([value] * table.num_rows, field_.type))


def test_encrypted_columns_are_text(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("avro")
    write_report(out, security={"encrypted": {"customers": {"signup": "date", "email": "email"}}})

    def encrypt(table: pa.Table) -> pa.Table:
        for name in ("signup", "email"):
            position = table.schema.get_field_index(name)
            text = pc.binary_join_element_wise("enc:v1:", table.column(name).cast(pa.string()), "")
            table = table.set_column(position, pa.field(name, pa.string()), text)
        return table

    for shard in range(SHARDS):
        mutate(out, plan, "customers", encrypt, shard=shard)
    result = check_output(plan, out)
    assert result.ok, result.breaches
    assert "date_range(signup)" not in result.checked["customers"]["checks"]
    mutate(
        out,
        plan,
        "customers",
        lambda t: t.set_column(
            t.schema.get_field_index("signup"), "signup", pa.array([None] * t.num_rows, pa.date32())
        ),
    )
    assert breaches_with(check_output(plan, out), "customers.signup: type date32[day] in 1 of 3 shard(s)")


def test_security_without_report_section_skips_sensitive_columns(
    config_file: Path, output: Callable[[str], Path], tmp_path: Path
) -> None:
    config = json.loads(config_file.read_text())
    config["security"] = {"enable_data_masking": True}
    for column in config["tables"][0]["columns"]:
        if column["name"] == "nickname":
            column["sensitivity"] = "PII"
    path = tmp_path / "secure.json"
    path.write_text(json.dumps(config))
    secure_plan = build_plan(str(path))[0]
    out = output("parquet")
    mutate(out, secure_plan, "customers", lambda t: set_value(t, "nickname", 0, "N***********"))
    result = check_output(secure_plan, out)
    assert result.ok, result.breaches
    assert any("possibly masked/encrypted" in s for s in result.checked["customers"]["skipped"])


def test_run_staging_directory_left_behind(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    (out / ".synthbeam-tmp-1234" / "orders").mkdir(parents=True)
    assert breaches_with(check_output(plan, out), ".synthbeam-tmp-1234/: a run's staging directory is still there")


def test_report_hints_explain_determinism_breaches(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    write_report(out, seed=8, as_of="2025-06-30")
    shard = shard_holding(out, plan, "orders", "order_id", 3)
    mutate(out, plan, "orders", lambda t: set_value(t, "amount", row_of(t, "order_id", 3), 6.0), shard=shard)
    result = check_output(plan, out)
    (line,) = breaches_with(result, "orders: determinism")
    assert "the report's seed 8 is not the config's 7" in line
    assert "the report's as_of 2025-06-30 is not the config's 2026-01-01" in line


def test_composite_primary_key(write_config: Callable[..., Path], tmp_path: Path) -> None:
    config = {
        "seed": 1,
        "tables": [
            {
                "table_name": "stock",
                "rows": 50,
                "primary_key": ["store", "item"],
                "columns": [
                    {"name": "store", "type": "int", "rule": {"type": "range", "min": 1, "max": 10_000}},
                    {"name": "item", "type": "str", "rule": {"type": "regex", "regex": "[A-Z]{8}"}},
                    {"name": "qty", "type": "int", "rule": {"type": "range", "min": 0, "max": 9}},
                ],
            }
        ],
    }
    composite = build_plan(str(write_config(config)))[0]
    out = write_output(composite, tmp_path / "out", "csv")
    result = check_output(composite, out)
    assert result.ok, result.breaches
    assert "unique(store, item)" in result.checked["stock"]["checks"]
    assert any("no single-column primary key" in s for s in result.checked["stock"]["skipped"])

    def copy_key(table: pa.Table) -> pa.Table:
        table = set_value(table, "store", 1, table.column("store")[0].as_py())
        return set_value(table, "item", 1, table.column("item")[0].as_py())

    mutate(out, composite, "stock", copy_key)
    (line,) = check_output(composite, out).breaches
    assert line.startswith("stock.(store, item): 1 duplicate values (1 extra rows) in a unique key, e.g. (")


# --- each breach kind -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_dropped_rows(plan: Plan, output: Callable[[str], Path], fmt: str) -> None:
    out = output(fmt)
    mutate(out, plan, "customers", lambda t: t.slice(5))
    result = check_output(plan, out)
    assert breaches_with(result, "customers: 1,195 rows, expected 1,200")
    assert format_result(result).splitlines()[-1].startswith("FAILED: ")


def test_missing_table_directory(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    shutil.rmtree(out / "orders")
    result = check_output(plan, out)
    assert breaches_with(result, "orders: no directory orders/")
    assert breaches_with(result, "orders: 0 rows, expected 1,500")
    assert result.checked["orders"]["shards"] == 0


def test_unexpected_table_directory(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    shutil.copytree(out / "orders", out / "returns")
    assert breaches_with(check_output(plan, out), "returns: unexpected table directory")


@pytest.mark.parametrize("fmt", FORMATS)
def test_duplicate_primary_key(plan: Plan, output: Callable[[str], Path], fmt: str) -> None:
    out = output(fmt)
    mutate(out, plan, "orders", lambda t: set_value(t, "order_id", 1, t.column("order_id")[0].as_py()))
    result = check_output(plan, out)
    lines = breaches_with(result, "orders.order_id: 1 duplicate values (1 extra rows)")
    assert lines, result.breaches


def test_duplicate_in_composite_unique_group(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")

    def copy_row(table: pa.Table) -> pa.Table:
        table = set_value(table, "code", 1, table.column("code")[0].as_py())
        return set_value(table, "tier", 1, table.column("tier")[0].as_py())

    mutate(out, plan, "customers", copy_row)
    result = check_output(plan, out)
    assert breaches_with(result, "customers.(code, tier): 1 duplicate values")
    assert breaches_with(result, "customers.code: 1 duplicate values")


@pytest.mark.parametrize("fmt", FORMATS)
def test_orphan_foreign_key(plan: Plan, output: Callable[[str], Path], fmt: str) -> None:
    out = output(fmt)

    def orphan(table: pa.Table) -> pa.Table:
        table = set_value(table, "customer_id", 0, 999_999)
        return set_value(table, "customer_id", 1, 999_999)

    mutate(out, plan, "orders", orphan)
    result = check_output(plan, out)
    lines = breaches_with(result, "orders.customer_id: 1 orphan values (2 rows) not in customers.customer_id")
    assert lines and "999999" in lines[0], result.breaches


def test_orphan_self_reference(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    mutate(out, plan, "orders", lambda t: set_value(t, "parent_order", 0, 123_456))
    assert breaches_with(check_output(plan, out), "orders.parent_order: 1 orphan values", "orders.order_id", "123456")


def test_parent_rows_missing_makes_orphans(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    mutate(out, plan, "customers", lambda t: t.slice(0, 0))
    assert breaches_with(check_output(plan, out), "orders.customer_id", "orphan values")


@pytest.mark.parametrize("fmt", FORMATS)
def test_out_of_range_values(plan: Plan, output: Callable[[str], Path], fmt: str) -> None:
    out = output(fmt)

    def spoil(table: pa.Table) -> pa.Table:
        table = set_value(table, "score", 3, 1000)
        table = set_value(table, "balance", 3, -0.5)
        return set_value(table, "signup", 3, dt.date(2019, 12, 31))

    mutate(out, plan, "customers", spoil, shard=2)
    result = check_output(plan, out)
    assert breaches_with(result, "customers.score: 1 values outside range [1, 100], e.g. 1000")
    assert breaches_with(result, "customers.balance: 1 values outside range [0, 1000], e.g. -0.5")
    assert breaches_with(result, "customers.signup: 1 values outside [2020-01-01, 2024-12-31], e.g. 2019-12-31")


def test_time_and_timestamp_out_of_range(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("csv")

    def spoil(table: pa.Table) -> pa.Table:
        table = set_value(table, "login", 0, dt.time(7, 59, 59))
        return set_value(table, "updated_at", 0, dt.datetime(2024, 7, 1))

    mutate(out, plan, "customers", spoil)
    result = check_output(plan, out)
    assert breaches_with(result, "customers.login: 1 values outside", "07:59:59")
    assert breaches_with(result, "customers.updated_at: 1 values outside", "2024-07-01 00:00:00")


def test_choice_and_length_breaches(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("avro")

    def spoil(table: pa.Table) -> pa.Table:
        table = set_value(table, "tier", 0, "platinum")
        table = set_value(table, "nickname", 0, "Bartholomew")
        return set_value(table, "ref", 0, "R-z9")

    mutate(out, plan, "customers", spoil)
    result = check_output(plan, out)
    assert breaches_with(result, "customers.tier: 1 values not among the 3 choices", "'platinum'")
    assert breaches_with(result, "customers.nickname: 1 values longer than max_length 6", "'Bartholomew'")
    assert breaches_with(result, "customers.ref: 1 values not among the 3 choices", "'R-z9'")


@pytest.mark.parametrize("fmt", FORMATS)
def test_regex_mismatch(plan: Plan, output: Callable[[str], Path], fmt: str) -> None:
    out = output(fmt)

    def spoil(table: pa.Table) -> pa.Table:
        table = set_value(table, "code", 0, "ab-12")
        return set_value(table, "ref", 0, "X-a1")

    mutate(out, plan, "customers", spoil)
    result = check_output(plan, out)
    assert breaches_with(result, "customers.code: 1 values not fully matching /[A-Z]{3}-[0-9]{4}/", "'ab-12'")
    assert breaches_with(result, "customers.ref: 1 values not fully matching the regex check /R-[a-z][0-9]/")


@pytest.mark.parametrize("fmt", FORMATS)
def test_nulls_in_not_null_columns(plan: Plan, output: Callable[[str], Path], fmt: str) -> None:
    out = output(fmt)
    mutate(out, plan, "customers", lambda t: set_value(set_value(t, "tier", 0, None), "tier", 1, None))
    mutate(out, plan, "orders", lambda t: set_value(t, "order_id", 0, None))
    result = check_output(plan, out)
    assert breaches_with(result, "customers.tier: 2 null values in a not_null column")
    assert breaches_with(result, "orders.order_id: 1 null values in a PK column")


def test_null_share_outside_tolerance(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    for shard in range(SHARDS):
        mutate(
            out,
            plan,
            "customers",
            lambda t: t.set_column(
                t.schema.get_field_index("nickname"), "nickname", pc.fill_null(t.column("nickname"), "Ann")
            ),
            shard=shard,
        )
    result = check_output(plan, out)
    assert breaches_with(result, "customers.nickname: null share 0.0000 (0 of 1,200) outside the expected 0.3000")


@pytest.mark.parametrize("fmt", ["parquet", "avro"])
def test_wrong_column_type(plan: Plan, output: Callable[[str], Path], fmt: str) -> None:
    out = output(fmt)

    def as_text(table: pa.Table) -> pa.Table:
        position = table.schema.get_field_index("score")
        return table.set_column(position, "score", table.column("score").cast(pa.string()))

    mutate(out, plan, "customers", as_text, shard=1)
    result = check_output(plan, out)
    assert breaches_with(result, "customers.score: type string in 1 of 3 shard(s)", "expected int64")
    # the column's values are not judged once its type is wrong
    assert not [line for line in result.breaches if "customers.score" in line and "type string" not in line]


def test_wrong_type_in_csv_is_a_parse_failure(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("csv")

    def spoil(table: pa.Table) -> pa.Table:
        table = table.cast(_all_text(table.schema))
        return set_value(set_value(table, "score", 0, "many"), "signup", 1, "2024-02-30")

    mutate(out, plan, "customers", spoil)
    result = check_output(plan, out)
    assert breaches_with(result, "customers.score: 1 values do not parse as int64, e.g. 'many'")
    assert breaches_with(result, "customers.signup: 1 values do not parse as date32[day], e.g. '2024-02-30'")


def _all_text(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, pa.string()) for f in schema])


def test_renamed_and_reordered_columns(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    mutate(out, plan, "orders", lambda t: t.rename_columns([*t.column_names[:-1], "parent"]))
    mutate(
        out, plan, "customers", lambda t: t.select([t.column_names[1], t.column_names[0], *t.column_names[2:]]), shard=2
    )
    result = check_output(plan, out)
    assert breaches_with(result, "orders: columns differ", "missing parent_order; unexpected parent")
    assert breaches_with(result, "customers: columns differ", "1 of 3 shard(s)", "order code, customer_id")


def test_unreadable_shard(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    path = sorted((out / "orders").iterdir())[0]
    path.write_bytes(path.read_bytes()[:100])
    result = check_output(plan, out)
    assert breaches_with(result, f"orders: shard {path.name} is unreadable")


@pytest.mark.parametrize("fmt", FORMATS)
def test_changed_value_breaks_determinism(plan: Plan, output: Callable[[str], Path], fmt: str) -> None:
    out = output(fmt)
    expected = generate_batch(plan, "customers", 4, 5).to_pylist()[0]
    other = "gold" if expected["tier"] != "gold" else "silver"  # still a valid choice
    shard = shard_holding(out, plan, "customers", "customer_id", 5)
    mutate(out, plan, "customers", lambda t: set_value(t, "tier", row_of(t, "customer_id", 5), other), shard=shard)
    result = check_output(plan, out)
    assert result.breaches == [
        f"customers: determinism: 1 of 100 recomputed rows differ from the output in tier, "
        f"e.g. customer_id=5: tier {other!r} (expected {expected['tier']!r})"
    ]


def test_changed_value_after_the_sample_is_not_a_determinism_breach(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    shard = shard_holding(out, plan, "customers", "customer_id", 500)
    mutate(out, plan, "customers", lambda t: set_value(t, "score", row_of(t, "customer_id", 500), 42), shard=shard)
    assert check_output(plan, out).ok


def test_missing_sample_row_breaks_determinism(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("parquet")
    shard = shard_holding(out, plan, "orders", "order_id", 7)
    mutate(out, plan, "orders", lambda t: set_value(t, "order_id", row_of(t, "order_id", 7), 10_007), shard=shard)
    result = check_output(plan, out)
    assert breaches_with(result, "orders: determinism: 1 of 100 recomputed rows have no row with their order_id")
    assert breaches_with(result, "orders.order_id: 1 values outside the sequence 1..1500, e.g. 10007")


def test_missing_output_directory(plan: Plan, tmp_path: Path) -> None:
    result = check_output(plan, tmp_path / "nowhere")
    assert not result.ok
    assert format_result(result).endswith("FAILED: 1 breach (0 tables, 0 rows, 0 checks)")


def test_csv_shard_without_header(plan: Plan, output: Callable[[str], Path]) -> None:
    out = output("csv")
    path = sorted((out / "orders").iterdir())[1]
    path.write_text(path.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
    result = check_output(plan, out)
    assert breaches_with(result, "orders: columns differ from the plan in 1 of 3 shard(s)", path.name)


def test_cut_and_padded_values_are_not_breaches(write_config: Callable[..., Path], tmp_path: Path) -> None:
    config = {
        "seed": 5,
        "tables": [
            {
                "table_name": "t",
                "rows": 300,
                "columns": [
                    {"name": "id", "type": "int", "constraint": ["PK"]},
                    {
                        "name": "size",
                        "type": "str",
                        "rule": {"type": "choice", "value": ["s", "md", "large", "x-large"]},
                        "min_length": 3,
                        "max_length": 5,
                    },
                    {"name": "tag", "type": "str", "rule": {"type": "regex", "regex": "[a-z]{2,9}"}, "length": 5},
                ],
            }
        ],
    }
    lengths = build_plan(str(write_config(config)))[0]
    out = write_output(lengths, tmp_path / "out", "parquet")
    result = check_output(lengths, out)
    assert result.ok, result.breaches
    assert {"choice(size)", "min_length(size)", "max_length(size)", "regex(tag)"} <= set(result.checked["t"]["checks"])


def test_check_command_passes_a_generated_output_and_fails_a_broken_one(cli, write_config, tmp_path) -> None:
    import copy

    import pyarrow.parquet as pq

    from tests.transforms.configs import ALL_TYPES

    config = write_config(copy.deepcopy(ALL_TYPES), "shop.json")
    out = tmp_path / "generated"
    assert cli("generate", config, "--out", out, "--seed", 5).code == 0
    run = cli("check", config, out)
    assert run.code == 0, run.out + run.err
    assert run.out.strip().splitlines()[-1].startswith("ok:")
    shard = sorted(next(p for p in out.iterdir() if p.is_dir()).glob("*.parquet"))[0]
    table = pq.read_table(shard)
    pq.write_table(table.slice(0, max(0, table.num_rows - 1)), shard)
    broken = cli("check", config, out)
    assert broken.code == 1 and "FAILED" in broken.out


def test_regex_rules_with_anchors_and_affixes(write_config: Callable[..., Path], tmp_path: Path) -> None:
    # The pattern holds for the generated part; its own anchors must not make the check impossible.
    columns = [
        {"name": "id", "type": "int", "constraint": ["PK"]},
        {"name": "code", "type": "str", "rule": {"type": "regex", "regex": "^[A-Z]{3}$", "prefix": "X-"}},
        {"name": "tag", "type": "str", "rule": {"type": "regex", "regex": "[a-z]{2}$", "suffix": "!"}},
    ]
    config = {"seed": 1, "tables": [{"table_name": "t", "rows": 60, "columns": columns}]}
    anchored = build_plan(str(write_config(config)))[0]
    out = write_output(anchored, tmp_path / "out", "parquet")
    result = check_output(anchored, out)
    assert result.ok, result.breaches
    assert {"regex(code)", "regex(tag)"} <= set(result.checked["t"]["checks"])

    def break_values(table: pa.Table) -> pa.Table:
        table = set_value(table, "code", 0, "X-ABCD")  # too long for the pattern
        table = set_value(table, "tag", 1, "ab")  # no suffix
        return set_value(table, "code", 2, "Y-ABC")  # wrong prefix

    mutate(out, anchored, "t", break_values)
    regex_breaches = [b for b in check_output(anchored, out).breaches if "not of the form" in b]
    assert len(regex_breaches) == 2, regex_breaches
    assert any(b.startswith("t.code: 2 values") for b in regex_breaches), regex_breaches
    assert any(b.startswith("t.tag: 1 values") for b in regex_breaches), regex_breaches


def test_check_command_takes_the_runs_locale_from_its_report(cli, write_config, tmp_path) -> None:
    columns = [{"name": "id", "type": "int", "constraint": ["PK"]}, {"name": "who", "type": "str", "rule": "name"}]
    config = write_config({"seed": 1, "tables": [{"table_name": "t", "rows": 40, "columns": columns}]})
    out = tmp_path / "out"
    assert cli("generate", config, "--out", out, "--locale", "de_DE").code == 0
    run = cli("check", config, out)
    assert run.code == 0, run.out + run.err
    wrong = cli("check", config, out, "--locale", "en_US")
    assert wrong.code == 1 and "determinism" in wrong.out


def test_check_command_takes_the_runs_rows_and_scale_from_its_report(cli, write_config, tmp_path) -> None:
    columns = [{"name": "id", "type": "int", "constraint": ["PK"]}, {"name": "n", "type": "int"}]
    config = write_config({"seed": 1, "tables": [{"table_name": "t", "columns": columns}]})
    out = tmp_path / "out"
    assert cli("generate", config, "--out", out, "--rows", 40, "--scale", 2.5).code == 0
    run = cli("check", config, out)
    assert run.code == 0, run.out + run.err
    assert "100 rows" in run.out
    assert cli("check", config, out, "--scale", 1).code == 1
