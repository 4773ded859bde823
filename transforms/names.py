"""What an output directory may be called and hold: its own files' names, and what tables may be named.

Beam-free, so ``validate`` and ``check`` judge names without importing Beam.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from synthbeam.rules.model import Plan

__all__ = [
    "AUDIT_FILE",
    "AVRO_NAME",
    "HTML_REPORT_NAME",
    "PROFILE_NAME",
    "REPORT_NAME",
    "STAGING_PREFIX",
    "check_avro_names",
    "layout_problems",
]

REPORT_NAME = "_report.json"
AUDIT_FILE = "_audit.jsonl"  # what was masked/encrypted, per table (security.audit_enabled)
PROFILE_NAME = "_profile.json"  # every column's profile (not with --no-profile)
HTML_REPORT_NAME = "_report.html"  # the report, the ER diagram and the profile, for people
STAGING_PREFIX = ".synthbeam-tmp-"
AVRO_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f]")


def check_avro_names(table_name: str, column_names: Iterable[str]) -> list[str]:
    """Column names Avro cannot store (it allows ``[A-Za-z_][A-Za-z0-9_]*`` only)."""
    return [name for name in column_names if not AVRO_NAME.match(name)]


def layout_problems(plan: Plan, output_format: str) -> list[str]:
    """Table or column names the output layout or format cannot hold (each a one-line message)."""
    problems = []
    for name, table in plan.tables.items():
        if _UNSAFE_NAME.search(name) or name in (".", "..") or name.startswith(STAGING_PREFIX):
            problems.append(f"{table.place}: table name {name!r} cannot be a directory name")
        elif name in (REPORT_NAME, AUDIT_FILE, PROFILE_NAME, HTML_REPORT_NAME):
            problems.append(f"{table.place}: table name {name!r} is the name of the run's own {name} file")
        if output_format == "avro":
            bad = check_avro_names(name, [c.name for c in table.columns])
            if bad:
                problems.append(
                    f"{table.place}: Avro field names must match [A-Za-z_][A-Za-z0-9_]*; "
                    f"rename {', '.join(repr(b) for b in bad)} or choose another format"
                )
    return problems
