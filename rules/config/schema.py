"""The config's JSON Schema and the small validator that checks a config against it.

``CONFIG_SCHEMA`` (draft 2020-12 style) describes every key of the config
language in CONTRACT.md section 3, with a ``title`` and ``description`` on
every property so editors can complete configs; ``config_schema()`` returns a
copy for ``synthbeam schema``.

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

import copy
import datetime as dt
import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.types import TYPE_SYNONYMS

ConfigPath = Sequence[str | int]
PlaceFn = Callable[[ConfigPath], tuple[str, str | None]]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
COLUMN_TYPES: tuple[str, ...] = tuple(TYPE_SYNONYMS)
CONSTRAINTS: tuple[str, ...] = ("PK", "unique", "not_null")
SENSITIVITIES: tuple[str, ...] = ("PUBLIC", "INTERNAL", "CONFIDENTIAL", "PII", "SENSITIVE")
MASKING_STRATEGIES: tuple[str, ...] = ("partial", "redact", "hash", "null")
OPERATORS: tuple[str, ...] = ("==", "!=", ">", ">=", "<", "<=", "in", "not_in", "is_null", "is_not_null")
DISTRIBUTIONS: tuple[str, ...] = ("random", "even", "weighted", "zipf")
OUTPUT_FORMATS: tuple[str, ...] = ("parquet", "avro", "csv")
SETTINGS_BLOCKS: tuple[str, ...] = ("performance", "security", "openai", "output", "logging")
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_PAD_TO = 4096  # bytes; more would only multiply the output's size


def case_insensitive_pattern(words: Sequence[str]) -> str:
    """A regex matching any of ``words`` in any letter case, written without inline flags.

    Editors evaluate ``pattern`` as an ECMAScript regex, which has no ``(?i)``,
    so each letter becomes a two-letter class.
    """

    def one(word: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)

    return "^(?:" + "|".join(one(word) for word in words) + ")$"


def _prop(title: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"title": title, "description": description, **schema}


def _ci_enum(words: Sequence[str]) -> list[dict[str, Any]]:
    """``anyOf`` branches: the canonical spellings (for completion), then any letter case."""
    return [{"enum": list(words)}, {"type": "string", "pattern": case_insensitive_pattern(words)}]


_NAME = {"type": "string", "minLength": 1}
_COUNT = {"type": "integer", "minimum": 0}
_FLAG = {"type": "boolean"}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}
_PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}

_RULE_VALUE = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {"$ref": "#/$defs/rule_object"},
        {"type": "null"},
    ]
}

_DEFS: dict[str, Any] = {
    "rule_object": {
        "title": "Rule object",
        # The list of rule types and their keys comes from the registry: see config_schema().
        "description": "A rule with parameters. 'type' names the rule; the other keys depend on the rule type.",
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": _prop(
                "Rule type",
                "The rule's name: a registered rule type or a Faker method name "
                "(matching ignores case, spaces and underscores).",
                type="string",
                minLength=1,
                examples=["choice", "range", "date_range", "regex", "email", "first_name"],
            ),
            "prefix": _prop("Prefix", "Text put before every generated value.", type="string"),
            "suffix": _prop("Suffix", "Text put after every generated value.", type="string"),
            "regex": _prop(
                "Regex",
                "For type 'regex', the pattern values are generated from (before prefix/suffix); for every "
                "other type, a check the final value (prefix and suffix included) must pass.",
                type="string",
            ),
            "params": _prop(
                "Faker arguments",
                "Keyword arguments passed to the Faker method named by 'type'.",
                type="object",
            ),
        },
        "additionalProperties": True,
    },
    "condition": {
        "title": "Condition",
        "description": "Compares another column of the same row with a constant.",
        "type": "object",
        "required": ["column", "operator"],
        "properties": {
            "column": _prop("Column", "The same-table column the condition reads.", type="string", minLength=1),
            "operator": _prop(
                "Operator",
                "How the column is compared: " + ", ".join(OPERATORS) + ".",
                enum=list(OPERATORS),
            ),
            "value": _prop(
                "Value",
                "The constant compared with (a list for 'in' and 'not_in'; unused by 'is_null' and 'is_not_null').",
            ),
        },
        "additionalProperties": False,
    },
    "conditional_rule": {
        "title": "Conditional rule",
        "description": "When every condition in 'when' holds, 'rule' fills the row.",
        "type": "object",
        "required": ["when", "rule"],
        "properties": {
            "when": _prop(
                "When",
                "Conditions that must all hold.",
                type="array",
                minItems=1,
                items={"$ref": "#/$defs/condition"},
            ),
            "rule": _prop("Rule", "The rule for rows where the conditions hold (null gives null).", **_RULE_VALUE),
        },
        "additionalProperties": False,
    },
    "column": {
        "title": "Column",
        "description": "One column of a table: its name, type and how its values are made.",
        "type": "object",
        "required": ["name", "type"],
        "properties": {
            "name": _prop("Name", "The column's name (its values are keyed by it).", type="string", minLength=1),
            "type": _prop(
                "Type",
                "The column type (case-insensitive): " + ", ".join(COLUMN_TYPES) + ".",
                anyOf=_ci_enum(COLUMN_TYPES),
            ),
            "rule": _prop(
                "Rule",
                "How values are made: a Faker method name or shortcut, a rule object, or null (all null).",
                **_RULE_VALUE,
            ),
            "constraint": _prop(
                "Constraints",
                "Any of PK, unique, not_null (case-insensitive).",
                type="array",
                items={"anyOf": _ci_enum(CONSTRAINTS)},
            ),
            "nullable": _prop("Nullable", "Whether the column may hold nulls.", type="boolean"),
            "null_probability": _prop(
                "Null probability", "Share of rows left null (0 to 1) when nullable.", **_PROBABILITY
            ),
            "length": _prop("Length", "Maximum length of string values.", **_COUNT),
            "min_length": _prop("Minimum length", "Minimum length of string values.", **_COUNT),
            "max_length": _prop("Maximum length", "Maximum length of string values.", **_COUNT),
            "sensitivity": _prop(
                "Sensitivity",
                "Data classification (case-insensitive): " + ", ".join(SENSITIVITIES) + ".",
                anyOf=_ci_enum(SENSITIVITIES),
            ),
            "masking": _prop(
                "Masking",
                "How the column is masked when security.enable_data_masking is on.",
                type="object",
                required=["strategy"],
                properties={
                    "strategy": _prop(
                        "Strategy",
                        "partial (keep a few characters), redact, hash or null.",
                        enum=list(MASKING_STRATEGIES),
                    )
                },
                additionalProperties=False,
            ),
            "conditional_rules": _prop(
                "Conditional rules",
                "The first entry whose 'when' holds picks the rule; otherwise the column's 'rule'.",
                type="array",
                items={"$ref": "#/$defs/conditional_rule"},
            ),
        },
        "additionalProperties": False,
    },
    "foreign_key": {
        "title": "Foreign key",
        "description": "Links a child column to a parent table's column.",
        "type": "object",
        "required": ["child_column", "parent_table", "parent_column"],
        "properties": {
            "child_column": _prop(
                "Child column", "The column of this table that refers to the parent.", type="string", minLength=1
            ),
            "parent_table": _prop(
                "Parent table", "The referenced table (may be this table: a hierarchy).", type="string", minLength=1
            ),
            "parent_column": _prop(
                "Parent column", "The referenced column of the parent table.", type="string", minLength=1
            ),
            "distribution": _prop(
                "Distribution",
                "How children spread over parents: random, even, weighted (with 'weights') or zipf (with 's').",
                enum=list(DISTRIBUTIONS),
                default="random",
            ),
            "weights": _prop(
                "Weights",
                "For 'weighted': parent value (as a string) -> weight; unlisted parents weigh 1.",
                type="object",
                additionalProperties={
                    "title": "Weight",
                    "description": "The weight of the parent with this value.",
                    "type": "number",
                    "minimum": 0,
                },
            ),
            "s": _prop("Zipf exponent", "For 'zipf': the exponent s (> 0).", **_POSITIVE),
            "null_probability": _prop(
                "Null probability", "Share of child rows with no parent (0 to 1).", **_PROBABILITY
            ),
            "children_per_parent": _prop(
                "Children per parent",
                "Each parent gets between min and max children, or (with 'column') its own value of a "
                "parent number column times 'scale', within min and max; the child table's row count follows.",
                type="object",
                required=["min"],
                anyOf=[{"required": ["max"]}, {"required": ["column"]}],
                properties={
                    "min": _prop("Minimum", "Fewest children of one parent.", type="integer", minimum=0),
                    "max": _prop(
                        "Maximum",
                        "Most children of one parent (required without 'column').",
                        type="integer",
                        minimum=0,
                    ),
                    "column": _prop(
                        "Count column",
                        "A number column of the parent table ('organizations.employee_count'): each parent's "
                        "count is its value times 'scale', rounded, within min and max.",
                        type="string",
                        minLength=1,
                    ),
                    "scale": _prop(
                        "Scale", "Multiplies the count column's value (default 1).", type="number", minimum=0
                    ),
                },
                additionalProperties=False,
            ),
        },
        "additionalProperties": False,
    },
    "table": {
        "title": "Table",
        "description": "One generated table: its name, row count, columns and keys.",
        "type": "object",
        "required": ["table_name", "columns"],
        "properties": {
            "table_name": _prop(
                "Table name",
                "The table's name; also its output directory, so no '/' or '\\' and not '.' or '..'.",
                type="string",
                minLength=1,
                pattern=r"^(?!\.{1,2}$)[^/\\]+$",
                **{
                    "x-error": "is not a usable table name: it names the output directory, so it may not "
                    "contain '/' or '\\' or be '.' or '..'"
                },
            ),
            "rows": _prop("Rows", "Rows to generate (default: the top-level 'rows').", **_COUNT),
            "columns": _prop(
                "Columns",
                "The table's columns, in output order.",
                type="array",
                minItems=1,
                items={"$ref": "#/$defs/column"},
                **{"x-unique-key": "name"},
            ),
            "primary_key": _prop(
                "Primary key",
                "Columns that together form the primary key (a composite key).",
                type="array",
                minItems=1,
                uniqueItems=True,
                items=_NAME,
            ),
            "unique": _prop(
                "Unique together",
                "Lists of columns whose combined values are unique.",
                type="array",
                items={"type": "array", "minItems": 1, "uniqueItems": True, "items": _NAME},
            ),
            "foreign_keys": _prop(
                "Foreign keys",
                "Columns of this table that refer to other tables (or to this one).",
                type="array",
                items={"$ref": "#/$defs/foreign_key"},
            ),
        },
        "additionalProperties": False,
    },
    "performance": {
        "title": "Performance",
        "description": "Parallelism and memory settings.",
        "type": "object",
        "properties": {
            "max_workers": _prop("Maximum workers", "Most parallel workers.", type="integer", minimum=1),
            "max_memory_mb": _prop(
                "Maximum memory (MB)", "Memory budget per worker in MB.", type="number", exclusiveMinimum=0
            ),
            "enable_streaming": _prop("Streaming", "Generate and write in bounded chunks.", type="boolean"),
            "batch_size": _prop("Batch size", "Rows generated per chunk.", type="integer", minimum=1),
            "max_total_rows": _prop(
                "Maximum total rows",
                "The most rows a plan may have over all its tables (default 10^12); a larger plan is refused "
                "before anything runs. --allow-huge lifts the limit.",
                type="integer",
                minimum=1,
            ),
        },
        "additionalProperties": False,
    },
    "security": {
        "title": "Security",
        "description": "Masking, encryption and audit settings.",
        "type": "object",
        "properties": {
            "enable_data_masking": _prop(
                "Data masking", "Mask PII/SENSITIVE columns (see column 'masking').", type="boolean"
            ),
            "enable_encryption": _prop("Encryption", "Encrypt PII/SENSITIVE columns.", type="boolean"),
            "audit_enabled": _prop("Audit", "Write an audit trail of security operations.", type="boolean"),
            "key_env": _prop("Key variable", "Environment variable holding the encryption key.", **_NAME),
            "key_file": _prop(
                "Key file", "File holding the encryption key (see 'synthbeam keygen').", type="string", minLength=1
            ),
            "pad_to": _prop(
                "Pad encrypted values",
                "Pad every encrypted value to a multiple of this many bytes before encrypting, so a cell's length "
                "shows only its bucket, not the value's length (default: no padding).",
                type="integer",
                minimum=1,
                maximum=MAX_PAD_TO,
            ),
        },
        "additionalProperties": False,
    },
    "openai": {
        "title": "OpenAI",
        "description": "The OpenAI-compatible endpoint used by openai_generated rules.",
        "type": "object",
        "properties": {
            "enabled": _prop("Enabled", "Whether openai_generated rules may call the endpoint.", **_FLAG),
            "model": _prop("Model", "Model name.", type="string", minLength=1),
            "base_url": _prop("Base URL", "Endpoint URL (default: OpenAI's).", type="string", minLength=1),
            "api_key_env": _prop("API key variable", "Environment variable holding the API key.", **_NAME),
            "max_cost_usd": _prop(
                "Cost limit (USD)", "Stop calling the endpoint past this estimated cost.", type="number", minimum=0
            ),
            "fallback_enabled": _prop(
                "Fallback",
                "When the endpoint cannot give a column its values (unreachable, failing, over max_cost_usd), "
                "fill it with values of its type instead, with a warning.",
                type="boolean",
            ),
            "timeout_seconds": _prop(
                "Timeout (s)", "Seconds to wait for one response.", type="number", exclusiveMinimum=0
            ),
            "cache_dir": _prop("Cache directory", "Where responses are cached.", type="string", minLength=1),
        },
        "additionalProperties": False,
    },
    "output": {
        "title": "Output",
        "description": "Where and how tables are written.",
        "type": "object",
        "properties": {
            "format": _prop(
                "Format", "File format: parquet, avro or csv.", enum=list(OUTPUT_FORMATS), default="parquet"
            ),
            "directory": _prop("Directory", "Output directory (local path or gs:// URL).", type="string", minLength=1),
            "num_shards": _prop("Shards", "Files per table (0: let the runner decide).", type="integer", minimum=0),
            "database": _prop(
                "Database",
                "Load every table into a database (generate --to URL overrides url).",
                type="object",
                properties={
                    "url": _prop(
                        "URL",
                        "postgresql://user@host:port/db, sqlite:///path.db or duckdb:///path.duckdb.",
                        type="string",
                        minLength=1,
                    ),
                    "password_env": _prop(
                        "Password variable",
                        "Environment variable holding the password (keeps it out of the config).",
                        type="string",
                        minLength=1,
                    ),
                    "schema": _prop(
                        "Schema", "PostgreSQL schema the tables go to (default public).", type="string", minLength=1
                    ),
                },
                additionalProperties=False,
            ),
        },
        "additionalProperties": False,
    },
    "logging": {
        "title": "Logging",
        "description": "synthbeam's own log messages (the older generator's logging block): level and file.",
        "type": "object",
        "properties": {
            "level": _prop(
                "Level",
                "Least severe message logged: DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO).",
                type="string",
                pattern=case_insensitive_pattern(LOG_LEVELS),
            ),
            "file": _prop(
                "File",
                "Also append the messages to this file (relative to the config's folder).",
                type="string",
                minLength=1,
            ),
            "format": _prop("Format", "A Python logging format string.", type="string", minLength=1),
        },
        "additionalProperties": False,
    },
}

_RUN_SETTINGS: dict[str, Any] = {
    "seed": _prop("Seed", "Seed of every generated value: same config and seed, same rows.", type="integer"),
    "locale": _prop("Locale", "Faker locale, e.g. en_US.", type="string", minLength=1, default="en_US"),
    "rows": _prop("Rows", "Rows for tables that set none.", type="integer", minimum=0),
    "scale": _prop("Scale", "Multiplies every table's row count.", **_POSITIVE, default=1),
    "as_of": _prop(
        "As of", "The date 'today' means for default date ranges (YYYY-MM-DD).", type="string", format="date"
    ),
}

_SETTINGS_REFS = {
    name: _prop(_DEFS[name]["title"], _DEFS[name]["description"], **{"$ref": f"#/$defs/{name}"})
    for name in SETTINGS_BLOCKS
}

_DEFS["environment"] = {
    "title": "Environment",
    "description": "Overrides of the generation settings, applied with --environment NAME.",
    "type": "object",
    "properties": {**copy.deepcopy(_SETTINGS_REFS), **copy.deepcopy(_RUN_SETTINGS)},
    "additionalProperties": False,
}

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": SCHEMA_DIALECT,
    "title": "synthbeam config",
    "description": "Tables, columns and rules of a synthetic data set, plus generation settings.",
    "type": "object",
    "required": ["tables"],
    "properties": {
        "$schema": _prop("Schema", "The JSON Schema this file follows (for editors).", type="string"),
        **_RUN_SETTINGS,
        "tables": _prop(
            "Tables",
            "The tables to generate.",
            type="array",
            minItems=1,
            items={"$ref": "#/$defs/table"},
            **{"x-unique-key": "table_name"},
        ),
        **_SETTINGS_REFS,
        "environments": _prop(
            "Environments",
            "Named overrides of the generation settings, picked with --environment.",
            type="object",
            additionalProperties=_prop("Environment", "One named set of overrides.", **{"$ref": "#/$defs/environment"}),
        ),
    },
    "additionalProperties": False,
    "$defs": _DEFS,
}


def config_schema() -> dict[str, Any]:
    """The config's JSON Schema (a copy: callers may change it).

    The rule object's description lists every registered rule type with the keys
    its class declares (plugins included), so it cannot drift from the registry.
    """
    from synthbeam.rules.config import catalog  # noqa: F401  (registers every rule family)
    from synthbeam.rules.core.declared import schema_description

    schema = copy.deepcopy(CONFIG_SCHEMA)
    schema["$defs"]["rule_object"]["description"] = schema_description()
    return schema


def setting_schema(dotted: str) -> dict[str, Any] | None:
    """The schema of a run setting named by a dotted key (``seed``, ``output.format``), if any.

    Tables and environments are not settings: a command line cannot reach into them.
    """
    schema: dict[str, Any] = CONFIG_SCHEMA
    for part in dotted.split("."):
        schema = _resolve(schema)
        found = schema.get("properties", {}).get(part)
        if found is None or part in ("tables", "environments", "$schema"):
            return None
        schema = found
    return _resolve(schema)


# --- places -----------------------------------------------------------------------------------


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


# --- values in messages --------------------------------------------------------------------------

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


def _resolve(schema: Mapping[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"unsupported $ref {ref!r}")
        schema = CONFIG_SCHEMA["$defs"][ref[len("#/$defs/") :]]
        seen += 1
        if seen > 20:
            raise ValueError("$ref loop")
    return dict(schema)


def _branch_types(schema: Mapping[str, Any]) -> set[str] | None:
    """The JSON types a branch can accept, or None when it accepts any."""
    schema = _resolve(schema)
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


# --- the validator ----------------------------------------------------------------------------


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
        schema = _resolve(schema)
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
    keys = [k for k in _RUN_SETTINGS]
    for block in SETTINGS_BLOCKS:
        keys.extend(f"{block}.{name}" for name in _DEFS[block]["properties"])
    return keys
