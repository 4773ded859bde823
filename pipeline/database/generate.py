"""``generate --to URL`` end to end: check the target, run the pipeline to Parquet, load, report.

Order of events, so a mistake costs nothing and a failure leaves the target as it was:

1. the target is parsed and checked before anything runs: reachable, and holding none of the
   config's tables unless ``--overwrite``;
2. the pipeline writes Parquet into a temporary folder the run owns (or ``--out``);
3. the loader moves the rows in and swaps the tables into place (:mod:`synthbeam.pipeline.database`);
4. the report gains a ``database`` section (the redacted URL, rows, seconds per phase); the
   temporary folder is removed whatever happened.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from synthbeam.rules.core.model import Plan

from ..errors import UserError
from ..run import GenerateRequest, generate
from . import load, precheck
from .target import DatabaseTarget

__all__ = ["generate_into_database"]


def generate_into_database(
    plan: Plan, request: GenerateRequest, target: DatabaseTarget, keep_out: str | None = None
) -> dict[str, Any]:
    """Run ``plan`` and load it into ``target``; the final report (also in ``keep_out``/_report.json if kept)."""
    if request.output_format.lower() != "parquet":
        raise UserError(
            f"generate --to loads the run's Parquet files; output format {request.output_format!r} cannot be used "
            "with it (write other formats in a separate run)"
        )
    if keep_out is not None and "://" in keep_out:
        raise UserError(f"generate --to needs a local --out folder, not {keep_out}")
    precheck(target, plan, request.overwrite)
    folder = keep_out or tempfile.mkdtemp(prefix="synthbeam-to-")
    try:
        run_request = dataclasses.replace(request, out=folder, output_format="parquet", wait=True)
        if keep_out is None:
            run_request.overwrite = False  # our own empty folder
        result = generate(plan, run_request)
        started = time.perf_counter()
        loaded = load(target, plan, Path(folder), request.overwrite, str(result.report.get("run_id") or "run"))
        loaded.seconds["total"] = time.perf_counter() - started
    finally:
        if keep_out is None:
            shutil.rmtree(folder, ignore_errors=True)
    report = dict(result.report)
    report["database"] = loaded.as_report()
    report["output_dir"] = keep_out if keep_out is not None else None
    if keep_out is not None:
        from synthbeam.transforms.output import write_json

        with contextlib.suppress(OSError):
            write_json(result.report_path, report)
    return report
