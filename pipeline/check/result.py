"""What `check` found: breaches, warnings and notes, and how they are printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROTECTED_SENSITIVITIES = frozenset({"PII", "SENSITIVE"})  # masked and/or encrypted by default


@dataclass
class CheckResult:
    """Breaches (one line each) and what was checked, per table."""

    breaches: list[str] = field(default_factory=list)
    checked: dict[str, dict[str, Any]] = field(default_factory=dict)
    format: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches

    @property
    def rows(self) -> int:
        return sum(int(entry.get("rows", 0)) for entry in self.checked.values())

    @property
    def checks(self) -> int:
        return sum(len(entry.get("checks", ())) for entry in self.checked.values())


def format_result(result: CheckResult, verbose: bool = False) -> str:
    """One line per breach, then a summary line (``ok: ...`` or ``FAILED: ...``)."""
    lines = list(result.breaches)
    if verbose:
        lines += [f"note: {note}" for note in result.notes]
        for table, entry in result.checked.items():
            lines.append(
                f"{table}: {entry.get('rows', 0):,} rows in {entry.get('shards', 0)} shard(s); "
                f"checks: {', '.join(entry.get('checks', [])) or 'none'}"
            )
            lines += [f"{table}: skipped {reason}" for reason in entry.get("skipped", [])]
    tables = len(result.checked)
    summary = f"{tables} table{'s' if tables != 1 else ''}, {result.rows:,} rows, {result.checks} checks"
    if result.ok:
        lines.append(f"ok: {summary}")
    else:
        count = len(result.breaches)
        lines.append(f"FAILED: {count} breach{'es' if count != 1 else ''} ({summary})")
    return "\n".join(lines)


@dataclass
class Breach:
    text: str
    columns: tuple[str, ...] = ()
    structural: bool = False  # layout/schema breaches stand even when a column is unreadable
