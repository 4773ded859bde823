"""``make bench`` keeps working: a tiny run writes a complete, self-consistent results file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks.run import TARGETS, peak_rss_of
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
        "--format-customers",
        "1000",
        "--baseline-customers",
        "200",
        "--repeat",
        "1",
        "--postgres-customers",
        "2000",
        "--out",
        str(results),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    # The measured runs' caches are kept where asked, for the next bench.
    assert any((tmp_path / "cache" / "pycache").rglob("run.*.pyc"))
    assert any((tmp_path / "cache" / "compile-cache").iterdir())
    figures = json.loads(results.read_text())
    expected_rows = {
        "synthbeam_parquet": 10_000,
        "synthbeam_parquet_2_workers": 10_000,
        "baseline_per_row": 1000,
        "engine_only": 5000,
        "format_parquet": 5000,
        "synthbeam_csv": 5000,
        "synthbeam_avro": 5000,
    }
    for name, rows in expected_rows.items():
        assert figures[name]["rows"] == rows, name
        assert figures[name]["rows_per_s"] > 0
    assert figures["postgres"]["rows"] == 10_000 and figures["postgres"]["time_vs_parquet"] > 0
    ratios = figures["ratios"]
    with_profile, without = figures["synthbeam_parquet"], figures["synthbeam_parquet_no_profile"]
    assert without["rows"] == with_profile["rows"] and with_profile["cpu_seconds"] > 0
    assert ratios["profile_overhead"] == pytest.approx(with_profile["cpu_seconds"] / without["cpu_seconds"] - 1)
    assert ratios["synthbeam_vs_baseline"] == pytest.approx(
        figures["synthbeam_parquet"]["rows_per_s"] / figures["baseline_per_row"]["rows_per_s"]
    )
    assert ratios["memory_flatness"] == pytest.approx(
        figures["synthbeam_parquet"]["peak_rss_mb"] / figures["format_parquet"]["peak_rss_mb"]
    )
    rounds = zip(figures["synthbeam_parquet"]["runs_seconds"], figures["synthbeam_parquet_2_workers"]["runs_seconds"])
    assert figures["two_workers_vs_one_by_round"] == pytest.approx([one / two for one, two in rounds])
    assert [t["target"] for t in figures["targets"]] == [target[0] for target in TARGETS]
    flatness = next(t for t in figures["targets"] if t["target"] == "peak RSS at >=10x rows")
    assert flatness["met"] is None and "2.0x" in flatness["reason"]  # 10,000 vs 5,000 rows: too few to judge
    assert all(isinstance(t["met"], bool) for t in figures["targets"] if t is not flatness)


def test_memory_sampler_sees_a_childs_peak_that_lasts_under_a_second() -> None:
    # A child of the measured process holds 300 MB for 0.4 s, then frees it; PSS is read
    # when the tree's RSS reaches a new high, so its peak is caught too.
    child = "import time, numpy; a = numpy.ones(300 * 2**20 // 8); time.sleep(0.4); del a; time.sleep(0.4)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    _, peak_rss, peak_pss, code = peak_rss_of([sys.executable, "-c", parent])
    assert code == 0
    assert 300 <= peak_rss < 600, peak_rss
    assert 280 <= peak_pss <= peak_rss, peak_pss
