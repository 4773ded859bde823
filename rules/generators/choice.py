"""Choices: ``choice`` (values with optional probabilities) and ``choice_from_file``.

Probabilities are keyed by the choice's string form (JSON keys are strings).
When every choice is listed they are normalised; choices left out share what
the listed ones leave (1 - sum) equally, and a config that leaves them nothing
is rejected. ``choice_from_file`` reads the distinct values of a CSV or XLSX
column (first column by default), weighted by the sum of ``weight_column``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.conformance import EXAMPLES, StoredColumn, ValueCheck, examples, mask
from synthbeam.rules.core.registry import Domain, Param, Rows, Rule, RuleContext, register_rule
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.core.types import arrow_type

_TOLERANCE = 1e-9


def infer_type(values: list[Any]) -> str:
    """The column type that holds every value as it is: bool, int, float (ints and floats mixed), else str."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return "str"
    if kinds <= {bool}:
        return "bool"
    if kinds <= {int}:
        return "int"
    if kinds <= {int, float}:
        return "float"
    return "str"


def as_text(value: Any) -> str | None:
    """A config value stored in a text column: objects and lists as JSON text, as Faker's ``profile`` writes.

    (``str()`` would write Python's repr, ``{'a': 1}``, which no JSON reader takes back.)
    """
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=False)
    return str(value)


def _arrow_values(values: list[Any], kind: str) -> pa.Array:
    if kind == "str":
        return pa.array([as_text(v) for v in values], pa.string())
    return pa.array(values, {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}[kind])


def checked_values(values: list[Any], kind: str, ctx: RuleContext) -> pa.Array:
    """``values`` as an Arrow array of ``kind``; values that do not fit (ints beyond 64 bits) are a config error."""
    try:
        return _arrow_values(values, kind)
    except (OverflowError, pa.ArrowInvalid) as exc:
        ctx.error(f"values do not fit a 64-bit {kind}: {exc}")
        return pa.nulls(len(values), arrow_type(kind))


def _json_spelling(value: Any) -> str:
    """A choice as a ``probabilities`` key names it: its text as written to the column (:func:`as_text`).

    A string as is, anything else as JSON (objects and lists with their non-ASCII characters as they
    are); ``str()`` spellings (``True``, ``None``) and ASCII-escaped JSON are accepted too.
    """
    if isinstance(value, str):
        return value
    return str(as_text(value)) if isinstance(value, (dict, list)) else json.dumps(value)


SHOWN_SHARES = 12


def _shares_message(keys: list[str], shares: np.ndarray, unlisted: int) -> str:
    """Every choice's resulting share, for a config that lists probabilities of only some choices.

    Unlisted choices share what the listed ones leave; the older generator gave them weight 1 each,
    so a migrated config would change its data without a word.
    """
    shown = ", ".join(f"{json.dumps(key)} {100 * share:.4g}%" for key, share in zip(keys, shares[:SHOWN_SHARES]))
    more = f", ... ({len(keys) - SHOWN_SHARES} more)" if len(keys) > SHOWN_SHARES else ""
    listed = len(keys) - unlisted
    rest = "the other gets what is left" if unlisted == 1 else f"the other {unlisted} share what is left equally"
    return (
        f"probabilities name {listed} of {len(keys)} choices, so {rest} "
        f"(not weight 1 each, as in the older generator): {shown}{more}"
    )


@register_rule("choice")
class Choice(Rule):
    """One of ``value``, uniformly or by ``probabilities``."""

    example = ("str", {"type": "choice", "value": ["gold", "silver", "bronze"], "probabilities": {"gold": 0.1}})
    parameters: ClassVar[tuple[Param, ...] | None] = (
        Param("value", "list", "the choices", required=True, aliases=("values",), json_types=("array",)),
        Param(
            "probabilities",
            "object {choice as text: probability}",
            "unlisted choices share what the listed ones leave",
            "uniform",
            json_types=("object",),
            mistaken_for=("weights", "weight", "probability", "probs", "distribution"),
        ),
    )

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        values = spec.get("value", spec.get("values"))
        if not isinstance(values, list) or not values:
            ctx.error("choice needs a non-empty list in 'value'")
            values = [None]
        self.choices = values
        self.output_type = infer_type(values)
        self.table = checked_values(values, self.output_type, ctx)
        self.cumulative = self._cumulative(spec.get("probabilities") or {}, ctx)

    def _cumulative(self, probabilities: Mapping[str, Any], ctx: RuleContext) -> np.ndarray | None:
        if not probabilities:
            return None
        if not isinstance(probabilities, Mapping):
            ctx.error("probabilities must be an object {choice: probability}")
            return None
        keys = [_json_spelling(v) for v in self.choices]
        names = [{key, str(v), json.dumps(v)} for key, v in zip(keys, self.choices)]
        weights = np.full(len(keys), np.nan)
        for name, probability in probabilities.items():
            matching = [i for i, forms in enumerate(names) if name in forms]
            if not matching:
                ctx.error(f"probabilities name {name!r}, which is not one of the choices {keys}")
                continue
            if not isinstance(probability, (int, float)) or isinstance(probability, bool) or probability < 0:
                ctx.error(f"probability of {name!r} must be a number >= 0, got {probability!r}")
                continue
            weights[matching] = float(probability)
        unlisted = np.isnan(weights)
        listed_total = float(np.nansum(weights))
        if unlisted.any():
            remainder = 1.0 - listed_total
            if remainder <= _TOLERANCE:
                missing = [keys[i] for i in np.flatnonzero(unlisted)]
                ctx.error(f"probabilities sum to {listed_total:g} and leave nothing for unlisted choices {missing}")
                return None
            weights[unlisted] = remainder / unlisted.sum()
        total = float(weights.sum())
        if total <= 0:
            ctx.error("probabilities are all zero")
            return None
        if unlisted.any():
            ctx.warning(_shares_message(keys, weights / total, int(unlisted.sum())))
        cumulative = np.cumsum(weights / total)
        cumulative[-1] = 1.0
        return cumulative

    def makes_nulls(self) -> bool:
        return self._distinct().null_count > 0

    has_value_check = True

    def value_check(self, column: StoredColumn) -> ValueCheck | str | None:
        """Every value is one of the choices as written (affixed, coerced, cut to ``length``)."""
        from synthbeam.rules.core.values import coerce

        # The rule's own distinct values, as the generator stores them: counting the config's values
        # in a Python dict made 1 and true one choice, so "True" on a str column was a false breach.
        distinct = self.cardinality() or 0
        try:
            allowed = coerce(column.rule.value_at(np.arange(distinct)), column.type).drop_null()
        except Exception:  # choices the column type cannot hold failed at plan time already
            return f"choice values (choices cannot be stored as {column.type})"
        is_text = pa.types.is_string(allowed.type)
        if is_text and column.max_length is not None:
            allowed = pc.utf8_slice_codeunits(allowed, 0, column.max_length)
        minimum = column.min_length
        padded = [a for a in allowed.to_pylist() if minimum and len(a) < minimum] if is_text else []

        def offending(values: pa.Array) -> np.ndarray:
            bad = mask(pc.invert(pc.is_in(values, value_set=allowed))) & mask(pc.is_valid(values))
            if padded and bad.any():
                for position in np.flatnonzero(bad):
                    text = values[int(position)].as_py()
                    if len(text) == minimum and any(text.startswith(a) for a in padded):
                        bad[position] = False
            return bad

        shown = examples(allowed.to_pylist()) + (", ..." if distinct > EXAMPLES else "")
        return ValueCheck("choice", f"values not among the {distinct} choices ({shown})", offending)

    def _distinct(self) -> pa.Array:
        """The values rows can get, once each, as typed (``1`` and ``1.0`` are one float)."""
        reachable = self.table
        if self.cumulative is not None:
            weights = np.diff(np.concatenate([[0.0], self.cumulative]))
            reachable = self.table.filter(pa.array(weights > 0))
        return pc.unique(reachable)

    def cardinality(self) -> int | None:
        return len(self._distinct())

    def domain(self) -> Domain | None:
        return Domain(values=self._distinct().drop_null())

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return self._distinct().take(pa.array(ordinal.astype(np.int64)))

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        if self.cumulative is None:
            picks = stream.below(rows.index, len(self.choices))
        else:
            picks = stream.weighted(rows.index, self.cumulative)
        return self.table.take(pa.array(picks))

    def describe(self) -> str:
        return f"choice of {len(self.choices)}"


def read_table_file(path: Path) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a CSV file or of an XLSX workbook's first sheet (whichever sheet was active)."""
    suffix = path.suffix.lower()
    if not path.is_file():  # a FIFO or a device would block the compile forever, or never end
        raise ValueError(f"{path} is not a regular file")
    if suffix in (".xlsx", ".xlsm"):
        sheet_rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                dialect = csv.excel_tab if suffix == ".tsv" else csv.excel
                sheet_rows = list(csv.reader(handle, dialect))
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path.name} is not UTF-8 text (byte {exc.start})") from None
        except csv.Error as exc:
            raise ValueError(f"{path.name} is not readable CSV: {exc}") from None
    else:
        raise ValueError(f"unsupported file type {suffix!r} (use .csv or .xlsx)")
    if not sheet_rows:
        raise ValueError("the file is empty")
    header = [str(cell).strip() if cell is not None else "" for cell in sheet_rows[0]]
    return header, sheet_rows[1:]


def _xlsx_rows(path: Path) -> list[list[Any]]:
    """The first sheet's rows; a file that is no workbook (not a zip, not OOXML) is a ValueError naming it."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError) as exc:  # KeyError: a zip without the workbook parts
        detail = f"{type(exc).__name__}: {exc}"
        raise ValueError(f"{path.name} is not an XLSX workbook ({detail}); save it as .xlsx or .csv") from None
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


@register_rule("choice_from_file")
class ChoiceFromFile(Choice):
    """Distinct values of a file column, optionally weighted by another column."""

    example = ("str", {"type": "choice_from_file", "file_path": "data/categories.csv", "column": "category"})
    parameters = (
        Param(
            "file_path",
            "path",
            "a CSV or XLSX file, relative to the config",
            required=True,
            file=True,
            json_types=("string",),
        ),
        Param("column", "column name", "the file column the values come from", "the first", json_types=("string",)),
        Param("weight_column", "column name", "a file column of weights (numbers >= 0)", json_types=("string",)),
    )

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        file_path = spec.get("file_path")
        values: list[Any] = [None]
        probabilities: dict[str, float] = {}
        if not file_path:
            ctx.error("choice_from_file needs 'file_path'")
        elif not isinstance(file_path, str):
            ctx.error(f"choice_from_file file_path must be a path as text, got {file_path!r}")
        elif not all(isinstance(spec.get(key), (str, type(None))) for key in ("column", "weight_column")):
            ctx.error("choice_from_file column and weight_column must be column names as text")
        else:
            path = Path(file_path)
            if not path.is_absolute():
                path = (ctx.settings.data_dir or ctx.settings.config_dir) / path
            try:
                values, probabilities = self._load(path, spec.get("column"), spec.get("weight_column"), ctx)
            except (OSError, ValueError) as exc:
                ctx.error(f"choice_from_file {file_path}: {exc}")
        self.source = str(file_path)
        merged = {**spec, "value": values or [None], "probabilities": probabilities}
        super().__init__(merged, ctx)

    @staticmethod
    def _load(
        path: Path, column: str | None, weight_column: str | None, ctx: RuleContext
    ) -> tuple[list[Any], dict[str, float]]:
        if not path.exists():
            raise ValueError(f"file not found: {path}")
        header, body = read_table_file(path)
        column = column or header[0]
        if column not in header:
            raise ValueError(f"column {column!r} not in {path.name} (columns: {header})")
        position = header.index(column)
        weight_position = None
        if weight_column:
            if weight_column not in header:
                raise ValueError(f"weight_column {weight_column!r} not in {path.name} (columns: {header})")
            weight_position = header.index(weight_column)
        totals: dict[Any, float] = {}
        for row_number, line in enumerate(body, start=2):  # row 1 is the header
            value = line[position] if position < len(line) else None
            if value is None or value == "":
                continue
            weight = 1.0
            if weight_position is not None:
                raw = line[weight_position] if weight_position < len(line) else None
                try:
                    weight = float(raw)  # type: ignore[arg-type]  # None is caught below as a TypeError
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"row {row_number}: weight {raw!r} for {value!r} is not a number") from exc
                if not math.isfinite(weight):  # NaN would make every share NaN, read as equal weights
                    raise ValueError(f"row {row_number}: weight {raw!r} for {value!r} is not a finite number")
            totals[value] = totals.get(value, 0.0) + weight
        if not totals:
            raise ValueError(f"column {column!r} of {path.name} has no values")
        values = list(totals)
        if weight_position is None:
            return values, {}
        negative = [value for value, weight in totals.items() if weight < 0]
        if negative:
            raise ValueError(f"weight_column {weight_column!r} gives {negative[0]!r} a negative weight")
        grand = sum(totals.values())
        if grand <= 0:
            raise ValueError(f"weight_column {weight_column!r} weighs every value 0")
        return values, {str(v): w / grand for v, w in totals.items()}

    def describe(self) -> str:
        return f"choice of {len(self.choices)} from {self.source}"
