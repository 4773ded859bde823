"""Checking a config (or one setting) against the JSON Schema of :mod:`.schema`.

The validator is pure and reports *every* problem, never the first one only.
It understands the subset of JSON Schema the schema uses: ``type``, ``enum``,
``const``, ``properties``, ``required``, ``additionalProperties`` (unknown keys
get a "did you mean"), ``items``, ``minItems``, ``uniqueItems``,
``minimum``/``maximum``/``exclusiveMinimum``/``exclusiveMaximum``,
``minLength``, ``pattern``, ``format: date``, ``anyOf``/``oneOf`` and local
``$ref``. Two extension keywords, which editors ignore: ``x-unique-key`` (the
items of a list of objects must differ in that key: table and column names)
and ``x-error`` (the message for a failed ``pattern``).

Places follow the project's format: ``seed``, ``output.format``, a table by
its name (``orders``, or ``tables[1]`` when it has none or shares it), a column
as ``orders.columns[3] (amount)``, deeper values with ``.rule.min`` or
``.conditional_rules[0].when[1].operator``. A problem with a key a table,
column or foreign key holds directly is reported at that table, column or
foreign key, naming the key first: ``orders.columns[3] (amount): type 'money'
is not one of int, integer, ...``.

Integers are JSON numbers without a fraction part or exponent: ``1000.0``
is not accepted where a count is expected.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from synthbeam.rules.config.schema import (
    CONFIG_SCHEMA,
    DEFS,
    RUN_SETTINGS,
    SETTINGS_BLOCKS,
    ConfigPath,
    PlaceFn,
    resolve,
    setting_schema,
)
from synthbeam.rules.core.errors import Issues


def _suffix(path: ConfigPath) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def generic_place(path: ConfigPath) -> str:
    """``output.format``, ``environments.ci.seed``, ``tables[2]``."""
    text = _suffix(path)
    return text[1:] if text.startswith(".") else text


class ConfigPlaces:
    """Names places in one config by its tables' and columns' names."""

    def __init__(self, root: Any) -> None:
        tables = root.get("tables") if isinstance(root, Mapping) else None
        self.tables: list[Any] = tables if isinstance(tables, list) else []
        names = [t.get("table_name") for t in self.tables if isinstance(t, Mapping)]
        self.shared = {n for n in names if isinstance(n, str) and names.count(n) > 1}

    def table(self, index: int) -> str:
        table = self.tables[index] if 0 <= index < len(self.tables) else None
        name = table.get("table_name") if isinstance(table, Mapping) else None
        if not isinstance(name, str) or not name.strip():
            return f"tables[{index}]"
        # A name shared by two tables would not say which one is meant.
        return f"tables[{index}] ({name})" if name in self.shared else name

    def column(self, table_index: int, column_index: int) -> str:
        label = f"{self.table(table_index)}.columns[{column_index}]"
        table = self.tables[table_index] if 0 <= table_index < len(self.tables) else None
        columns = table.get("columns") if isinstance(table, Mapping) else None
        in_range = isinstance(columns, list) and 0 <= column_index < len(columns)
        column = columns[column_index] if in_range else None
        name = column.get("name") if isinstance(column, Mapping) else None
        return f"{label} ({name})" if isinstance(name, str) and name else label

    def place(self, path: ConfigPath) -> str:
        """The place string of the value at ``path`` (keys and list indices from the root)."""
        path = list(path)
        if len(path) >= 2 and path[0] == "tables" and isinstance(path[1], int):
            if len(path) >= 4 and path[2] == "columns" and isinstance(path[3], int):
                return self.column(path[1], path[3]) + _suffix(path[4:])
            return self.table(path[1]) + _suffix(path[2:])
        return generic_place(path)

    def split(self, path: ConfigPath) -> tuple[str, str | None]:
        """(place, subject): a key held directly by a table, column or foreign key is the subject."""
        path = list(path)
        if path and isinstance(path[-1], str) and _is_entity(path[:-1]):
            return self.place(path[:-1]), path[-1]
        return self.place(path), None


def _is_entity(path: list[str | int]) -> bool:
    if len(path) < 2 or path[0] != "tables" or not isinstance(path[1], int):
        return False
    if len(path) == 2:
        return True
    return len(path) == 4 and path[2] in ("columns", "foreign_keys") and isinstance(path[3], int)


_TYPE_WORDS = {
    "null": "null",
    "boolean": "true or false",
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "array": "a list",
    "object": "an object",
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def show(value: Any, limit: int = 40) -> str:
    """A short rendering of a config value for a message: 'money', 5, true, null, [...]."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, (Mapping, list, tuple)):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _got(value: Any) -> str:
    kind = json_type(value)
    if kind == "null":
        return "got null"
    if kind == "object":
        return "got an object"
    if kind == "array":
        return "got a list"
    return f"got {kind} {show(value)}"


def _words(kinds: Sequence[str]) -> str:
    words = list(dict.fromkeys(_TYPE_WORDS.get(k, k) for k in kinds))
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _matches_type(value: Any, kind: str) -> bool:
    actual = json_type(value)
    return actual == kind or (kind == "number" and actual == "integer")


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps JSON's types apart (true is not 1)."""
    return json_type(a) == json_type(b) and a == b


# Spellings from other languages that string similarity would not connect to ours.
_ALIASES = {
    "=": "==",
    "eq": "==",
    "<>": "!=",
    "ne": "!=",
    "not in": "not_in",
    "notin": "not_in",
    "is null": "is_null",
    "isnull": "is_null",
    "is not null": "is_not_null",
    "notnull": "is_not_null",
    "primary": "PK",
    "primary key": "PK",
    "primary_key": "PK",
    "primarykey": "PK",
    "not null": "not_null",
    "required": "not_null",
    "integer64": "int",
    "int64": "int",
    "bigint": "int",
    "varchar": "str",
    "float64": "float",
    "number": "float",
    "numeric": "float",
}


def suggest(word: str, choices: Sequence[str]) -> str | None:
    """The closest of ``choices`` to ``word`` (ignoring case), or None."""
    lowered = {c.lower(): c for c in choices}
    alias = _ALIASES.get(word.strip().lower())
    if alias is not None and alias.lower() in lowered:
        return lowered[alias.lower()]
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.7)
    return lowered[found[0]] if found else None


def _branch_types(schema: Mapping[str, Any]) -> set[str] | None:
    """The JSON types a branch can accept, or None when it accepts any."""
    schema = resolve(schema)
    kinds = schema.get("type")
    if isinstance(kinds, str):
        return {kinds}
    if isinstance(kinds, list):
        return set(kinds)
    if "const" in schema:
        return {json_type(schema["const"])}
    if "enum" in schema:
        return {json_type(v) for v in schema["enum"]}
    for key in ("anyOf", "oneOf"):
        if key in schema:
            union: set[str] = set()
            for branch in schema[key]:
                inner = _branch_types(branch)
                if inner is None:
                    return None
                union |= inner
            return union
    return None


class Validator:
    """Walks a value against a schema, reporting every problem into ``issues``."""

    def __init__(self, issues: Issues, split: PlaceFn, top_level_word: str = "top-level ") -> None:
        self.issues = issues
        self.split = split
        self.top_level_word = top_level_word

    # Reports about a value name it by its own place, or by its holder and key (the subject).
    def report(self, path: ConfigPath, message: str) -> None:
        place, subject = self.split(path)
        self.issues.error(place, f"{subject} {message}" if subject else message)

    def report_object(self, path: ConfigPath, message: str) -> None:
        place, subject = self.split(path)
        if subject:
            place = f"{place}.{subject}" if place else subject
        self.issues.error(place, message)

    def check(self, value: Any, schema: Mapping[str, Any], path: ConfigPath) -> None:
        schema = resolve(schema)
        if ("anyOf" in schema or "oneOf" in schema) and not self._check_branches(value, schema, path):
            return
        if "const" in schema and not _same(value, schema["const"]):
            self.report(path, f"must be {show(schema['const'])}, {_got(value)}")
            return
        kinds = schema.get("type")
        if kinds is not None:
            kinds = [kinds] if isinstance(kinds, str) else list(kinds)
            if not any(_matches_type(value, kind) for kind in kinds):
                self.report(path, f"must be {_words(kinds)}, {_got(value)}")
                return
        if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
            self._report_enum(value, schema["enum"], path)
            return
        if isinstance(value, str):
            self._check_string(value, schema, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._check_number(value, schema, path)
        elif isinstance(value, list):
            self._check_array(value, schema, path)
        elif isinstance(value, Mapping):
            self._check_object(value, schema, path)

    def _report_enum(self, value: Any, options: Sequence[Any], path: ConfigPath) -> None:
        allowed = ", ".join(o if isinstance(o, str) else show(o) for o in options)
        message = f"{show(value)} is not one of {allowed}"
        if isinstance(value, str):
            close = suggest(value, [o for o in options if isinstance(o, str)])
            if close is not None and close != value:
                message += f"; did you mean {close!r}?"
        self.report(path, message)

    def _check_branches(self, value: Any, schema: Mapping[str, Any], path: ConfigPath) -> bool:
        """anyOf/oneOf: True when the value passes. Reports the most telling failure otherwise.

        Branches are first narrowed by JSON type, so an object that fails the
        rule-object branch is reported with that branch's own problems rather
        than "matches none of".
        """
        keyword = "oneOf" if "oneOf" in schema else "anyOf"
        branches = list(schema[keyword])
        fitting = []
        accepted: set[str] = set()
        for branch in branches:
            kinds = _branch_types(branch)
            if kinds is None or any(_matches_type(value, k) for k in kinds):
                fitting.append(branch)
            accepted |= kinds or set()
        if not fitting:
            order = ["string", "integer", "number", "boolean", "array", "object", "null"]
            self.report(path, f"must be {_words(sorted(accepted, key=order.index))}, {_got(value)}")
            return False
        outcomes = []
        for branch in fitting:
            trial = Issues()
            Validator(trial, self.split, self.top_level_word).check(value, branch, path)
            outcomes.append(trial)
        passed = [o for o in outcomes if not o.errors]
        if keyword == "oneOf" and len(passed) > 1:
            self.report(path, "matches more than one of the allowed forms")
            return False
        if passed:
            return True
        best = min(outcomes, key=lambda o: len(o.errors))
        self.issues.extend(best)
        return False

    def _check_string(self, value: str, schema: Mapping[str, Any], path: ConfigPath) -> None:
        if "minLength" in schema and len(value) < schema["minLength"]:
            self.report(
                path,
                "must not be empty"
                if schema["minLength"] == 1
                else f"must be at least {schema['minLength']} characters long",
            )
            return
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            self.report(path, f"{show(value)} {schema.get('x-error', 'does not match ' + schema['pattern'])}")
            return
        if schema.get("format") == "date" and not _is_date(value):
            self.report(path, f"{show(value)} is not a date in YYYY-MM-DD form")

    def _check_number(self, value: float, schema: Mapping[str, Any], path: ConfigPath) -> None:
        if "minimum" in schema and value < schema["minimum"]:
            self.report(path, f"must be >= {schema['minimum']}, got {show(value)}")
        elif "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            self.report(path, f"must be > {schema['exclusiveMinimum']}, got {show(value)}")
        elif "maximum" in schema and value > schema["maximum"]:
            self.report(path, f"must be <= {schema['maximum']}, got {show(value)}")
        elif "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            self.report(path, f"must be < {schema['exclusiveMaximum']}, got {show(value)}")

    def _check_array(self, value: list[Any], schema: Mapping[str, Any], path: ConfigPath) -> None:
        if "minItems" in schema and len(value) < schema["minItems"]:
            self.report(
                path,
                "must not be empty" if schema["minItems"] == 1 else f"must hold at least {schema['minItems']} items",
            )
        if schema.get("uniqueItems"):
            seen: list[Any] = []
            for item in value:
                if any(_same(item, earlier) for earlier in seen):
                    self.report(path, f"lists {show(item)} more than once")
                    break
                seen.append(item)
        key = schema.get("x-unique-key")
        clashes = self._name_clashes(value, key) if key else {}
        for index, item in enumerate(value):
            if index in clashes:
                self._report_clash(path, index, key, item[key], clashes[index])
            if "items" in schema:
                self.check(item, schema["items"], [*path, index])

    @staticmethod
    def _name_clashes(items: list[Any], key: str) -> dict[int, tuple[int, bool]]:
        """index -> (earlier index, exact): items whose ``key`` repeats an earlier one's."""
        first: dict[str, int] = {}
        folded: dict[str, int] = {}
        clashes: dict[int, tuple[int, bool]] = {}
        for index, item in enumerate(items):
            name = item.get(key) if isinstance(item, Mapping) else None
            if not isinstance(name, str) or not name:
                continue
            if name in first:
                clashes[index] = (first[name], True)
                continue
            first[name] = index
            if name.casefold() in folded:
                clashes[index] = (folded[name.casefold()], False)
            else:
                folded[name.casefold()] = index
        return clashes

    def _report_clash(self, path: ConfigPath, index: int, key: str, name: str, clash: tuple[int, bool]) -> None:
        earlier, exact = clash
        other = f"{generic_place(path[-1:])}[{earlier}]"
        place, subject = self.split([*path, index, key])
        name = show(name)
        if exact:
            self.issues.error(place, f"{subject or key} {name} is already used by {other}")
        else:
            self.issues.warning(
                place,
                f"{subject or key} {name} differs from {other}'s only in letter case; "
                "case-insensitive readers and file systems see one name",
            )

    def _check_object(self, value: Mapping[str, Any], schema: Mapping[str, Any], path: ConfigPath) -> None:
        for key in schema.get("required", ()):
            if key not in value:
                self.report_object(path, f"missing required key {key!r}")
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                self.check(item, properties[key], [*path, key])
            elif extra is False:
                self._report_unknown(key, list(properties), path)
            elif isinstance(extra, Mapping):
                self.check(item, extra, [*path, key])

    def _report_unknown(self, key: str, allowed: list[str], path: ConfigPath) -> None:
        where = self.top_level_word if not path else ""
        close = suggest(str(key), allowed)
        if close is not None:
            hint = f"; did you mean {close!r}?"
        else:
            hint = " (allowed: " + ", ".join(a for a in allowed if not a.startswith("$")) + ")"
        self.report_object(path, f"unknown {where}key {show(key)}{hint}")


def _is_date(text: str) -> bool:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is None:
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def validate_config(data: Mapping[str, Any], issues: Issues | None = None) -> Issues:
    """Every structural problem of a (normalised) config, each with its place."""
    issues = issues if issues is not None else Issues()
    places = ConfigPlaces(data)
    Validator(issues, places.split).check(data, CONFIG_SCHEMA, [])
    return issues


def validate_setting(dotted: str, value: Any, issues: Issues, origin: str = "command line") -> bool:
    """Check one run setting given outside the file (``output.format``); True when it is usable."""
    schema = setting_schema(dotted)
    trial = Issues()
    if schema is None:
        allowed = settable_keys()
        close = suggest(dotted, allowed)
        hint = f"; did you mean {close!r}?" if close else " (allowed: " + ", ".join(allowed) + ")"
        trial.error(f"{dotted} ({origin})", f"unknown setting {dotted!r}{hint}")
    else:
        Validator(trial, lambda path: (f"{generic_place(path)} ({origin})", None)).check(
            value, schema, dotted.split(".")
        )
    issues.extend(trial)
    return not trial.errors


def settable_keys() -> list[str]:
    """Dotted names of every run setting a command line or environment may set."""
    keys = [k for k in RUN_SETTINGS]
    for block in SETTINGS_BLOCKS:
        keys.extend(f"{block}.{name}" for name in DEFS[block]["properties"])
    return keys
