"""Reading one table's shards as typed Arrow batches, with every schema problem tallied.

Parquet row batches, Avro record blocks and CSV blocks are read one at a time against the
types the plan expects (CSV text is parsed into them); a column whose name or type is wrong is
reported once per table, not once per shard.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.conformance import EXAMPLES
from synthbeam.transforms.avro_schema import AVRO_TYPES
from synthbeam.transforms.names import REPORT_NAME

FORMATS = ("parquet", "avro", "csv")
BATCH_ROWS = 65_536
CSV_BLOCK_BYTES = 4 << 20


class Tally:
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


@dataclass
class TableSchemaIssues:
    """Schema findings of one table, aggregated over its shards."""

    shards: int = 0
    name_issues: dict[str, list[str]] = field(default_factory=dict)  # description -> files
    type_issues: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (column, type) -> files
    parse_failures: dict[str, Tally] = field(default_factory=dict)  # CSV text that is not the type
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
    issues: TableSchemaIssues, file: str, actual: dict[str, pa.DataType | str], expected: dict[str, Any]
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


def _parquet_batches(path: Path, expected: dict[str, Any], issues: TableSchemaIssues) -> Iterator[_Batch]:
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


def _written_avro_types() -> tuple[dict[str, pa.DataType], dict[str, pa.DataType]]:
    """(logical type -> Arrow, primitive -> Arrow) for what the sinks write (transforms/avro_schema.py)."""
    by_logical: dict[str, pa.DataType] = {"uuid": pa.string()}
    primitives: dict[str, pa.DataType] = {}
    for arrow_name, avro in AVRO_TYPES.items():
        if isinstance(avro, dict):
            by_logical[avro["logicalType"]] = pa.type_for_alias(arrow_name)
        else:
            primitives[avro] = pa.type_for_alias(arrow_name)
    return by_logical, primitives


_WRITTEN_LOGICAL, _WRITTEN_PRIMITIVES = _written_avro_types()
# Read too, though synthbeam never writes them: an Avro file made by another tool (or a test) can
# use the narrower or millisecond types; its columns are then compared as those Arrow types.
_ALSO_READ_LOGICAL = {
    "time-millis": pa.time32("ms"),
    "timestamp-micros": pa.timestamp("us"),
    "timestamp-millis": pa.timestamp("ms"),
    "local-timestamp-millis": pa.timestamp("ms"),
}
_ALSO_READ_PRIMITIVES = {"int": pa.int32(), "float": pa.float32(), "bytes": pa.binary()}


def avro_arrow_type(avro: Any) -> pa.DataType | str:
    """The Arrow type an Avro field type maps to, or its description when none fits."""
    if isinstance(avro, list):
        members = [m for m in avro if m != "null"]
        return avro_arrow_type(members[0]) if len(members) == 1 else f"union{avro}"
    if isinstance(avro, dict):
        logical = avro.get("logicalType")
        if logical in _WRITTEN_LOGICAL:
            return _WRITTEN_LOGICAL[logical]
        if logical in _ALSO_READ_LOGICAL:
            return _ALSO_READ_LOGICAL[logical]
        if logical:
            return f"{avro.get('type')}/{logical}"
        return avro_arrow_type(avro.get("type"))
    return _WRITTEN_PRIMITIVES.get(avro) or _ALSO_READ_PRIMITIVES.get(avro) or str(avro)


def _avro_batches(path: Path, expected: dict[str, Any], issues: TableSchemaIssues) -> Iterator[_Batch]:
    import fastavro

    with path.open("rb") as handle:
        reader = fastavro.reader(handle)
        schema = reader.writer_schema
        fields = schema.get("fields", []) if isinstance(schema, dict) else []
        usable = _expect(issues, path.name, {f["name"]: avro_arrow_type(f["type"]) for f in fields}, expected)
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


def _csv_batches(path: Path, expected: dict[str, Any], issues: TableSchemaIssues) -> Iterator[_Batch]:
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
                issues.parse_failures.setdefault(name, Tally()).add(text.filter(pa.array(bad)))
                issues.broken.add(name)
            arrays[name] = parsed
        yield arrays, batch.num_rows


def _csv_expectation(expected: dict[str, Any]) -> dict[str, Any]:
    # Every CSV column is text on disk; the type check is the parse, done per value.
    return dict.fromkeys(expected)


READERS: dict[str, Callable[[Path, dict[str, Any], TableSchemaIssues], Iterator[_Batch]]] = {
    "parquet": _parquet_batches,
    "avro": _avro_batches,
    "csv": _csv_batches,
}


def list_files(table_dir: Path) -> list[Path]:
    return sorted(p for p in table_dir.iterdir() if p.is_file() and not p.name.startswith((".", "_")))


class ReportError(Exception):
    """``_report.json`` exists but is not a readable JSON object; ``problem`` says why."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def read_report(out_dir: Path) -> dict[str, Any] | None:
    """An output's ``_report.json`` as a dict; None when there is none (``check`` and ``decrypt``).

    The one reader of the report for both commands, so they agree on what a readable report is.
    """
    path = out_dir / REPORT_NAME
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReportError(path, f"unreadable: {str(exc).splitlines()[0]}") from None
    if not isinstance(report, dict):
        raise ReportError(path, "not a JSON object")
    return report
