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
   length; and row by row (:mod:`.check_rows`), conditional columns (each row's
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

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.conformance import EXAMPLES, StoredColumn, show
from synthbeam.rules.core.conformance import bounds_offending as _bounds_offending
from synthbeam.rules.core.conformance import examples as _examples
from synthbeam.rules.core.conformance import regex_offending as _regex_offending
from synthbeam.rules.core.model import ColumnPlan, Plan, TablePlan
from synthbeam.rules.core.registry import Rule
from synthbeam.rules.core.types import STRING_TYPES
from synthbeam.rules.engine.batch import column_dependencies, generate_batch
from synthbeam.transforms.names import REPORT_NAME, STAGING_PREFIX

from .check_rows import ParentColumns, RowChecks, children_count_breaches

__all__ = ["FORMATS", "CheckResult", "check_output", "format_result"]

FORMATS = ("parquet", "avro", "csv")
BATCH_ROWS = 65_536
CSV_BLOCK_BYTES = 4 << 20
SAMPLE_ROWS = 100  # rows per table recomputed for the determinism check
NULL_SHARE_MIN_ROWS = 1000
COMPACT_ROWS = 1 << 20  # key rows buffered before they are folded into distinct counts
PROTECTED_SENSITIVITIES = frozenset({"PII", "SENSITIVE"})  # masked and/or encrypted by default


# --- the result ----------------------------------------------------------------


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
class _Breach:
    text: str
    columns: tuple[str, ...] = ()
    structural: bool = False  # layout/schema breaches stand even when a column is unreadable


class _Tally:
    """A count of offending values and the first few of them."""

    def __init__(self) -> None:
        self.count = 0
        self.examples: list[Any] = []

    def add(self, values: pa.Array | Sequence[Any]) -> None:
        self.count += len(values)
        room = EXAMPLES - len(self.examples)
        if room > 0 and len(values):
            head = values.slice(0, room).to_pylist() if isinstance(values, pa.Array) else list(values)[:room]
            self.examples.extend(head)


# --- distinct keys -------------------------------------------------------------


class _DistinctCounter:
    """How often each distinct key (one or more columns) occurs; held as an Arrow table.

    Key rows are buffered, then folded into (key..., n) by ``group_by``. A fold
    waits until the buffer is as large as the folded table (and at least
    COMPACT_ROWS), so folding costs O(rows) overall and memory stays bounded by
    the number of distinct keys plus one buffer, never by rows.
    """

    def __init__(self, width: int) -> None:
        self.keys = [f"k{i}" for i in range(width)]
        self.folded: pa.Table | None = None
        self.pending: list[pa.Table] = []
        self.pending_rows = 0

    def add(self, arrays: Sequence[pa.Array]) -> None:
        rows = len(arrays[0])
        if not rows:
            return
        ones = pa.array(np.ones(rows, dtype=np.int64))
        self.pending.append(pa.table({**dict(zip(self.keys, arrays)), "n": ones}))
        self.pending_rows += rows
        if self.pending_rows >= max(COMPACT_ROWS, self.folded.num_rows if self.folded is not None else 0):
            self._fold()

    def _fold(self) -> None:
        pieces = ([self.folded] if self.folded is not None else []) + self.pending
        # single-threaded grouping keeps first-seen order, so examples are the same every run
        merged = pa.concat_tables(pieces).group_by(self.keys, use_threads=False).aggregate([("n", "sum")])
        self.folded = merged.select([*self.keys, "n_sum"]).rename_columns([*self.keys, "n"])
        self.pending, self.pending_rows = [], 0

    def result(self) -> pa.Table:
        if self.pending:
            self._fold()
        if self.folded is None:
            return pa.table({**{k: pa.array([], pa.null()) for k in self.keys}, "n": pa.array([], pa.int64())})
        return self.folded


class _KeySet:
    """The distinct non-null values of one column (a parent key set for FK checks), folded like counts."""

    def __init__(self) -> None:
        self.folded: pa.Array | None = None
        self.pending: list[pa.Array] = []
        self.pending_rows = 0

    def add(self, values: pa.Array) -> None:
        values = values.drop_null()
        if not len(values):
            return
        self.pending.append(values)
        self.pending_rows += len(values)
        if self.pending_rows >= max(COMPACT_ROWS, len(self.folded) if self.folded is not None else 0):
            self._fold()

    def _fold(self) -> None:
        pieces = ([self.folded] if self.folded is not None else []) + self.pending
        self.folded = pc.unique(pa.chunked_array(pieces).combine_chunks())
        self.pending, self.pending_rows = [], 0

    def values(self) -> pa.Array:
        if self.pending:
            self._fold()
        return self.folded if self.folded is not None else pa.array([], pa.null())


# --- reading shards --------------------------------------------------------------


@dataclass
class _TableSchemaIssues:
    """Schema findings of one table, aggregated over its shards."""

    shards: int = 0
    name_issues: dict[str, list[str]] = field(default_factory=dict)  # description -> files
    type_issues: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (column, type) -> files
    parse_failures: dict[str, _Tally] = field(default_factory=dict)  # CSV text that is not the type
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)


def _names_issue(actual: list[str], expected: list[str]) -> str | None:
    if actual == expected:
        return None
    missing = [n for n in expected if n not in actual]
    extra = [n for n in actual if n not in expected]
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if extra:
        parts.append(f"unexpected {', '.join(extra)}")
    if not parts:
        parts.append(f"order {', '.join(actual)} (expected {', '.join(expected)})")
    return "; ".join(parts)


def _same_type(actual: pa.DataType, expected: pa.DataType) -> bool:
    return actual == expected or (pa.types.is_large_string(actual) and pa.types.is_string(expected))


def _expect(
    issues: _TableSchemaIssues, file: str, actual: dict[str, pa.DataType | str], expected: dict[str, Any]
) -> list[str]:
    """Record name/type findings for one shard; the expected columns it can deliver."""
    issue = _names_issue(list(actual), list(expected))
    if issue:
        issues.name_issues.setdefault(issue, []).append(file)
    usable = []
    for name, want in expected.items():
        if name not in actual:
            continue
        got = actual[name]
        if want is not None and (not isinstance(got, pa.DataType) or not _same_type(got, want)):
            issues.type_issues.setdefault((name, str(got)), []).append(file)
            issues.broken.add(name)
            continue
        usable.append(name)
    return usable


_Batch = tuple[dict[str, pa.Array], int]  # column name -> values (columns that passed the schema check), rows


def _parquet_batches(path: Path, expected: dict[str, Any], issues: _TableSchemaIssues) -> Iterator[_Batch]:
    import pyarrow.parquet as pq

    shard = pq.ParquetFile(path)
    schema = shard.schema_arrow
    usable = _expect(issues, path.name, {f.name: f.type for f in schema}, expected)
    for batch in shard.iter_batches(batch_size=BATCH_ROWS, columns=usable, use_threads=False):
        arrays = {}
        for name in usable:
            values = batch.column(name)
            if pa.types.is_large_string(values.type):
                values = values.cast(pa.string())
            arrays[name] = values
        yield arrays, batch.num_rows


def _avro_type(avro: Any) -> pa.DataType | str:
    """The Arrow type an Avro field type maps to, or its description when none fits."""
    if isinstance(avro, list):
        members = [m for m in avro if m != "null"]
        return _avro_type(members[0]) if len(members) == 1 else f"union{avro}"
    if isinstance(avro, dict):
        logical = avro.get("logicalType")
        by_logical = {
            "date": pa.date32(),
            "time-micros": pa.time64("us"),
            "time-millis": pa.time32("ms"),
            "timestamp-micros": pa.timestamp("us"),
            "local-timestamp-micros": pa.timestamp("us"),
            "timestamp-millis": pa.timestamp("ms"),
            "local-timestamp-millis": pa.timestamp("ms"),
            "uuid": pa.string(),
        }
        if logical in by_logical:
            return by_logical[logical]
        if logical:
            return f"{avro.get('type')}/{logical}"
        return _avro_type(avro.get("type"))
    primitives = {
        "long": pa.int64(),
        "int": pa.int32(),
        "double": pa.float64(),
        "float": pa.float32(),
        "boolean": pa.bool_(),
        "string": pa.string(),
        "bytes": pa.binary(),
    }
    return primitives.get(avro, str(avro))


def _avro_batches(path: Path, expected: dict[str, Any], issues: _TableSchemaIssues) -> Iterator[_Batch]:
    import fastavro

    with path.open("rb") as handle:
        reader = fastavro.reader(handle)
        schema = reader.writer_schema
        fields = schema.get("fields", []) if isinstance(schema, dict) else []
        usable = _expect(issues, path.name, {f["name"]: _avro_type(f["type"]) for f in fields}, expected)
        while True:
            records = list(islice(reader, BATCH_ROWS))
            if not records:
                return
            arrays = {}
            for name in usable:
                values = [record.get(name) for record in records]
                want = expected[name]
                if want is not None and pa.types.is_string(want):
                    # uuid logical types decode to uuid.UUID
                    values = [v if v is None or isinstance(v, str) else str(v) for v in values]
                arrays[name] = pa.array(values, want)
            yield arrays, len(records)


def _text_to_time(values: pa.Array) -> pa.Array:
    # Arrow casts text to timestamps but not to times: parse as a time on 1970-01-01.
    stamps = pc.cast(pc.binary_join_element_wise("1970-01-01 ", values, ""), pa.timestamp("us"))
    return stamps.cast(pa.int64()).cast(pa.time64("us"))


def _from_text(values: pa.Array, target: pa.DataType) -> pa.Array:
    if pa.types.is_time(target):
        return _text_to_time(values)
    return pc.cast(values, target)


def _parse_text(values: pa.Array, target: pa.DataType) -> tuple[pa.Array, np.ndarray | None]:
    """CSV text as ``target``; unparsable values become null and are flagged (bisection finds them)."""
    try:
        return _from_text(values, target), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    bad = np.zeros(len(values), dtype=bool)
    pending = [(0, len(values))]
    while pending:
        low, high = pending.pop()
        try:
            _from_text(values.slice(low, high - low), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if high - low == 1:
                bad[low] = True
            else:
                middle = (low + high) // 2
                pending += [(low, middle), (middle, high)]
    cleaned = pc.if_else(pa.array(bad), pa.nulls(len(values), pa.string()), values)
    return _from_text(cleaned, target), bad


def _csv_batches(path: Path, expected: dict[str, Any], issues: _TableSchemaIssues) -> Iterator[_Batch]:
    import pyarrow.csv as pacsv

    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), None)
    if header is None:
        raise ValueError("empty file: no header row")
    # Everything is read as text first, so a value that is not its column's type is
    # reported with its row count and examples instead of aborting the whole read.
    usable = _expect(issues, path.name, dict.fromkeys(header, pa.string()), _csv_expectation(expected))
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    for batch in reader:
        arrays = {}
        for name in usable:
            text = batch.column(name)
            want = expected[name]
            if want is None or pa.types.is_string(want):
                arrays[name] = text
                continue
            parsed, bad = _parse_text(text, want)
            if bad is not None and bad.any():
                issues.parse_failures.setdefault(name, _Tally()).add(text.filter(pa.array(bad)))
                issues.broken.add(name)
            arrays[name] = parsed
        yield arrays, batch.num_rows


def _csv_expectation(expected: dict[str, Any]) -> dict[str, Any]:
    # Every CSV column is text on disk; the type check is the parse, done per value.
    return dict.fromkeys(expected)


_READERS: dict[str, Callable[[Path, dict[str, Any], _TableSchemaIssues], Iterator[_Batch]]] = {
    "parquet": _parquet_batches,
    "avro": _avro_batches,
    "csv": _csv_batches,
}


def _list_files(table_dir: Path) -> list[Path]:
    return sorted(p for p in table_dir.iterdir() if p.is_file() and not p.name.startswith((".", "_")))


# --- per-column checks ---------------------------------------------------------------


@dataclass
class _ValueCheck:
    """A check of each non-null value of a column: ``offending`` returns the bad positions."""

    name: str
    column: str
    what: str  # "values outside [1, 10]" -> the breach reads "<count> <what>, e.g. ..."
    offending: Callable[[pa.Array], np.ndarray]
    tally: _Tally = field(default_factory=_Tally)


def _mask(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _mask_valid(values: pa.Array) -> np.ndarray:
    return _mask(values.is_valid())


def _unwrap(rule: Rule) -> tuple[Rule, str, str, re.Pattern[str] | None]:
    return rule.unwrapped()


def _length_exempt(column: ColumnPlan) -> Callable[[str], bool]:
    """Values possibly cut to max_length or padded to min_length no longer match their pattern."""
    lengths = {n for n in (column.max_length, column.min_length) if n}
    return lambda text: len(text) in lengths


def _rule_checks(table: TablePlan, column: ColumnPlan, skipped: list[str]) -> list[_ValueCheck]:
    """Checks the column's rule pins down (its values' domain); reasons for what it cannot."""
    checks: list[_ValueCheck] = []
    is_text = column.type in STRING_TYPES
    if is_text and column.max_length is not None:
        limit = column.max_length
        checks.append(
            _ValueCheck(
                f"max_length({column.name})",
                column.name,
                f"values longer than max_length {limit}",
                lambda values, limit=limit: _mask(pc.greater(pc.utf8_length(values), limit)),
            )
        )
    if is_text and column.min_length:
        limit = column.min_length
        checks.append(
            _ValueCheck(
                f"min_length({column.name})",
                column.name,
                f"values shorter than min_length {limit}",
                lambda values, limit=limit: _mask(pc.less(pc.utf8_length(values), limit)),
            )
        )
    if column.foreign_key is not None:
        return checks  # its values are the parent's: the FK check covers them
    if column.key_strategy == "sequence":
        checks.append(
            _ValueCheck(
                f"sequence({column.name})",
                column.name,
                f"values outside the sequence 1..{table.rows}",
                _bounds_offending(pa.scalar(1, pa.int64()), pa.scalar(table.rows, pa.int64())),
            )
        )
        return checks
    if column.branches:
        return checks  # the branch is picked per row: pipeline/check_rows.py checks these
    rule = column.rule
    if rule is None:
        return checks
    inner, prefix, suffix, pattern = _unwrap(rule)
    exempt = _length_exempt(column)
    if pattern is not None:
        if is_text:
            checks.append(
                _ValueCheck(
                    f"regex_check({column.name})",
                    column.name,
                    f"values not fully matching the regex check /{pattern.pattern}/",
                    _regex_offending(pattern, exempt),
                )
            )
        else:
            skipped.append(f"{column.name}: regex check (values are stored as {column.type}, not text)")
    if inner.references():
        return checks  # bounds differ per row: pipeline/check_rows.py checks these
    stored = StoredColumn(
        column.name, column.type, column.arrow_type, column.max_length, column.min_length, rule, prefix, suffix, exempt
    )
    found = inner.value_check(stored)
    if found is None:
        skipped.append(f"{column.name}: values ({_rule_name(inner)} has no conformance check)")
    elif isinstance(found, str):
        skipped.append(f"{column.name}: {found}")
    else:
        checks.append(_ValueCheck(f"{found.name}({column.name})", column.name, found.what, found.offending))
    return checks


def _rule_name(rule: Rule) -> str:
    return f"rule {rule.names[0]!r}" if rule.names else type(rule).__name__


def _expected_null_share(plan: Plan, column: ColumnPlan) -> float | None:
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
        if not parent_column.not_null and _expected_null_share(plan, parent_column) != 0.0:
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


def _null_tolerance(p: float, n: int) -> float:
    return 4.0 * math.sqrt(p * (1.0 - p) / n) + 1.0 / n


# --- dedup-dependent columns -----------------------------------------------------------


def _unstable_columns(plan: Plan) -> dict[str, set[str]]:
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


# --- one table ---------------------------------------------------------------------------


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


def _security(plan: Plan, report: dict[str, Any]) -> _Security:
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


class _TableCheck:
    """Everything checked while one table's shards stream past, and the verdicts at the end."""

    def __init__(
        self, plan: Plan, table: TablePlan, security: _Security, unstable: set[str], parent_keys: set[str]
    ) -> None:
        self.plan = plan
        self.table = table
        self.security = security
        self.checks: list[str] = ["rows", "schema"]
        self.skipped: list[str] = []
        self.breaches: list[_Breach] = []
        self.rows = 0
        self.issues = _TableSchemaIssues()
        self.transformed = security.transformed(table.name) & {c.name for c in table.columns}
        self.expected = {c.name: security.written_type(table.name, c) for c in table.columns}
        if self.transformed:
            how = "possibly masked/encrypted (security enabled, no report)" if security.guessed else "masked/encrypted"
            self.skipped.append(f"{', '.join(sorted(self.transformed))}: value checks ({how})")
        self.seen: Counter[str] = Counter()
        self.nulls: Counter[str] = Counter()
        self.value_checks: list[_ValueCheck] = []
        self.not_null: list[str] = []
        self.null_shares: dict[str, float] = {}
        self.unique_groups: list[tuple[tuple[str, ...], _DistinctCounter]] = []
        self.fk_children: dict[str, _DistinctCounter] = {}
        self._plan_column_checks()
        # A unique column's distinct counts already hold its key set: FK checks reuse them.
        self.unique_columns = {group[0]: counter for group, counter in self.unique_groups if len(group) == 1}
        self.parent_keys = {name: _KeySet() for name in parent_keys if name not in self.unique_columns}
        self.referenced = set(parent_keys)
        self.determinism = _Determinism.create(plan, table, self.transformed, unstable, self.skipped)
        if self.determinism is not None:
            self.checks.append(f"determinism({len(self.determinism.expected)} rows)")
        self.row_checks: RowChecks | None = None

    def add_row_checks(self, parents: ParentColumns) -> None:
        """Conditional columns and ranges with column references, judged row by row (check_rows.py)."""

        def domain_checks(column: ColumnPlan) -> list[_ValueCheck]:
            return _rule_checks(self.table, column, [])

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
                    _ValueCheck(f"masked_null({name})", name, "values left in a column masked with 'null'", _mask_valid)
                )
                self.checks.append(f"masked_null({name})")
            if name in self.transformed:
                continue
            if column.not_null or name in table.primary_key:
                self.not_null.append(name)
                self.checks.append(f"not_null({name})")
            elif column.nullable or (column.foreign_key is not None and column.foreign_key.null_probability):
                share = _expected_null_share(self.plan, column)
                if share is None:
                    self.skipped.append(f"{name}: null share (its rule can add nulls of its own)")
                elif table.rows < NULL_SHARE_MIN_ROWS:
                    self.skipped.append(f"{name}: null share (fewer than {NULL_SHARE_MIN_ROWS:,} rows)")
                else:
                    self.null_shares[name] = share
                    self.checks.append(f"null_share({name})")
            for check in _rule_checks(table, column, self.skipped):
                self.value_checks.append(check)
                self.checks.append(check.name)
            if column.foreign_key is not None:
                fk = column.foreign_key
                self.fk_children[name] = _DistinctCounter(1)
                self.checks.append(f"fk({name} -> {fk.parent_table}.{fk.parent_column})")
                if _children_counted(self.plan, fk):
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
            self.unique_groups.append((group, _DistinctCounter(len(group))))
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
                _Breach(f"{table.name}: {self.rows:,} rows, expected {table.rows:,}{hint}", structural=True)
            )
        self._schema_breaches()
        for name in self.not_null:
            if self.nulls[name]:
                why = "PK" if name in table.primary_key else "not_null"
                self.breaches.append(
                    _Breach(f"{table.name}.{name}: {self.nulls[name]:,} null values in a {why} column", (name,))
                )
        for name, share in self.null_shares.items():
            n = self.seen[name]
            if n < NULL_SHARE_MIN_ROWS:
                continue
            observed = self.nulls[name] / n
            tolerance = _null_tolerance(share, n)
            if abs(observed - share) > tolerance:
                self.breaches.append(
                    _Breach(
                        f"{table.name}.{name}: null share {observed:.4f} ({self.nulls[name]:,} of {n:,}) "
                        f"outside the expected {share:.4f} +/- {tolerance:.4f}",
                        (name,),
                    )
                )
        for check in self.value_checks:
            if check.tally.count:
                self.breaches.append(
                    _Breach(
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
                    _Breach(
                        f"{table.name}.{label}: {repeated.num_rows:,} duplicate values ({extra:,} extra rows) "
                        f"in a unique key, e.g. {_examples(examples)}",
                        group,
                    )
                )
        if self.determinism is not None:
            self.breaches += self.determinism.finish(hints)
        if self.row_checks is not None:
            self.breaches += [_Breach(b.text, (b.column,)) for b in self.row_checks.breaches()]
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
                _Breach(
                    f"{table.name}: columns differ from the plan in {len(files)} of {issues.shards} shard(s) "
                    f"(e.g. {files[0]}): {description}",
                    structural=True,
                )
            )
        for (name, actual), files in issues.type_issues.items():
            self.breaches.append(
                _Breach(
                    f"{table.name}.{name}: type {actual} in {len(files)} of {issues.shards} shard(s) "
                    f"(e.g. {files[0]}), expected {self.expected[name]}",
                    (name,),
                    structural=True,
                )
            )
        for name, tally in issues.parse_failures.items():
            self.breaches.append(
                _Breach(
                    f"{table.name}.{name}: {tally.count:,} values do not parse as {self.expected[name]}, "
                    f"e.g. {_examples(tally.examples)}",
                    (name,),
                    structural=True,
                )
            )
        for file, message in issues.unreadable:
            self.breaches.append(_Breach(f"{table.name}: shard {file} is unreadable: {message}", structural=True))


# --- determinism ---------------------------------------------------------------------------


class _Determinism:
    """The first rows of a table, recomputed, found again in the output by primary key."""

    def __init__(self, table: TablePlan, key: str, compared: list[str], expected: list[dict[str, Any]]) -> None:
        self.table = table
        self.hint = ""
        self.key = key
        self.compared = compared
        self.expected = expected
        key_type = table.column(key).arrow_type
        self.wanted = pa.array([row[key] for row in expected], key_type)
        self.found: dict[Any, list[dict[str, Any]]] = {}

    @classmethod
    def create(
        cls, plan: Plan, table: TablePlan, transformed: set[str], unstable: set[str], skipped: list[str]
    ) -> _Determinism | None:
        if table.rows == 0:
            return None
        if len(table.primary_key) != 1:
            skipped.append("determinism (no single-column primary key to find rows by)")
            return None
        key = table.primary_key[0]
        if key in transformed:
            skipped.append(f"determinism (primary key {key} is masked/encrypted)")
            return None
        try:
            batch = generate_batch(plan, table.name, 0, min(table.rows, SAMPLE_ROWS))
        except Exception as exc:  # a rule that cannot run here (e.g. missing cache) is not a breach
            skipped.append(f"determinism (recomputing rows failed: {type(exc).__name__}: {exc})")
            return None
        compared = [
            c.name for c in table.columns if c.name not in transformed and (c.name not in unstable or c.name == key)
        ]
        left_out = sorted(unstable - transformed - {key})
        if left_out:
            skipped.append(f"determinism of {', '.join(left_out)} (depends on a dedup pass's re-draws)")
        expected = batch.select(compared).to_pylist()
        if key in unstable:
            # Without the run's dedup result only rows whose key no earlier row drew keep it for sure.
            drawn: set[Any] = set()
            kept = []
            for row in expected:
                if row[key] not in drawn:
                    kept.append(row)
                drawn.add(row[key])
            expected = kept
        return cls(table, key, compared, expected)

    def consume(self, arrays: dict[str, pa.Array]) -> None:
        keys = arrays.get(self.key)
        if keys is None or not len(keys):
            return
        hit = _mask(pc.is_in(keys, value_set=self.wanted))
        if not hit.any():
            return
        positions = pa.array(np.flatnonzero(hit))
        present = [name for name in self.compared if name in arrays]
        columns = {name: arrays[name].take(positions).to_pylist() for name in present}
        for i in range(len(positions)):
            row = {name: columns[name][i] for name in present}
            matches = self.found.setdefault(row[self.key], [])
            if len(matches) < 4:
                matches.append(row)

    def finish(self, hints: list[str]) -> list[_Breach]:
        name = self.table.name
        missing: list[Any] = []
        differing: list[tuple[Any, dict[str, Any], dict[str, Any]]] = []
        for row in self.expected:
            candidates = self.found.get(row[self.key])
            if not candidates:
                missing.append(row[self.key])
                continue
            if not any(_same_row(row, candidate) for candidate in candidates):
                differing.append((row[self.key], row, candidates[0]))
        hint = f" ({'; '.join(hints)})" if hints else ""
        breaches = []
        total = len(self.expected)
        if missing:
            breaches.append(
                _Breach(
                    f"{name}: determinism: {len(missing)} of {total} recomputed rows have no row with their "
                    f"{self.key} in the output, e.g. {self.key}={_examples(missing)}{hint}",
                    (self.key,),
                )
            )
        if differing:
            columns = sorted(
                {c for _, want, got in differing for c in want if c in got and not _same_value(want[c], got[c])}
            )
            key, want, got = differing[0]
            detail = "; ".join(
                f"{c} {show(got[c])} (expected {show(want[c])})"
                for c in want
                if c in got and not _same_value(want[c], got[c])
            )
            breaches.append(
                _Breach(
                    f"{name}: determinism: {len(differing)} of {total} recomputed rows differ from the output "
                    f"in {', '.join(columns)}, e.g. {self.key}={show(key)}: {detail}{hint}",
                    tuple(columns),
                )
            )
        return breaches


def _same_value(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        return expected == actual or (math.isnan(expected) and math.isnan(actual))
    return expected == actual


def _same_row(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(_same_value(value, actual[name]) for name, value in expected.items() if name in actual)


# --- the whole output ----------------------------------------------------------------------


def _read_report(out_dir: Path, result: CheckResult) -> dict[str, Any]:
    path = out_dir / REPORT_NAME
    if not path.exists():
        result.notes.append(f"no {REPORT_NAME}: format taken from the shard files")
        return {}
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        result.breaches.append(f"{REPORT_NAME}: unreadable: {exc}")
        return {}
    if not isinstance(report, dict):
        result.breaches.append(f"{REPORT_NAME}: not a JSON object")
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
            found.update(p.suffix.lstrip(".").lower() for p in _list_files(table_dir))
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
    security = _security(plan, report)
    unstable = _unstable_columns(plan)
    parents = _parent_columns(plan)
    runs: dict[str, _TableCheck] = {}
    parent_columns = ParentColumns(plan, lambda table, column: column not in security.transformed(table))
    for name, table in plan.tables.items():  # parents before children: a child's FK check runs right away
        run = _TableCheck(plan, table, security, unstable[name], parents.get(name, set()))
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


def _read_table(run: _TableCheck, table_dir: Path, fmt: str) -> None:
    table = run.table
    if not table_dir.is_dir():
        if table.rows:
            run.breaches.append(_Breach(f"{table.name}: no directory {table_dir.name}/ in the output", structural=True))
        return
    files = _list_files(table_dir)
    shards = [p for p in files if p.suffix.lower() == f".{fmt}"]
    foreign = [p for p in files if p.suffix.lower().lstrip(".") in FORMATS and p not in shards]
    if foreign:
        run.breaches.append(
            _Breach(
                f"{table.name}: {len(foreign)} shard(s) of another format next to the {fmt} ones, "
                f"e.g. {_examples([p.name for p in foreign])}",
                structural=True,
            )
        )
    if not shards and table.rows:
        run.breaches.append(_Breach(f"{table.name}: no .{fmt} shard files in {table_dir.name}/", structural=True))
    reader = _READERS[fmt]
    for shard in shards:
        run.issues.shards += 1
        try:
            for arrays, rows in reader(shard, run.expected, run.issues):
                run.consume(arrays, rows)
        except Exception as exc:  # a corrupt or truncated shard is a finding, not a crash
            run.issues.unreadable.append((shard.name, f"{type(exc).__name__}: {exc}".splitlines()[0]))


def _children_counted(plan: Plan, fk: Any) -> bool:
    """Whether each parent's number of children can be counted in the output (one key, no null links)."""
    if fk.children_per_parent is None or fk.null_probability > 0 or fk.parent_table not in plan.tables:
        return False
    parent = plan.table(fk.parent_table).column(fk.parent_column)
    return parent.is_unique or parent.key_strategy == "sequence"


def _foreign_key_breaches(run: _TableCheck, runs: dict[str, _TableCheck]) -> None:
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
        if _children_counted(run.plan, fk) and run.row_checks is not None:
            texts, why = children_count_breaches(run.table, fk, children, parents, run.row_checks.parents)
            run.breaches += [_Breach(text, (name,)) for text in texts]
            if why:
                run.skipped.append(f"children_per_parent({name}): {why}")
        if orphans.num_rows:
            rows = pc.sum(orphans["n"]).as_py()
            run.breaches.append(
                _Breach(
                    f"{run.table.name}.{name}: {orphans.num_rows:,} orphan values ({rows:,} rows) not in {label}, "
                    f"e.g. {_examples(orphans['k0'].slice(0, EXAMPLES).to_pylist())}",
                    (name,),
                )
            )
