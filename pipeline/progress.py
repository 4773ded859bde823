"""Watching a run: peak memory of its processes and, on a terminal, live progress per table.

:class:`RunMonitor` is a background thread started around ``pipeline.run()``.
It samples the resident memory of this process and all its children (the
workers of a multi-process DirectRunner) with psutil, keeping the peak of the
sum; ``resource.getrusage`` supplies this process's own high-water mark in
case a peak fell between two samples.

When ``live`` is set (a terminal and the in-process runner) it redraws one
line per table -- rows done / total, rows per second and the time left --
from the tally the workers keep in
:data:`synthbeam.transforms.metrics.LOCAL_PROGRESS`. When stderr is not a
terminal (CI logs, ``| tee``), ``log_every`` seconds it appends one plain line
instead (rows done, rows/s, ETA), starting after the first interval so short
runs stay silent. Where workers run in other processes the tally stays empty
and both show the elapsed time only. Everything goes to stderr; stdout stays
clean.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, TextIO

from synthbeam.transforms.metrics import LOCAL_PROGRESS

__all__ = ["RunMonitor", "process_tree_rss"]

RELIST_EVERY = 10  # samples between listings of the worker processes


def process_tree_rss(children: list[Any] | None = None) -> tuple[int, int]:
    """(this process + all descendants, this process) resident bytes.

    ``children`` (psutil processes) saves listing the descendants, which reads
    every process's status under /proc; by default they are listed afresh.
    """
    try:
        import psutil
    except ImportError:  # psutil is a dependency; without it the report shows 0
        return 0, 0
    try:
        me = psutil.Process(os.getpid())
        own = me.memory_info().rss
    except Exception:
        return 0, 0
    total = own
    for child in _descendants() if children is None else children:
        try:
            total += child.memory_info().rss
        except Exception:  # the child exited between listing and sampling
            continue
    return total, own


def _descendants() -> list[Any]:
    try:
        import psutil

        return psutil.Process(os.getpid()).children(recursive=True)
    except Exception:  # psutil missing or the platform refuses: sample this process alone
        return []


def _own_high_water_mark() -> int:
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    except Exception:  # not on every platform
        return 0


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _eta(remaining: float, rows: float, seconds: float) -> str:
    """Time left at the rate seen so far ("?" before there is a rate)."""
    if remaining <= 0:
        return "done"
    if rows <= 0 or seconds <= 0:
        return "?"
    return _duration(remaining / (rows / seconds))


def _rate(rows: float, seconds: float) -> str:
    if seconds <= 0 or rows <= 0:
        return "-"
    value = rows / seconds
    return f"{value / 1e6:.1f}M" if value >= 1e6 else f"{value / 1e3:.1f}k" if value >= 1e3 else f"{value:.0f}"


class RunMonitor:
    """Context manager: peak RSS sampling, plus a live per-table display when ``live``."""

    def __init__(
        self,
        run_id: str,
        totals: dict[str, int],
        *,
        live: bool = False,
        stream: TextIO | None = None,
        sample_interval: float = 0.1,
        draw_interval: float = 0.5,
        log_every: float | None = None,
    ) -> None:
        self.run_id = run_id
        self.totals = dict(totals)
        self.live = live
        self.stream = stream if stream is not None else sys.stderr
        self.sample_interval = sample_interval
        self.draw_interval = draw_interval
        self.log_every = log_every if not live else None  # plain lines, for a stderr that is not a terminal
        self._first_seen: tuple[float, int] | None = None
        self.peak_rss = 0
        self.peak_rss_main = 0
        self.started = 0.0
        self.wall_seconds = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: dict[str, tuple[float, int, float, int]] = {}
        self._lines_drawn = 0
        self._children: list[Any] | None = None

    def __enter__(self) -> RunMonitor:
        self.started = time.perf_counter()
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="synthbeam-monitor", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.wall_seconds = time.perf_counter() - self.started
        self._sample()
        self.peak_rss_main = max(self.peak_rss_main, _own_high_water_mark())
        self.peak_rss = max(self.peak_rss, self.peak_rss_main)
        if self.live:
            self._draw(final=exc_info[0] is None)
        LOCAL_PROGRESS.forget(self.run_id)

    def _sample(self, relist: bool = True) -> None:
        if relist or self._children is None:
            self._children = _descendants()
        total, own = process_tree_rss(self._children)
        self.peak_rss = max(self.peak_rss, total)
        self.peak_rss_main = max(self.peak_rss_main, own)

    def _loop(self) -> None:
        next_draw = 0.0
        next_log = self.started + (self.log_every or 0.0)
        samples = 0
        while not self._stop.wait(self.sample_interval):
            # Workers start and stop rarely: list them once a second, sample their memory every time.
            samples += 1
            self._sample(relist=samples % RELIST_EVERY == 0)
            if self.live and time.perf_counter() >= next_draw:
                self._draw()
                next_draw = time.perf_counter() + self.draw_interval
            if self.log_every and self._first_seen is None:  # the rate counts from the first rows, not start-up
                done = sum(LOCAL_PROGRESS.snapshot(self.run_id).values())
                if done:
                    self._first_seen = (time.perf_counter(), done)
            if self.log_every and time.perf_counter() >= next_log:
                self.stream.write(self.log_line() + "\n")
                self.stream.flush()
                next_log = time.perf_counter() + self.log_every

    def log_line(self) -> str:
        """One plain progress line: rows done of all tables, rows/s since rows first appeared, ETA."""
        now = time.perf_counter()
        elapsed = now - self.started
        done = sum(LOCAL_PROGRESS.snapshot(self.run_id).values())
        total = sum(self.totals.values())
        if not done:
            return f"progress: generating {len(self.totals)} table(s), {_duration(elapsed)} elapsed"
        since, rows_then = self._first_seen or (now, done)
        rows, seconds = done - rows_then, now - since
        share = done / total if total else 1.0
        return (
            f"progress: {done:,} / {total:,} rows ({share:.0%}), {_rate(rows, seconds)} rows/s, "
            f"ETA {_eta(total - done, rows, seconds)}, {_duration(elapsed)} elapsed"
        )

    def lines(self, final: bool = False) -> list[str]:
        """The display: one line per table, or an elapsed-time line when no tally is visible."""
        now = time.perf_counter()
        elapsed = now - self.started
        done = LOCAL_PROGRESS.snapshot(self.run_id)
        if not done and not final:
            return [f"generating {len(self.totals)} table(s)... {elapsed:.0f}s"]
        width = max((len(name) for name in self.totals), default=5)
        lines = []
        for name, total in self.totals.items():
            rows = done.get(name, 0)
            first_time, first_rows, last_time, last_rows = self._seen.get(name, (now, rows, now, rows))
            if rows != last_rows:
                last_time, last_rows = now, rows
            self._seen[name] = (first_time, first_rows, last_time, last_rows)
            share = rows / total if total else 1.0
            bar = ("#" * int(share * 20)).ljust(20, ".")
            # Rows since the table was first seen, over the time until its last change.
            rate = _rate(last_rows - first_rows, last_time - first_time)
            eta = _eta(total - rows, last_rows - first_rows, last_time - first_time)
            lines.append(f"{name:<{width}} [{bar}] {rows:>12,} / {total:,} rows  {rate} rows/s  ETA {eta}")
        return lines

    def _draw(self, final: bool = False) -> None:
        lines = self.lines(final)
        out = []
        if self._lines_drawn:
            out.append(f"\x1b[{self._lines_drawn}F")  # back to the first line of the previous frame
        out.extend(f"\x1b[2K{line}\n" for line in lines)
        if len(lines) < self._lines_drawn:  # a shorter frame: clear what is left of the old one
            out.extend("\x1b[2K\n" for _ in range(self._lines_drawn - len(lines)))
            out.append(f"\x1b[{self._lines_drawn - len(lines)}F")
        self.stream.write("".join(out))
        self.stream.flush()
        self._lines_drawn = len(lines)
