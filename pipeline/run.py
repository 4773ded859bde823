"""``synthbeam generate`` behind the CLI: checks, one pipeline run, the report, cleanup on failure.

Order of events, so a user error never leaves a trace:

1. everything that can be checked without writing is checked: format, names
   the layout/format cannot hold, pipeline options, and the output directory
   (an existing non-empty one needs ``--overwrite``; nothing is touched
   otherwise);
2. the pipeline runs: unique columns that need a dedup pass get it first,
   distributed (``transforms/dedup.py``), and its small map of replaced rows
   reaches generation as a side input; its files appear under ``OUT/.synthbeam-tmp-<run id>/``
   and its last step moves them into place and writes ``_report.json``;
3. on success the launcher adds wall time, rows/s and peak memory to the
   report; on failure or Ctrl-C it removes the staging directory, and the
   output directory too if this run created it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.runners.runner import PipelineState

from synthbeam.rules.model import Plan
from synthbeam.transforms.chunks import TableChunks, chunk_rows
from synthbeam.transforms.metrics import table_counters
from synthbeam.transforms.names import layout_problems
from synthbeam.transforms.output import OutputLayout, existing_entries, remove_tree, write_json
from synthbeam.transforms.sinks import FORMATS

from .build import build
from .errors import RunFailed, UserError, failure_line
from .options import BeamSetup, OptionsError, beam_setup
from .progress import RunMonitor
from .report import finish_report, read_report, report_base
from .report_html import refresh_html
from .worker import QUIET_SWITCH, STANDBY

__all__ = ["DEFAULT_OUT", "GenerateRequest", "GenerateResult", "check_output", "generate", "key_leaves_with_job"]

DEFAULT_OUT = "output"
PROGRESS_LOG_SECONDS = 5.0
# Runners whose workers run on other machines: a local output path would land on them, not here.
REMOTE_RUNNERS = frozenset({"DataflowRunner", "TestDataflowRunner"})


@dataclass
class GenerateRequest:
    """How to run: where, which format, how many shards, which Beam options."""

    out: str = DEFAULT_OUT
    output_format: str = "parquet"
    num_shards: int = 0
    overwrite: bool = False
    beam_args: list[str] = field(default_factory=list)
    wait: bool = True
    live: bool | None = None  # None: when stderr is a terminal and the runner is in-process
    config_location: str | None = None
    command: list[str] | None = None
    profile: bool = True  # _profile.json and _report.html (--no-profile: False)


@dataclass
class GenerateResult:
    out: str
    report: dict[str, Any]
    waited: bool = True

    @property
    def report_path(self) -> str:
        return FileSystems.join(self.out, "_report.json")


def _one_line(problems: list[str]) -> str:
    return problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")


def check_output(out: str, overwrite: bool, config_location: str | None = None) -> tuple[bool, bool]:
    """Raise UserError unless ``out`` may be written; returns (it exists, it holds files)."""
    local = "://" not in out
    if local and Path(out).exists() and not Path(out).is_dir():
        raise UserError(f"output {out} exists and is not a directory")
    try:
        FileSystems.get_filesystem(out)
        exists = FileSystems.exists(out)
        entries = existing_entries(out)
    except Exception as exc:  # no filesystem for the scheme, missing extras, no credentials
        raise UserError(f"cannot use output {out}: {_first_line(exc)}") from None
    if not entries:
        return exists, False
    if not overwrite:
        shown = ", ".join(sorted(entries)[:3]) + (", ..." if len(entries) > 3 else "")
        raise UserError(f"output directory {out} is not empty ({shown}); pass --overwrite to replace it")
    if local:
        target = Path(out).resolve()
        cwd = Path.cwd().resolve()
        if target in (Path(target.anchor), Path.home().resolve()) or cwd == target or target in cwd.parents:
            raise UserError(f"refusing to --overwrite {out}: it is the current directory, a parent of it, home or /")
        if config_location and "://" not in config_location:
            config = Path(config_location).resolve()
            if target in config.parents:
                raise UserError(f"refusing to --overwrite {out}: it contains the config file {config_location}")
    return True, True


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _run_id() -> str:
    return f"{dt.datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def key_leaves_with_job(plan: Plan, setup: BeamSetup) -> str | None:
    """Why a run's key material leaves this machine inside the job, or None when it does not.

    A local run keeps the pickled plan in this process and its forked
    workers. Any other runner is sent the job itself, and the steps that
    encrypt (or hash with a subkey of the encryption key) carry the key in
    the pickled plan, since its workers have no other way to get it.
    """
    protection = plan.protection
    if setup.local or protection is None:
        return None
    keys = [protection.key, protection.hash_key if protection.hash_key_source == "encryption key" else None]
    if not any(key is not None and key.travels_with_job for key in keys):
        return None  # a key_file URL: workers read it themselves
    return (
        f"{setup.runner_name} receives the encryption key (or the hashing key derived from it) inside the "
        "submitted job, in the pickled steps that use it: whoever can read the job or its staging files can "
        "read that key. Give security.key_file as a URL the workers can read (gs://...) to keep it out"
    )


def generate(plan: Plan, request: GenerateRequest) -> GenerateResult:
    """Run the pipeline for ``plan``; raises UserError/RunFailed with a one-line message."""
    output_format = request.output_format.lower()
    if output_format not in FORMATS:
        raise UserError(f"unknown output format {request.output_format!r}: use one of {', '.join(FORMATS)}")
    problems = layout_problems(plan, output_format)
    if problems:
        raise UserError(_one_line(problems))
    num_shards = int(request.num_shards or 0)
    if num_shards < 0:
        raise UserError(f"output.num_shards must be >= 0, got {num_shards}")
    try:
        setup = beam_setup(request.beam_args, plan)
    except OptionsError as exc:
        raise UserError(str(exc)) from None
    out = request.out
    if not setup.local and "://" not in out and setup.runner_name in REMOTE_RUNNERS:
        raise UserError(
            f"{setup.runner_name} workers cannot write the local path {out}; "
            "use a gs:// (or other shared filesystem) URL for --out"
        )
    out_existed, _ = check_output(out, request.overwrite, request.config_location)

    run_id = _run_id()
    layout = OutputLayout(out, run_id)
    sizing = {name: chunk_rows(plan, name, setup.workers, num_shards) for name in plan.tables}
    chunks = {
        name: TableChunks(name, table.rows, sizing[name].rows_per_chunk, num_shards)
        for name, table in plan.tables.items()
    }
    if setup.local:
        # Before any thread starts (the monitor's, Beam's): forking workers is only safe single-threaded.
        setup.forked_workers = setup.runner.prestart_workers(setup.options)
    try:
        report = report_base(
            plan,
            output_dir=out,
            output_format=output_format,
            num_shards=num_shards,
            runner=setup.describe(),
            run_id=run_id,
            rows_per_chunk={name: s.rows_per_chunk for name, s in sizing.items()},
            command=request.command,
        )
        key_warning = key_leaves_with_job(plan, setup)
        if key_warning:
            sys.stderr.write(f"warning: {key_warning}\n")
            report["notes"] = [*report.get("notes", []), key_warning]
        pipeline = beam.Pipeline(runner=setup.runner, options=setup.options)
        build(
            pipeline,
            plan,
            layout,
            output_format=output_format,
            chunks=chunks,
            num_shards=num_shards,
            overwrite=request.overwrite,
            report=report,
            run_id=run_id,
            profile=request.profile,
        )
    except BaseException:
        STANDBY.close()
        raise
    live = request.live if request.live is not None else (setup.local and sys.stderr.isatty())
    # Not a terminal (CI, | tee) and progress not turned off: a plain line every few seconds.
    log_every = _progress_seconds() if request.live is None and not sys.stderr.isatty() else None
    wait = request.wait or setup.local
    monitor = RunMonitor(
        run_id, {name: t.rows for name, t in plan.tables.items()}, live=live, log_every=log_every
    )
    try:
        with monitor, _quiet_embedded_workers(setup.local):
            result = pipeline.run()
            if not wait:
                return GenerateResult(out, report, waited=False)
            state = result.wait_until_finish()
            if state not in (None, PipelineState.DONE):
                raise RunFailed(f"the pipeline ended in state {state}")
    except BaseException as exc:
        STANDBY.close()  # standby workers a failed run never took
        _clean_up(layout, out_existed)
        if isinstance(exc, KeyboardInterrupt):
            raise
        if isinstance(exc, UserError):
            raise
        removed = "output removed" if not out_existed else "partial output removed"
        raise RunFailed(f"the run failed ({removed}): {failure_line(exc)}") from exc
    final = finish_report(
        read_report(layout.report),
        wall_seconds=monitor.wall_seconds,
        peak_rss=monitor.peak_rss,
        peak_rss_main=monitor.peak_rss_main,
        metrics=table_counters(result),
    )
    write_json(layout.report, final)
    if request.profile:  # again, now with the wall time only this process knows
        refresh_html(out, final)
    return GenerateResult(out, final)


def _progress_seconds() -> float | None:
    """Seconds between progress lines without a terminal: $SYNTHBEAM_PROGRESS_SECONDS (0: none), else 5."""
    text = os.environ.get("SYNTHBEAM_PROGRESS_SECONDS", "")
    try:
        seconds = float(text) if text else PROGRESS_LOG_SECONDS
    except ValueError:
        seconds = PROGRESS_LOG_SECONDS
    return seconds if seconds > 0 else None


@contextlib.contextmanager
def _quiet_embedded_workers(local: bool) -> Iterator[None]:
    """Unless --debug, what in-process workers print to stderr goes nowhere.

    Beam's harness prints every failed bundle's traceback to ``sys.stderr``; in the
    in-process and multi-threaded modes that is this process's. The failure itself
    is raised here and reported in one line (the live progress display keeps the
    stream it was given).
    """
    if not local or os.environ.get(QUIET_SWITCH) != "1":
        yield
        return
    with open(os.devnull, "w") as nowhere, contextlib.redirect_stderr(nowhere):
        yield


def _clean_up(layout: OutputLayout, out_existed: bool) -> None:
    """Remove what a failed run wrote: its staging directory, or the whole output it created."""
    try:
        if out_existed:
            remove_tree(layout.staging)
        else:
            remove_tree(layout.out)
    except Exception:  # cleanup must not hide the real failure
        pass
