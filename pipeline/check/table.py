"""Checking one table: schema, values, nulls, keys and protection, batch by batch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.conformance import EXAMPLES
from synthbeam.rules.core.conformance import examples as _examples
from synthbeam.rules.core.model import ColumnPlan, Plan, TablePlan

from ..formats import TableSchemaIssues
from .columns import NULL_SHARE_MIN_ROWS, ValueCheck, expected_null_share, mask_valid, null_tolerance, rule_checks
from .determinism import Determinism
from .keys import DistinctCounter, KeySet
from .result import PROTECTED_SENSITIVITIES, Breach
from .rows import ParentColumns, RowChecks


@dataclass
class _Security:
    """Columns a run transformed after generation (their values are not the rules').

    From ``_report.json``'s ``security`` section (``rules.security.report_section``):
    ``masked`` is ``{table: {column: strategy}}`` (masking keeps the column's type:
    text strategies are only allowed on text columns, ``null`` empties it) and
    ``encrypted`` is ``{table: {column: type before encryption}}`` (on disk the
    values are ``enc:...`` strings).
    """

    masked: dict[str, dict[str, str | None]] = field(default_factory=dict)
    encrypted: dict[str, set[str]] = field(default_factory=dict)
    guessed: bool = False  # from the config's settings: which columns, and their types, are unknown

    def transformed(self, table: str) -> set[str]:
        return set(self.masked.get(table, {})) | self.encrypted.get(table, set())

    def written_type(self, table: str, column: ColumnPlan) -> pa.DataType | None:
        """The Arrow type the column has on disk (None: cannot be known)."""
        if self.guessed and column.name in self.transformed(table):
            return None
        if column.name in self.encrypted.get(table, set()):
            return pa.string()
        return column.arrow_type


def security_expectations(plan: Plan, report: dict[str, Any]) -> _Security:
    listed = report.get("security")
    if isinstance(listed, dict):
        masked: dict[str, dict[str, str | None]] = {}
        for table, columns in (listed.get("masked") or {}).items():
            masked[table] = dict(columns) if isinstance(columns, dict) else dict.fromkeys(columns)
        encrypted = {table: set(columns) for table, columns in (listed.get("encrypted") or {}).items()}
        return _Security(masked, encrypted)
    settings = plan.security or {}
    masking_on, encryption_on = bool(settings.get("enable_data_masking")), bool(settings.get("enable_encryption"))
    if not (masking_on or encryption_on):
        return _Security()
    # No report to say which columns were touched: treat every one that may be as touched.
    possibly = {
        table.name: {
            c.name: None
            for c in table.columns
            if (masking_on and c.masking) or c.sensitivity in PROTECTED_SENSITIVITIES
        }
        for table in plan.tables.values()
    }
    return _Security(masked=possibly, guessed=True)


class TableCheck:
    """Everything checked while one table's shards stream past, and the verdicts at the end."""

    def __init__(
        self, plan: Plan, table: TablePlan, security: _Security, unstable: set[str], parent_keys: set[str]
    ) -> None:
        self.plan = plan
        self.table = table
        self.security = security
        self.checks: list[str] = ["rows", "schema"]
        self.skipped: list[str] = []
        self.breaches: list[Breach] = []
        self.rows = 0
        self.issues = TableSchemaIssues()
        self.transformed = security.transformed(table.name) & {c.name for c in table.columns}
        self.expected = {c.name: security.written_type(table.name, c) for c in table.columns}
        if self.transformed:
            how = "possibly masked/encrypted (security enabled, no report)" if security.guessed else "masked/encrypted"
            self.skipped.append(f"{', '.join(sorted(self.transformed))}: value checks ({how})")
        self.seen: Counter[str] = Counter()
        self.nulls: Counter[str] = Counter()
        self.value_checks: list[ValueCheck] = []
        self.not_null: list[str] = []
        self.null_shares: dict[str, float] = {}
        self.unique_groups: list[tuple[tuple[str, ...], DistinctCounter]] = []
        self.fk_children: dict[str, DistinctCounter] = {}
        self._plan_column_checks()
        # A unique column's distinct counts already hold its key set: FK checks reuse them.
        self.unique_columns = {group[0]: counter for group, counter in self.unique_groups if len(group) == 1}
        self.parent_keys = {name: KeySet() for name in parent_keys if name not in self.unique_columns}
        self.referenced = set(parent_keys)
        self.determinism = Determinism.create(plan, table, self.transformed, unstable, self.skipped)
        if self.determinism is not None:
            self.checks.append(f"determinism({len(self.determinism.expected)} rows)")
        self.row_checks: RowChecks | None = None

    def add_row_checks(self, parents: ParentColumns) -> None:
        """Conditional columns and ranges with column references, judged row by row (rows.py)."""

        def domain_checks(column: ColumnPlan) -> list[ValueCheck]:
            return rule_checks(self.table, column, [])

        def usable(table: str, column: str) -> bool:
            return column not in self.security.transformed(table)

        self.row_checks = RowChecks(self.plan, self.table, usable, parents, domain_checks)
        self.checks += self.row_checks.checks
        self.skipped += self.row_checks.skipped

    def parent_values(self, name: str) -> pa.Array:
        """The distinct non-null values of ``name``, a column other tables' foreign keys point at."""
        if name in self.unique_columns:
            return self.unique_columns[name].result()["k0"]
        return self.parent_keys[name].values()

    def _plan_column_checks(self) -> None:
        table = self.table
        masked = self.security.masked.get(table.name, {})
        for column in table.columns:
            name = column.name
            if masked.get(name) == "null" and name not in self.security.encrypted.get(table.name, set()):
                self.value_checks.append(
                    ValueCheck(f"masked_null({name})", name, "values left in a column masked with 'null'", mask_valid)
                )
                self.checks.append(f"masked_null({name})")
            if name in self.transformed:
                continue
            if column.not_null or name in table.primary_key:
                self.not_null.append(name)
                self.checks.append(f"not_null({name})")
            elif column.nullable or (column.foreign_key is not None and column.foreign_key.null_probability):
                share = expected_null_share(self.plan, column)
                if share is None:
                    self.skipped.append(f"{name}: null share (its rule can add nulls of its own)")
                elif table.rows < NULL_SHARE_MIN_ROWS:
                    self.skipped.append(f"{name}: null share (fewer than {NULL_SHARE_MIN_ROWS:,} rows)")
                else:
                    self.null_shares[name] = share
                    self.checks.append(f"null_share({name})")
            for check in rule_checks(table, column, self.skipped):
                self.value_checks.append(check)
                self.checks.append(check.name)
            if column.foreign_key is not None:
                fk = column.foreign_key
                self.fk_children[name] = DistinctCounter(1)
                self.checks.append(f"fk({name} -> {fk.parent_table}.{fk.parent_column})")
                if children_counted(self.plan, fk):
                    self.checks.append(f"children_per_parent({name})")
        groups: list[tuple[str, ...]] = [(c.name,) for c in table.columns if c.is_unique]
        if len(table.primary_key) > 1:
            groups.append(tuple(table.primary_key))
        groups += [tuple(group) for group in table.unique]
        for group in dict.fromkeys(groups):
            touched = [name for name in group if name in self.transformed]
            if touched:
                self.skipped.append(f"unique({', '.join(group)}): {', '.join(touched)} masked/encrypted")
                continue
            self.unique_groups.append((group, DistinctCounter(len(group))))
            self.checks.append(f"unique({', '.join(group)})")

    def consume(self, arrays: dict[str, pa.Array], rows: int) -> None:
        self.rows += rows
        for name, values in arrays.items():
            self.seen[name] += rows
            self.nulls[name] += values.null_count
        for check in self.value_checks:
            values = arrays.get(check.column)
            if values is not None and len(values):
                bad = check.offending(values)
                if bad.any():
                    check.tally.add(values.filter(pa.array(bad)))
        for group, counter in self.unique_groups:
            if all(name in arrays for name in group):
                keys = [arrays[name] for name in group]
                valid = keys[0].is_valid()
                for key in keys[1:]:
                    valid = pc.and_(valid, key.is_valid())
                counter.add([key.filter(valid) for key in keys])
        for name, counter in self.fk_children.items():
            if name in arrays:
                counter.add([arrays[name].drop_null()])
        for name, keys in self.parent_keys.items():
            if name in arrays:
                keys.add(arrays[name])
        if self.determinism is not None:
            self.determinism.consume(arrays)
        if self.row_checks is not None:
            self.row_checks.parents.keep(self.table.name, arrays)
            self.row_checks.consume(arrays, rows)

    def finish(self, report: dict[str, Any], hints: list[str]) -> None:
        table = self.table
        if self.rows != table.rows:
            hint = ""
            reported = (report.get("tables") or {}).get(table.name, {})
            planned = reported.get("rows") if isinstance(reported, dict) else None
            if isinstance(planned, int) and planned != table.rows:
                hint = f" (the report's run planned {planned:,}: was it generated with --rows or --scale?)"
            self.breaches.append(
                Breach(f"{table.name}: {self.rows:,} rows, expected {table.rows:,}{hint}", structural=True)
            )
        self._schema_breaches()
        for name in self.not_null:
            if self.nulls[name]:
                why = "PK" if name in table.primary_key else "not_null"
                self.breaches.append(
                    Breach(f"{table.name}.{name}: {self.nulls[name]:,} null values in a {why} column", (name,))
                )
        for name, share in self.null_shares.items():
            n = self.seen[name]
            if n < NULL_SHARE_MIN_ROWS:
                continue
            observed = self.nulls[name] / n
            tolerance = null_tolerance(share, n)
            if abs(observed - share) > tolerance:
                self.breaches.append(
                    Breach(
                        f"{table.name}.{name}: null share {observed:.4f} ({self.nulls[name]:,} of {n:,}) "
                        f"outside the expected {share:.4f} +/- {tolerance:.4f}",
                        (name,),
                    )
                )
        for check in self.value_checks:
            if check.tally.count:
                self.breaches.append(
                    Breach(
                        f"{table.name}.{check.column}: {check.tally.count:,} {check.what}, "
                        f"e.g. {_examples(check.tally.examples)}",
                        (check.column,),
                    )
                )
        for group, counter in self.unique_groups:
            counts = counter.result()
            if not counts.num_rows:
                continue
            repeated = counts.filter(pc.greater(counts["n"], 1))
            if repeated.num_rows:
                extra = pc.sum(pc.subtract(repeated["n"], 1)).as_py()
                columns = [repeated[k].slice(0, EXAMPLES).to_pylist() for k in counter.keys]
                examples = [row[0] if len(row) == 1 else tuple(row) for row in zip(*columns)]
                label = group[0] if len(group) == 1 else "(" + ", ".join(group) + ")"
                self.breaches.append(
                    Breach(
                        f"{table.name}.{label}: {repeated.num_rows:,} duplicate values ({extra:,} extra rows) "
                        f"in a unique key, e.g. {_examples(examples)}",
                        group,
                    )
                )
        if self.determinism is not None:
            self.breaches += self.determinism.finish(hints)
        if self.row_checks is not None:
            self.breaches += [Breach(b.text, (b.column,)) for b in self.row_checks.breaches()]
            self.skipped += self.row_checks.unjudged_notes()

    def release(self) -> None:
        """Drop the key sets no later check needs (only keys other tables' FKs point at stay)."""
        self.unique_groups = []
        self.fk_children = {}
        self.determinism = None
        self.unique_columns = {name: keys for name, keys in self.unique_columns.items() if name in self.referenced}

    def _schema_breaches(self) -> None:
        table, issues = self.table, self.issues
        for description, files in issues.name_issues.items():
            self.breaches.append(
                Breach(
                    f"{table.name}: columns differ from the plan in {len(files)} of {issues.shards} shard(s) "
                    f"(e.g. {files[0]}): {description}",
                    structural=True,
                )
            )
        for (name, actual), files in issues.type_issues.items():
            self.breaches.append(
                Breach(
                    f"{table.name}.{name}: type {actual} in {len(files)} of {issues.shards} shard(s) "
                    f"(e.g. {files[0]}), expected {self.expected[name]}",
                    (name,),
                    structural=True,
                )
            )
        for name, tally in issues.parse_failures.items():
            self.breaches.append(
                Breach(
                    f"{table.name}.{name}: {tally.count:,} values do not parse as {self.expected[name]}, "
                    f"e.g. {_examples(tally.examples)}",
                    (name,),
                    structural=True,
                )
            )
        for file, message in issues.unreadable:
            self.breaches.append(Breach(f"{table.name}: shard {file} is unreadable: {message}", structural=True))


def children_counted(plan: Plan, fk: Any) -> bool:
    """Whether each parent's number of children can be counted in the output (one key, no null links)."""
    if fk.children_per_parent is None or fk.null_probability > 0 or fk.parent_table not in plan.tables:
        return False
    parent = plan.table(fk.parent_table).column(fk.parent_column)
    return parent.is_unique or parent.key_strategy == "sequence"
