"""Config text -> one normalised, merged config dict plus every problem found, with places.

``load_config(path)`` (local files) and ``load_config_text(text, ...)`` (text read elsewhere,
e.g. from ``gs://``) run the same steps:

1. parse the JSON. A syntax error raises :class:`ConfigError` at once, naming file, line and
   column (``retail.json:12:5: Expecting ',' delimiter``); so do a missing or unreadable file
   and a top level that is not an object. ``NaN``/``Infinity`` are not JSON and are rejected
   the same way; a key given twice in one object is a warning (JSON keeps the last).
2. rewrite older shapes into the table-list form (:mod:`synthbeam.rules.config.legacy`), with a note;
3. normalise what is safe before rule compilation: column ``type`` lowercased, ``constraint``
   names to ``PK``/``unique``/``not_null`` (a single string becomes a list, as a correction),
   ``sensitivity`` upper-cased, condition operators lowercased; table ``rows`` left absent
   when not given (the compiler applies defaults);
4. validate the file's structure against :data:`~synthbeam.rules.config.schema.CONFIG_SCHEMA`, environments
   included, collecting every problem (duplicate table and column names among them);
5. merge the chosen environment, then the command-line overrides (:mod:`synthbeam.rules.config.environments`).

Nothing here raises for a structurally invalid config: problems land in
``LoadedConfig.issues`` and the caller decides (``raise_for_errors()``). Semantic checks
(ranges, Faker names, foreign-key targets, rule parameters) belong to rule compilation.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from synthbeam.rules.config.environments import apply_environment, apply_overrides
from synthbeam.rules.config.legacy import upgrade
from synthbeam.rules.config.schema import CONSTRAINTS, OPERATORS, SENSITIVITIES
from synthbeam.rules.config.validator import ConfigPlaces, json_type, validate_config
from synthbeam.rules.core.errors import ConfigError, Issue, Issues

MAX_CONFIG_BYTES = 16 << 20
_CONSTRAINT_NAMES = {name.lower(): name for name in CONSTRAINTS}
_SENSITIVITY_NAMES = frozenset(SENSITIVITIES)
_OPERATOR_NAMES = frozenset(OPERATORS)


@dataclass
class LoadedConfig:
    """A loaded config: the merged data and everything learnt while loading it."""

    data: dict[str, Any]
    source: str  # the file name or URL as the user gave it
    config_dir: Path  # where relative paths (key_file, openai.cache_dir) resolve (Path('.') for remote)
    text_sha256: str  # of the raw file bytes
    issues: Issues
    notes: list[str] = field(default_factory=list)
    environment: str | None = None
    data_dir: Path | None = None  # where choice_from_file paths resolve, when not config_dir
    # Who set the top-level ``rows`` above the file ("--rows 100", "environment 'ci'"), if anyone:
    # the compiler warns when no table takes it.
    rows_from: str | None = None

    @property
    def ok(self) -> bool:
        return not self.issues.errors

    def raise_for_errors(self) -> None:
        """Raise :class:`ConfigError` carrying every error, if there is one."""
        if self.issues.errors:
            raise ConfigError(self.issues.errors, source=self.source)


def load_config(
    path: str | Path, environment: str | None = None, overrides: Mapping[str, Any] | None = None
) -> LoadedConfig:
    """Read and load a local config file (see the module docstring)."""
    source = str(path)
    if "://" in source:
        _fail(f"{source}: a remote config must be read first and given to load_config_text")
    file = Path(path)
    try:
        raw = read_config_bytes(file)
    except FileNotFoundError:
        _fail(f"config file not found: {source}", source)
    except IsADirectoryError:
        _fail(f"{source} is a directory, not a config file", source)
    except OSError as exc:
        _fail(f"cannot read config file {source}: {exc.strerror or exc}", source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        _fail(f"{source}:{line}: the file is not UTF-8 text", source)
    return _load(text, raw, source, file.absolute().parent, environment, overrides)


def read_config_bytes(file: Path) -> bytes:
    """The bytes of a config file: a regular file of at most :data:`MAX_CONFIG_BYTES`, else ConfigError.

    A FIFO blocks until something writes to it and ``/dev/zero`` never ends, so
    only regular files are read, and never more than the cap: the largest real
    configs are a few hundred kilobytes.
    """
    source = str(file)
    # O_NONBLOCK: opening a FIFO without it waits for a writer; on a regular file it changes nothing.
    descriptor = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            _fail(f"{source} is not a regular file (a FIFO, device or socket): give the path of a JSON file", source)
        raw = handle.read(MAX_CONFIG_BYTES + 1)
    check_config_size(len(raw), source)
    return raw


def check_config_size(size: int, source: str) -> None:
    if size > MAX_CONFIG_BYTES:
        _fail(
            f"{source} is larger than {MAX_CONFIG_BYTES // (1 << 20)} MB, the most a config may be: "
            "put large value lists in choice_from_file files",
            source,
        )


def load_config_text(
    text: str,
    source: str,
    config_dir: Path,
    environment: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """Load config text read elsewhere (a remote file); ``source`` names it in messages."""
    return _load(text.removeprefix("\ufeff"), text.encode("utf-8"), source, Path(config_dir), environment, overrides)


def _load(
    text: str,
    raw: bytes,
    source: str,
    config_dir: Path,
    environment: str | None,
    overrides: Mapping[str, Any] | None,
) -> LoadedConfig:
    issues = Issues()
    notes: list[str] = []
    parsed = parse_json(text, source, issues)
    if not isinstance(parsed, dict):
        _fail(f'{source}: the top level must be a JSON object with a "tables" list, got {_a(parsed)}', source)
    data, upgrade_notes = upgrade(parsed, issues)
    notes.extend(upgrade_notes)
    normalise(data, issues)
    validate_config(data, issues)
    if not isinstance(data.get("tables"), list):
        data["tables"] = []  # reported above; the compiler may still iterate
    applied, note = apply_environment(data, environment, issues)
    if note:
        notes.append(note)
    rows_from = _rows_from(data, applied)
    note = apply_overrides(data, overrides, issues)
    if note:
        notes.append(note)
    if (overrides or {}).get("rows") is not None and data.get("rows") == overrides["rows"]:
        rows_from = f"--rows {overrides['rows']}"
    return LoadedConfig(
        data=data,
        source=source,
        config_dir=config_dir,
        text_sha256=hashlib.sha256(raw).hexdigest(),
        issues=issues,
        notes=notes,
        environment=applied,
        rows_from=rows_from,
    )


def _rows_from(data: Mapping[str, Any], environment: str | None) -> str | None:
    """``environment 'ci'`` when the applied environment set the top-level rows."""
    block = (data.get("environments") or {}).get(environment) if environment else None
    if isinstance(block, Mapping) and "rows" in block:
        return f"rows {block['rows']} from environment {environment!r}"
    return None


def _a(value: Any) -> str:
    kind = {"array": "a list", "object": "an object", "null": "null", "integer": "a number"}
    return kind.get(json_type(value), f"a {json_type(value)}")


def _fail(message: str, source: str = "") -> NoReturn:
    error = ConfigError([Issue("", message)])
    error.source = source  # the message already names the file
    raise error


# --- parsing ------------------------------------------------------------------------------------


class _NotJson(Exception):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON has no such numbers."""


def parse_json(text: str, source: str, issues: Issues) -> Any:
    """Parse JSON; a syntax error raises ConfigError naming ``source:line:column``.

    Keys given twice in one object become warnings in ``issues`` at the object's place.
    """
    if not text.strip():
        _fail(f"{source}: the file is empty", source)
    repeated: list[tuple[dict[str, Any], list[str]]] = []  # holds the objects, so ids stay unique

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        twice = []
        for key, value in pairs:
            if key in obj and key not in twice:
                twice.append(key)
            obj[key] = value
        if twice:
            repeated.append((obj, twice))
        return obj

    def reject(name: str) -> Any:
        raise _NotJson(name)

    try:
        parsed = json.loads(text, object_pairs_hook=build, parse_constant=reject)
    except json.JSONDecodeError as exc:
        _fail(f"{source}:{exc.lineno}:{exc.colno}: {exc.msg}{_hint(text, exc.pos, exc.msg)}", source)
    except _NotJson as exc:
        found = re.search(rf"(?<![\w\"]){re.escape(str(exc))}(?![\w\"])", text)
        where = _line_col(text, found.start()) if found else ""
        _fail(f"{source}:{where}: {exc} is not a JSON number; write a number or null", source)
    except RecursionError:
        _fail(f"{source}: the JSON is nested too deeply", source)
    if repeated:
        _report_repeated(parsed, {id(obj): keys for obj, keys in repeated}, issues)
    return parsed


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"{line}:{pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _hint(text: str, pos: int, message: str) -> str:
    """A likely cause for the common slips JSON's messages do not name."""
    here = text[pos : pos + 2]
    before = text[:pos].rstrip()[-1:]
    if message.startswith(("Expecting property name", "Expecting value")) and before == ",":
        return " (a trailing comma? JSON allows none)"
    if here.startswith(("//", "/*", "#")):
        return " (JSON has no comments)"
    if here.startswith("'"):
        return " (JSON strings use double quotes)"
    return ""


def _report_repeated(parsed: Any, repeated: dict[int, list[str]], issues: Issues) -> None:
    places = ConfigPlaces(parsed)

    def walk(value: Any, path: list[str | int]) -> None:
        if isinstance(value, dict):
            for key in repeated.get(id(value), ()):
                place = places.place(path)
                issues.warning(place, f"key {key!r} appears more than once; only the last value is used")
            for key, item in value.items():
                walk(item, [*path, key])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, [*path, index])

    walk(parsed, [])


# --- normalisation ------------------------------------------------------------------------------


def normalise(data: dict[str, Any], issues: Issues) -> None:
    """Normalise spellings in place (see the module docstring); tolerant of any shape."""
    tables = data.get("tables")
    if not isinstance(tables, list):
        return
    places = ConfigPlaces(data)
    for table_index, table in enumerate(tables):
        columns = table.get("columns") if isinstance(table, dict) else None
        if not isinstance(columns, list):
            continue
        for column_index, column in enumerate(columns):
            if isinstance(column, dict):
                _normalise_column(column, places.column(table_index, column_index), issues)


def _normalise_column(column: dict[str, Any], place: str, issues: Issues) -> None:
    if isinstance(column.get("type"), str):
        column["type"] = column["type"].strip().lower()
    constraint = column.get("constraint")
    if isinstance(constraint, str):
        issues.correction(place, f"constraint {constraint!r} read as a list: [{constraint!r}]")
        constraint = column["constraint"] = [constraint]
    if isinstance(constraint, list):
        column["constraint"] = [
            _CONSTRAINT_NAMES.get(item.strip().lower(), item) if isinstance(item, str) else item for item in constraint
        ]
    sensitivity = column.get("sensitivity")
    if isinstance(sensitivity, str) and sensitivity.strip().upper() in _SENSITIVITY_NAMES:
        column["sensitivity"] = sensitivity.strip().upper()
    branches = column.get("conditional_rules")
    for branch in branches if isinstance(branches, list) else ():
        conditions = branch.get("when") if isinstance(branch, dict) else None
        for condition in conditions if isinstance(conditions, list) else ():
            operator = condition.get("operator") if isinstance(condition, dict) else None
            if isinstance(operator, str) and operator.strip().lower() in _OPERATOR_NAMES:
                condition["operator"] = operator.strip().lower()
