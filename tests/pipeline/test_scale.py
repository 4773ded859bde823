"""Launcher and job graph stay flat from 10^6 to 10^10 planned rows (issue 15); ``make scale`` is the report."""

from __future__ import annotations

import pytest

from benchmarks.scale import SCALES, measure_in_subprocess, run_small, verdict


@pytest.mark.slow
def test_graph_and_launcher_are_flat_from_a_million_to_ten_billion_rows() -> None:
    sizes = {label: measure_in_subprocess(scale) for label, scale in SCALES.items()}
    # The plan really is that large: children_per_parent sized from 10^9 companies, not capped.
    assert sizes["1e10"]["rows"] == {"companies": 10**9, "employees": 5 * 10**9, "orders": 4 * 10**9}
    assert 0.9e6 < sizes["1e6"]["planned_rows"] < 1.1e6
    result = verdict(sizes)
    assert result["graph_flat"], sizes
    assert result["launcher_flat"], sizes
    assert max(s["launcher_peak_mb"] for s in sizes.values()) < 1.5 * min(s["launcher_peak_mb"] for s in sizes.values())
    run = run_small(SCALES["1e6"])
    assert run["rows_written"] == sizes["1e6"]["planned_rows"]
    assert all(0 < peak < 1024 for peak in run["peak_worker_rss_mb"].values()), run
    assert run["report_bytes"] < 20_000  # files by pattern and count, not listed
