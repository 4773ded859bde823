"""Same config + seed => the same rows per table, whatever the runner, workers or shards.

The multi-process DirectRunner and the PortableRunner (Beam's embedded job
service with a LOOPBACK environment: the runner API round trip Flink and
Dataflow need) are slower to start, so they are marked ``slow``; they still run
in CI and need no network.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from tests.pipeline.conftest import read_parquet_table

KEYS = {"customers": "customer_id", "orders": "order_id"}


def _tables(out: Path) -> dict[str, pa.Table]:
    return {table: read_parquet_table(out, table).sort_by(key) for table, key in KEYS.items()}


@pytest.fixture
def baseline(cli, config_path, tmp_path_factory) -> dict[str, pa.Table]:
    out = tmp_path_factory.mktemp("baseline") / "out"
    run = cli("generate", config_path, "--out", out)
    assert run.code == 0, run.err
    return _tables(out)


def _same_as_baseline(cli, config_path, tmp_path, baseline, *args) -> None:
    out = tmp_path / "out"
    run = cli("generate", config_path, "--out", out, *args)
    assert run.code == 0, run.err
    tables = _tables(out)
    for name, table in baseline.items():
        assert tables[name].equals(table), f"{name} differs with {args}"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--num-shards", "3"], id="three-shards"),
        pytest.param(["--num-shards", "1"], id="one-shard"),
        pytest.param(["--direct_running_mode=multi_threading", "--direct_num_workers=2"], id="threads"),
    ],
)
def test_in_process_variants_match(cli, config_path, tmp_path, baseline, args) -> None:
    _same_as_baseline(cli, config_path, tmp_path, baseline, *args)


@pytest.mark.slow
def test_multi_process_direct_runner_matches(cli, config_path, tmp_path, baseline) -> None:
    _same_as_baseline(
        cli,
        config_path,
        tmp_path,
        baseline,
        "--direct_running_mode=multi_processing",
        "--direct_num_workers=2",
    )


@pytest.mark.slow
def test_portable_runner_matches(cli, config_path, tmp_path, baseline) -> None:
    portable = ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"]
    _same_as_baseline(cli, config_path, tmp_path, baseline, *portable, "--num-shards", "2")
    # With a fixed shard count every shard holds fixed chunks, so even the files are identical.
    local = tmp_path / "local"
    assert cli("generate", config_path, "--out", local, "--num-shards", "2", "--format", "avro").code == 0
    remote = tmp_path / "portable"
    assert cli("generate", config_path, "--out", remote, "--num-shards", "2", "--format", "avro", *portable).code == 0
    for table in KEYS:
        names = sorted(p.name for p in (local / table).iterdir())
        assert names == sorted(p.name for p in (remote / table).iterdir())
        for name in names:
            assert (local / table / name).read_bytes() == (remote / table / name).read_bytes(), name


def test_batch_size_does_not_change_rows(cli, write_config, tmp_path, baseline) -> None:
    import copy

    from tests.transforms.configs import ALL_TYPES

    config = copy.deepcopy(ALL_TYPES)
    config["performance"] = {"batch_size": 333}
    _same_as_baseline(cli, write_config(config, "small_batches.json"), tmp_path, baseline)


# Rows that hang together (templates, DuckDB expressions, offsets, parent conditions, children
# counts from a parent column) are computed on the workers too: the same rows on every runner.
SAAS_KEYS = {
    "organizations": "org_id",
    "users": "user_id",
    "subscriptions": "subscription_id",
    "invoices": "invoice_id",
}
PORTABLE = ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"]


def _saas(cli, out: Path, *args: str) -> dict[str, pa.Table]:
    from tests.conftest import TEMPLATES

    run = cli("generate", TEMPLATES / "saas.json", "--out", out, "--scale", "0.2", *args)
    assert run.code == 0, run.err
    return {table: read_parquet_table(out, table).sort_by(key) for table, key in SAAS_KEYS.items()}


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(
            ["--direct_running_mode=multi_threading", "--direct_num_workers=2", "--num-shards", "3"], id="threads"
        ),
        pytest.param(
            ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
            id="multi-process",
            marks=pytest.mark.slow,
        ),
        pytest.param([*PORTABLE, "--num-shards", "2"], id="portable", marks=pytest.mark.slow),
    ],
)
def test_rows_that_hang_together_match_on_every_runner(cli, tmp_path, args) -> None:
    baseline = _saas(cli, tmp_path / "in-memory")
    assert baseline["users"].num_rows > 1000  # counts from employee_count x 0.5
    tables = _saas(cli, tmp_path / "other", *args)
    for name, table in baseline.items():
        assert tables[name].equals(table), f"{name} differs with {args}"


def _dedup_config() -> dict:
    """Two dedup columns in one table, a third cut column, and a child whose foreign key reads a dedup column."""
    return {
        "seed": 11,
        "as_of": "2026-01-01",
        "tables": [
            {
                "table_name": "brands",
                "rows": 3000,
                "columns": [
                    {"name": "brand_id", "type": "int", "constraint": ["PK"]},
                    {"name": "slogan", "type": "str", "rule": {"type": "catch_phrase", "pool_size": 500},
                     "constraint": ["unique"]},
                    {"name": "motto", "type": "str", "rule": {"type": "bs", "pool_size": 700},
                     "constraint": ["unique"]},
                    {"name": "short", "type": "str", "rule": "company", "length": 9, "constraint": ["unique"]},
                ],
            },
            {
                "table_name": "ads",
                "rows": 5000,
                "columns": [
                    {"name": "ad_id", "type": "int", "constraint": ["PK"]},
                    {"name": "slogan", "type": "str"},
                ],
                "foreign_keys": [{"child_column": "slogan", "parent_table": "brands", "parent_column": "slogan"}],
            },
        ],
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--direct_running_mode=multi_processing", "--direct_num_workers=2"], id="multi-process"),
        pytest.param(["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"],
                     id="portable"),
    ],
)
def test_dedup_columns_are_the_same_on_every_runner(cli, write_config, make_plan, tmp_path, args) -> None:
    from synthbeam.rules.engine.batch import generate_batch
    from synthbeam.rules.engine.dedup import apply_dedup, dedup_columns

    config_path = write_config(_dedup_config(), "dedup.json")
    plan = make_plan(_dedup_config())
    assert dedup_columns(plan) == [("brands", "slogan"), ("brands", "motto"), ("brands", "short")]
    collisions = apply_dedup(plan)  # what preview computes in this process
    assert all(count > 0 for count in collisions.values()), collisions
    expected = {table: generate_batch(plan, table, 0, plan.table(table).rows) for table in ("brands", "ads")}
    for where, extra in (("local", []), ("other", args)):
        out = tmp_path / where
        run = cli("generate", config_path, "--out", out, *extra)
        assert run.code == 0, run.err
        for table, key in (("brands", "brand_id"), ("ads", "ad_id")):
            written = read_parquet_table(out, table).sort_by(key)
            for name in expected[table].schema.names:
                assert written.column(name).to_pylist() == expected[table].column(name).to_pylist(), (where, name)
        assert len(set(read_parquet_table(out, "brands").column("short").to_pylist())) == 3000
