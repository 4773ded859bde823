"""``build(p, plan, ...)``: every table of a plan as branches of one Beam pipeline.

Every table's chunk descriptors -> one generation step -> the table's
``BatchSink`` into the run's staging directory
(:class:`synthbeam.transforms.write.WriteTables`: one step for all tables, so
a local runner pays a step's start and tail once, not per table). The tables'
results meet in :class:`synthbeam.transforms.output.CommitOutput`, the last
step, which moves the staged files into place and writes the report.
Tables do not wait for one another: a child table computes the parent values
it needs from the parent's row indices, never from the parent's output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import apache_beam as beam

from synthbeam.rules.core.model import Plan
from synthbeam.rules.engine.dedup import dedup_columns
from synthbeam.rules.security.apply import output_column_types, output_schema
from synthbeam.rules.security.protection import audit_lines
from synthbeam.transforms.chunks import Chunk
from synthbeam.transforms.dedup import DedupPlan
from synthbeam.transforms.output import CommitOutput, OutputLayout
from synthbeam.transforms.profile import ProfileSettings
from synthbeam.transforms.sinks import sink_class
from synthbeam.transforms.write import WriteTables

from .report_html import render_html

__all__ = ["build"]

def build(
    pipeline: beam.Pipeline,
    plan: Plan,
    layout: OutputLayout,
    *,
    output_format: str,
    chunks: Mapping[str, Iterable[Chunk]],
    num_shards: int = 0,
    overwrite: bool = False,
    report: dict[str, Any] | None = None,
    run_id: str = "",
    workers: int = 1,
    profile: bool = True,
) -> beam.PCollection:
    """Add every table and the commit to ``pipeline``; returns the commit's output (the report).

    ``workers`` is the parallelism the run plans for: with fewer fixed shards than
    workers, each shard's chunks are spread over the workers (``transforms/parts.py``).
    With ``profile`` every batch is also profiled (``transforms/profile.py``) and the
    commit writes ``_profile.json`` and ``_report.html`` next to ``_report.json``.
    """
    sink_type = sink_class(output_format)
    replacements = pipeline | "Dedup" >> DedupPlan(plan, chunks) if dedup_columns(plan) else None
    sinks = {
        name: sink_type(
            layout.staged_prefix(name),
            output_schema(plan, name),
            output_column_types(plan, name),
            table_name=name,
            num_shards=num_shards,
        )
        for name in plan.tables
    }
    profile_result = None
    if sinks:
        split = 0 < num_shards < workers
        write = WriteTables(
            plan,
            chunks,
            sinks,
            num_shards,
            run_id,
            replacements,
            profile=ProfileSettings() if profile else None,
            split_shards=split,
        )
        written = pipeline | "Tables" >> write
        profile_result = write.profile_result
    else:
        written = pipeline | "NoTables" >> beam.Create([[]])
    return written | "CommitOutput" >> CommitOutput(
        layout,
        overwrite,
        report or {"tables": {}},
        _audit(plan, run_id),
        profile=profile_result,
        render_html=render_html if profile else None,
    )


def _audit(plan: Plan, run_id: str) -> list[str]:
    """The lines of ``_audit.jsonl``: empty unless ``security.audit_enabled``, never empty when it is set.

    One ``protect`` line per table with a protected column, then one ``run`` line. The
    run line is there even when nothing was masked or encrypted: an audit that is on and
    writes nothing cannot be told from an audit that was off.
    """
    if not (plan.security or {}).get("audit_enabled"):
        return []
    rows = {name: table.rows for name, table in plan.tables.items()}
    protection = plan.protection
    lines = audit_lines(protection, rows) if protection is not None else []
    security = plan.security or {}
    run = {
        "event": "run",
        "run_id": run_id,
        "config_sha256": plan.config_sha256,
        "seed": plan.seed,
        "rows": rows,
        "masking_enabled": bool(security.get("enable_data_masking")),
        "encryption_enabled": bool(security.get("enable_encryption")),
        "protected": (
            {t: [p.column for p in cols] for t, cols in protection.tables.items() if cols} if protection else {}
        ),
        "key_fingerprint": protection.key_fingerprint if protection is not None else None,
    }
    return [*lines, json.dumps(run, sort_keys=True)]
