"""``synthbeam check``, row by row: conditional columns and ranges whose bounds are other columns.

A column-wide check cannot judge these: which rule made a value depends on the
row (``conditional_rules``), and so do a range's bounds when they are column
references (``{"column": "order_date"}``, ``{"column": "customers.signup_date"}``).
So each row is judged on its own values, as the engine made it:

* **conditional columns**: the branch a row took is recomputed from the row's
  written values with the engine's own condition evaluation
  (:func:`synthbeam.rules.engine.conditions.evaluate_conditions`): the first branch whose
  conditions hold, else the column's rule. The value must then fit that rule: null
  for a ``null`` rule, otherwise the domain checks ``check`` runs for a plain column
  with that rule (choices, ranges, regexes...), and the bounds below;
* **values computed from the row** (``template``, ``expr``, a ``fixed`` copy, with any
  reference offset): recomputed by the rule itself from the row's written values (and its
  parent row's), and the written value must be exactly that (null where that is null);
* **ranges with references** (``range``, ``date_range``, ``time_range``,
  ``timestamp_range``): ``start <= value <= end`` with each bound read from the
  row, or from its parent row through the foreign key. As in the engine, a start
  after the end leaves the start as the only value; a null start leaves nothing to
  check, a null end only the start.

Parent values are kept from the parent table's output (read first: plans list
parents first), keyed by the foreign key's parent column, which must be unique for
a child value to name one parent row. Rows whose needed values are unknown (a null
foreign key, an orphan) are not judged; columns whose inputs are masked, encrypted
or missing are skipped with the reason, as the rest of ``check`` does.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.conformance import MISSING_INT, RowBounds
from synthbeam.rules.core.model import Branch, ColumnPlan, ForeignKey, Plan, TablePlan
from synthbeam.rules.core.registry import Rows, Rule
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.core.values import coerce
from synthbeam.rules.engine.conditions import evaluate_conditions

__all__ = ["ParentColumns", "RowBreach", "RowChecks", "children_count_breaches"]

EXAMPLES = 3
_MISSING_INT = MISSING_INT


class DomainCheck(Protocol):
    """What ``check`` runs on a plain column's values (its ``_ValueCheck``)."""

    name: str
    what: str

    def offending(self, values: pa.Array) -> np.ndarray: ...


DomainChecks = Callable[[ColumnPlan], list[DomainCheck]]
Usable = Callable[[str, str], bool]  # (table, column) -> its written values can be compared with rules


class _Unknown(Exception):
    """A value a rule or condition needs is not in the output (masked, missing, unreachable parent)."""


@dataclass
class RowBreach:
    text: str
    column: str


@dataclass
class _Tally:
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, shown: Iterable[str], count: int) -> None:
        self.count += count
        for text in shown:
            if len(self.examples) >= EXAMPLES:
                break
            self.examples.append(text)


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, (dt.date, dt.time)):
        text = value.isoformat()
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _mask(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _qualified(names: Iterable[str]) -> set[str]:
    return {name for name in names if "." in name}


def _branch_inputs(column: ColumnPlan) -> set[str]:
    """Every column a conditional column's conditions and rules read."""
    names: set[str] = set()
    for branch in column.branches:
        names |= {condition.column for condition in branch.conditions}
        if branch.rule is not None:
            names |= branch.rule.references()
    if column.rule is not None:
        names |= column.rule.references()
    return names


def _row_checked(column: ColumnPlan) -> bool:
    """Columns whose values only a row-by-row check can judge."""
    if column.foreign_key is not None or column.key_strategy in ("sequence", "permutation", "group"):
        return False
    return bool(column.branches) or (column.rule is not None and bool(column.rule.references()))


# --- parent values ---------------------------------------------------------------------------


class ParentColumns:
    """The parent columns children's conditions and bounds name, kept from the parents' output."""

    def __init__(self, plan: Plan, usable: Usable) -> None:
        self.plan = plan
        self.usable = usable
        # parent table -> (its key column, the columns children read)
        self.wanted: dict[str, tuple[str, set[str]]] = {}
        self.problems: dict[str, str] = {}  # "parent.column" -> why it cannot be looked up
        for table in plan.tables.values():
            for column in table.columns:
                if not _row_checked(column):
                    continue
                for name in _qualified(_branch_inputs(column)):
                    parent, _, parent_column = name.partition(".")
                    fk = next((fk for fk in table.foreign_keys if fk.parent_table == parent), None)
                    if fk is None or parent not in plan.tables:
                        continue  # the compiler refuses such a config
                    if parent == table.name:
                        # The parent rows are in the table being read: not all of them are known yet.
                        self.problems[name] = f"{name} is read through a self-reference"
                        continue
                    key_column = plan.table(parent).column(fk.parent_column)
                    if not (key_column.is_unique or key_column.key_strategy == "sequence"):
                        self.problems[name] = f"{parent}.{fk.parent_column} is not unique, so a child names no one row"
                        continue
                    self.wanted.setdefault(parent, (fk.parent_column, set()))[1].add(parent_column)
            for fk in table.foreign_keys:  # children counts that follow a parent column
                if fk.children_column is not None and fk.parent_table in plan.tables and fk.parent_table != table.name:
                    self.wanted.setdefault(fk.parent_table, (fk.parent_column, set()))[1].add(fk.children_column)
        self.kept: dict[str, list[pa.RecordBatch]] = {}
        self._tables: dict[str, pa.Table] = {}

    def keep(self, table: str, arrays: Mapping[str, pa.Array]) -> None:
        wanted = self.wanted.get(table)
        if wanted is None:
            return
        key, columns = wanted
        names = [key, *sorted(columns)]
        if all(name in arrays for name in names):
            self.kept.setdefault(table, []).append(pa.record_batch([arrays[n] for n in names], names=names))

    def table(self, parent: str) -> pa.Table:
        """The kept columns of ``parent`` (its key first); raises _Unknown when it was not read."""
        table = self._tables.get(parent)
        if table is None:
            batches = self.kept.get(parent)
            if not batches:
                raise _Unknown(f"the parent table {parent} could not be read")
            table = self._tables[parent] = pa.Table.from_batches(batches).combine_chunks()
        return table

    def found(self, child: TablePlan, parent: str, child_arrays: Mapping[str, pa.Array]) -> np.ndarray:
        """Child rows whose foreign key to ``parent`` is set and names a parent row of the output."""
        fk = next(fk for fk in child.foreign_keys if fk.parent_table == parent)
        return _mask(self.values(child, f"{parent}.{fk.parent_column}", child_arrays).is_valid())

    def values(self, child: TablePlan, qualified: str, child_arrays: Mapping[str, pa.Array]) -> pa.Array:
        """``parent.column`` for each child row (null where unknown); raises _Unknown when it cannot be had."""
        if qualified in self.problems:
            raise _Unknown(self.problems[qualified])
        parent, _, column = qualified.partition(".")
        fk = next(fk for fk in child.foreign_keys if fk.parent_table == parent)
        key = fk.parent_column
        for name in (key, column):
            if not self.usable(parent, name):
                raise _Unknown(f"{parent}.{name} is masked, encrypted or unreadable")
        if not self.usable(child.name, fk.child_column) or fk.child_column not in child_arrays:
            raise _Unknown(f"{child.name}.{fk.child_column} is masked, encrypted or unreadable")
        table = self.table(parent)
        children = child_arrays[fk.child_column]
        keys = table.column(key).combine_chunks()
        if keys.type != children.type:
            children = children.cast(keys.type)
        positions = pc.index_in(children, value_set=keys)
        return table.column(column).combine_chunks().take(positions)


# --- the checks of one table -----------------------------------------------------------------


_Bounds = RowBounds  # the rule's per-row bounds (rules/core/conformance.py)


class _ColumnRows:
    """One column's row-by-row check: its branches (or its rule alone) and what each must give."""

    def __init__(self, column: ColumnPlan, domain_checks: DomainChecks) -> None:
        self.column = column
        self.problems: list[str] = []
        self.tallies: dict[str, _Tally] = {}
        self.outcomes: list[tuple[str, Branch | None, Rule | None, list[DomainCheck], _Bounds | None]] = []
        self.recomputed: set[int] = set()  # positions in outcomes whose rule is recomputed row by row
        rules = [(f"conditional_rules[{n}]", branch, branch.rule) for n, branch in enumerate(column.branches)]
        default = "the column's rule (no condition held)" if column.branches else "its rule"
        rules.append((default, None, column.rule))
        for label, branch, rule in rules:
            checks: list[DomainCheck] = []
            bounds: _Bounds | None = None
            if rule is not None:
                # The column with this rule alone; its length checks already run on the whole column.
                plain = replace(column, rule=rule, branches=[])
                checks = [c for c in domain_checks(plain) if not c.name.startswith(("max_length(", "min_length("))]
                inner, prefix, suffix, check = rule.unwrapped()
                if getattr(inner, "derived_from_row", False):
                    if check is not None:
                        self.problems.append(f"{label}: recomputed values (a regex check may have nulled some)")
                    else:
                        self.recomputed.add(len(self.outcomes))
                elif rule.references():
                    if prefix or suffix:
                        self.problems.append(f"{label}: bounds (prefix/suffix make the values text)")
                    else:
                        found = inner.row_bounds(column.type)
                        if isinstance(found, str):
                            self.problems.append(f"{label}: bounds ({found})")
                        else:
                            bounds = found
            self.outcomes.append((label, branch, rule, checks, bounds))

    def consume(self, rows: Rows, values: pa.Array, known: np.ndarray) -> None:
        undecided = known.copy()
        for number, (label, branch, rule, checks, bounds) in enumerate(self.outcomes):
            if branch is not None:
                taken = evaluate_conditions(branch.conditions, rows) & undecided
                undecided &= ~taken
            else:
                taken = undecided
            positions = np.flatnonzero(taken)
            if not len(positions):
                continue
            subset = rows.take(positions)
            chosen = values.take(pa.array(positions))
            if rule is None:
                bad = _mask(chosen.is_valid())
                self._tally(f"{label} gives null, but these rows hold values", chosen, bad)
                continue
            for check in checks:
                bad = check.offending(chosen) & _mask(chosen.is_valid())
                self._tally(f"{label}: {check.what}", chosen, bad)
            if number in self.recomputed:
                self._recompute(label, rule, subset, chosen)
            if bounds is not None:
                bad, low, high = bounds.offending(subset, chosen)
                if bad.any():
                    where = np.flatnonzero(bad)
                    shown = [
                        f"{_show(chosen[int(i)].as_py())} not in {bounds.describe()} "
                        f"= [{_bound_text(bounds, low[i], chosen.type)}, {_bound_text(bounds, high[i], chosen.type)}]"
                        for i in where[:EXAMPLES]
                    ]
                    self.tallies.setdefault(f"{label}: values outside their row's bounds", _Tally()).add(
                        shown, len(where)
                    )

    def _recompute(self, label: str, rule: Rule, rows: Rows, written: pa.Array) -> None:
        """The rule's value computed again from the row's written inputs must be the written value."""
        expected = coerce(rule.generate(rows, Stream(0)), self.column.type).cast(written.type)
        same = pc.fill_null(pc.equal(written, expected), False)
        both_null = pc.and_(written.is_null(), expected.is_null())
        bad = ~_mask(pc.or_(same, both_null))
        if bad.any():
            where = np.flatnonzero(bad)
            shown = [
                f"{_show(written[int(i)].as_py())} where the row gives {_show(expected[int(i)].as_py())}"
                for i in where[:EXAMPLES]
            ]
            self.tallies.setdefault(f"{label}: values not computed from their row", _Tally()).add(shown, len(where))

    def _tally(self, what: str, values: pa.Array, bad: np.ndarray) -> None:
        if bad.any():
            where = np.flatnonzero(bad)
            shown = [_show(v) for v in values.take(pa.array(where[:EXAMPLES])).to_pylist()]
            self.tallies.setdefault(what, _Tally()).add(shown, len(where))


def _check_label(column: ColumnPlan) -> str:
    if column.branches:
        return "conditional"
    inner = column.rule.unwrapped()[0]
    return "computed" if getattr(inner, "derived_from_row", False) else "row_bounds"


def _bound_text(bounds: _Bounds, number: Any, value_type: pa.DataType) -> str:
    if bounds.kind == "temporal":
        if number == _MISSING_INT:
            return "null"
        return _show(_temporal_value(int(number), value_type))
    return "null" if isinstance(number, float) and math.isnan(number) else f"{number:g}"


def _temporal_value(number: int, value_type: pa.DataType) -> Any:
    if pa.types.is_date(value_type):
        return pa.scalar(number, pa.int32()).cast(pa.date32()).as_py()
    if pa.types.is_time(value_type):
        return pa.scalar(number * 1_000_000, pa.int64()).cast(pa.time64("us")).as_py()
    return pa.scalar(number, pa.int64()).cast(pa.timestamp("s")).as_py()


class RowChecks:
    """The row-by-row checks of one table; ``checks`` and ``skipped`` say what runs, as ``check`` does."""

    def __init__(
        self, plan: Plan, table: TablePlan, usable: Usable, parents: ParentColumns, domain_checks: DomainChecks
    ) -> None:
        self.table = table
        self.usable = usable
        self.parents = parents
        self.checks: list[str] = []
        self.skipped: list[str] = []
        self.columns: list[_ColumnRows] = []
        self.unjudged: dict[str, int] = {}  # column -> rows without a parent row in the output
        for column in table.columns:
            if not _row_checked(column) or not usable(table.name, column.name):
                continue
            why = self._unavailable(column)
            if why:
                self.skipped.append(f"{column.name}: row-by-row rule check ({why})")
                continue
            checked = _ColumnRows(column, domain_checks)
            self.skipped += [f"{column.name}: {problem}" for problem in checked.problems]
            self.columns.append(checked)
            self.checks.append(f"{_check_label(column)}({column.name})")

    def _unavailable(self, column: ColumnPlan) -> str | None:
        for name in sorted(_branch_inputs(column)):
            if "." in name:
                if name in self.parents.problems:
                    return self.parents.problems[name]
                parent, _, parent_column = name.partition(".")
                if not self.usable(parent, parent_column):
                    return f"{name} is masked or encrypted"
            elif not self.usable(self.table.name, name):
                return f"{name} is masked or encrypted"
        return None

    def consume(self, arrays: Mapping[str, pa.Array], count: int) -> None:
        if not self.columns or not count:
            return
        parent_cache: dict[str, pa.Array] = {}

        def lookup(name: str, index: np.ndarray) -> pa.Array:
            if "." not in name:
                if name not in arrays:
                    raise _Unknown(f"{name} is not in the output")
                return arrays[name]
            if name not in parent_cache:
                parent_cache[name] = self.parents.values(self.table, name, arrays)
            return parent_cache[name]

        rows = Rows(np.arange(count, dtype=np.uint64), lookup)
        for checked in list(self.columns):
            values = arrays.get(checked.column.name)
            if values is None:
                continue
            try:
                # Rows without a parent row in the output (a null or orphan key) are not judged: the
                # engine read the parent values of a row this output does not show.
                known = np.ones(count, dtype=bool)
                for parent in sorted({name.partition(".")[0] for name in _qualified(_branch_inputs(checked.column))}):
                    known &= self.parents.found(self.table, parent, arrays)
                if not known.all():
                    name = checked.column.name
                    self.unjudged[name] = self.unjudged.get(name, 0) + int((~known).sum())
                checked.consume(rows, values, known)
            except (_Unknown, pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError) as exc:
                # Not a verdict on the rows: the column leaves the checks, and --verbose says why.
                self.columns.remove(checked)
                label = _check_label(checked.column)
                self.checks.remove(f"{label}({checked.column.name})")
                reason = str(exc) if isinstance(exc, _Unknown) else f"{type(exc).__name__}: {exc}"
                self.skipped.append(f"{checked.column.name}: row-by-row rule check ({reason})")

    def unjudged_notes(self) -> list[str]:
        """What ``--verbose`` lists as skipped: rows left out because their parent row is unknown."""
        return [
            f"{name}: row-by-row rule check of {count:,} row(s) without a parent row (null or orphan foreign key)"
            for name, count in self.unjudged.items()
        ]

    def breaches(self) -> list[RowBreach]:
        found = []
        for checked in self.columns:
            for what, tally in checked.tallies.items():
                found.append(
                    RowBreach(
                        f"{self.table.name}.{checked.column.name}: {tally.count:,} rows where {what}, "
                        f"e.g. {', '.join(tally.examples)}",
                        checked.column.name,
                    )
                )
        return found


# --- children per parent ---------------------------------------------------------------------


def children_count_breaches(
    child: TablePlan, fk: ForeignKey, counts: pa.Table, parent_keys: pa.Array, parents: ParentColumns
) -> tuple[list[str], str | None]:
    """Parents whose number of children in the output is not what ``children_per_parent`` says.

    ``counts`` holds each child key value (``k0``) and its rows (``n``); ``parent_keys`` every
    parent key written. With a count column the number must be exactly ``round(value x scale)``
    within [min, max] (null: min), from the parent row's written value; otherwise it must lie in
    [min, max]. Returns (breach texts, why the check was skipped or None).
    """
    low, high = fk.children_per_parent
    keys = counts["k0"]
    if parent_keys.type != keys.type:
        parent_keys = parent_keys.cast(keys.type)
    position = pc.index_in(parent_keys, value_set=keys)
    found = pc.fill_null(counts["n"].take(position), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    label = f"{child.name}.{fk.child_column}"
    if fk.children_column is None:
        bad = (found < low) | (found > high)
        wanted = f"between {low} and {high}"
        expected = None
    else:
        try:
            kept = parents.table(fk.parent_table)
        except _Unknown as exc:
            return [], str(exc)
        source = f"{fk.parent_table}.{fk.children_column}"
        if fk.children_column not in kept.column_names:
            return [], f"{source} is masked, encrypted or unreadable"
        where = pc.index_in(parent_keys, value_set=kept.column(fk.parent_column).combine_chunks())
        values = kept.column(fk.children_column).combine_chunks().take(where)
        numbers = values.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        expected = np.floor(numbers * fk.children_scale + 0.5)
        expected = np.where(np.isnan(expected), low, expected)
        expected = np.clip(expected, low, high if high is not None else np.inf).astype(np.int64)
        bad = found != expected
        wanted = f"{source} x {fk.children_scale:g} within [{low}, {high if high is not None else 'no max'}]"
    if not bad.any():
        return [], None
    where_bad = np.flatnonzero(bad)
    shown = []
    for i in where_bad[:EXAMPLES]:
        text = f"{_show(parent_keys[int(i)].as_py())}: {found[i]}"
        shown.append(text if expected is None else f"{text} (expected {expected[i]})")
    return [
        f"{label}: {len(where_bad):,} parents with a number of children not {wanted}, e.g. {', '.join(shown)}"
    ], None
