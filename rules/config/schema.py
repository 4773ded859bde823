"""The config's JSON Schema: every key of the config language, titled and described.

``CONFIG_SCHEMA`` (draft 2020-12 style) describes every key of the config
language in CONTRACT.md section 3, with a ``title`` and ``description`` on
every property so editors can complete configs; ``config_schema()`` returns a
copy for ``synthbeam schema``.

Rule objects are described from the rule classes' declarations (:mod:`synthbeam.rules.core.declared`);
:mod:`.validator` checks a config against this document.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

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


DEFS: dict[str, Any] = {
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


RUN_SETTINGS: dict[str, Any] = {
    "seed": _prop("Seed", "Seed of every generated value: same config and seed, same rows.", type="integer"),
    "locale": _prop("Locale", "Faker locale, e.g. en_US.", type="string", minLength=1, default="en_US"),
    "rows": _prop("Rows", "Rows for tables that set none.", type="integer", minimum=0),
    "scale": _prop("Scale", "Multiplies every table's row count.", **_POSITIVE, default=1),
    "as_of": _prop(
        "As of", "The date 'today' means for default date ranges (YYYY-MM-DD).", type="string", format="date"
    ),
}


_SETTINGS_REFS = {
    name: _prop(DEFS[name]["title"], DEFS[name]["description"], **{"$ref": f"#/$defs/{name}"})
    for name in SETTINGS_BLOCKS
}


DEFS["environment"] = {
    "title": "Environment",
    "description": "Overrides of the generation settings, applied with --environment NAME.",
    "type": "object",
    "properties": {**copy.deepcopy(_SETTINGS_REFS), **copy.deepcopy(RUN_SETTINGS)},
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
        **RUN_SETTINGS,
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
    "$defs": DEFS,
}


def config_schema() -> dict[str, Any]:
    """The config's JSON Schema (a copy: callers may change it).

    The rule object's description lists every registered rule type with the keys
    its class declares (plugins included), and one ``if``/``then`` per type gives
    editors those keys with their types, so it cannot drift from the registry.
    """
    from synthbeam.rules.config import catalog  # noqa: F401  (registers every rule family)
    from synthbeam.rules.core.declared import rule_type_schemas, schema_description

    schema = copy.deepcopy(CONFIG_SCHEMA)
    schema["$defs"]["rule_object"]["description"] = schema_description()
    schema["$defs"]["rule_object"]["allOf"] = rule_type_schemas()
    return schema


def setting_schema(dotted: str) -> dict[str, Any] | None:
    """The schema of a run setting named by a dotted key (``seed``, ``output.format``), if any.

    Tables and environments are not settings: a command line cannot reach into them.
    """
    schema: dict[str, Any] = CONFIG_SCHEMA
    for part in dotted.split("."):
        schema = resolve(schema)
        found = schema.get("properties", {}).get(part)
        if found is None or part in ("tables", "environments", "$schema"):
            return None
        schema = found
    return resolve(schema)


def resolve(schema: Mapping[str, Any]) -> dict[str, Any]:
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
