"""Multi-process DirectRunner workers: forked standby workers, or Beam's SDK harness started quietly.

Two ways a worker of ``--direct_running_mode=multi_processing`` starts:

* **Forked** (:class:`StandbyPool`): before the runner starts its gRPC servers,
  the launching process forks one standby child per worker. A child already
  holds everything the launcher imported (Beam, pyarrow, the rule engine, Faker's
  compiled provider data), so it is ready in milliseconds, where a fresh
  interpreter spends about a second of CPU importing Beam and warming the rule
  engine -- on a 2-core machine that start-up alone cost more than the second
  worker saved. A child waits on a pipe for its harness settings (control
  address, worker id, pipeline options), runs Beam's SDK harness
  (``sdk_worker_main``) and leaves with ``os._exit`` (no interpreter teardown,
  no ``atexit`` hooks inherited from the launcher). Its log records go to its
  stderr at ``SYNTHBEAM_WORKER_LOG_LEVEL``, not through Beam's logging service
  (failures still reach the runner with the bundle's error). A standby child
  whose pipe closes unused exits at once, so children never outlive their
  launcher. Forking is only done where it is safe: on Linux, with this process
  running a single Python thread and no native threads other than the ones
  known to survive ``fork`` (OpenBLAS, jemalloc), i.e. before gRPC has started
  any. ``SYNTHBEAM_FORK_WORKERS=0`` turns it off.

Either way, with ``SYNTHBEAM_WORKER_QUIET=1`` (what the CLI sets unless
``--debug``) a worker's stderr goes nowhere: Beam's harness prints each failed
bundle's traceback there, and the failure reaches the launcher anyway.
* **Spawned** (``python -m synthbeam.pipeline.worker``, the fallback): Beam's
  own entry (``apache_beam.runners.worker.sdk_worker_main``) logs to the
  terminal at INFO until it has read the pipeline options, and some imports
  warn through the root logger (which then configures itself to print). A
  handler on the root logger installed *before* Beam is imported keeps the
  worker's terminal output to real errors (everything is still forwarded to
  the runner through Beam's logging service). ``SYNTHBEAM_WORKER_LOG_LEVEL``
  overrides the level (``synthbeam --debug`` sets it to INFO).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import random
import sys
import threading
import traceback
from collections.abc import Mapping

__all__ = ["FORK_SWITCH", "QUIET_SWITCH", "STANDBY", "StandbyPool", "StandbyWorker", "fork_is_safe", "main"]

FORK_SWITCH = "SYNTHBEAM_FORK_WORKERS"
# Set by the CLI unless --debug: a worker's stderr goes nowhere. Beam's harness prints every failed
# bundle's traceback there, while the failure itself reaches the launcher, which reports it in one line.
QUIET_SWITCH = "SYNTHBEAM_WORKER_QUIET"
# Native threads that survive fork(): their libraries re-initialise in the child.
_FORK_SAFE_THREADS = frozenset({"jemalloc_bg_thd"})


def _worker_logging(replace: bool = False) -> None:
    """One stderr handler on the root logger at ``SYNTHBEAM_WORKER_LOG_LEVEL`` (default ERROR)."""
    level = os.environ.get("SYNTHBEAM_WORKER_LOG_LEVEL", "ERROR").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(getattr(logging, level, logging.ERROR))
    root = logging.getLogger()
    if replace:  # a forked worker drops the launcher's handlers (a test's capture, the CLI's own)
        for inherited in list(root.handlers):
            root.removeHandler(inherited)
    root.addHandler(handler)


def _quiet_stderr() -> None:
    if os.environ.get(QUIET_SWITCH) != "1":
        return
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def main(argv: list[str] | None = None) -> None:
    _quiet_stderr()
    _worker_logging()

    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(list(sys.argv if argv is None else argv))


def _thread_names() -> list[str] | None:
    """The kernel names of this process's threads (None where /proc is missing)."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    names = []
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/comm", encoding="utf-8") as comm:
                names.append(comm.read().strip())
        except OSError:  # the thread ended while listing
            continue
    return names


def fork_is_safe() -> bool:
    """Whether forking a worker from this process is safe right now (see the module docstring)."""
    if os.environ.get(FORK_SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if threading.active_count() != 1:
        return False
    names = _thread_names()
    if names is None:
        return False
    try:
        with open("/proc/self/comm", encoding="utf-8") as comm:
            own = comm.read().strip()
    except OSError:
        return False
    # Threads started by native libraries inherit the process name; gRPC's and
    # anything else that names its threads (and might hold a lock) do not.
    return all(name == own or name in _FORK_SAFE_THREADS for name in names)


class StandbyWorker:
    """A forked child waiting for its harness settings; ``start`` sends them, ``wait`` reaps it."""

    def __init__(self, pid: int, command_fd: int) -> None:
        self.pid = pid
        self._command_fd: int | None = command_fd
        self.exit_code: int | None = None

    def start(self, environment: Mapping[str, str]) -> None:
        """Hand the child its environment (control address, worker id, options): it becomes a worker."""
        payload = (json.dumps(dict(environment)) + "\n").encode("utf-8")
        fd = self._take_fd()
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def discard(self) -> None:
        """Release an unused child: its pipe closes, it exits, it is reaped."""
        fd = self._command_fd
        self._command_fd = None
        if fd is not None:
            os.close(fd)
        self.wait()

    def wait(self) -> int:
        """Block until the child exits; its exit code (negative: killed by that signal)."""
        if self.exit_code is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.exit_code = os.waitstatus_to_exitcode(status)
            except ChildProcessError:  # already reaped elsewhere
                self.exit_code = 0
        return self.exit_code

    def _take_fd(self) -> int:
        fd = self._command_fd
        if fd is None:
            raise RuntimeError(f"standby worker {self.pid} was already started or discarded")
        self._command_fd = None
        return fd


class StandbyPool:
    """Forked standby workers of this process, taken one per multi-process worker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[StandbyWorker] = []

    def __len__(self) -> int:
        with self._lock:
            return len(self._idle)

    def fill(self, count: int) -> int:
        """Fork standby children until ``count`` wait (if forking is safe now); how many wait."""
        with self._lock:
            # Objects alive now stay out of the children's garbage collections, so a collection
            # in a worker neither scans them nor copies their pages (the gc module's advice for
            # fork without exec). The launcher collects them again once the children exist.
            gc.freeze()
            try:
                while len(self._idle) < count and fork_is_safe():
                    self._idle.append(self._fork())
            finally:
                gc.unfreeze()
            return len(self._idle)

    def take(self) -> StandbyWorker | None:
        with self._lock:
            return self._idle.pop(0) if self._idle else None

    def close(self) -> None:
        """Release every unused standby child."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.discard()

    def _fork(self) -> StandbyWorker:
        read_fd, write_fd = os.pipe()
        # Every pipe end of the other standby children must close in the new one,
        # or a child would never see its own pipe close.
        inherited = [w._command_fd for w in self._idle if w._command_fd is not None]
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()  # or the child would print the parent's buffered output again
        pid = os.fork()
        if pid == 0:  # the child: never returns
            _standby_child(read_fd, [write_fd, *inherited])
        os.close(read_fd)
        return StandbyWorker(pid, write_fd)


def _standby_child(read_fd: int, close_fds: list[int]) -> None:
    """Body of a forked standby worker: wait for settings, run the SDK harness, ``os._exit``."""
    code = 1
    try:
        for fd in close_fds:
            os.close(fd)
        random.seed()  # the parent's random state would give every worker the same shuffle keys
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        with os.fdopen(read_fd, "rb") as commands:
            line = commands.readline()
        if not line:  # released unused, or the launcher is gone
            code = 0
            return
        os.environ.update(json.loads(line))
        _quiet_stderr()
        _worker_logging(replace=True)
        from apache_beam.runners.worker import sdk_worker_main

        sdk_worker_main.main([])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the launcher reports it
        code = 130
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


STANDBY = StandbyPool()


if __name__ == "__main__":
    main()
