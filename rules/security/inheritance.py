"""Protection that follows values: foreign keys and column references take their sources' protection.

Plan time, pure. :func:`inherit_protection` completes :func:`synthbeam.rules.security.policy.plan_security`'s
per-column decisions: a foreign key holds its parent's values, and a rule parameter
``{"column": "dob"}`` (same row) or ``{"column": "customers.email"}`` (parent row), a ``fixed`` copy
included, computes a value from another column's; either way the derived column is masked and
encrypted like its source, reported as a correction, or the config is refused when the source's
masking cannot apply to the derived column's type. A condition that only tests a protected column
gets a warning. A column with protection of its own keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.model import ColumnPlan, Plan, TablePlan
from synthbeam.rules.core.types import storage_kind
from synthbeam.rules.security import masking
from synthbeam.rules.security.protection import ColumnProtection

__all__ = ["inherit_protection"]


def inherit_protection(plan: Plan, tables: dict[str, tuple[ColumnProtection, ...]], issues: Issues) -> None:
    """Columns whose values come from protected columns get that protection; conditions on them warn.

    Foreign keys hold their parent's values; a rule parameter ``{"column":
    "dob"}`` or ``{"column": "customers.email"}`` copies or bounds the value by
    another (a date range from ``dob`` to ``dob`` *is* ``dob``). Both run until
    stable, for chains through either. A condition only *tests* a column, so
    it is a warning (which branch a row took still says something about it).
    """
    refused: set[str] = set()  # places already reported: a later round must not report them again
    changed = True
    while changed:
        changed = _protect_foreign_keys_like_their_parents(plan, tables, issues)
        changed = _protect_references_like_their_sources(plan, tables, issues, refused) or changed
    for table in plan.tables.values():
        _warn_about_conditions_on_protected(plan, table, tables, issues)


def _add_protection(
    table: TablePlan, tables: dict[str, tuple[ColumnProtection, ...]], protection: ColumnProtection
) -> None:
    position = {c.name: number for number, c in enumerate(table.columns)}
    tables[table.name] = tuple(
        sorted([*tables[table.name], protection], key=lambda entry: position[entry.column])
    )


def _what_was_done(protection: ColumnProtection) -> str:
    done = [f"masked with '{protection.masking}'"] if protection.masking else []
    done += ["encrypted"] if protection.encrypt else []
    return " and ".join(done)


def _protect_foreign_keys_like_their_parents(
    plan: Plan, tables: dict[str, tuple[ColumnProtection, ...]], issues: Issues
) -> bool:
    """A foreign key holds its parent's values, so it gets its parent's masking and encryption.

    Without this, masking ``customers.email`` left every ``orders.customer_email``
    holding the plain address. Hashing stays joinable (equal values hash equally);
    a child column with protection of its own keeps it. True when something changed.
    """
    changed = False
    for table in plan.tables.values():
        protected = {p.column for p in tables[table.name]}
        for fk in table.foreign_keys:
            parent = next((p for p in tables.get(fk.parent_table, ()) if p.column == fk.parent_column), None)
            if parent is None or fk.child_column in protected:
                continue
            child = table.column(fk.child_column)
            inherited = replace(parent, column=child.name, original_type=child.type, masking_source="foreign key")
            _add_protection(table, tables, inherited)
            protected.add(child.name)
            changed = True
            issues.correction(
                child.place,
                f"{_what_was_done(parent)} like {fk.parent_table}.{fk.parent_column}, whose values it holds",
            )
    return changed


# Which masking hides most, when a value derives from several protected columns.
_MASKING_STRENGTH = {"null": 4, "redact": 3, "hash": 2, "partial": 1}


def _resolve_source(plan: Plan, table: TablePlan, name: str) -> tuple[str, str] | None:
    """(table, column) a reference or condition names: same-table, or ``parent.column`` through a foreign key."""
    if "." not in name:
        return (table.name, name) if any(c.name == name for c in table.columns) else None
    parent, column = name.split(".", 1)
    if parent not in plan.tables or not any(fk.parent_table == parent for fk in table.foreign_keys):
        return None
    return parent, column


def _protection_of(
    tables: Mapping[str, tuple[ColumnProtection, ...]], source: tuple[str, str]
) -> ColumnProtection | None:
    return next((p for p in tables.get(source[0], ()) if p.column == source[1]), None)


def _value_references(column: ColumnPlan) -> set[str]:
    """Columns whose values flow into ``column``'s values (rule parameters), conditions excluded."""
    names: set[str] = set()
    for rule in [column.rule, *(branch.rule for branch in column.branches)]:
        if rule is not None:
            names |= rule.references()
    return names


def _protect_references_like_their_sources(
    plan: Plan, tables: dict[str, tuple[ColumnProtection, ...]], issues: Issues, refused: set[str]
) -> bool:
    """A value computed from a protected column's values is protected like it, or the config is refused.

    Without this, ``dob_copy`` (a date range from ``dob`` to ``dob``) wrote every
    ``dob`` in clear while ``dob`` itself was masked. Masking applies as the
    source's (the strongest of several sources); encryption if any source is
    encrypted. A text masking (partial, redact, hash) cannot apply to a
    non-text column: encryption alone then protects it when a source is
    encrypted, else the config is refused, naming the fix. A column with
    protection of its own keeps it. True when something changed.
    """
    changed = False
    for table in plan.tables.values():
        protected = {p.column for p in tables[table.name]}
        for column in table.columns:
            if column.name in protected or column.foreign_key is not None or column.place in refused:
                continue
            sources = []
            for name in sorted(_value_references(column)):
                source = _resolve_source(plan, table, name)
                protection = _protection_of(tables, source) if source is not None else None
                if protection is not None:
                    sources.append((".".join(source) if source[0] != table.name else source[1], protection))
            if not sources:
                continue
            inherited = _derived_protection(column, sources, issues)
            if inherited is None:
                refused.add(column.place)
                continue
            _add_protection(table, tables, inherited)
            protected.add(column.name)
            changed = True
            names = ", ".join(name for name, _ in sources)
            issues.correction(
                column.place, f"{_what_was_done(inherited)} like {names}, whose values it is computed from"
            )
    return changed


def _derived_protection(
    column: ColumnPlan, sources: list[tuple[str, ColumnProtection]], issues: Issues
) -> ColumnProtection | None:
    """The protection ``column`` takes from ``sources``; None (with an error) when none can apply."""
    encrypt = any(protection.encrypt for _, protection in sources)
    masked = [(name, p) for name, p in sources if p.masking]
    name, strongest = max(
        masked, key=lambda item: _MASKING_STRENGTH.get(item[1].masking or "", 0), default=(None, None)
    )
    strategy = strongest.masking if strongest is not None else None
    if strategy in masking.TEXT_STRATEGIES and storage_kind(column.type) != "str":
        if not encrypt:
            issues.error(
                column.place,
                f"its values are computed from {name}, which is masked with '{strategy}', and that masking makes "
                f"text, which a column of type {column.type} cannot hold: mask this column itself "
                '("masking": {"strategy": "null"}), enable encryption, or do not refer to the protected column',
            )
            return None
        strategy = None  # encryption alone hides it
    if strategy == "null":
        encrypt = False  # nothing left to encrypt, as for a column masked with null itself
    base = strongest if strongest is not None else sources[0][1]
    return replace(
        base,
        column=column.name,
        masking=strategy,
        encrypt=encrypt,
        original_type=column.type,
        masking_source="reference",
    )


def _warn_about_conditions_on_protected(
    plan: Plan, table: TablePlan, tables: Mapping[str, tuple[ColumnProtection, ...]], issues: Issues
) -> None:
    protected = {p.column for p in tables[table.name]}
    for column in table.columns:
        if column.name in protected:
            continue
        for number, branch in enumerate(column.branches):
            for condition in branch.conditions:
                source = _resolve_source(plan, table, str(condition.column))
                protection = _protection_of(tables, source) if source is not None else None
                if protection is None:
                    continue
                issues.warning(
                    f"{column.place}.conditional_rules[{number}]",
                    f"tests {condition.column}, which is {_what_was_done(protection)}: which rule a row got can "
                    "reveal its value in clear; protect this column too, or test an unprotected column",
                )
