"""Which columns can hold null, and rule parameters that read one without a default.

A range bound that refers to another column takes that column's value row by
row; where the value is null the row gets null (or the reference's
``default``). That is predictable only if the user is told, so every bound
that reads a column which can be null, and has no default, is a warning at
the reading column's place, and an error on a PK/not_null column (whose nulls
would fail the run).

A column can be null when it has a null share, a rule that gives null (a null
rule, a ``null`` choice), a branch or fallback that does (conditional columns
without a rule for every row), a foreign key with a null share or to its own
table, or a bound that reads a column that can be null without a default.
"""

from __future__ import annotations

from collections.abc import Mapping

from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.model import ColumnPlan, TablePlan
from synthbeam.rules.core.registry import ColumnRef, Rule

EXAMPLE_DEFAULTS = {"date": '"today"', "timestamp": '"today"', "time": '"00:00:00"'}


def column_rules(column: ColumnPlan) -> list[Rule | None]:
    """Every rule that fills some rows: the branches' and the column's own (the fallback)."""
    return [branch.rule for branch in column.branches] + [column.rule]


class Nullability:
    """Answers "can this column be null?" across tables, memoised; cycles were rejected before."""

    def __init__(self, tables: Mapping[str, TablePlan]) -> None:
        self.tables = tables
        self._known: dict[tuple[str, str], bool] = {}

    def may_be_null(self, table: str, column: str) -> bool:
        key = (table, column)
        if key not in self._known:
            self._known[key] = False  # provisional, should a broken config loop
            self._known[key] = self._compute(self.tables[table], self.tables[table].column(column))
        return self._known[key]

    def _compute(self, table: TablePlan, column: ColumnPlan) -> bool:
        if column.not_null:
            return False
        if column.null_probability > 0:
            return True
        fk = column.foreign_key
        if fk is not None:
            if fk.null_probability > 0 or fk.parent_table == table.name:
                return True
            return self.may_be_null(fk.parent_table, fk.parent_column)
        rules = column_rules(column)
        if any(rule is None or rule.makes_nulls() for rule in rules):
            return True
        return any(self.ref_may_be_null(table, ref) for rule in rules for ref in rule.column_refs() if not ref.default)

    def ref_may_be_null(self, table: TablePlan, ref: ColumnRef) -> bool:
        """Whether ``ref`` (same table, or ``parent.column`` through a foreign key) can read null."""
        if "." not in ref.name:
            return self.may_be_null(table.name, ref.name)
        parent, column = ref.name.split(".", 1)
        link = next((fk for fk in table.foreign_keys if fk.parent_table == parent), None)
        if link is None:
            return False  # reported where the reference was checked
        if link.null_probability > 0 or link.parent_table == table.name:
            return True  # no parent row, no value
        return self.may_be_null(parent, column)


def check_nullable_references(tables: Mapping[str, TablePlan], issues: Issues) -> None:
    """Warn (or, on PK/not_null columns, reject) bounds that read a column which can be null, without a default."""
    nullability = Nullability(tables)
    for table in tables.values():
        for column in table.columns:
            for rule in column_rules(column):
                if rule is None:
                    continue
                inner = getattr(rule, "inner", rule)
                if getattr(inner, "handles_nulls", False):
                    continue  # an expression says itself what a null input gives (coalesce, CASE)
                for ref in rule.column_refs():
                    if ref.default is not None or not nullability.ref_may_be_null(table, ref):
                        continue
                    key = ref.key or "a bound"
                    example = EXAMPLE_DEFAULTS.get(rule.output_type, "0")
                    fix = getattr(inner, "null_fix", None) or (
                        f'give the reference a default, e.g. {{"column": "{ref.name}", "default": {example}}}'
                    )
                    if column.not_null:
                        issues.error(
                            column.place,
                            f"{key} refers to {ref.name}, which can be null, and a PK/not_null column "
                            f"cannot take null in its place: {fix}",
                        )
                    else:
                        issues.warning(
                            column.place,
                            f"{key} refers to {ref.name}, which can be null: those rows get null here; "
                            f"to give them a value, {fix}",
                        )
