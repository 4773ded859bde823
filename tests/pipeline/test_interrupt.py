"""Ctrl-C stops a run at once on every runner, says "interrupted", and nothing writes after the cleanup.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group; the
run is started in a session of its own and the group is signalled, as a
terminal would. On the in-process runner SIGINT lands inside a bundle, which
Beam re-raised as ``RuntimeError: KeyboardInterrupt [...]`` (reported as a
failed run, exit 1); a portable run's workers live apart from the launcher's
thread and, left running, wrote into staging after the cleanup (issue 15).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = {
    "seed": 2,
    "as_of": "2026-01-01",
    "performance": {"batch_size": 20_000},
    "tables": [
        {
            "table_name": "t",
            "rows": 20_000_000,
            "columns": [
                {"name": "id", "type": "int", "constraint": ["PK"]},
                {"name": "who", "type": "str", "rule": {"type": "name"}},
                {"name": "code", "type": "str", "rule": {"type": "regex", "regex": "[A-Z]{3}-[0-9]{6}"}},
            ],
        }
    ],
}
RUNNERS = {
    "in-memory": [],
    "multi-process": ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    "portable-loopback": ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"],
}


def _files_under(path: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(path)) if path.exists() else 0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(
    "runner",
    [
        pytest.param("in-memory"),
        pytest.param("multi-process", marks=pytest.mark.slow),
        pytest.param("portable-loopback", marks=pytest.mark.slow),
    ],
)
def test_ctrl_c_stops_the_run_and_leaves_nothing(write_config, tmp_path, runner) -> None:
    config = write_config(CONFIG)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "synthbeam.pipeline", "generate", str(config), "--out", str(out)]
    run = subprocess.Popen(
        [*command, "--no-progress", *RUNNERS[runner]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while _files_under(out) < 2 and time.monotonic() < deadline:  # the lock file, then a chunk's file
            assert run.poll() is None, run.communicate()[1]
            time.sleep(0.1)
        assert _files_under(out) >= 2, "the run never started writing"
        time.sleep(0.5)
        interrupted = time.monotonic()
        os.killpg(run.pid, signal.SIGINT)
        _, stderr = run.communicate(timeout=30)
        seconds = time.monotonic() - interrupted
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert run.returncode == 130, stderr
    assert stderr.strip() == "interrupted", stderr
    assert seconds < 15, seconds
    # The run made OUT, so the cleanup removes it; no worker may bring it back afterwards.
    time.sleep(3)
    assert not out.exists(), sorted(str(p.relative_to(tmp_path)) for p in out.rglob("*"))
    assert not _group_alive(run.pid), "a process of the run outlived it"
