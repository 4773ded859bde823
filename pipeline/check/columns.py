"""Per-column checks: what each column's rule says its values must be (the rule answers)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.conformance import StoredColumn
from synthbeam.rules.core.conformance import bounds_offending as _bounds_offending
from synthbeam.rules.core.conformance import regex_offending as _regex_offending
from synthbeam.rules.core.model import ColumnPlan, Plan, TablePlan
from synthbeam.rules.core.registry import Rule
from synthbeam.rules.core.types import STRING_TYPES
from synthbeam.rules.engine.batch import column_dependencies

from ..formats import Tally

NULL_SHARE_MIN_ROWS = 1000


@dataclass
class ValueCheck:
    """A check of each non-null value of a column: ``offending`` returns the bad positions."""

    name: str
    column: str
    what: str  # "values outside [1, 10]" -> the breach reads "<count> <what>, e.g. ..."
    offending: Callable[[pa.Array], np.ndarray]
    tally: Tally = field(default_factory=Tally)


def mask(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def mask_valid(values: pa.Array) -> np.ndarray:
    return mask(values.is_valid())


def _unwrap(rule: Rule) -> tuple[Rule, str, str, re.Pattern[str] | None]:
    return rule.unwrapped()


def _length_exempt(column: ColumnPlan) -> Callable[[str], bool]:
    """Values possibly cut to max_length or padded to min_length no longer match their pattern."""
    lengths = {n for n in (column.max_length, column.min_length) if n}
    return lambda text: len(text) in lengths


def rule_checks(table: TablePlan, column: ColumnPlan, skipped: list[str]) -> list[ValueCheck]:
    """Checks the column's rule pins down (its values' domain); reasons for what it cannot."""
    checks: list[ValueCheck] = []
    is_text = column.type in STRING_TYPES
    if is_text and column.max_length is not None:
        limit = column.max_length
        checks.append(
            ValueCheck(
                f"max_length({column.name})",
                column.name,
                f"values longer than max_length {limit}",
                lambda values, limit=limit: mask(pc.greater(pc.utf8_length(values), limit)),
            )
        )
    if is_text and column.min_length:
        limit = column.min_length
        checks.append(
            ValueCheck(
                f"min_length({column.name})",
                column.name,
                f"values shorter than min_length {limit}",
                lambda values, limit=limit: mask(pc.less(pc.utf8_length(values), limit)),
            )
        )
    if column.foreign_key is not None:
        return checks  # its values are the parent's: the FK check covers them
    if column.key_strategy == "sequence":
        checks.append(
            ValueCheck(
                f"sequence({column.name})",
                column.name,
                f"values outside the sequence 1..{table.rows}",
                _bounds_offending(pa.scalar(1, pa.int64()), pa.scalar(table.rows, pa.int64())),
            )
        )
        return checks
    if column.branches:
        return checks  # the branch is picked per row: pipeline/check/rows.py checks these
    rule = column.rule
    if rule is None:
        return checks
    inner, prefix, suffix, pattern = _unwrap(rule)
    exempt = _length_exempt(column)
    if pattern is not None:
        if is_text:
            checks.append(
                ValueCheck(
                    f"regex_check({column.name})",
                    column.name,
                    f"values not fully matching the regex check /{pattern.pattern}/",
                    _regex_offending(pattern, exempt),
                )
            )
        else:
            skipped.append(f"{column.name}: regex check (values are stored as {column.type}, not text)")
    if inner.references():
        return checks  # bounds differ per row: pipeline/check/rows.py checks these
    stored = StoredColumn(
        column.name, column.type, column.arrow_type, column.max_length, column.min_length, rule, prefix, suffix, exempt
    )
    found = inner.value_check(stored)
    if found is None:
        skipped.append(f"{column.name}: values ({_rule_name(inner)} has no conformance check)")
    elif isinstance(found, str):
        skipped.append(f"{column.name}: {found}")
    else:
        checks.append(ValueCheck(f"{found.name}({column.name})", column.name, found.what, found.offending))
    return checks


def _rule_name(rule: Rule) -> str:
    return f"rule {rule.names[0]!r}" if rule.names else type(rule).__name__


def expected_null_share(plan: Plan, column: ColumnPlan) -> float | None:
    """The probability a row of this column is null, or None when its rule can add nulls."""
    own = column.null_probability if column.nullable else 0.0
    fk = column.foreign_key
    if fk is not None:
        parent = plan.tables.get(fk.parent_table)
        if parent is None:
            return None
        parent_column = parent.column(fk.parent_column)
        if parent_column is column:
            return None
        if not parent_column.not_null and expected_null_share(plan, parent_column) != 0.0:
            return None  # null parent keys pass through to children
        link = 1.0 if parent.rows == 0 else fk.null_probability
        return 1.0 - (1.0 - own) * (1.0 - link)
    rule = column.rule
    if column.branches or rule is None or rule.references():
        return None
    inner, _, _, pattern = _unwrap(rule)
    if pattern is not None or inner.makes_nulls():
        return None
    return own


def null_tolerance(p: float, n: int) -> float:
    return 4.0 * math.sqrt(p * (1.0 - p) / n) + 1.0 / n


def unstable_columns(plan: Plan) -> dict[str, set[str]]:
    """Columns whose recomputed values may differ from a run's without the run's dedup result.

    A dedup pass (unique columns whose rule cannot be enumerated) re-draws colliding rows;
    the plan handed to ``check`` usually lacks those replacements, so such columns, and
    everything computed from them (FKs to them, references), are left out of the
    determinism comparison rather than reported falsely.
    """
    unstable: dict[str, set[str]] = {name: set() for name in plan.tables}
    changed = True
    while changed:
        changed = False
        for table in plan.tables.values():
            mine = unstable[table.name]
            for column in table.columns:
                if column.name in mine:
                    continue
                fk = column.foreign_key
                refs = column_dependencies(column)
                if (
                    (column.key_strategy == "dedup" and f"{table.name}.{column.name}" not in plan.replacements)
                    or (fk is not None and fk.parent_column in unstable.get(fk.parent_table, set()))
                    or any(ref in mine for ref in refs if "." not in ref)
                    or any(
                        ref.split(".", 1)[1] in unstable.get(ref.split(".", 1)[0], set()) for ref in refs if "." in ref
                    )
                ):
                    mine.add(column.name)
                    changed = True
    return unstable
