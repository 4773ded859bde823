"""``synthbeam generate`` behind the CLI: checks, one pipeline run, the report, cleanup on failure.

Order of events, so a user error never leaves a trace:

1. everything that can be checked without writing is checked: format, names
   the layout/format cannot hold, pipeline options, and the output directory
   (:mod:`.outdir`: an existing non-empty one needs ``--overwrite`` and must be
   a previous synthbeam output; nothing is touched otherwise); then the run
   claims ``OUT`` (one run at a time) and tidies what dead runs left there;
2. the pipeline runs: unique columns that need a dedup pass get it first,
   as keyed shuffles (``transforms/dedup.py``), and its replaced rows reach
   generation block by block through a multimap side input; its new output is built under
   ``OUT/.synthbeam-tmp-<run id>/`` and its last step switches it with the
   previous output by renames (``transforms/output.py``);
3. on success the launcher adds wall time, rows/s and peak memory to the
   report; on failure or Ctrl-C it removes the staging directory (the
   previous output is intact), and the output directory too if this run
   created it. The claim is released last.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.runners.runner import PipelineState

from synthbeam.rules.core.model import Plan
from synthbeam.transforms import tree
from synthbeam.transforms.chunks import TableChunks, chunk_rows
from synthbeam.transforms.metrics import table_counters
from synthbeam.transforms.names import layout_problems
from synthbeam.transforms.output import OutputLayout, recover, remove_tree, write_json
from synthbeam.transforms.sinks import FORMATS

from .build import build
from .errors import RunFailed, UserError, failure_line
from .notices import warn, warn_all
from .options import BeamSetup, OptionsError, beam_setup
from .outdir import ClaimedOutput, claim_output
from .progress import RunMonitor
from .report import finish_report, read_report, report_base
from .report_html import refresh_html
from .worker import QUIET_SWITCH, STANDBY

__all__ = ["DEFAULT_OUT", "GenerateRequest", "GenerateResult", "check_output", "generate", "key_leaves_with_job"]

DEFAULT_OUT = "output"
PROGRESS_LOG_SECONDS = 5.0
# Runners whose workers run on other machines: a local output path would land on them, not here.
REMOTE_RUNNERS = frozenset({"DataflowRunner", "TestDataflowRunner"})
_LOG = logging.getLogger(__name__)


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
    """Raise UserError unless ``out`` may be written; returns (it exists, it holds an output).

    Claims and releases at once: a dry check, the same rules :func:`generate` applies.
    """
    existed = tree.exists(out)
    claimed = claim_output(out, overwrite, config_location)
    claimed.release()
    if claimed.created:
        tree.remove(out)
    return existed, claimed.existed_with_output


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
    claimed = claim_output(out, request.overwrite, request.config_location)
    try:
        return _generate_claimed(plan, request, setup, output_format, num_shards, claimed)
    except BaseException:
        if claimed.created:  # a run that fails leaves no directory it made
            claimed.release()
            remove_tree(out)
        raise
    finally:
        claimed.release()


def _generate_claimed(
    plan: Plan,
    request: GenerateRequest,
    setup: BeamSetup,
    output_format: str,
    num_shards: int,
    claimed: ClaimedOutput,
) -> GenerateResult:
    """:func:`generate` once ``OUT`` is claimed: the pipeline, and on failure its cleanup."""
    out = claimed.out
    for note in claimed.notes:
        sys.stderr.write(f"note: {note}\n")
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
        report["notes"] = [*report.get("notes", []), *claimed.notes]
        warn_all(report, plan.warnings)
        key_warning = key_leaves_with_job(plan, setup)
        if key_warning:
            warn(report, key_warning)
        _LOG.info(
            "generate %s (config sha256 %s, seed %s): %d table(s), %s rows, %s to %s on %s",
            plan.source,
            plan.config_sha256[:16],
            plan.seed,
            len(plan.tables),
            f"{sum(t.rows for t in plan.tables.values()):,}",
            output_format,
            out,
            setup.describe(),
        )
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
            workers=setup.workers,
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
    result = None
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
        _stop(result)  # before the cleanup: a worker still writing would re-create staging after it
        _clean_up(layout, claimed)
        if _interrupted(exc):
            raise KeyboardInterrupt from None
        if isinstance(exc, UserError):
            raise
        removed = (
            "output removed"
            if claimed.created
            else "previous output kept"
            if claimed.existed_with_output
            else "partial output removed"
        )
        raise RunFailed(f"the run failed ({removed}): {failure_line(exc)}") from exc
    final = finish_report(
        read_report(layout.report),
        wall_seconds=monitor.wall_seconds,
        peak_rss=monitor.peak_rss,
        peak_rss_main=monitor.peak_rss_main,
        metrics=table_counters(result),
    )
    memory_warning = memory_over_limit(plan, monitor.peak_rss)
    if memory_warning:
        warn(final, memory_warning)
    try:
        write_json(layout.report, final)
    except OSError as exc:  # the output is complete and committed; only the launcher's timings are missing
        sys.stderr.write(f"warning: could not add the run's timings to {layout.report}: {exc}\n")
    if request.profile:  # again, now with the wall time only this process knows
        try:
            refresh_html(out, final)
        except OSError as exc:  # the page written by the commit stays, without the wall time
            sys.stderr.write(f"warning: could not add the run's timings to the HTML report in {out}: {exc}\n")
    _LOG.info(
        "wrote %s rows to %s in %.1f s (peak memory %.0f MB); report %s",
        f"{final.get('total_rows', 0):,}",
        out,
        final["wall_seconds"],
        final["peak_rss_mb"],
        layout.report,
    )
    return GenerateResult(out, final)


def memory_over_limit(plan: Plan, peak_rss: int) -> str | None:
    """What to say when the run's processes peaked above ``performance.max_memory_mb``, else None.

    The setting only sizes chunks (transforms/chunks.py); the interpreter, Beam, the
    compiled rules and the writers' buffers come on top, so a small limit is easily passed.
    """
    limit = (plan.performance or {}).get("max_memory_mb")
    if not isinstance(limit, (int, float)) or isinstance(limit, bool) or limit <= 0:
        return None
    peak_mb = round(peak_rss / 2**20, 1)  # as the report's peak_rss_mb
    if peak_mb <= limit:
        return None
    return (
        f"the run's processes peaked at {peak_mb:,.0f} MB, above performance.max_memory_mb {limit:g}: "
        "the setting bounds the size of one generated chunk, not the memory of the processes "
        "(Python, Beam, the compiled rules and the writers' buffers come on top)"
    )


def _progress_seconds() -> float | None:
    """Seconds between progress lines without a terminal: $SYNTHBEAM_PROGRESS_SECONDS (0: none), else 5."""
    text = os.environ.get("SYNTHBEAM_PROGRESS_SECONDS", "")
    try:
        seconds = float(text) if text else PROGRESS_LOG_SECONDS
    except ValueError:
        raise UserError(f"SYNTHBEAM_PROGRESS_SECONDS must be a number of seconds, got {text!r}") from None
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


# How long an interrupted or failed run waits for a submitted job to stop before cleaning up.
STOP_SECONDS = 10.0


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C, also when Beam re-raised it from inside a bundle.

    The in-process runner runs bundles on this thread, so SIGINT interrupts a
    DoFn and Beam wraps it: ``RuntimeError: KeyboardInterrupt [while running ...]``.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt) or str(exc).startswith("KeyboardInterrupt"):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _stop(result: Any) -> None:
    """Cancel a job that is still running (portable and remote runners) and wait, briefly, until it stops.

    Its workers run apart from this thread (the embedded job service's threads, SDK
    harness processes): left alone after Ctrl-C they kept generating, and one wrote
    into the staging directory after the cleanup had removed it, re-creating it.
    """
    if result is None:
        return
    try:
        state = result.state
        if state in (PipelineState.DONE, PipelineState.FAILED, PipelineState.CANCELLED):
            return
        result.cancel()
        result.wait_until_finish(duration=int(STOP_SECONDS * 1000))
    except BaseException:  # a second Ctrl-C, or a runner that cannot cancel: clean up anyway
        pass


def _clean_up(layout: OutputLayout, claimed: ClaimedOutput) -> None:
    """Remove what a failed run wrote: its staging directory, or the whole output it created.

    The commit undoes its own renames when it fails; if that undo was cut short,
    :func:`recover` puts the previous output back before staging goes.
    """
    try:
        if claimed.created:
            claimed.release()
            remove_tree(layout.out)
            return
        if tree.exists(layout.old):
            recover(layout)
        remove_tree(layout.staging)
    except Exception:  # cleanup must not hide the real failure
        pass
