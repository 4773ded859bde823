"""Beam pipeline options from the command line, the runner, and the plan's ``performance`` block.

Options synthbeam does not know pass through to Beam (``--runner``,
``--direct_num_workers``, ``--job_endpoint``, ...); an option Beam does not
know either is a user error rather than silently dropped.

The local default: ``DirectRunner`` in Beam 2.6x+ first tries the Prism runner,
which downloads a binary from the internet and fails (slowly, noisily) without
one. ``DirectRunner``, ``SwitchingDirectRunner`` and ``FnApiRunner`` therefore
run on :class:`LocalRunner`: the FnApiRunner built exactly as the DirectRunner
builds it for batch pipelines (pipeline options provisioned to the workers),
never Prism. Any other runner (``PrismRunner`` included, if asked for by name)
is Beam's own.

Multi-process workers (``--direct_running_mode=multi_processing``) are forked
from this process when that is safe (:mod:`synthbeam.pipeline.worker`): a
fresh interpreter per worker costs about a second of CPU before it generates a
row. ``LocalRunner.prestart_workers`` forks them early (``generate`` calls it
before any thread starts); otherwise the runner forks them when the run starts,
or, where forking is not safe, spawns ``python -m synthbeam.pipeline.worker``.

``performance.max_workers`` becomes ``--direct_num_workers`` (with the
multi-threaded running mode, since the in-memory mode ignores the count) on
the local runner, ``--max_num_workers`` on Dataflow and ``--parallelism`` on
Flink, unless the command line already sets them. ``enable_streaming`` needs
no option: chunks always stream from the generator into the sinks.
"""

from __future__ import annotations

import contextlib
import io
import logging
import multiprocessing
import sys
import threading
from dataclasses import dataclass
from typing import Any

from apache_beam.options.pipeline_options import (
    DirectOptions,
    FlinkRunnerOptions,
    PipelineOptions,
    StandardOptions,
    WorkerOptions,
)
from apache_beam.portability import python_urns
from apache_beam.portability.api import beam_provision_api_pb2, endpoints_pb2
from apache_beam.runners.portability.fn_api_runner import fn_runner, worker_handlers
from apache_beam.runners.portability.portable_runner import JobServiceHandle
from apache_beam.runners.runner import create_runner
from google.protobuf import json_format, text_format

from synthbeam.rules.core.model import Plan

from .worker import STANDBY

__all__ = [
    "LOCAL_RUNNER_NAMES",
    "BeamSetup",
    "LocalRunner",
    "OptionsError",
    "beam_setup",
    "local_runner",
]

_LOGGER = logging.getLogger(__name__)

# Lower-cased, without a trailing "runner".
LOCAL_RUNNER_NAMES = frozenset({"direct", "switchingdirect", "fnapi"})
WORKER_MODULE = "synthbeam.pipeline.worker"
# The environment of multi-process workers: forked standby workers, else Beam's subprocess command.
FORKED_WORKER_URN = "synthbeam:env:forked_or_subprocess_python:v1"


class OptionsError(ValueError):
    """A pipeline option Beam rejects or does not know."""


def _flag_given(args: list[str], name: str) -> bool:
    flag = f"--{name}"
    return any(arg == flag or arg.startswith(flag + "=") for arg in args)


def _short_runner_name(name: str | None) -> str:
    if not name:
        return "direct"
    short = name.rsplit(".", 1)[-1].lower()
    return short[: -len("runner")] if short.endswith("runner") else short


def _unknown_options(options: Any) -> list[str]:
    """Flags no PipelineOptions class defines (Beam would warn and drop them)."""
    known = set(options.get_all_options())
    with_unknown = options.get_all_options(retain_unknown_options=True)
    return [f"--{name}" for name in with_unknown if name not in known]


def _parse_options(beam_args: list[str]) -> PipelineOptions:
    options = PipelineOptions(beam_args)
    # Beam parses with argparse, which prints usage and exits on a bad value:
    # catch that and keep only its one-line message.
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            options.get_all_options()
    except SystemExit:
        lines = [line for line in stderr.getvalue().splitlines() if line.strip()]
        message = lines[-1].split("error: ", 1)[-1] if lines else "invalid pipeline option"
        raise OptionsError(f"bad pipeline option: {message}") from None
    return options


@dataclass
class BeamSetup:
    """The resolved options and runner of a run."""

    options: PipelineOptions
    runner: Any  # the PipelineRunner instance to run on
    runner_name: str  # as the user would say it: DirectRunner, DataflowRunner, ...
    local: bool  # the in-process FnApiRunner path (live progress possible)
    workers: int  # parallelism the chunk sizing should plan for
    running_mode: str | None  # DirectRunner running mode, when local
    forked_workers: int = 0  # multi-process workers forked ahead of the run (LocalRunner.prestart_workers)

    def describe(self) -> str:
        if self.local:
            forked = ", forked" if self.forked_workers else ""
            return f"{self.runner_name} (FnApiRunner, {self.running_mode}, {self.workers} worker(s){forked})"
        return self.runner_name


def beam_setup(beam_args: list[str], plan: Plan | None = None) -> BeamSetup:
    """PipelineOptions and runner for ``beam_args`` plus the plan's performance settings."""
    args = list(beam_args)
    options = _parse_options(args)
    runner_option = options.view_as(StandardOptions).runner
    max_workers = int((plan.performance or {}).get("max_workers") or 0) if plan is not None else 0
    short = _short_runner_name(runner_option)
    if short in LOCAL_RUNNER_NAMES:
        direct = options.view_as(DirectOptions)
        if max_workers and not _flag_given(args, "direct_num_workers"):
            direct.direct_num_workers = max_workers
        if (direct.direct_num_workers or 0) < 0:
            # Beam takes any integer and fails deep in the runner (IndexError) on a negative one.
            raise OptionsError(
                f"--direct_num_workers must be 0 (one per CPU) or more, got {direct.direct_num_workers}"
            )
        if direct.direct_num_workers != 1 and not _flag_given(args, "direct_running_mode"):
            # in_memory ignores the worker count; threads share the plan and the live progress tally.
            direct.direct_running_mode = "multi_threading"
        if direct.direct_num_workers == 0:
            direct.direct_num_workers = multiprocessing.cpu_count()
        runner_name = "DirectRunner" if short != "fnapi" else "FnApiRunner"
        setup = BeamSetup(
            options, None, runner_name, True, max(1, direct.direct_num_workers), direct.direct_running_mode
        )
    else:
        workers = 1
        if short == "dataflow":
            worker_options = options.view_as(WorkerOptions)
            if max_workers and not _flag_given(args, "max_num_workers"):
                worker_options.max_num_workers = max_workers
            workers = worker_options.max_num_workers or worker_options.num_workers or 1
        elif short == "flink":
            flink = options.view_as(FlinkRunnerOptions)
            if max_workers and not _flag_given(args, "parallelism"):
                flink.parallelism = max_workers
            workers = max(1, flink.parallelism or 1)
        name = runner_option.rsplit(".", 1)[-1] if runner_option else "DirectRunner"
        setup = BeamSetup(options, None, name, False, workers, None)
    if setup.local:
        setup.runner = local_runner(options)
    else:
        # Creating the runner imports its module, which registers runner-specific options
        # (e.g. Flink's); only then can unknown flags be told apart from runner flags.
        try:
            setup.runner = create_runner(runner_option)
        except ValueError as exc:
            raise OptionsError(str(exc).splitlines()[0]) from None
    unknown = _unknown_options(options)
    if unknown:
        raise OptionsError(
            f"unknown option(s): {' '.join(unknown)} (neither a synthbeam option nor a Beam pipeline option)"
        )
    return setup


def local_runner(options: Any = None) -> LocalRunner:
    """The FnApiRunner the DirectRunner would use for a batch pipeline, without trying Prism."""
    all_options = (options if options is not None else PipelineOptions([])).get_all_options()
    if not all_options.get("default_sdk_harness_log_level"):
        all_options["default_sdk_harness_log_level"] = "WARNING"
    encoded = JobServiceHandle.encode_pipeline_options(all_options)
    return LocalRunner(
        provision_info=fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    )


class LocalRunner(fn_runner.FnApiRunner):
    """FnApiRunner whose multi-process workers are forked standby workers, or quiet subprocesses.

    Beam's stock worker command logs start-up chatter to the terminal before it
    reads the pipeline's log level; ours (the fallback when forking is not
    safe) silences it first.
    """

    def prestart_workers(self, options: Any) -> int:
        """Fork the standby workers a multi-process run of ``options`` will take; how many wait.

        Call before any thread starts (a fork with threads running is unsafe and
        is not done); the run forks them itself otherwise.
        """
        direct = options.view_as(DirectOptions)
        if direct.direct_running_mode != "multi_processing":
            return 0
        workers = direct.direct_num_workers or multiprocessing.cpu_count()
        return STANDBY.fill(workers)

    def run_via_runner_api(self, pipeline_proto: Any, options: Any) -> Any:
        stock = "-m apache_beam.runners.worker.sdk_worker_main"
        multi_process = False
        for environment in pipeline_proto.components.environments.values():
            if environment.urn == python_urns.SUBPROCESS_SDK and environment.payload.decode("utf-8").endswith(stock):
                environment.urn = FORKED_WORKER_URN
                environment.payload = f"{sys.executable} -m {WORKER_MODULE}".encode()
                multi_process = True
        if not multi_process:
            return super().run_via_runner_api(pipeline_proto, options)
        if options is not None:
            self.prestart_workers(options)
        try:
            return super().run_via_runner_api(pipeline_proto, options)
        finally:
            STANDBY.close()


@worker_handlers.WorkerHandler.register_environment(FORKED_WORKER_URN, bytes)
class ForkedWorkerHandler(worker_handlers.SubprocessSdkWorkerHandler):
    """A multi-process worker: a forked standby worker when one waits, else Beam's subprocess worker.

    The payload is the subprocess command line, used only when no standby worker waits.
    """

    def start_worker(self) -> None:
        standby = STANDBY.take()
        if standby is None:
            super().start_worker()
            return
        environment = {
            "CONTROL_API_SERVICE_DESCRIPTOR": text_format.MessageToString(
                endpoints_pb2.ApiServiceDescriptor(url=self.control_address)
            ),
            "PIPELINE_OPTIONS": json_format.MessageToJson(self.provision_info.provision_info.pipeline_options),
            "WORKER_ID": self.worker_id,
        }
        standby.start(environment)
        self.worker = standby
        self.worker_thread = threading.Thread(
            name=f"forked_worker_{standby.pid}", target=_reap, args=(standby, self.worker_id), daemon=True
        )
        self.worker_thread.start()


def _reap(standby: Any, worker_id: str) -> None:
    code = standby.wait()
    if code:
        _LOGGER.error("forked worker %s (pid %s) exited with code %s", worker_id, standby.pid, code)
