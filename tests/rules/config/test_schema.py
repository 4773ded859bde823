"""The config's JSON Schema and the validator: every problem, with its place and what is allowed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synthbeam.rules.config.schema import (
    CONFIG_SCHEMA,
    SCHEMA_DIALECT,
    case_insensitive_pattern,
    config_schema,
    setting_schema,
)
from synthbeam.rules.config.validator import ConfigPlaces, settable_keys, validate_config, validate_setting
from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.types import TYPE_SYNONYMS

FIXTURES = Path(__file__).parents[1] / "fixtures"
DROP = object()


def problems(config: dict[str, Any]) -> list[str]:
    return [str(issue) for issue in validate_config(config).errors]


def one_column(column: dict[str, Any], **table: Any) -> dict[str, Any]:
    return {"tables": [{"table_name": "t", "columns": [{"name": "a", "type": "str"}, column], **table}]}


def only(config: dict[str, Any]) -> str:
    found = problems(config)
    assert len(found) == 1, found
    return found[0]


# --- the schema itself ---------------------------------------------------------------------------


def test_schema_is_json_and_a_copy() -> None:
    schema = config_schema()
    assert json.loads(json.dumps(schema)) == schema
    assert schema["$schema"] == SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    schema["properties"].clear()
    assert CONFIG_SCHEMA["properties"]


def _property_schemas(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}.{name}", sub
        if isinstance(node.get("additionalProperties"), dict):
            yield f"{where}.*", node["additionalProperties"]
        for key, value in node.items():
            yield from _property_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _property_schemas(value, f"{where}[{index}]")


def test_every_property_has_a_title_and_description() -> None:
    found = list(_property_schemas(CONFIG_SCHEMA))
    assert len(found) > 60
    for where, sub in found:
        assert sub.get("title") and sub.get("description"), where
    for name, definition in CONFIG_SCHEMA["$defs"].items():
        assert definition.get("title") and definition.get("description"), name


def test_schema_patterns_compile_and_refs_resolve() -> None:
    text = json.dumps(CONFIG_SCHEMA)
    for ref in re.findall(r'"\$ref": "#/\$defs/(\w+)"', text):
        assert ref in CONFIG_SCHEMA["$defs"]
    for pattern in re.findall(r'"pattern": ("(?:[^"\\]|\\.)*")', text):
        re.compile(json.loads(pattern))


def test_schema_covers_the_contract_keys() -> None:
    props = CONFIG_SCHEMA["properties"]
    defs = CONFIG_SCHEMA["$defs"]
    assert {"seed", "locale", "rows", "as_of", "tables", "performance", "security", "openai", "output",
            "environments"} <= set(props)
    assert set(defs["table"]["properties"]) == {"table_name", "rows", "columns", "primary_key", "unique",
                                               "foreign_keys"}
    assert set(defs["column"]["properties"]) == {
        "name", "type", "rule", "constraint", "nullable", "null_probability", "length", "min_length",
        "max_length", "sensitivity", "masking", "conditional_rules"}
    assert set(defs["foreign_key"]["properties"]) == {
        "child_column", "parent_table", "parent_column", "distribution", "weights", "s", "null_probability",
        "children_per_parent"}
    assert set(defs["performance"]["properties"]) == {"max_workers", "max_memory_mb", "enable_streaming",
                                                      "batch_size", "max_total_rows"}
    assert set(defs["security"]["properties"]) == {"enable_data_masking", "enable_encryption", "pad_to",
                                                   "audit_enabled", "key_env", "key_file"}
    assert set(defs["openai"]["properties"]) == {
        "enabled", "model", "base_url", "api_key_env", "max_cost_usd", "fallback_enabled", "timeout_seconds",
        "cache_dir"}
    assert set(defs["output"]["properties"]) == {"format", "directory", "num_shards", "database"}
    assert set(defs["output"]["properties"]["database"]["properties"]) == {"url", "password_env", "schema"}
    assert defs["output"]["properties"]["format"]["enum"] == ["parquet", "avro", "csv"]
    assert set(defs["environment"]["properties"]) >= {"performance", "security", "openai", "output", "seed",
                                                      "rows", "locale", "as_of"}


def _keys(node: Any, inside_rule: bool = False) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if not inside_rule:
                yield key
            yield from _keys(value, inside_rule or key == "rule")
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item, inside_rule)


def test_every_key_of_the_contract_example_is_accepted() -> None:
    example = json.loads((FIXTURES / "contract_example.json").read_text(encoding="utf-8"))
    assert validate_config(example).items == []
    described = set(re.findall(r'"(\w+)": \{"title"', json.dumps(CONFIG_SCHEMA)))
    for key in set(_keys(example)):
        assert key in described, key


def test_a_config_with_every_optional_block_validates_clean() -> None:
    full = json.loads((FIXTURES / "full.json").read_text(encoding="utf-8"))
    assert validate_config(full).items == []


@pytest.mark.parametrize("name", [*TYPE_SYNONYMS, "INT", "Integer", "DateTime", "UUID"])
def test_every_type_synonym_is_accepted_in_any_case(name: str) -> None:
    assert problems(one_column({"name": "b", "type": name})) == []


def test_case_insensitive_pattern_is_ecmascript_friendly() -> None:
    pattern = case_insensitive_pattern(["not_null", "PK"])
    assert pattern == "^(?:[nN][oO][tT]_[nN][uU][lL][lL]|[pP][kK])$"
    assert all(re.match(pattern, word) for word in ("NOT_NULL", "pk", "Not_Null"))
    assert not re.match(pattern, "notnull")


# --- places ----------------------------------------------------------------------------------


def test_places_follow_the_project_format() -> None:
    config = {"tables": [{"table_name": "orders", "columns": [{"name": "id"}, {"type": "int"}]},
                         {"columns": []}, {"table_name": "x"}, {"table_name": "x"}]}
    places = ConfigPlaces(config)
    assert places.place(["seed"]) == "seed"
    assert places.place(["output", "format"]) == "output.format"
    assert places.place(["tables", 0]) == "orders"
    assert places.place(["tables", 1]) == "tables[1]"
    assert places.place(["tables", 2]) == "tables[2] (x)"
    assert places.place(["tables", 0, "columns", 0, "rule", "min"]) == "orders.columns[0] (id).rule.min"
    assert places.place(["tables", 0, "columns", 1]) == "orders.columns[1]"
    assert (places.place(["tables", 0, "columns", 0, "conditional_rules", 0, "when", 1, "operator"])
            == "orders.columns[0] (id).conditional_rules[0].when[1].operator")
    assert places.place(["tables", 0, "foreign_keys", 0]) == "orders.foreign_keys[0]"
    assert places.place(["environments", "ci", "output", "format"]) == "environments.ci.output.format"
    assert places.split(["tables", 0, "columns", 0, "type"]) == ("orders.columns[0] (id)", "type")
    assert places.split(["tables", 0, "rows"]) == ("orders", "rows")
    assert places.split(["tables", 0, "foreign_keys", 0, "s"]) == ("orders.foreign_keys[0]", "s")
    assert places.split(["output", "format"]) == ("output.format", None)


# --- one message per kind of problem -------------------------------------------------------------


@pytest.mark.parametrize(("config", "message"), [
    ({"seed": 1.5, "tables": []}, "seed: must be an integer, got number 1.5"),
    ({"seed": True, "tables": []}, "seed: must be an integer, got boolean true"),
    ({"locale": 5, "tables": []}, "locale: must be a string, got integer 5"),
    ({"rows": -1, "tables": []}, "rows: must be >= 0, got -1"),
    ({"scale": 0, "tables": []}, "scale: must be > 0, got 0"),
    ({"as_of": "2024-02-30", "tables": []}, "as_of: '2024-02-30' is not a date in YYYY-MM-DD form"),
    ({"as_of": "20240101", "tables": []}, "as_of: '20240101' is not a date in YYYY-MM-DD form"),
    ({"output": {"format": "Parquet"}, "tables": []},
     "output.format: 'Parquet' is not one of parquet, avro, csv; did you mean 'parquet'?"),
    ({"output": {"num_shards": -1}, "tables": []}, "output.num_shards: must be >= 0, got -1"),
    ({"output": "csv", "tables": []}, "output: must be an object, got string 'csv'"),
    ({"performance": {"max_workers": 0}, "tables": []}, "performance.max_workers: must be >= 1, got 0"),
    ({"performance": {"enable_streaming": "yes"}, "tables": []},
     "performance.enable_streaming: must be true or false, got string 'yes'"),
    ({"security": {"key_file": ""}, "tables": []}, "security.key_file: must not be empty"),
    ({"openai": {"timeout_seconds": 0}, "tables": []}, "openai.timeout_seconds: must be > 0, got 0"),
    ({"openai": {"max_cost": 1}, "tables": []},
     "openai: unknown key 'max_cost'; did you mean 'max_cost_usd'?"),
    ({"environments": {"ci": {"output": {"format": "xml"}}}, "tables": []},
     "environments.ci.output.format: 'xml' is not one of parquet, avro, csv"),
    ({"environments": {"ci": {"row": 5}}, "tables": []},
     "environments.ci: unknown key 'row'; did you mean 'rows'?"),
    ({"environments": ["ci"], "tables": []}, "environments: must be an object, got a list"),
    ({"Tables": []}, "missing required key 'tables'"),
    ({"tables": []}, "tables: must not be empty"),
])
def test_top_level_problems(config: dict[str, Any], message: str) -> None:
    found = problems(config)
    assert message in found, found


def test_unknown_top_level_key_without_a_close_match_lists_what_is_allowed() -> None:
    message = only({"tables": [{"table_name": "t", "columns": [{"name": "a", "type": "int"}]}], "zzz": 1})
    assert message.startswith("unknown top-level key 'zzz' (allowed: seed, locale, rows, scale, as_of, ")


@pytest.mark.parametrize(("table", "message"), [
    ({"table_name": 5}, "tables[0]: table_name must be a string, got integer 5"),
    ({"table_name": ""}, "tables[0]: table_name must not be empty"),
    ({"table_name": "t", "rows": "10"}, "t: rows must be an integer, got string '10'"),
    ({"table_name": "t", "rows": 10.0}, "t: rows must be an integer, got number 10.0"),
    ({"table_name": "t", "columns": []}, "t: columns must not be empty"),
    ({"table_name": "t", "primary_key": []}, "t: primary_key must not be empty"),
    ({"table_name": "t", "primary_key": ["a", "a"]}, "t: primary_key lists 'a' more than once"),
    ({"table_name": "t", "unique": ["a"]}, "t.unique[0]: must be a list, got string 'a'"),
    ({"table_name": "t", "foreign_key": []}, "t: unknown key 'foreign_key'; did you mean 'foreign_keys'?"),
    ({"table_name": "t", "foreign_keys": {}}, "t: foreign_keys must be a list, got an object"),
    ({"table_name": "t", "row": 3}, "t: unknown key 'row'; did you mean 'rows'?"),
])
def test_table_problems(table: dict[str, Any], message: str) -> None:
    table.setdefault("columns", [{"name": "a", "type": "int"}])
    assert only({"tables": [table]}) == message


@pytest.mark.parametrize(("column", "message"), [
    ({"type": "int"}, "t.columns[1]: missing required key 'name'"),
    ({"name": "b"}, "t.columns[1] (b): missing required key 'type'"),
    ({"name": "b", "type": "money"},
     "t.columns[1] (b): type 'money' is not one of int, integer, float, double, decimal, bool, boolean, str, "
     "string, text, date, time, timestamp, datetime, uuid, email, phone"),
    ({"name": "b", "type": "integr"}, "did you mean 'integer'?"),
    ({"name": "b", "type": "varchar"}, "did you mean 'str'?"),
    ({"name": "b", "type": 3}, "t.columns[1] (b): type must be a string, got integer 3"),
    ({"name": "b", "type": "str", "rule": 5}, "t.columns[1] (b): rule must be a string, an object or null, "
                                              "got integer 5"),
    ({"name": "b", "type": "str", "rule": ""}, "t.columns[1] (b): rule must not be empty"),
    ({"name": "b", "type": "str", "rule": {"min": 1}}, "t.columns[1] (b).rule: missing required key 'type'"),
    ({"name": "b", "type": "str", "rule": {"type": "range", "prefix": 5}},
     "t.columns[1] (b).rule.prefix: must be a string, got integer 5"),
    ({"name": "b", "type": "str", "rule": {"type": "x", "suffix": None}},
     "t.columns[1] (b).rule.suffix: must be a string, got null"),
    ({"name": "b", "type": "str", "rule": {"type": "regex", "regex": ["a"]}},
     "t.columns[1] (b).rule.regex: must be a string, got a list"),
    ({"name": "b", "type": "str", "constraint": ["primary_key"]},
     "t.columns[1] (b).constraint[0]: 'primary_key' is not one of PK, unique, not_null; did you mean 'PK'?"),
    ({"name": "b", "type": "str", "constraint": ["notnull"]},
     "t.columns[1] (b).constraint[0]: 'notnull' is not one of PK, unique, not_null; "
     "did you mean 'not_null'?"),
    ({"name": "b", "type": "str", "nullable": "yes"},
     "t.columns[1] (b): nullable must be true or false, got string 'yes'"),
    ({"name": "b", "type": "str", "null_probability": -0.1},
     "t.columns[1] (b): null_probability must be >= 0, got -0.1"),
    ({"name": "b", "type": "str", "null_probability": 1.01},
     "t.columns[1] (b): null_probability must be <= 1, got 1.01"),
    ({"name": "b", "type": "str", "length": -1}, "t.columns[1] (b): length must be >= 0, got -1"),
    ({"name": "b", "type": "str", "max_length": "9"},
     "t.columns[1] (b): max_length must be an integer, got string '9'"),
    ({"name": "b", "type": "str", "sensitivity": "SECRET"},
     "t.columns[1] (b): sensitivity 'SECRET' is not one of PUBLIC, INTERNAL, CONFIDENTIAL, PII, SENSITIVE"),
    ({"name": "b", "type": "str", "masking": {"strategy": "blur"}},
     "t.columns[1] (b).masking.strategy: 'blur' is not one of partial, redact, hash, null"),
    ({"name": "b", "type": "str", "masking": {}},
     "t.columns[1] (b).masking: missing required key 'strategy'"),
    ({"name": "b", "type": "str", "masking": {"strategy": "hash", "salt": 1}},
     "t.columns[1] (b).masking: unknown key 'salt' (allowed: strategy)"),
    ({"name": "b", "type": "str", "conditional_rules": {}},
     "t.columns[1] (b): conditional_rules must be a list, got an object"),
    ({"name": "b", "type": "str", "conditional_rules": [{"rule": None}]},
     "t.columns[1] (b).conditional_rules[0]: missing required key 'when'"),
    ({"name": "b", "type": "str", "conditional_rules": [{"when": [{"column": "a", "operator": "=="}]}]},
     "t.columns[1] (b).conditional_rules[0]: missing required key 'rule'"),
    ({"name": "b", "type": "str", "conditional_rules": [{"when": [], "rule": None}]},
     "t.columns[1] (b).conditional_rules[0].when: must not be empty"),
    ({"name": "b", "type": "str", "conditional_rules": [
        {"when": [{"column": "a", "operator": "is_null"}, {"column": "a", "operator": "~"}], "rule": "x"}]},
     "t.columns[1] (b).conditional_rules[0].when[1].operator: '~' is not one of ==, !=, >, >=, <, <=, in, "
     "not_in, is_null, is_not_null"),
    ({"name": "b", "type": "str", "conditional_rules": [
        {"when": [{"operator": "is_null"}], "rule": "x"}]},
     "t.columns[1] (b).conditional_rules[0].when[0]: missing required key 'column'"),
    ({"name": "b", "type": "str", "conditional_rules": [
        {"when": [{"column": "a", "operator": "==", "values": 1}], "rule": "x"}]},
     "t.columns[1] (b).conditional_rules[0].when[0]: unknown key 'values'; did you mean 'value'?"),
    ({"name": "b", "type": "str", "conditional_rules": [
        {"when": [{"column": "a", "operator": "=="}], "rule": {"type": "range", "prefix": 1}}]},
     "t.columns[1] (b).conditional_rules[0].rule.prefix: must be a string, got integer 1"),
    ({"name": "b", "type": "str", "nulable": True},
     "t.columns[1] (b): unknown key 'nulable'; did you mean 'nullable'?"),
])
def test_column_problems(column: dict[str, Any], message: str) -> None:
    found = only(one_column(column))
    assert message in found
    assert found.startswith("t.columns[1]")


@pytest.mark.parametrize(("fk", "message"), [
    ({"child_column": DROP}, "t.foreign_keys[0]: missing required key 'child_column'"),
    ({"distribution": "uniform"},
     "t.foreign_keys[0]: distribution 'uniform' is not one of random, even, weighted, zipf"),
    ({"distribution": "weighted", "weights": {"1": "heavy"}},
     "t.foreign_keys[0].weights.1: must be a number, got string 'heavy'"),
    ({"distribution": "weighted", "weights": {"1": -1}}, "t.foreign_keys[0].weights.1: must be >= 0, got -1"),
    ({"distribution": "zipf", "s": -1}, "t.foreign_keys[0]: s must be > 0, got -1"),
    ({"null_probability": 3}, "t.foreign_keys[0]: null_probability must be <= 1, got 3"),
    ({"children_per_parent": {"min": 1}},
     "t.foreign_keys[0].children_per_parent: missing required key 'max'"),
    ({"children_per_parent": {"min": -1, "max": 2}},
     "t.foreign_keys[0].children_per_parent.min: must be >= 0, got -1"),
    ({"children_per_parent": {"min": 1, "max": 2.5}},
     "t.foreign_keys[0].children_per_parent.max: must be an integer, got number 2.5"),
    ({"children_per_parent": [1, 2]}, "t.foreign_keys[0]: children_per_parent must be an object, got a list"),
    ({"parent": "p"}, "t.foreign_keys[0]: unknown key 'parent'"),
])
def test_foreign_key_problems(fk: dict[str, Any], message: str) -> None:
    full = {"child_column": "a", "parent_table": "p", "parent_column": "id", **fk}
    full = {key: value for key, value in full.items() if value is not DROP}
    columns = [{"name": "a", "type": "int"}]
    config = {"tables": [{"table_name": "t", "columns": columns, "foreign_keys": [full]}]}
    found = only(config)
    assert found.startswith(message), found


def test_a_table_without_a_name_is_placed_by_index() -> None:
    config = {"tables": [{"table_name": "t", "columns": [{"name": "a", "type": "int"}]},
                         {"columns": [{"name": "b", "type": "money"}]}]}
    assert problems(config) == [
        "tables[1]: missing required key 'table_name'",
        "tables[1].columns[0] (b): type 'money' is not one of int, integer, float, double, decimal, bool, "
        "boolean, str, string, text, date, time, timestamp, datetime, uuid, email, phone",
    ]


def test_rule_objects_keep_their_own_keys() -> None:
    rule = {"type": "choice_from_file", "file_path": "x.csv", "column": "c", "weight_column": "w",
            "anything": [1, {"deep": True}]}
    assert problems(one_column({"name": "b", "type": "str", "rule": rule})) == []


# --- settings given outside the file --------------------------------------------------------------


def test_settings_reachable_by_dotted_keys() -> None:
    assert setting_schema("output.format")["enum"] == ["parquet", "avro", "csv"]
    assert setting_schema("seed")["type"] == "integer"
    assert setting_schema("tables") is None
    assert setting_schema("environments") is None
    assert setting_schema("output.colour") is None
    assert "performance.max_workers" in settable_keys() and "scale" in settable_keys()


def test_validate_setting_places_the_origin() -> None:
    issues = Issues()
    assert validate_setting("seed", 3, issues)
    assert not validate_setting("output.num_shards", -2, issues)
    assert not validate_setting("output.fromat", "csv", issues)
    assert [str(i) for i in issues.items] == [
        "output.num_shards (command line): must be >= 0, got -2",
        "output.fromat (command line): unknown setting 'output.fromat'; did you mean 'output.format'?",
    ]


# --- the schema as editors read it ---------------------------------------------------------------


def _editor_errors(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(JSON path, message) of each error a draft 2020-12 validator (what editors run) reports.

    A rule is a string, a rule object or null (``anyOf``); the errors shown are those of the
    branch the value is meant for: the branches whose ``type`` the value does not have are left out.
    """
    from jsonschema import Draft202012Validator

    def leaves(error: Any) -> list[Any]:
        if not error.context:
            return [error]
        meant = [e for e in error.context if not (e.validator == "type" and e.json_path == error.json_path)]
        return [leaf for inner in meant for leaf in leaves(inner)]

    validator = Draft202012Validator(config_schema())
    return [(leaf.json_path, leaf.message) for error in validator.iter_errors(config) for leaf in leaves(error)]


def _with_rule(rule: dict[str, Any], column_type: str = "int") -> dict[str, Any]:
    return {"tables": [{"table_name": "t", "rows": 5, "columns": [{"name": "c", "type": column_type, "rule": rule}]}]}


def test_the_emitted_schema_is_valid_draft_2020_12() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(config_schema())


@pytest.mark.parametrize("template", sorted((Path(__file__).parents[3] / "templates").glob("*.json")))
def test_every_template_passes_the_editors_schema(template: Path) -> None:
    assert _editor_errors(json.loads(template.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize(
    ("rule", "column_type", "unknown"),
    [
        ({"type": "range", "mn": 500, "max": 510}, "int", "mn"),
        ({"type": "choice", "values": ["a", "b"], "probabilites": {"a": 0.9, "b": 0.1}}, "str", "probabilites"),
        ({"type": "date_range", "start_date": "2020-01-01"}, "date", "start_date"),
        ({"type": "pyint", "min_value": 1}, "int", None),  # a Faker method: only validate knows its params
    ],
)
def test_each_rule_types_keys_come_from_its_class(rule: dict[str, Any], column_type: str, unknown: str | None) -> None:
    errors = _editor_errors(_with_rule(rule, column_type))
    if unknown is None:
        assert errors == []
    else:
        assert [path for path, _ in errors] == ["$.tables[0].columns[0].rule"]
        assert f"'{unknown}' was unexpected" in errors[0][1]


def test_the_editors_schema_gives_each_declared_key_its_type() -> None:
    assert _editor_errors(_with_rule({"type": "range", "min": 1, "max": 9})) == []
    assert _editor_errors(_with_rule({"type": "range", "min": {"column": "d"}, "max": 9})) == []
    errors = _editor_errors(_with_rule({"type": "range", "min": "one", "max": 9}))
    assert [path for path, _ in errors] == ["$.tables[0].columns[0].rule.min"]


def test_every_declaring_class_has_exactly_its_keys() -> None:
    from synthbeam.rules.core.declared import documented_classes, rule_type_schemas
    from synthbeam.rules.core.registry import COMMON_PARAMS

    pairs = {tuple(pair["if"]["properties"]["type"]["enum"]): pair["then"] for pair in rule_type_schemas()}
    declaring = [cls for cls in documented_classes() if cls.parameters is not None and cls.names]
    assert len(pairs) == len(declaring) > 15
    for cls in declaring:
        keys = {key for param in (*COMMON_PARAMS, *cls.parameters) for key in param.keys}
        assert set(pairs[tuple(cls.names)]["properties"]) == keys, cls.names
