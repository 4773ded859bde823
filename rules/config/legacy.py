"""Older config shapes, rewritten into the contract's table-list form before validation.

Three shapes are read:

* the table list of the contract (and of the seed): ``{"tables": [{"table_name", "columns"}]}``,
  left as it is;
* tables as an object keyed by name: ``{"tables": {"orders": {"columns": [...]}}}`` becomes a
  list, each table's key its ``table_name``;
* the legacy flat format: a top-level object with no ``tables`` key whose other keys (the
  generation settings such as ``seed`` and ``performance`` aside) each map column names to a
  rule string, a rule object or null: ``{"customers": {"customer_id": "random_int",
  "email": "email"}}``. An integer under ``rows`` is the table's row count, and an object with
  column keys (``rule``, ``constraint``, ``nullable``, ...) is taken as a whole column spec.

Converted columns get the type their rule obviously implies (:func:`infer_column_type`),
otherwise ``str``. The conversion is pure and never reports problems with the tables it
builds: validation does that, at the converted places.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from synthbeam.rules.config.schema import CONFIG_SCHEMA
from synthbeam.rules.core.errors import Issues
from synthbeam.rules.generators.choice import infer_type

TOP_LEVEL_KEYS = frozenset(CONFIG_SCHEMA["properties"])
FLAT_NOTE = "converted from the legacy flat format"  # how a note says so (pipeline/config.py looks for it)
COLUMN_ONLY_KEYS = frozenset(CONFIG_SCHEMA["$defs"]["column"]["properties"]) - {"name", "type"}

# String rules whose values obviously have a non-string type; keys ignore case, spaces and
# underscores like rule-name matching does. Everything else (Faker text methods, shortcuts
# such as "cc" or "timestamp", which the seed formats as text) stays "str".
_STRING_RULE_TYPES = {
    "bool": "bool",
    "boolean": "bool",
    "pybool": "bool",
    "uuid": "uuid",
    "uuid4": "uuid",
    "email": "email",
    "phone": "phone",
    "phonenumber": "phone",
    "randomint": "int",
    "randomdigit": "int",
    "randomnumber": "int",
    "pyint": "int",
    "pyfloat": "float",
}

# Rule object types with a fixed value type.
_OBJECT_RULE_TYPES = {
    "date": "date",
    "daterange": "date",
    "time": "time",
    "timerange": "time",
    "timestamp": "timestamp",
    "timestamprange": "timestamp",
    "uuid": "uuid",
    "email": "email",
    "phonenumber": "phone",
}


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "", name).lower()


def infer_column_type(rule: Any) -> str:
    """The column type a legacy rule obviously implies; ``str`` when it is not obvious.

    * string rules: ``bool``/``boolean`` -> bool, ``uuid`` -> uuid, ``email`` -> email,
      ``phone``/``phonenumber`` -> phone, ``random_int``/``pyint``/``random_digit``/
      ``random_number`` -> int, ``pyfloat`` -> float;
    * rule objects: ``range`` -> int when its bounds are integers, float when one is a float;
      ``date``/``date_range`` -> date, ``time``/``time_range`` -> time,
      ``timestamp``/``timestamp_range`` -> timestamp, ``uuid``, ``email``,
      ``phone_number`` -> phone; ``fixed``/``default`` and ``choice`` by the type of their
      values (all bools, all ints, numbers); an object whose ``type`` is one of the string
      rules above, as for that string.
    """
    if isinstance(rule, str):
        return _STRING_RULE_TYPES.get(_key(rule), "str")
    if not isinstance(rule, Mapping) or not isinstance(rule.get("type"), str):
        return "str"
    kind = _key(rule["type"])
    if kind == "range":
        bounds = [rule[k] for k in ("min", "max") if k in rule]
        if not bounds or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds):
            return "str"
        return "int" if all(isinstance(b, int) for b in bounds) else "float"
    if kind in _OBJECT_RULE_TYPES:
        return _OBJECT_RULE_TYPES[kind]
    if kind in ("fixed", "default"):
        return infer_type([rule.get("value")]) if "value" in rule else "str"
    if kind == "choice":
        values = rule.get("value", rule.get("values"))
        return infer_type(values) if isinstance(values, list) else "str"
    return _STRING_RULE_TYPES.get(kind, "str")


def _is_column_spec(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(COLUMN_ONLY_KEYS & set(value))


def _is_legacy_table(value: Any) -> bool:
    """A mapping column name -> rule string, rule object or null (plus an optional int 'rows').

    Rule objects must carry ``type`` so a misspelt block (``"tabels": {"orders": {...}}``) is
    reported as an unknown key rather than read as a table.
    """
    if not isinstance(value, Mapping) or not value or "columns" in value:
        return False
    for name, rule in value.items():
        if name == "rows" and isinstance(rule, int) and not isinstance(rule, bool):
            continue
        if rule is None or isinstance(rule, str):
            continue
        # A rule object names its type; anything else is not a legacy column.
        if not (isinstance(rule, Mapping) and ("type" in rule or _is_column_spec(rule))):
            return False
    return True


def is_legacy_flat(config: Mapping[str, Any]) -> bool:
    """True for the legacy flat format (see the module docstring)."""
    if "tables" in config:
        return False
    candidates = [key for key in config if key not in TOP_LEVEL_KEYS]
    return bool(candidates) and all(_is_legacy_table(config[key]) for key in candidates)


def legacy_table(name: str, mapping: Mapping[str, Any]) -> dict[str, Any]:
    """One flat ``{column: rule}`` mapping as a table of the contract's form."""
    table: dict[str, Any] = {"table_name": name}
    columns = []
    for column_name, rule in mapping.items():
        if column_name == "rows" and isinstance(rule, int) and not isinstance(rule, bool):
            table["rows"] = rule
        elif _is_column_spec(rule):
            column = {"name": column_name, **rule}
            column.setdefault("type", infer_column_type(column.get("rule")))
            columns.append(column)
        else:
            columns.append({"name": column_name, "type": infer_column_type(rule), "rule": rule})
    table["columns"] = columns
    return table


def convert_flat(config: Mapping[str, Any]) -> dict[str, Any]:
    """The legacy flat format as the contract's form; generation settings are kept."""
    converted: dict[str, Any] = {key: value for key, value in config.items() if key in TOP_LEVEL_KEYS}
    converted["tables"] = [
        legacy_table(name, mapping) for name, mapping in config.items() if name not in TOP_LEVEL_KEYS
    ]
    return converted


def tables_from_mapping(tables: Mapping[str, Any], issues: Issues) -> list[Any]:
    """``{"orders": {...}}`` as ``[{"table_name": "orders", ...}]``.

    A table without ``columns`` that maps column names to rules is read as a legacy flat
    table. A ``table_name`` that differs from its key is an error (which name would win?).
    """
    converted: list[Any] = []
    for name, table in tables.items():
        if not isinstance(table, Mapping):
            converted.append(table)  # validation reports it at tables[i]
            continue
        if "columns" not in table and _is_legacy_table(table):
            converted.append(legacy_table(name, table))
            continue
        given = table.get("table_name", name)
        if given != name:
            issues.error(f"tables.{name}", f"table_name {given!r} differs from its key {name!r}; remove one")
        converted.append({"table_name": name, **{k: v for k, v in table.items() if k != "table_name"}})
    return converted


def upgrade(config: dict[str, Any], issues: Issues) -> tuple[dict[str, Any], list[str]]:
    """The config in the table-list form, and notes saying what was rewritten."""
    if is_legacy_flat(config):
        converted = convert_flat(config)
        count = len(converted["tables"])
        return converted, [f"{FLAT_NOTE} ({count} table{'s' * (count != 1)})"]
    tables = config.get("tables")
    if isinstance(tables, Mapping):
        converted = dict(config)
        converted["tables"] = tables_from_mapping(tables, issues)
        count = len(converted["tables"])
        return converted, [f"tables given as an object keyed by name; read as a list of {count}"]
    return config, []
