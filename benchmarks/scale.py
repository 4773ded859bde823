"""``make scale``: what the launcher and the job graph cost at 10^6, 10^9 and 10^10 planned rows.

The workload (``benchmarks/scale.json``) holds every feature that once made the
launcher or the graph grow with the rows (issue 15): a unique Faker ``company``
column (a dedup pass), ``children_per_parent``, a weighted foreign key naming a
value that is no parent, and a self-reference. Each size is measured in a fresh
interpreter (``--measure SCALE``): compile the plan, size the chunks, build the
pipeline and serialize it to the runner API proto, which is what a remote
runner is sent. Reported per size: job-graph bytes, launcher seconds (compile to
serialized graph; importing Beam excluded, it is the same at every size) and
the launcher's peak memory. The 10^6 plan is also run (``synthbeam generate``,
two multi-process workers) for its per-worker peak memory; the larger ones are
built and serialized, not run.

Acceptance (the issue's): the graph within 10% and the launcher time within 2x
from the smallest size to the largest. Writes ``benchmarks/scale-results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "scale.json"
RESULTS = HERE / "scale-results.json"
# The config's tables hold ~10^6 rows at scale 1: these scales plan 10^6, 10^9 and 10^10 rows.
SCALES = {"1e6": 1, "1e9": 1_000, "1e10": 10_000}
GRAPH_TOLERANCE = 0.10
LAUNCHER_TOLERANCE = 2.0


def measure(scale: float, config: Path = CONFIG) -> dict:
    """Compile, size, build and serialize the pipeline for ``config`` at ``scale`` in this process."""
    import apache_beam as beam  # imported before the clock starts: the same at every size

    from synthbeam.pipeline.build import build
    from synthbeam.pipeline.options import beam_setup
    from synthbeam.rules.compiler.compile import build_plan
    from synthbeam.transforms.chunks import TableChunks, chunk_rows
    from synthbeam.transforms.output import OutputLayout

    started = time.perf_counter()
    plan, _ = build_plan(str(config), overrides={"scale": scale})
    compiled = time.perf_counter()
    setup = beam_setup([], plan)
    chunks = {
        name: TableChunks(name, table.rows, chunk_rows(plan, name, setup.workers).rows_per_chunk)
        for name, table in plan.tables.items()
    }
    pipeline = beam.Pipeline(runner=setup.runner, options=setup.options)
    with tempfile.TemporaryDirectory() as out:
        build(pipeline, plan, OutputLayout(out, "scale"), output_format="parquet", chunks=chunks)
        graph = pipeline.to_runner_api().SerializeToString()
    finished = time.perf_counter()
    return {
        "planned_rows": sum(table.rows for table in plan.tables.values()),
        "rows": {name: table.rows for name, table in plan.tables.items()},
        "graph_bytes": len(graph),
        "launcher_seconds": round(finished - started, 3),
        "compile_seconds": round(compiled - started, 3),
        "launcher_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def measure_in_subprocess(scale: float, repeats: int = 2) -> dict:
    """:func:`measure` in fresh interpreters, so each size's peak memory is its own.

    The fastest of ``repeats`` launches is kept: on a shared machine one launch can
    take twice another for reasons that have nothing to do with the rows.
    """
    runs = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.scale", "--measure", str(scale)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=HERE.parent,
        )
        if done.returncode != 0:
            raise RuntimeError(f"measuring scale {scale} failed: {done.stderr.strip().splitlines()[-1:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    fastest = min(runs, key=lambda run: run["launcher_seconds"])
    return {**fastest, "launcher_peak_mb": max(run["launcher_peak_mb"] for run in runs)}


def run_small(scale: float, workers: int = 2) -> dict:
    """Generate the plan at ``scale`` with ``workers`` multi-process workers; the report's memory figures."""
    with tempfile.TemporaryDirectory() as parent:
        out = Path(parent) / "out"
        command = [
            sys.executable, "-m", "synthbeam.pipeline", "generate", str(CONFIG), "--scale", str(scale),
            "--out", str(out), "--no-progress",
            "--direct_running_mode=multi_processing", f"--direct_num_workers={workers}",
        ]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=HERE.parent)
        if done.returncode != 0:
            raise RuntimeError(f"generate failed: {done.stderr.strip()}")
        report = json.loads((out / "_report.json").read_text(encoding="utf-8"))
    return {
        "workers": workers,
        "wall_seconds": round(time.perf_counter() - started, 2),
        "rows_written": report["total_rows"],
        "peak_rss_mb": report.get("peak_rss_mb"),
        "peak_worker_rss_mb": {name: t.get("peak_worker_rss_mb") for name, t in report["tables"].items()},
        "report_bytes": len(json.dumps(report)),
    }


def verdict(sizes: dict[str, dict]) -> dict:
    graphs = [s["graph_bytes"] for s in sizes.values()]
    seconds = [s["launcher_seconds"] for s in sizes.values()]
    graph_spread = max(graphs) / min(graphs) - 1
    time_ratio = max(seconds) / max(min(seconds), 1e-3)
    return {
        "graph_spread": round(graph_spread, 4),
        "graph_flat": graph_spread <= GRAPH_TOLERANCE,
        "launcher_ratio": round(time_ratio, 2),
        "launcher_flat": time_ratio <= LAUNCHER_TOLERANCE,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", type=float, help="measure one scale in this process (prints JSON)")
    parser.add_argument("--no-run", action="store_true", help="skip generating the 10^6-row plan")
    args = parser.parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return 0
    sizes = {label: measure_in_subprocess(scale) for label, scale in SCALES.items()}
    result = {"config": str(CONFIG.relative_to(HERE.parent)), "sizes": sizes, **verdict(sizes)}
    if not args.no_run:
        result["run_1e6"] = run_small(SCALES["1e6"])
    print(f"{'planned rows':>16} {'graph bytes':>12} {'launcher s':>11} {'compile s':>10} {'launcher MB':>12}")
    for size in sizes.values():
        print(
            f"{size['planned_rows']:>16,} {size['graph_bytes']:>12,} {size['launcher_seconds']:>11.2f} "
            f"{size['compile_seconds']:>10.2f} {size['launcher_peak_mb']:>12.1f}"
        )
    print(
        f"graph spread {result['graph_spread']:.1%} ({'met' if result['graph_flat'] else 'MISSED'}: <= 10%); "
        f"launcher time ratio {result['launcher_ratio']:.2f}x ({'met' if result['launcher_flat'] else 'MISSED'}: <= 2x)"
    )
    if "run_1e6" in result:
        run = result["run_1e6"]
        print(
            f"1e6 run: {run['rows_written']:,} rows in {run['wall_seconds']} s on {run['workers']} workers, "
            f"peak {run['peak_rss_mb']} MB (all processes); per-worker peak MB {run['peak_worker_rss_mb']}"
        )
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(HERE.parent)}")
    return 0 if result["graph_flat"] and result["launcher_flat"] else 1


if __name__ == "__main__":
    os.environ.setdefault("SYNTHBEAM_CACHE_DIR", "")
    sys.exit(main())
