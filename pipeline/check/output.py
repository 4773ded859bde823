"""``synthbeam check``: verify an output directory against the plan it was generated from.

Contract: ``check_output(plan, out_dir, fmt=None)`` reads every shard of every
table under ``out_dir`` and returns a :class:`CheckResult`. Each entry of
``breaches`` is one line naming the table (and column) and what is wrong, with a
count and up to three example values; ``checked`` says per table how many rows
and shards were read, which checks ran and which were skipped and why. The
output is never modified. ``format_result`` renders a result for the CLI.

What is checked (``OUT/<table>/`` shards, format from ``_report.json`` or the
shard extensions):

1. layout: every table has a directory with at least one shard (unless it
   should have no rows), no unexpected table directories, total rows per table
   equal to the plan's;
2. schema: column names and order, and Arrow types (int64, float64, bool,
   string, date32, time64[us], timestamp[us]); for CSV, that every value parses
   as its column's type;
3. nulls: none in PK / not_null columns; a nullable column's (or a foreign
   key's) null share within ``4 * sqrt(p (1 - p) / n) + 1 / n`` of its expected
   probability, when n >= 1000 and the rule cannot make nulls of its own;
4. uniqueness of PK / unique columns, composite primary keys and table-level
   ``unique`` groups (rows with a null key part are not compared, as in SQL);
5. foreign keys (self-references included): no non-null child value missing
   from the parent column;
6. rule conformance where the plan pins values down: choices (as the generator
   stores them: ``1`` and ``true`` on a ``str`` column are ``"1"`` and ``"True"``),
   numeric ranges, date/time/timestamp ranges, sequence keys, regex rules (full
   match, prefix and suffix included), ``regex`` checks of other rules, max/min
   length; and row by row (:mod:`.rows`), conditional columns (each row's
   branch recomputed from its values) and ranges whose bounds are other columns
   of the row or of its parent row;
7. determinism: the first 100 rows of each table with a single-column PK are
   recomputed with ``generate_batch`` and looked up in the output by PK (shard
   order is not part of the contract, so rows are matched by key, not position).

Memory: shards are read one batch at a time (Parquet row batches, CSV blocks,
Avro record blocks), so most checks hold one batch. Uniqueness and foreign-key
checks inherently need a set: they hold the distinct keys of the checked
columns (deduplicated and counted with Arrow's ``group_by``/``unique``, never as
Python objects), which is fine for test data but grows with the number of
distinct keys (roughly 20-60 bytes per key; 100M distinct keys need GBs).

Values a run transforms after generation (masked or encrypted columns, listed
under ``security`` in ``_report.json``) cannot be compared with the rules: a
masked column must keep its type (and be all null when masked with ``null``),
an encrypted one must be text; no other check looks at them. When the config
enables security but the report has no ``security`` section, PII, SENSITIVE
and explicitly masked columns are treated as possibly transformed (any type).

Uses pyarrow, fastavro and the csv module only (no Beam, no DuckDB).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.conformance import EXAMPLES
from synthbeam.rules.core.conformance import examples as _examples
from synthbeam.rules.core.model import Plan
from synthbeam.transforms.names import REPORT_NAME, STAGING_PREFIX

from ..formats import FORMATS, READERS, ReportError, list_files, read_report
from .columns import unstable_columns
from .result import Breach, CheckResult
from .rows import ParentColumns, children_count_breaches
from .table import TableCheck, children_counted, security_expectations


def _read_report(out_dir: Path, result: CheckResult) -> dict[str, Any]:
    try:
        report = read_report(out_dir)
    except ReportError as exc:
        result.breaches.append(f"{REPORT_NAME}: {exc.problem}")
        return {}
    if report is None:
        result.notes.append(f"no {REPORT_NAME}: format taken from the shard files")
        return {}
    return report


def _detect_format(out_dir: Path, plan: Plan, report: dict[str, Any], fmt: str | None) -> tuple[str, str]:
    if fmt:
        chosen = fmt.lower()
        if chosen not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        return chosen, "given"
    if str(report.get("format", "")).lower() in FORMATS:
        return str(report["format"]).lower(), REPORT_NAME
    found: Counter[str] = Counter()
    for name in plan.tables:
        table_dir = out_dir / name
        if table_dir.is_dir():
            found.update(p.suffix.lstrip(".").lower() for p in list_files(table_dir))
    candidates = [(count, ext) for ext, count in found.items() if ext in FORMATS]
    if candidates:
        return max(candidates)[1], "shard extensions"
    return str((plan.output or {}).get("format") or "parquet").lower(), "config (no shards found)"


def _run_hints(plan: Plan, report: dict[str, Any]) -> list[str]:
    """Where the report says the run differed from this plan (why recomputed rows may not match)."""
    hints = []
    seed = report.get("seed")
    if seed is not None and seed != plan.seed:
        hints.append(f"the report's seed {seed} is not the config's {plan.seed}: check with the run's --seed")
    as_of = report.get("as_of")
    if as_of and as_of != plan.settings.as_of.isoformat():
        hints.append(
            f"the report's as_of {as_of} is not the config's {plan.settings.as_of}: check with --as-of {as_of}"
        )
    return hints


def _parent_columns(plan: Plan) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for table in plan.tables.values():
        for fk in table.foreign_keys:
            wanted.setdefault(fk.parent_table, set()).add(fk.parent_column)
    return wanted


def check_output(plan: Plan, out_dir: Path | str, fmt: str | None = None) -> CheckResult:
    """Verify ``out_dir`` against ``plan``; see the module docstring for what is checked."""
    out_dir = Path(out_dir)
    result = CheckResult()
    if not out_dir.is_dir():
        result.breaches.append(f"{out_dir}: output directory does not exist")
        return result
    report = _read_report(out_dir, result)
    result.format, source = _detect_format(out_dir, plan, report, fmt)
    result.notes.append(f"format {result.format} (from {source})")
    hints = _run_hints(plan, report)
    result.notes += hints
    for entry in sorted(out_dir.iterdir()):
        if entry.is_dir() and entry.name.startswith(STAGING_PREFIX):
            result.breaches.append(
                f"{entry.name}/: a run's staging directory is still there (in flight or interrupted)"
            )
        elif entry.is_dir() and not entry.name.startswith((".", "_")) and entry.name not in plan.tables:
            result.breaches.append(f"{entry.name}: unexpected table directory (not in the config)")
    security = security_expectations(plan, report)
    unstable = unstable_columns(plan)
    parents = _parent_columns(plan)
    runs: dict[str, TableCheck] = {}
    parent_columns = ParentColumns(plan, lambda table, column: column not in security.transformed(table))
    for name, table in plan.tables.items():  # parents before children: a child's FK check runs right away
        run = TableCheck(plan, table, security, unstable[name], parents.get(name, set()))
        run.add_row_checks(parent_columns)
        runs[name] = run
        _read_table(run, out_dir / name, result.format)
        run.finish(report, hints)
        if all(fk.parent_table in runs for fk in table.foreign_keys):
            _foreign_key_breaches(run, runs)
            run.release()
    for run in runs.values():
        if run.fk_children:  # a parent that came later (not in dependency order)
            _foreign_key_breaches(run, runs)
            run.release()
        broken = run.issues.broken
        result.breaches += [b.text for b in run.breaches if b.structural or not broken.intersection(b.columns)]
        result.checked[run.table.name] = {
            "rows": run.rows,
            "shards": run.issues.shards,
            "checks": run.checks,
            "skipped": run.skipped,
        }
    return result


def _read_table(run: TableCheck, table_dir: Path, fmt: str) -> None:
    table = run.table
    if not table_dir.is_dir():
        if table.rows:
            run.breaches.append(Breach(f"{table.name}: no directory {table_dir.name}/ in the output", structural=True))
        return
    files = list_files(table_dir)
    shards = [p for p in files if p.suffix.lower() == f".{fmt}"]
    foreign = [p for p in files if p.suffix.lower().lstrip(".") in FORMATS and p not in shards]
    if foreign:
        run.breaches.append(
            Breach(
                f"{table.name}: {len(foreign)} shard(s) of another format next to the {fmt} ones, "
                f"e.g. {_examples([p.name for p in foreign])}",
                structural=True,
            )
        )
    if not shards and table.rows:
        run.breaches.append(Breach(f"{table.name}: no .{fmt} shard files in {table_dir.name}/", structural=True))
    reader = READERS[fmt]
    for shard in shards:
        run.issues.shards += 1
        try:
            for arrays, rows in reader(shard, run.expected, run.issues):
                run.consume(arrays, rows)
        except Exception as exc:  # a corrupt or truncated shard is a finding, not a crash
            run.issues.unreadable.append((shard.name, f"{type(exc).__name__}: {exc}".splitlines()[0]))


def _foreign_key_breaches(run: TableCheck, runs: dict[str, TableCheck]) -> None:
    for name, counter in run.fk_children.items():
        fk = run.table.column(name).foreign_key
        parent_run = runs.get(fk.parent_table)
        label = f"{fk.parent_table}.{fk.parent_column}"
        if parent_run is None or fk.parent_column not in parent_run.referenced:
            continue
        if parent_run.rows == 0 and parent_run.table.rows > 0:
            run.skipped.append(f"fk({name} -> {label}): the parent table could not be read")
            continue
        if fk.parent_column in parent_run.transformed or fk.parent_column in parent_run.issues.broken:
            run.skipped.append(f"fk({name} -> {label}): the parent column is masked, encrypted or unreadable")
            continue
        children = counter.result()
        if not children.num_rows:
            continue
        parents = parent_run.parent_values(fk.parent_column)
        child_keys = children["k0"]
        if parents.type != child_keys.type:
            parents = parents.cast(child_keys.type) if len(parents) else pa.array([], child_keys.type)
        orphans = children.filter(pc.invert(pc.is_in(child_keys, value_set=parents)))
        if children_counted(run.plan, fk) and run.row_checks is not None:
            texts, why = children_count_breaches(run.table, fk, children, parents, run.row_checks.parents)
            run.breaches += [Breach(text, (name,)) for text in texts]
            if why:
                run.skipped.append(f"children_per_parent({name}): {why}")
        if orphans.num_rows:
            rows = pc.sum(orphans["n"]).as_py()
            run.breaches.append(
                Breach(
                    f"{run.table.name}.{name}: {orphans.num_rows:,} orphan values ({rows:,} rows) not in {label}, "
                    f"e.g. {_examples(orphans['k0'].slice(0, EXAMPLES).to_pylist())}",
                    (name,),
                )
            )
