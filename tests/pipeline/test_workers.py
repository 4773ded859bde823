"""Multi-process workers: forked standby workers when forking is safe, Beam's subprocess workers otherwise.

Forking depends on the state of the whole process (its threads), so the
end-to-end checks run ``synthbeam`` in a fresh interpreter, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from string import ascii_uppercase

import pytest

from synthbeam.pipeline.worker import FORK_SWITCH, fork_is_safe
from tests.pipeline.conftest import read_parquet_table

KEYS = {"customers": "customer_id", "orders": "order_id"}
REPO = Path(__file__).resolve().parents[2]

# Runs the CLI in this fresh interpreter, then reports the children left behind.
_RUN_CLI = """
import json, sys
import psutil
from synthbeam.pipeline.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "children": len(psutil.Process().children(recursive=True))}))
"""


def _generate(config: Path, out: Path, *args: str, fork: bool = True) -> dict:
    env = dict(os.environ)
    env[FORK_SWITCH] = "1" if fork else "0"
    done = subprocess.run(
        [sys.executable, "-c", _RUN_CLI, "generate", str(config), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout.strip().splitlines()[-1])
    assert status["code"] == 0, done.stderr
    assert status["children"] == 0, "worker processes outlived the run"
    assert "Traceback" not in done.stderr and "Worker:" not in done.stderr, done.stderr
    return json.loads((out / "_report.json").read_text(encoding="utf-8"))


def _tables(out: Path) -> dict:
    return {table: read_parquet_table(out, table).sort_by(key) for table, key in KEYS.items()}


def test_fork_is_refused_while_another_thread_runs() -> None:
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not fork_is_safe()
    finally:
        release.set()
        other.join()


def test_the_switch_turns_forking_off(monkeypatch) -> None:
    monkeypatch.setenv(FORK_SWITCH, "0")
    assert not fork_is_safe()


def test_unused_standby_workers_exit_when_released() -> None:
    script = """
import psutil
from synthbeam.pipeline.worker import StandbyPool, fork_is_safe
assert fork_is_safe(), "a fresh interpreter may fork"
pool = StandbyPool()
assert pool.fill(2) == 2 and len(pool) == 2
assert len(psutil.Process().children()) == 2
standby = pool.take()
assert len(pool) == 1
standby.discard()
pool.close()
assert standby.exit_code == 0
assert psutil.Process().children() == []
print("ok")
"""
    env = dict(os.environ)
    env.pop(FORK_SWITCH, None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@pytest.mark.slow
def test_forked_and_spawned_workers_write_the_in_process_rows(config_path, tmp_path) -> None:
    baseline = _generate(config_path, tmp_path / "in-process")
    assert "in_memory" in baseline["runner"]
    expected = _tables(tmp_path / "in-process")
    multi = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    for fork in (True, False):
        out = tmp_path / f"multi-{fork}"
        report = _generate(config_path, out, *multi, fork=fork)
        assert "multi_processing, 2 worker(s)" in report["runner"]
        assert ("forked" in report["runner"]) is fork
        tables = _tables(out)
        for name, table in expected.items():
            assert tables[name].equals(table), f"{name} differs (forked workers: {fork})"


FAILING = {
    "seed": 1,
    "tables": [
        {
            "table_name": "t",
            "rows": 27,
            "columns": [
                {"name": "id", "type": "int", "constraint": ["PK"]},
                # 26 one-letter values for 27 unique rows: the dedup pass fails while the run is on
                # (validation would run it first and refuse the config: SYNTHBEAM_PLAN_DEDUP_ROWS=0 below).
                {"name": "c", "type": "str", "length": 1, "constraint": ["unique"],
                 "rule": {"type": "choice", "value": [letter + tail for letter in ascii_uppercase for tail in "xy"]}},
            ],
        }
    ],
}


@pytest.mark.parametrize(
    ("mode", "fork"),
    [("multi_threading", False), ("multi_processing", True), ("multi_processing", False)],
)
def test_a_failure_with_several_workers_is_one_line_unless_debug(write_config, tmp_path, mode, fork) -> None:
    # Beam's harness prints each failed bundle's traceback to stderr (58 lines here) before the
    # failure reaches the launcher, which reports it in one line.
    mode = [f"--direct_running_mode={mode}", "--direct_num_workers=2"]
    config = write_config(FAILING)
    env = {**os.environ, FORK_SWITCH: "1" if fork else "0", "SYNTHBEAM_PLAN_DEDUP_ROWS": "0"}
    command = [sys.executable, "-m", "synthbeam.pipeline", "generate", str(config), "--out", str(tmp_path / "o"), *mode]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=REPO)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr
    assert done.stderr.startswith("error: the run failed (output removed): GenerationError: t.columns[1] (c):")
    debug = subprocess.run([*command, "--debug"], capture_output=True, text=True, timeout=600, env=env, cwd=REPO)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
