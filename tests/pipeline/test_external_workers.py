"""The same rows when the SDK harness runs in separate processes over the Fn API (issue 15).

That is how Flink and Dataflow run Python DoFns: the pipeline is pickled, sent
through the runner API to a job service, and executed by SDK harness processes
that import synthbeam themselves. The in-process runners hide pickling and
worker-import mistakes; this test starts Beam's worker pool
(``apache_beam.runners.worker.worker_pool_main``), which launches a fresh
``python`` harness process per worker, and runs ``synthbeam generate`` against
it with ``--environment_type=EXTERNAL`` on the embedded portable job service.
(Flink's and Spark's job-server jars cannot be fetched here; README says so.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from tests.pipeline.conftest import read_parquet_table

REPO = Path(__file__).resolve().parents[2]

CONFIG = {
    "seed": 11,
    "as_of": "2026-01-01",
    "tables": [
        {
            "table_name": "companies",
            "rows": 300,
            "columns": [
                {"name": "company_id", "type": "int", "constraint": ["PK"]},
                {"name": "name", "type": "str", "rule": {"type": "company"}, "constraint": ["unique"]},
            ],
        },
        {
            "table_name": "employees",
            "columns": [
                {"name": "employee_id", "type": "int", "constraint": ["PK"]},
                {"name": "company_id", "type": "int"},
                {"name": "manager_id", "type": "int"},
                {"name": "email", "type": "str", "rule": {"type": "email"}, "constraint": ["unique"]},
            ],
            "foreign_keys": [
                {"child_column": "company_id", "parent_table": "companies", "parent_column": "company_id",
                 "children_per_parent": {"min": 1, "max": 6}},
                {"child_column": "manager_id", "parent_table": "employees", "parent_column": "employee_id"},
            ],
        },
        {
            "table_name": "orders",
            "rows": 2000,
            "columns": [
                {"name": "order_id", "type": "int", "constraint": ["PK"]},
                {"name": "company_id", "type": "int"},
                {"name": "placed", "type": "date", "rule": {"type": "date_range", "start": "2024-01-01"}},
            ],
            "foreign_keys": [
                {"child_column": "company_id", "parent_table": "companies", "parent_column": "company_id",
                 "distribution": "weighted", "weights": {"1": 40, "2": 10, "999999": 3}},
            ],
        },
    ],
}
KEYS = {"companies": "company_id", "employees": "employee_id", "orders": "order_id"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, pool: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert pool.poll() is None, "the worker pool exited"
        with socket.socket() as probe:
            if probe.connect_ex(("localhost", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"the worker pool did not listen on {port}")


def _generate(config: Path, out: Path, *args: str) -> None:
    command = [sys.executable, "-m", "synthbeam.pipeline", "generate", str(config), "--out", str(out), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr


def _tables(out: Path) -> dict[str, pa.Table]:
    return {table: read_parquet_table(out, table).sort_by(key) for table, key in KEYS.items()}


@pytest.mark.slow
def test_sdk_harness_processes_over_the_fn_api_write_the_in_memory_rows(write_config, tmp_path) -> None:
    config = write_config(CONFIG)
    _generate(config, tmp_path / "in-memory")
    port = _free_port()
    log = tmp_path / "pool.log"
    # The pool starts each harness as `python -c ...`: this interpreter's python must come first.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("w") as log_file:
        pool = subprocess.Popen(
            [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main", f"--service_port={port}"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its harness processes join its group, and go with it
        )
    try:
        _wait_for_port(port, pool)
        external = [
            "--runner=PortableRunner",
            "--job_endpoint=embed",
            "--environment_type=EXTERNAL",
            f"--environment_config=localhost:{port}",
        ]
        _generate(config, tmp_path / "external", *external)
        _generate(config, tmp_path / "external-shards", *external, "--num-shards", "2")
    finally:
        os.killpg(pool.pid, signal.SIGTERM)
        pool.wait(timeout=30)
    assert "Starting worker with command" in log.read_text(), "no separate harness process was started"
    expected = _tables(tmp_path / "in-memory")
    for out in ("external", "external-shards"):
        tables = _tables(tmp_path / out)
        for name, table in expected.items():
            assert tables[name].equals(table), f"{name} differs on the external harness ({out})"
