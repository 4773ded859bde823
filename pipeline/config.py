"""From a config location and command-line overrides to a compiled plan.

Local paths go through :func:`synthbeam.rules.compile.build_plan`. A URL
(``gs://bucket/config.json``, or any scheme Beam's FileSystems handles) is read
with ``FileSystems.open`` and compiled from its text by the loader, so a
Dataflow template can take its config from Cloud Storage. Files a local
config refers to (``choice_from_file``) resolve relative to the config file;
for a remote config they resolve against the working directory (the rule
engine reads files without Beam).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synthbeam.rules.errors import ConfigError, Issue, Issues
from synthbeam.rules.model import Plan

__all__ = ["is_url", "load_plan"]


def is_url(location: str) -> bool:
    return "://" in location


def load_plan(
    location: str, environment: str | None = None, overrides: Mapping[str, Any] | None = None
) -> tuple[Plan, Issues]:
    """The compiled plan and its issues (warnings, corrections); raises ConfigError."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    if not is_url(location):
        from synthbeam.rules.compile import build_plan

        plan, issues = build_plan(location, environment=environment, overrides=overrides)
    else:
        plan, issues = _load_url(location, environment, overrides)
    return _with_security(plan, issues)


def _with_security(plan: Plan, issues: Issues) -> tuple[Plan, Issues]:
    """Decide masking and encryption (the key comes from the environment or a key file, here)."""
    from synthbeam.rules.security import plan_security

    security_plan, security_issues = plan_security(plan, os.environ)
    if security_issues.errors:
        raise ConfigError(security_issues.errors, plan.source)
    issues.extend(security_issues)
    plan.protection = security_plan if security_plan.active else None
    return plan, issues


def _load_url(location: str, environment: str | None, overrides: Mapping[str, Any]) -> tuple[Plan, Issues]:
    from apache_beam.io.filesystems import FileSystems

    from synthbeam.rules import loader
    from synthbeam.rules.compile import compile_plan

    try:
        with FileSystems.open(location) as handle:
            text = handle.read().decode("utf-8")
    except Exception as exc:  # missing object, no credentials, unknown scheme: one line either way
        raise ConfigError([Issue("", f"cannot read config {location}: {_first_line(exc)}")]) from None
    # The rule engine reads files through the local filesystem only (it never imports Beam),
    # so files a remote config names resolve against the working directory.
    loaded = loader.load_config_text(text, location, Path("."), environment, overrides)
    return compile_plan(loaded)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


PREVIEW_DEDUP_MAX_ROWS = 2_000_000


def resolve_dedup(plan: Plan) -> list[str]:
    """Run the dedup pass in this process for ``preview``, so it shows the rows ``generate`` writes.

    ``generate`` runs the same rounds distributed. Here the pass holds a
    column's values in a set, so columns of tables over
    ``PREVIEW_DEDUP_MAX_ROWS`` rows are left out; their names are returned
    so the caller can say that those previews may differ where a row collided.
    """
    from synthbeam.rules.dedup import apply_dedup, dedup_columns

    done = apply_dedup(plan, max_rows=PREVIEW_DEDUP_MAX_ROWS)
    return [f"{table}.{column}" for table, column in dedup_columns(plan) if f"{table}.{column}" not in done]
