"""``make bench``: synthbeam against an honest per-row baseline, measured in one run.

Measures on the retail-2 workload (``benchmarks/retail2.json``: customers N,
orders 4N):

1. ``synthbeam generate`` through the DirectRunner to Parquet (a subprocess);
2. the rule engine alone: ``generate_batch`` over every chunk, no Beam, no write;
3. the per-row baseline (``benchmarks/baseline.py``), the old design;
4. the multi-process DirectRunner with 2 workers;

5. ``generate --to`` a throwaway local PostgreSQL, keys included, beside Parquet of the same
   rows (``--postgres-customers``, default 5M rows, in rounds with its Parquet runs; "skipped"
   when no server can start; ``--postgres-only`` measures this alone);

plus Parquet, CSV and Avro runs at one smaller size (``--format-customers``),
which also give the small side of the memory-flatness ratio (its large side is
(1)), and, with ``--ratio-customers``, (1) and (4) again at other sizes. Each
figure is the median of ``--repeat`` runs. Ratios, not absolute numbers, are
the claim: both sides of a ratio are measured on this machine in this run, in
rounds (every measure once per round), so drifting load hits all of them alike.
Writes ``benchmarks/results.json`` and prints each target of the speed issue
as met or missed.

Why two sizes: every run pays a fixed start-up (about 1.2 s here: importing
Beam, compiling the plan, building and translating the pipeline) that workers
cannot share, so (1) and (4) are measured where it is amortised (20M rows by
default). The format comparison is a property of the sinks, and at 1M rows it
keeps the whole bench at about two minutes; its pipeline-only ratios (start-up
excluded) are printed next to the end-to-end ones.

How the figures are taken:

* rows/s is end to end: the whole ``synthbeam generate`` process, interpreter
  start to exit. ``pipeline_seconds`` (from the run's report) is the Beam
  pipeline alone, the part workers can share; the rest (imports, compiling the
  plan, building the pipeline, exit) is paid once per run whatever the worker
  count, which is why (4)/(1) grows with the rows.
* rows/s per core divides by the worker processes a run used: 1 for the
  in-process runs, the engine alone and the baseline, 2 for (4). Each
  measurement records its ``workers``.
* Peak memory is sampled across the process tree: ``peak_rss_mb`` sums each
  process's resident set (pages shared between the launcher and its forked
  workers count once per process), ``peak_pss_mb`` shares them out (the
  tree's real footprint). The sampler (:class:`TreeMemory`) reads RSS every
  0.1 s and PSS only at new highs: reading PSS at every tick took the
  2-worker run about 12% of a core, from workers that had none to spare,
  while the 1-worker run's sampler had the idle core to itself.
* Runs are subprocesses with Python's bytecode cache and synthbeam's Faker
  compile cache on, after one unmeasured warm-up run, as for any run after
  the first; ``PYTHONDONTWRITEBYTECODE`` in the caller's environment would
  otherwise recompile synthbeam in every run. Both caches live in the bench's
  own directory (``--cache-dir``, by default ``synthbeam-bench-cache`` in the
  virtualenv, so ``make clean`` removes it): filling them compiles every module
  Beam imports, which made the first bench's warm-up 6.5 s against 1.4 s once
  they are kept. Both are validated as usual (bytecode by source timestamp, the
  compile cache by Faker release and synthbeam build).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
WORKLOAD = HERE / "retail2.json"
BASE_CUSTOMERS = 100_000  # the workload file's customer rows; --customers scales from it


def _pss(process: psutil.Process) -> int:
    """PSS bytes of one process (its RSS where the platform has no PSS or refuses it)."""
    try:
        full = process.memory_full_info()
        return getattr(full, "pss", full.rss)
    except psutil.AccessDenied:
        return process.memory_info().rss


class TreeMemory:
    """Peak RSS and PSS of a process tree, sampled cheaply enough not to slow what it measures.

    With every core busy (the 2-worker run), whatever the sampler spends is taken
    from the workers. RSS (``/proc/<pid>/statm``) is nearly free and is read every
    ``RSS_EVERY`` seconds. PSS makes the kernel walk each process's page tables
    (``smaps_rollup``): read at every tick it cost a 2-worker run about 1.2 s of CPU
    in 10 s. So it is read only when the tree's RSS is at a new high (``PSS_ON_GROWTH``
    above the RSS at the last PSS reading), where its peak can be, and at least every
    ``PSS_EVERY`` seconds. The process list is refreshed every ``LIST_EVERY`` seconds.
    """

    RSS_EVERY = 0.1
    PSS_ON_GROWTH = 1.02
    PSS_EVERY = 2.0
    LIST_EVERY = 0.5

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak_rss = self.peak_pss = 0
        self._members = [process]
        self._listed = self._pss_read = float("-inf")
        self._rss_at_pss = 0

    def sample(self) -> None:
        now = time.monotonic()
        if now - self._listed >= self.LIST_EVERY:
            self._members, self._listed = [self.process, *_children(self.process)], now
        alive, rss = [], 0
        for member in self._members:
            try:
                rss += member.memory_info().rss
                alive.append(member)
            except psutil.Error:  # exited between listing and sampling
                continue
        self.peak_rss = max(self.peak_rss, rss)
        if rss >= self._rss_at_pss * self.PSS_ON_GROWTH or now - self._pss_read >= self.PSS_EVERY:
            pss = 0
            for member in alive:
                with contextlib.suppress(psutil.Error):
                    pss += _pss(member)
            self.peak_pss = max(self.peak_pss, pss)
            self._rss_at_pss, self._pss_read = rss, now


def peak_rss_of(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """Run ``command``; return (seconds, peak RSS MB and peak PSS MB of its process tree, exit code)."""
    started = time.perf_counter()
    process = psutil.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    memory = TreeMemory(process)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            memory.sample()
            stop.wait(TreeMemory.RSS_EVERY)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    stop.set()
    sampler.join()
    if process.returncode:
        sys.stderr.write(stderr.decode(errors="replace")[-2000:])
    return time.perf_counter() - started, memory.peak_rss / 2**20, memory.peak_pss / 2**20, process.returncode


def _children(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


def run_environment(cache: Path) -> dict[str, str]:
    """The environment of measured runs: the bench's own bytecode and compile caches (see the module docstring)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache / "pycache")
    env["SYNTHBEAM_CACHE_DIR"] = str(cache / "compile-cache")
    return env


def default_cache_dir() -> Path | None:
    """``synthbeam-bench-cache`` in this interpreter's prefix (the virtualenv), if it can be written."""
    cache = Path(sys.prefix) / "synthbeam-bench-cache"
    try:
        cache.mkdir(exist_ok=True)
    except OSError:
        return None
    return cache if os.access(cache, os.W_OK) else None


def output_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def synthbeam_run(
    scale: float, fmt: str, work: Path, extra: list[str], workers: int, env: dict[str, str]
) -> dict[str, Any]:
    out = work / f"out-{fmt}-{scale}-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "synthbeam.pipeline",
        "generate",
        str(WORKLOAD),
        "--scale",
        str(scale),
        "--format",
        fmt,
        "--out",
        str(out),
        "--overwrite",
        *extra,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, peak, peak_pss, code = peak_rss_of(command, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code:
        raise SystemExit(f"bench: synthbeam generate failed (exit {code}): {' '.join(command)}")
    # CPU seconds of the run's processes: on a shared machine far steadier than wall time.
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    report = json.loads((out / "_report.json").read_text())
    rows = sum(table["rows"] for table in report["tables"].values())
    result = {
        "rows": rows,
        "workers": workers,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "pipeline_seconds": float(report["wall_seconds"]),
        "peak_rss_mb": peak,
        "peak_pss_mb": peak_pss,
        "output_mb": output_mb(out),
    }
    shutil.rmtree(out, ignore_errors=True)
    return result


def engine_run(scale: float) -> dict[str, Any]:
    from synthbeam.rules.compiler.compile import build_plan
    from synthbeam.rules.engine.batch import generate_batch

    plan, _ = build_plan(str(WORKLOAD), overrides={"scale": scale})
    chunk = 100_000
    started = time.perf_counter()
    rows = 0
    for table in plan.tables.values():
        for start in range(0, table.rows, chunk):
            rows += generate_batch(plan, table.name, start, min(table.rows, start + chunk)).num_rows
    seconds = time.perf_counter() - started
    rss = psutil.Process().memory_info().rss / 2**20
    return {"rows": rows, "workers": 1, "seconds": seconds, "peak_rss_mb": rss}


def baseline_run(customers: int, work: Path, env: dict[str, str]) -> dict[str, Any]:
    code = (
        "import sys, json; from pathlib import Path; sys.path.insert(0, sys.argv[3]);"
        "import baseline; print(json.dumps(baseline.run(int(sys.argv[1]), Path(sys.argv[2]))))"
    )
    out = work / "baseline"
    command = [sys.executable, "-c", code, str(customers), str(out), str(HERE)]
    seconds, peak, peak_pss, status = peak_rss_of(command, env)
    if status:
        raise SystemExit("bench: baseline failed")
    result = {
        "rows": customers * 5,
        "workers": 1,
        "seconds": seconds,
        "peak_rss_mb": peak,
        "peak_pss_mb": peak_pss,
        "output_mb": output_mb(out),
    }
    shutil.rmtree(out, ignore_errors=True)
    return result


def interleaved_medians(repeat: int, measures: dict[str, Callable[[], dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Each measure ``repeat`` times, in rounds (one run of every measure per round), summarised.

    Load on a shared machine drifts over minutes; rounds give every measure the same
    spread of conditions, so a ratio of two medians does not compare a quiet minute
    with a busy one.
    """
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in measures}
    for _ in range(repeat):
        for name, measure in measures.items():
            runs[name].append(measure())
    return {name: summarise(measured) for name, measured in runs.items()}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every figure of ``runs``, plus rates derived from the medians."""
    summary = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    summary["rows_per_s"] = summary["rows"] / summary["seconds"]
    summary["rows_per_s_per_core"] = summary["rows_per_s"] / summary["workers"]
    if "pipeline_seconds" in summary:
        summary["pipeline_rows_per_s"] = summary["rows"] / summary["pipeline_seconds"]
    summary["runs_seconds"] = [round(run["seconds"], 3) for run in runs]
    if "cpu_seconds" in runs[0]:
        summary["runs_cpu_seconds"] = [round(run["cpu_seconds"], 3) for run in runs]
    return summary


def postgres_run(customers: int, work: Path, env: dict[str, str], repeat: int = 1) -> dict[str, Any]:
    """retail-2 at N customers into a throwaway PostgreSQL, keys included, beside Parquet of the same rows.

    Both runs are whole ``synthbeam generate`` processes on the in-process runner, one after the
    other, ``repeat`` rounds of both: the PostgreSQL run writes the same Parquet first (``--out``),
    then loads it, so the ratio is what loading into the database adds. The report's
    ``database.seconds`` says how long each phase of the load took from its first statement to
    its last (the phases overlap: a table's keys are built while other tables are copied), and
    ``database.busy_seconds`` where the time goes: each phase's statements summed over the
    load's connections (COPY, the primary/unique index builds, foreign-key validation).
    """
    from tests.db_fixtures import PostgresUnavailable, start_postgres

    try:
        cluster = start_postgres()
    except PostgresUnavailable as exc:
        return {"skipped": str(exc)}
    try:
        scale = customers / BASE_CUSTOMERS
        in_process = ["--direct_num_workers=1"]
        parquet_runs, runs = [], []
        for round_number in range(repeat):
            parquet_runs.append(synthbeam_run(scale, "parquet", work, in_process, 1, env))
            out = work / "out-postgres"
            command = [
                sys.executable, "-m", "synthbeam.pipeline", "generate", str(WORKLOAD), "--scale", str(scale),
                "--to", cluster.create_database(f"bench{round_number}"), "--out", str(out), "--overwrite",
                *in_process,
            ]  # fmt: skip
            seconds, peak, peak_pss, code = peak_rss_of(command, env)
            if code:
                raise SystemExit(f"bench: synthbeam generate --to failed (exit {code}): {' '.join(command)}")
            report = json.loads((out / "_report.json").read_text())
            shutil.rmtree(out, ignore_errors=True)
            with cluster.connect() as connection:
                connection.execute(f'DROP DATABASE "bench{round_number}"')
            loaded = report["database"]
            runs.append(
                {
                    "rows": loaded["total_rows"],
                    "seconds": seconds,
                    "pipeline_seconds": float(report["wall_seconds"]),
                    "load_seconds": loaded["seconds"],
                    "load_busy_seconds": loaded.get("busy_seconds", {}),
                    "peak_rss_mb": peak,
                    "peak_pss_mb": peak_pss,
                }
            )
        parquet_seconds = statistics.median(run["seconds"] for run in parquet_runs)
        median = sorted(runs, key=lambda run: run["seconds"])[(len(runs) - 1) // 2]  # the run of the median time
        return {
            **median,
            "parquet_seconds": parquet_seconds,
            "time_vs_parquet": median["seconds"] / parquet_seconds,
            "runs_seconds": [round(run["seconds"], 3) for run in runs],
            "runs_parquet_seconds": [round(run["seconds"], 3) for run in parquet_runs],
            "runs_time_vs_parquet": [run["seconds"] / p["seconds"] for run, p in zip(runs, parquet_runs)],
        }
    finally:
        cluster.stop()


def print_postgres(figure: dict[str, Any]) -> None:
    if "skipped" in figure:
        print(f"  PostgreSQL: skipped ({figure['skipped']})")
        return
    phases = ", ".join(f"{name} {value:.1f} s" for name, value in figure["load_seconds"].items())
    busy = ", ".join(f"{name} {value:.1f} s" for name, value in figure["load_busy_seconds"].items())
    rounds = ", ".join(f"{ratio:.2f}x" for ratio in figure["runs_time_vs_parquet"])
    print(
        f"  PostgreSQL end to end, keys included: {figure['rows']:,} rows in {figure['seconds']:.1f} s vs Parquet "
        f"{figure['parquet_seconds']:.1f} s = {figure['time_vs_parquet']:.2f}x (target <= {POSTGRES_TARGET}: "
        f"{'met' if figure['time_vs_parquet'] <= POSTGRES_TARGET else 'MISSED'}); each round {rounds}\n"
        f"    generate {figure['pipeline_seconds']:.1f} s; load, each phase first to last statement: {phases}\n"
        f"    summed over the load's connections (where the time goes): {busy}"
    )


POSTGRES_TARGET = 3.0


def print_figure(name: str, figure: dict[str, Any]) -> None:
    pss = f" (PSS {figure['peak_pss_mb']:>4.0f})" if "peak_pss_mb" in figure else " " * 11
    pipeline = f"  pipeline {figure['pipeline_rows_per_s']:>10,.0f} rows/s" if "pipeline_rows_per_s" in figure else ""
    print(
        f"  {name:<34} {figure['rows_per_s']:>11,.0f} rows/s  {figure['rows_per_s_per_core']:>11,.0f} /core"
        f" ({figure['workers']})  peak {figure['peak_rss_mb']:>4.0f} MB{pss}"
        f"  out {figure.get('output_mb', 0):>6.1f} MB{pipeline}"
    )


# The targets, checked on every run: (name, figure, comparison, threshold).
TARGETS = (
    ("(1) rows/s per core end to end", "synthbeam_rows_per_s_per_core", ">=", 1_000_000),
    ("(1)/(3) vs the per-row baseline", "synthbeam_vs_baseline", ">=", 60),
    ("(4)/(1) with 2 workers", "two_workers_vs_one", ">=", 1.6),
    ("(1) profile overhead (CPU time)", "profile_overhead", "<=", 0.10),
    ("peak RSS of (1), MB", "peak_rss_mb", "<=", 500),
    ("peak PSS of (4), MB", "two_workers_peak_pss_mb", "<=", 500),
    ("peak RSS at >=10x rows", "memory_flatness", "<", 1.2),
    ("CSV time / Parquet time", "csv_time_vs_parquet", "<=", 2),
    ("Avro time / Parquet time", "avro_time_vs_parquet", "<=", 5),
)


def check_targets(figures: dict[str, float], not_applicable: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Each target of ``TARGETS`` with its measured value and whether it is met.

    ``not_applicable`` maps a figure to why this run cannot judge it (``met`` is then None).
    """
    checked = []
    for label, key, comparison, threshold in TARGETS:
        value = figures[key]
        met: bool | None = {">=": value >= threshold, "<=": value <= threshold, "<": value < threshold}[comparison]
        entry = {"target": label, "value": value, "comparison": comparison, "threshold": threshold, "met": met}
        if not_applicable and key in not_applicable:
            entry.update(met=None, reason=not_applicable[key])
        checked.append(entry)
    return checked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customers", type=int, default=4_000_000, help="customers N of (1) and (4); orders are 4N (default 20M rows)"
    )
    parser.add_argument(
        "--format-customers",
        type=int,
        default=200_000,
        help="N of the format comparison (Parquet, CSV, Avro at one size), the engine alone and the small "
        "memory run (default 1M rows)",
    )
    parser.add_argument("--baseline-customers", type=int, default=4_000, help="N for the slow per-row baseline")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--ratio-customers",
        type=int,
        nargs="*",
        default=[],
        metavar="N",
        help="also measure (1) and (4) at these customer counts (the 2-worker ratio as start-up amortises)",
    )
    parser.add_argument(
        "--postgres-customers",
        type=int,
        default=1_000_000,
        help="N of the PostgreSQL load (generate --to into a throwaway local cluster, beside Parquet of the "
        "same rows; default 5M rows); 0 skips it",
    )
    parser.add_argument(
        "--postgres-only",
        action="store_true",
        help="measure only the PostgreSQL load (and its Parquet runs); updates the postgres entry of --out",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="bytecode and compile caches of the measured runs, kept between benches "
        "(default: synthbeam-bench-cache in the virtualenv)",
    )
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    scale = args.customers / BASE_CUSTOMERS
    format_scale = args.format_customers / BASE_CUSTOMERS
    work = Path(tempfile.mkdtemp(prefix="synthbeam-bench-"))
    env = run_environment(args.cache_dir or default_cache_dir() or work / "cache")
    in_process = ["--direct_num_workers=1"]
    multi = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    if args.postgres_only:
        try:
            return postgres_only(args, work, env)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    try:
        results: dict[str, Any] = {
            "cores": cores,
            "customers": args.customers,
            "format_customers": args.format_customers,
            "repeat": args.repeat,
        }
        print(
            f"retail-2, median of {args.repeat}: (1) and (4) at N={args.customers:,} customers + "
            f"{4 * args.customers:,} orders; formats, engine and small memory run at N={args.format_customers:,}"
        )
        print(
            "  rows/s end to end (process start to exit); /core = rows/s / worker processes used (in brackets);\n"
            "  peak = summed RSS of the process tree (PSS: shared pages shared out); pipeline = Beam run alone"
        )
        synthbeam_run(0.01, "parquet", work, in_process, 1, env)  # warm-up: fills or checks the caches
        measures = {
            "synthbeam_parquet": lambda: synthbeam_run(scale, "parquet", work, in_process, 1, env),
            "synthbeam_parquet_no_profile": lambda: synthbeam_run(
                scale, "parquet", work, [*in_process, "--no-profile"], 1, env
            ),
            "synthbeam_parquet_2_workers": lambda: synthbeam_run(scale, "parquet", work, multi, 2, env),
            "baseline_per_row": lambda: baseline_run(args.baseline_customers, work, env),
            "engine_only": lambda: engine_run(format_scale),
            "format_parquet": lambda: synthbeam_run(format_scale, "parquet", work, in_process, 1, env),
            "synthbeam_csv": lambda: synthbeam_run(format_scale, "csv", work, in_process, 1, env),
            "synthbeam_avro": lambda: synthbeam_run(format_scale, "avro", work, in_process, 1, env),
        }
        for name, figure in interleaved_medians(args.repeat, measures).items():
            results[name] = figure
            print_figure(name, figure)
        one = results["synthbeam_parquet"]
        two = results["synthbeam_parquet_2_workers"]
        reference = results["format_parquet"]
        results["memory_flatness"] = {
            "rows": [reference["rows"], one["rows"]],
            "peak_rss_mb": [reference["peak_rss_mb"], one["peak_rss_mb"]],
            "ratio": one["peak_rss_mb"] / reference["peak_rss_mb"],
        }
        results["ratios"] = {
            "synthbeam_vs_baseline": one["rows_per_s"] / results["baseline_per_row"]["rows_per_s"],
            "two_workers_vs_one": two["rows_per_s"] / one["rows_per_s"],
            # What the column profile (_profile.json, _report.html) adds to (1): CPU time with / without - 1.
            # CPU, not wall time: other work on a shared machine moved single wall-time rounds by +-20%.
            "profile_overhead": one["cpu_seconds"] / results["synthbeam_parquet_no_profile"]["cpu_seconds"] - 1,
            "profile_overhead_wall": one["seconds"] / results["synthbeam_parquet_no_profile"]["seconds"] - 1,
            "two_workers_vs_one_pipeline_only": two["pipeline_rows_per_s"] / one["pipeline_rows_per_s"],
            "memory_flatness": results["memory_flatness"]["ratio"],
            "csv_time_vs_parquet": reference["rows_per_s"] / results["synthbeam_csv"]["rows_per_s"],
            "csv_time_vs_parquet_pipeline_only": reference["pipeline_rows_per_s"]
            / results["synthbeam_csv"]["pipeline_rows_per_s"],
            "avro_time_vs_parquet": reference["rows_per_s"] / results["synthbeam_avro"]["rows_per_s"],
            "avro_time_vs_parquet_pipeline_only": reference["pipeline_rows_per_s"]
            / results["synthbeam_avro"]["pipeline_rows_per_s"],
        }
        for name, value in results["ratios"].items():
            print(f"  {name:<38} {value:>8.2f}x")
        # Each round runs (1) and (4) back to back: their ratio per round shows how much of the
        # spread is the machine's drift. The target is judged on the ratio of the medians above.
        by_round = [t1 / t2 for t1, t2 in zip(one["runs_seconds"], two["runs_seconds"])]
        results["two_workers_vs_one_by_round"] = by_round
        print(f"  two_workers_vs_one in each round          {', '.join(f'{r:.2f}x' for r in by_round)}")
        plain = results["synthbeam_parquet_no_profile"]["runs_cpu_seconds"]
        overhead_by_round = [t1 / t0 - 1 for t1, t0 in zip(one["runs_cpu_seconds"], plain)]
        results["profile_overhead_by_round"] = overhead_by_round
        print(f"  profile_overhead (CPU) in each round      {', '.join(f'{r:+.1%}' for r in overhead_by_round)}")
        flat = results["memory_flatness"]
        print(
            f"  peak RSS {flat['peak_rss_mb'][0]:.0f} MB at {flat['rows'][0]:,} rows -> "
            f"{flat['peak_rss_mb'][1]:.0f} MB at {flat['rows'][1]:,} rows ({flat['rows'][1] / flat['rows'][0]:.0f}x)"
        )
        headline = {
            **results["ratios"],
            "synthbeam_rows_per_s_per_core": one["rows_per_s_per_core"],
            "peak_rss_mb": one["peak_rss_mb"],
            # Forked workers share the launcher's pages; summed RSS counts them three times, PSS once.
            "two_workers_peak_pss_mb": two["peak_pss_mb"],
        }
        multiple = flat["rows"][1] / flat["rows"][0]
        not_applicable = {"memory_flatness": f"only {multiple:.1f}x the rows"} if multiple < 10 else {}
        results["targets"] = check_targets(headline, not_applicable)
        print("targets:")
        for target in results["targets"]:
            verdict = f"n/a ({target['reason']})" if target["met"] is None else "met" if target["met"] else "MISSED"
            print(
                f"  {target['target']:<34} {target['value']:>12,.2f} {target['comparison']} "
                f"{target['threshold']:<10,} {verdict}"
            )
        if args.postgres_customers:
            print(f"PostgreSQL (retail-2 at N={args.postgres_customers:,}, median of {args.repeat}):")
            results["postgres"] = postgres_run(args.postgres_customers, work, env, args.repeat)
            print_postgres(results["postgres"])
        if args.ratio_customers:
            results["two_workers_by_size"] = two_workers_by_size(args.ratio_customers, args.repeat, work, env)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def postgres_only(args: argparse.Namespace, work: Path, env: dict[str, str]) -> int:
    """``--postgres-only``: the PostgreSQL measure alone, written into the postgres entry of ``--out``."""
    customers = args.postgres_customers or 1_000_000
    synthbeam_run(0.01, "parquet", work, ["--direct_num_workers=1"], 1, env)  # warm-up: fills or checks the caches
    print(f"PostgreSQL (retail-2 at N={customers:,}, median of {args.repeat}):")
    figure = postgres_run(customers, work, env, args.repeat)
    print_postgres(figure)
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["postgres"] = figure
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote the postgres entry of {args.out}")
    return 0


def two_workers_by_size(sizes: list[int], repeat: int, work: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    """(1) and (4) at each customer count: how the 2-worker ratio grows as the fixed per-run costs amortise."""
    print("2 workers vs 1 by size (end to end; pipeline alone):")
    rows = []
    for customers in sizes:
        scale = customers / BASE_CUSTOMERS
        multi = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
        figures = interleaved_medians(
            repeat,
            {
                "one": functools.partial(synthbeam_run, scale, "parquet", work, ["--direct_num_workers=1"], 1, env),
                "two": functools.partial(synthbeam_run, scale, "parquet", work, multi, 2, env),
            },
        )
        one, two = figures["one"], figures["two"]
        entry = {
            "customers": customers,
            "rows": one["rows"],
            "one_worker": one,
            "two_workers": two,
            "ratio": two["rows_per_s"] / one["rows_per_s"],
            "ratio_pipeline_only": two["pipeline_rows_per_s"] / one["pipeline_rows_per_s"],
        }
        rows.append(entry)
        print(
            f"  {one['rows']:>12,} rows  1 worker {one['rows_per_s']:>11,.0f} rows/s  2 workers "
            f"{two['rows_per_s']:>11,.0f} rows/s  {entry['ratio']:.2f}x  (pipeline {entry['ratio_pipeline_only']:.2f}x)"
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
