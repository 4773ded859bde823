"""Beam metrics of a run, all in one namespace, and a live in-process progress tally.

Counters (namespace ``synthbeam``): ``rows/<table>``, ``chunks/<table>`` and
``event/<table>/<column:event>`` for the engine's reportable events (values
that failed a check and the like). Distributions: ``chunk_ms/<table>`` (time
to generate one chunk). Every runner aggregates these across workers;
:func:`table_counters` reads them back from a finished ``PipelineResult``.

Live progress: Beam offers no portable way to read metrics while a local run is
in flight, so DoFns also add their rows to :data:`LOCAL_PROGRESS`, keyed by a
run id. When the workers live in the launching process (DirectRunner in memory
or multi-threaded, the portable runner with a LOOPBACK environment) the CLI
polls it; in other processes the tally is simply never read.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter

NAMESPACE = "synthbeam"

__all__ = ["LOCAL_PROGRESS", "NAMESPACE", "LocalProgress", "record_chunk", "table_counters"]


def record_chunk(table: str, rows: int, events: dict[str, int], milliseconds: int) -> None:
    """Count one generated chunk (call from inside a DoFn)."""
    Metrics.counter(NAMESPACE, f"rows/{table}").inc(rows)
    Metrics.counter(NAMESPACE, f"chunks/{table}").inc()
    Metrics.distribution(NAMESPACE, f"chunk_ms/{table}").update(milliseconds)
    for event, count in events.items():
        Metrics.counter(NAMESPACE, f"event/{table}/{event}").inc(count)


def table_counters(result: Any) -> dict[str, dict[str, Any]]:
    """``{table: {"rows": n, "chunks": n, "events": {event: n}}}`` from a finished run.

    Committed values where the runner has them, attempted values otherwise
    (some runners only report attempted metrics).
    """
    tables: dict[str, dict[str, Any]] = defaultdict(lambda: {"rows": 0, "chunks": 0, "events": {}})
    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    except Exception:  # a runner without metrics support: the report still has the sink counts
        return {}
    for counter in counters:
        value = counter.committed if counter.committed is not None else counter.attempted
        kind, _, rest = counter.key.metric.name.partition("/")
        if kind == "event":
            table, _, event = rest.partition("/")
            events = tables[table]["events"]
            events[event] = events.get(event, 0) + int(value or 0)
        elif kind in ("rows", "chunks"):
            tables[rest][kind] += int(value or 0)
    return dict(tables)


class LocalProgress:
    """Rows generated so far per (run id, table), for workers in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, dict[str, int]] = defaultdict(dict)

    def add(self, run_id: str, table: str, rows: int) -> None:
        with self._lock:
            per_table = self._rows[run_id]
            per_table[table] = per_table.get(table, 0) + rows

    def snapshot(self, run_id: str) -> dict[str, int]:
        with self._lock:
            return dict(self._rows.get(run_id, {}))

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._rows.pop(run_id, None)


LOCAL_PROGRESS = LocalProgress()
