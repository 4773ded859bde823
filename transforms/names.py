"""What an output directory may be called and hold: its own files' names, and what tables may be named.

Beam-free, so ``validate`` and ``check`` judge names without importing Beam.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from synthbeam.rules.core.model import Plan

__all__ = [
    "AUDIT_FILE",
    "AVRO_NAME",
    "GLOB_CHARACTERS",
    "HTML_REPORT_NAME",
    "INTERNAL_PREFIX",
    "LOCK_NAME",
    "MAX_TABLE_NAME_BYTES",
    "OLD_PREFIX",
    "PROFILE_NAME",
    "REPORT_NAME",
    "RUN_FILES",
    "STAGING_PREFIX",
    "check_avro_names",
    "has_glob",
    "layout_problems",
    "table_name_problem",
]

REPORT_NAME = "_report.json"
AUDIT_FILE = "_audit.jsonl"  # what was masked/encrypted, per table (security.audit_enabled)
PROFILE_NAME = "_profile.json"  # every column's profile (not with --no-profile)
HTML_REPORT_NAME = "_report.html"  # the report, the ER diagram and the profile, for people
# Every file a run itself puts at the top of OUT; no table may take one of these names.
RUN_FILES = (REPORT_NAME, AUDIT_FILE, HTML_REPORT_NAME, PROFILE_NAME)
# Everything a run keeps in OUT for itself while it works starts with this (hidden) prefix:
INTERNAL_PREFIX = ".synthbeam-"
STAGING_PREFIX = ".synthbeam-tmp-"  # the new output, built here, then switched in by renames
OLD_PREFIX = ".synthbeam-old-"  # the previous output, kept here until the switch is complete
LOCK_NAME = ".synthbeam-lock"  # the running run's claim on OUT (local file systems)
# Beam's FileSystems.match reads these as wildcards in any path it is given.
GLOB_CHARACTERS = "*?["
# A table name becomes directory and file names: ``beam-temp-<table>-<32 hex>`` (the sink's
# temporary directory, the longest) must fit the usual 255-byte limit of one path component.
MAX_TABLE_NAME_BYTES = 200
AVRO_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f]")


def has_glob(path: str) -> bool:
    """Whether Beam's ``FileSystems.match`` would read ``path`` as a pattern, not a literal name."""
    return any(character in path for character in GLOB_CHARACTERS)


def check_avro_names(table_name: str, column_names: Iterable[str]) -> list[str]:
    """Column names Avro cannot store (it allows ``[A-Za-z_][A-Za-z0-9_]*`` only)."""
    return [name for name in column_names if not AVRO_NAME.match(name)]


def table_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an output directory (completing "table name X ..."), or None.

    A name passes only if every file system and Beam's file matching take the
    directory and file names made from it literally, so ``validate`` passing
    means ``generate`` can write the table.
    """
    if _UNSAFE_NAME.search(name) or name in ("", ".", ".."):
        return "cannot be a directory name (no '/', backslash, control characters, '.' or '..')"
    if has_glob(name):
        return "holds a wildcard character ('*', '?' or '['), which Beam's file matching would expand; rename it"
    if name.startswith(INTERNAL_PREFIX):
        return f"starts with {INTERNAL_PREFIX!r}, which synthbeam keeps for its own working files"
    if name in RUN_FILES:
        return f"is the name of the run's own {name} file"
    size = len(name.encode("utf-8"))
    if size > MAX_TABLE_NAME_BYTES:
        return (
            f"is {size} bytes long; at most {MAX_TABLE_NAME_BYTES} (the file names made from it must fit "
            "the file system's 255-byte limit)"
        )
    return None


def _shown(name: str) -> str:
    """``name`` quoted on one line (control characters escaped), long ones cut."""
    return repr(name) if len(name) <= 60 else repr(name[:40]) + "..."


def layout_problems(plan: Plan, output_format: str) -> list[str]:
    """Table or column names the output layout or format cannot hold (each a one-line message)."""
    problems = []
    for name, table in plan.tables.items():
        problem = table_name_problem(name)
        if problem:
            place = table.place if table.place.isprintable() and len(table.place) <= 60 else _shown(table.place)
            problems.append(f"{place}: table name {_shown(name)} {problem}")
        if output_format == "avro":
            bad = check_avro_names(name, [c.name for c in table.columns])
            if bad:
                problems.append(
                    f"{table.place}: Avro field names must match [A-Za-z_][A-Za-z0-9_]*; "
                    f"rename {', '.join(repr(b) for b in bad)} or choose another format"
                )
    return problems
