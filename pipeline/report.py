"""``OUT/_report.json``: what a run wrote, how, and from what.

The report is assembled in two steps. :func:`report_base` (on the launching
machine, before the run) records the config and settings: seed, config
sha256, source, as_of, environment, runner, format and every table's columns
(name, type, key strategy, how the values are generated). The pipeline's
commit step adds what the workers measured per table (rows written, seconds,
files, reportable event counts) and writes the file, so even a run whose
launcher does not wait leaves a report. When the launcher waits,
:func:`finish_report` adds what only it can see: wall time, rows per second and
the peak resident memory of the run's processes.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from typing import Any

from synthbeam.rules.core.model import ColumnPlan, Plan, TablePlan
from synthbeam.rules.llm.rule import openai_spending
from synthbeam.rules.security.protection import report_section

__all__ = ["REPORT_VERSION", "describe_column", "finish_report", "read_report", "report_base", "table_entries"]

REPORT_VERSION = 1


def describe_column(column: ColumnPlan) -> str:
    """How a column's values are made, in a few words."""
    fk = column.foreign_key
    if fk is not None:
        text = f"foreign key -> {fk.parent_table}.{fk.parent_column} ({fk.distribution})"
        if fk.children_per_parent is not None:
            text += f", {fk.describe_children()}"
        if fk.null_probability:
            text += f", null {fk.null_probability:.0%}"
        return text
    if column.key_strategy == "sequence":
        return "sequence 1, 2, 3, ..."
    parts = []
    if column.rule is not None:
        parts.append(column.rule.describe())
    elif not column.branches:
        parts.append("null")
    if column.branches:
        parts.append(f"{len(column.branches)} conditional rule(s)" + ("" if column.rule is not None else ", else null"))
    if column.key_strategy == "permutation":
        parts.append("unique by permutation")
    elif column.key_strategy == "dedup":
        parts.append("unique by dedup")
    if column.null_probability:
        parts.append(f"null {column.null_probability:.0%}")
    return "; ".join(parts)


def _column_entry(column: ColumnPlan) -> dict[str, Any]:
    return {
        "name": column.name,
        "type": column.type,
        "arrow_type": str(column.arrow_type),
        "nullable": not column.not_null,
        "key_strategy": column.key_strategy,
        "generated_by": describe_column(column),
        "sensitivity": column.sensitivity,
        "constraints": sorted(column.constraints),
    }


def _table_entry(table: TablePlan, rows_per_chunk: int | None) -> dict[str, Any]:
    return {
        "rows": table.rows,
        "rows_per_chunk": rows_per_chunk,
        "primary_key": list(table.primary_key),
        "foreign_keys": [
            {
                "column": fk.child_column,
                "parent": f"{fk.parent_table}.{fk.parent_column}",
                "distribution": fk.distribution,
                "null_probability": fk.null_probability,
            }
            for fk in table.foreign_keys
        ],
        "unique": [list(group) for group in table.unique],
        "columns": [_column_entry(c) for c in table.columns],
    }


def table_entries(plan: Plan) -> dict[str, Any]:
    """Every table's report entry (columns, keys, foreign keys), in generation order: what the ER diagram draws."""
    return {name: _table_entry(table, None) for name, table in plan.tables.items()}


def report_base(
    plan: Plan,
    *,
    output_dir: str,
    output_format: str,
    num_shards: int,
    runner: str,
    run_id: str,
    rows_per_chunk: dict[str, int] | None = None,
    command: list[str] | None = None,
) -> dict[str, Any]:
    """Everything known before the run starts (tables in generation order)."""
    settings = plan.settings
    return {
        "report_version": REPORT_VERSION,
        "synthbeam_version": _installed_version(),
        "run_id": run_id,
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": plan.source,
        "config_sha256": plan.config_sha256,
        "environment": plan.environment,
        "seed": plan.seed,
        "default_rows": plan.default_rows,
        "scale": plan.scale,
        "locale": settings.locale,
        "as_of": settings.as_of.isoformat(),
        "as_of_is_run_date": not settings.as_of_explicit,
        "runner": runner,
        "format": output_format,
        "num_shards": num_shards or "runner decides",
        "output_dir": output_dir,
        "performance": dict(plan.performance or {}),
        "command": command,
        "notes": list(plan.notes),
        "tables": {name: _table_entry(table, (rows_per_chunk or {}).get(name)) for name, table in plan.tables.items()},
        **({"security": report_section(plan.protection)} if plan.protection else {}),
        **({"openai": spending} if (spending := openai_spending(plan.settings)) else {}),
    }


def finish_report(
    report: dict[str, Any],
    *,
    wall_seconds: float,
    peak_rss: int,
    peak_rss_main: int,
    metrics: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Add what the launching process measured."""
    report = dict(report)
    total = int(report.get("total_rows") or 0)
    report["wall_seconds"] = round(wall_seconds, 3)
    report["rows_per_second"] = round(total / wall_seconds, 1) if wall_seconds > 0 else None
    report["peak_rss_mb"] = round(peak_rss / 2**20, 1)
    report["peak_rss_main_process_mb"] = round(peak_rss_main / 2**20, 1)
    report["host"] = {"python": platform.python_version(), "platform": platform.platform()}
    if metrics:
        report["beam_metrics"] = metrics
    return report


def read_report(path: str) -> dict[str, Any]:
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as handle:
        return json.loads(handle.read().decode("utf-8"))


def _installed_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("synthbeam")
    except Exception:  # not installed (running from a checkout)
        return None
