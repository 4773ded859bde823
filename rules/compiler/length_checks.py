"""Length limits that break formatted values, found on sample rows at plan time.

``length`` cuts every string to its first characters. For free text that is
what a user asks for; for values with a structure (an email address, a UUID,
a phone number, a value generated from or checked by a regex: rules that set
``Rule.formatted``) it writes broken values such as ``lyang@exam``. So a cut
that shortens such values on sample rows is a warning naming an example and
the length that keeps them whole, and on a unique column an error: cut values
are no longer what the rule makes and they collide.
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from synthbeam.rules.compiler.nullable import column_rules
from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.model import ColumnPlan, Plan
from synthbeam.rules.core.registry import Rows, Rule
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.core.values import coerce

SAMPLE_ROWS = 256


def check_length_cuts(plan: Plan, issues: Issues, sample_rows: int = SAMPLE_ROWS) -> None:
    """A warning (unique columns: an error) for each column whose ``length`` cuts a formatted rule's values."""
    for table in plan.tables.values():
        index = np.arange(min(table.rows, sample_rows), dtype=np.uint64)
        if not len(index):
            continue
        for column in table.columns:
            if column.max_length is None or column.foreign_key is not None:
                continue
            formatted = [r for r in column_rules(column) if r is not None and r.formatted and not r.references()]
            for rule in formatted:
                if _report_cut(plan, table.name, column, rule, index, issues):
                    break  # one message per column


def _report_cut(plan: Plan, table: str, column: ColumnPlan, rule: Rule, index: np.ndarray, issues: Issues) -> bool:
    stream = Stream.root("synthbeam", plan.seed, table, column.name, "length check")
    values = coerce(rule.generate(Rows(index), stream), column.type, column.place)
    lengths = pc.fill_null(pc.utf8_length(values), 0).to_numpy(zero_copy_only=False)
    cut = np.flatnonzero(lengths > column.max_length)
    if not len(cut):
        return False
    whole = values[int(cut[0])].as_py()
    what = (
        f"length {column.max_length} cuts {len(cut)} of {len(index)} sample values of {rule.describe()} "
        f"and breaks their format ({whole[: column.max_length]!r} from {whole!r})"
    )
    fix = f"set length to at least {int(lengths.max())} (the longest sample value), or drop it"
    if column.is_unique:
        issues.error(column.place, f"is unique, but {what}, and cut values collide: {fix}")
    else:
        issues.warning(column.place, f"{what}: {fix}")
    return True
