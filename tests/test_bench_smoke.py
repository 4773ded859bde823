"""``make bench`` keeps working: a tiny run writes a complete, self-consistent results file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_bench_runs_end_to_end_at_tiny_size(tmp_path) -> None:
    results = tmp_path / "results.json"
    command = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--customers",
        "2000",
        "--baseline-customers",
        "200",
        "--repeat",
        "1",
        "--skip-flat",
        "--out",
        str(results),
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(results.read_text())
    for name in (
        "synthbeam_parquet",
        "engine_only",
        "baseline_per_row",
        "synthbeam_parquet_2_workers",
        "synthbeam_csv",
        "synthbeam_avro",
    ):
        assert figures[name]["rows"] == (1000 if name == "baseline_per_row" else 10_000), name
        assert figures[name]["rows_per_s"] > 0
    ratios = figures["ratios"]
    assert ratios["synthbeam_vs_baseline"] == pytest.approx(
        figures["synthbeam_parquet"]["rows_per_s"] / figures["baseline_per_row"]["rows_per_s"]
    )
