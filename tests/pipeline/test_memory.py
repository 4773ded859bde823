"""Memory stays flat as rows grow: 10x the rows keeps the peak RSS under 1.5x.

Each run is a fresh ``synthbeam`` process (so the peak is that run's own, not
the test process's history); the peak comes from ``_report.json``, sampled
with psutil across the process tree. A small ``batch_size`` keeps the batch,
the unit of memory, the same at both sizes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CONFIG = {
    "seed": 3,
    "as_of": "2025-01-01",
    "performance": {"batch_size": 5000},
    "tables": [
        {
            "table_name": "events",
            "rows": 25_000,
            "columns": [
                {"name": "event_id", "type": "int", "constraint": ["PK"]},
                {
                    "name": "kind",
                    "type": "str",
                    "rule": {"type": "choice", "value": ["view", "click", "buy"]},
                },
                {"name": "code", "type": "str", "rule": {"type": "regex", "regex": "[A-Z]{4}-[0-9]{6}"}},
                {"name": "token", "type": "uuid"},
                {
                    "name": "at",
                    "type": "timestamp",
                    "rule": {
                        "type": "timestamp_range",
                        "start": "2024-01-01 00:00:00",
                        "end": "2024-12-31 23:59:59",
                    },
                },
                {"name": "amount", "type": "float", "rule": {"type": "range", "min": 0, "max": 1000}},
            ],
        }
    ],
}


def _peak_mb(config: Path, out: Path, scale: int) -> float:
    script = Path(sys.executable).parent / "synthbeam"
    done = subprocess.run(
        [str(script), "generate", str(config), "--out", str(out), "--scale", str(scale), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "_report.json").read_text())
    assert report["total_rows"] == 25_000 * scale
    return float(report["peak_rss_mb"])


def test_ten_times_the_rows_keeps_peak_memory_flat(write_config, tmp_path) -> None:
    config = write_config(CONFIG, "events.json")
    small = _peak_mb(config, tmp_path / "small", 1)
    large = _peak_mb(config, tmp_path / "large", 10)
    assert large < 1.5 * small, f"peak RSS {small:.0f} MB -> {large:.0f} MB for 10x rows"
