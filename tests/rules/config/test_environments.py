"""Settings in layers: file < environment < command line, each layer noted."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from synthbeam.rules.config.environments import deep_merge, flatten, set_dotted
from synthbeam.rules.config.loader import LoadedConfig, load_config, load_config_text

FIXTURES = Path(__file__).parents[1] / "fixtures"
TABLES = [{"table_name": "t", "columns": [{"name": "a", "type": "int"}]}]


def load(config: dict[str, Any], environment: str | None = None, overrides: Any = None) -> LoadedConfig:
    return load_config_text(json.dumps({"tables": TABLES, **config}), "c.json", Path("."),
                            environment=environment, overrides=overrides)


def errors(loaded: LoadedConfig) -> list[str]:
    return [str(issue) for issue in loaded.issues.errors]


LAYERED = {
    "seed": 1,
    "rows": 100,
    "performance": {"max_workers": 8, "batch_size": 1000},
    "output": {"format": "parquet", "directory": "out"},
    "environments": {
        "ci": {"seed": 2, "performance": {"max_workers": 2}, "output": {"format": "csv"}},
        "dev": {"rows": 10},
    },
}


def test_file_then_environment_then_command_line() -> None:
    overrides = {"seed": 3, "output.directory": "/tmp/x", "rows": None}
    loaded = load(LAYERED, environment="ci", overrides=overrides)
    assert errors(loaded) == []
    data = loaded.data
    assert data["seed"] == 3  # command line beats environment beats file
    assert data["rows"] == 100  # None means "not given"
    assert data["performance"] == {"max_workers": 2, "batch_size": 1000}  # merged, not replaced
    assert data["output"] == {"format": "csv", "directory": "/tmp/x"}
    assert loaded.environment == "ci"
    assert loaded.notes == [
        "environment 'ci' applied: seed=2, performance.max_workers=2, output.format=csv",
        "command line: seed=3, output.directory=/tmp/x",
    ]


def test_without_an_environment_the_file_stands() -> None:
    loaded = load(LAYERED)
    assert loaded.environment is None and loaded.notes == []
    assert loaded.data["seed"] == 1 and loaded.data["output"]["format"] == "parquet"


def test_unknown_environment_lists_the_known_names() -> None:
    loaded = load(LAYERED, environment="prod")
    assert errors(loaded) == ["environments: unknown environment 'prod'; known: ci, dev"]
    assert loaded.environment is None
    assert loaded.data["seed"] == 1


def test_unknown_environment_when_none_are_defined() -> None:
    assert errors(load({}, environment="ci")) == [
        "environments: unknown environment 'ci': the config defines no environments"
    ]


def test_every_environment_setting_applies() -> None:
    loaded = load_config(FIXTURES / "full.json", environment="ci")
    assert errors(loaded) == []
    data = loaded.data
    assert (data["seed"], data["rows"], data["scale"], data["locale"], data["as_of"]) == (
        1, 10, 0.5, "de_DE", "2024-01-01")
    assert data["output"] == {"format": "csv", "directory": "out", "num_shards": 1}
    assert data["performance"]["max_workers"] == 2 and data["performance"]["batch_size"] == 5000
    assert loaded.notes == [
        "environment 'ci' applied: performance.max_workers=2, output.format=csv, output.num_shards=1, "
        "seed=1, rows=10, scale=0.5, locale=de_DE, as_of=2024-01-01"
    ]


def test_a_bad_environment_value_is_reported_once_and_not_applied() -> None:
    config = {**LAYERED, "environments": {"ci": {"performance": {"max_workers": "2", "batch_size": 50},
                                                  "tables": []}}}
    loaded = load(config, environment="ci")
    assert errors(loaded) == [
        "environments.ci.performance.max_workers: must be an integer, got string '2'",
        "environments.ci: unknown key 'tables' (allowed: performance, security, openai, output, logging, seed, "
        "locale, rows, scale, as_of)",
    ]
    assert loaded.data["performance"] == {"max_workers": 8, "batch_size": 50}
    assert loaded.data["tables"] == TABLES
    assert loaded.notes == ["environment 'ci' applied: performance.batch_size=50"]


def test_an_empty_environment_changes_nothing() -> None:
    loaded = load({**LAYERED, "environments": {"quiet": {"output": {}}}}, environment="quiet")
    assert loaded.notes == ["environment 'quiet' applied: no changes"]
    assert loaded.data["output"] == {"format": "parquet", "directory": "out"}


def test_command_line_overrides() -> None:
    overrides = {
        "scale": 2.0,
        "locale": "fr_FR",
        "as-of": dt.date(2024, 5, 1),
        "output": {"format": "avro", "num_shards": 4},
        "performance.max_workers": 3,
        "output.directory": Path("/data/out"),
    }
    loaded = load({}, overrides=overrides)
    assert errors(loaded) == []
    data = loaded.data
    assert (data["scale"], data["locale"], data["as_of"]) == (2.0, "fr_FR", "2024-05-01")
    assert loaded.data["output"] == {"format": "avro", "num_shards": 4, "directory": "/data/out"}
    assert loaded.data["performance"] == {"max_workers": 3}
    assert loaded.notes == [
        "command line: scale=2.0, locale=fr_FR, as_of=2024-05-01, output.format=avro, output.num_shards=4, "
        "performance.max_workers=3, output.directory=/data/out"
    ]


def test_bad_command_line_values_are_errors_and_not_applied() -> None:
    loaded = load({"seed": 5}, overrides={"seed": "abc", "output.format": "xlsx", "colour": "red", "rows": 7})
    assert errors(loaded) == [
        "seed (command line): must be an integer, got string 'abc'",
        "output.format (command line): 'xlsx' is not one of parquet, avro, csv",
        "colour (command line): unknown setting 'colour' (allowed: seed, locale, rows, scale, as_of, "
        "performance.max_workers, performance.max_memory_mb, performance.enable_streaming, "
        "performance.batch_size, performance.max_total_rows, security.enable_data_masking, security.enable_encryption, "
        "security.audit_enabled, security.key_env, security.key_file, security.pad_to, openai.enabled, openai.model, "
        "openai.base_url, openai.api_key_env, openai.max_cost_usd, openai.fallback_enabled, "
        "openai.timeout_seconds, openai.cache_dir, output.format, output.directory, output.num_shards, "
        "output.database, logging.level, logging.file, logging.format)",
    ]
    assert loaded.data["seed"] == 5 and "output" not in loaded.data and loaded.data["rows"] == 7
    assert loaded.notes == ["command line: rows=7"]


def test_command_line_cannot_reach_into_tables() -> None:
    loaded = load({}, overrides={"tables": []})
    assert len(errors(loaded)) == 1
    assert errors(loaded)[0].startswith("tables (command line): unknown setting 'tables' (allowed: seed,")
    assert loaded.data["tables"] == TABLES


def test_helpers_do_not_share_or_mutate() -> None:
    base = {"a": {"b": 1, "c": [1]}, "d": 1}
    overlay = {"a": {"b": 2}, "e": {"f": [2]}}
    merged = deep_merge(base, overlay)
    assert merged == {"a": {"b": 2, "c": [1]}, "d": 1, "e": {"f": [2]}}
    assert base == {"a": {"b": 1, "c": [1]}, "d": 1} and overlay == {"a": {"b": 2}, "e": {"f": [2]}}
    merged["e"]["f"].append(3)
    assert overlay["e"]["f"] == [2]
    assert list(flatten({"a": {"b": 1, "c": {}}, "d": None})) == [("a.b", 1), ("d", None)]
    target: dict[str, Any] = {"output": "broken"}
    set_dotted(target, "output.format", "csv")
    assert target == {"output": {"format": "csv"}}
