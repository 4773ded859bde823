"""``generate`` with a dedup pass: unique values on disk, children following, impossible runs failing cleanly."""

from __future__ import annotations

import duckdb

from synthbeam.rules.engine.batch import generate_batch
from synthbeam.rules.engine.dedup import apply_dedup
from tests.transforms.test_dedup_transform import CONFIG


def test_generate_writes_unique_values_and_children_follow(make_plan, write_config, cli, tmp_path) -> None:
    out = tmp_path / "out"
    run = cli("generate", write_config(CONFIG), "--out", out, "--as-of", "2026-01-01")
    assert run.code == 0, run.err
    connection = duckdb.connect()
    brands, distinct = connection.execute(
        f"select count(*), count(distinct slogan) from read_parquet('{out}/brands/*.parquet')"
    ).fetchone()
    assert brands == distinct == 2500
    orphans = connection.execute(
        f"select count(*) from read_parquet('{out}/ads/*.parquet') a "
        f"anti join read_parquet('{out}/brands/*.parquet') b using (slogan)"
    ).fetchone()[0]
    assert orphans == 0
    plan = make_plan(CONFIG)
    apply_dedup(plan)
    expected = sorted(generate_batch(plan, "brands", 0, 2500).column("slogan").to_pylist())
    written = [
        row[0]
        for row in connection.execute(
            f"select slogan from read_parquet('{out}/brands/*.parquet') order by slogan"
        ).fetchall()
    ]
    assert written == expected


def test_impossible_dedup_fails_the_run_and_leaves_nothing(write_config, cli, tmp_path, monkeypatch) -> None:
    # validation runs the pass first and refuses this config; off here to reach the run's own pass
    monkeypatch.setenv("SYNTHBEAM_PLAN_DEDUP_ROWS", "0")
    config = {
        "seed": 1,
        "tables": [
            {
                "table_name": "t",
                "rows": 40,
                "columns": [{"name": "flag", "type": "str", "rule": "pybool", "constraint": ["unique"]}],
            }
        ],
    }
    out = tmp_path / "out"
    run = cli("generate", write_config(config), "--out", out, "--as-of", "2026-01-01")
    assert run.code == 1
    assert "t.columns[0] (flag)" in run.err and "still collide after 8 dedup rounds" in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert not out.exists()
