"""Loading: raw text -> one normalised dict plus every problem, each with its place."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from synthbeam.rules.config.loader import LoadedConfig, load_config, load_config_text
from synthbeam.rules.core.errors import ConfigError

FIXTURES = Path(__file__).parents[1] / "fixtures"


def write(tmp_path: Path, config: Any, name: str = "config.json") -> Path:
    path = tmp_path / name
    path.write_text(config if isinstance(config, str) else json.dumps(config, indent=2), encoding="utf-8")
    return path


def errors(loaded: LoadedConfig) -> list[str]:
    return [str(issue) for issue in loaded.issues.errors]


def table(columns: list[dict[str, Any]], name: str = "t", **extra: Any) -> dict[str, Any]:
    return {"table_name": name, "columns": columns, **extra}


def raised(path: Path | str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


# --- text and files --------------------------------------------------------------------------


def test_syntax_error_names_file_line_and_column(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, '{\n  "seed": 1\n  "tables": []\n}\n', name="retail.json")
    monkeypatch.chdir(tmp_path)
    error = raised("retail.json")
    assert len(error.issues) == 1
    assert str(error.issues[0]) == "retail.json:3:3: Expecting ',' delimiter"
    assert str(error) == "retail.json:3:3: Expecting ',' delimiter"
    assert error.source == "retail.json"


def test_syntax_error_hints_at_trailing_commas_and_comments(tmp_path: Path) -> None:
    trailing = raised(write(tmp_path, '{"seed": 1,\n}', name="a.json"))
    assert str(trailing).endswith("a.json:2:1: Expecting property name enclosed in double quotes "
                                  "(a trailing comma? JSON allows none)")
    comment = raised(write(tmp_path, '{\n  // note\n  "seed": 1}', name="b.json"))
    assert "b.json:2:3:" in str(comment) and "JSON has no comments" in str(comment)
    quotes = raised(write(tmp_path, "{'seed': 1}", name="c.json"))
    assert "c.json:1:2:" in str(quotes) and "double quotes" in str(quotes)


def test_nan_is_not_json(tmp_path: Path) -> None:
    path = write(tmp_path, '{"seed": 1,\n "rows": NaN}', name="n.json")
    assert str(raised(path)) == f"{path}:2:10: NaN is not a JSON number; write a number or null"


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    error = raised(missing)
    assert str(error) == f"config file not found: {missing}"


def test_directory_and_empty_file_and_bad_encoding(tmp_path: Path) -> None:
    assert "is a directory" in str(raised(tmp_path))
    assert str(raised(write(tmp_path, "  \n", name="e.json"))).endswith("e.json: the file is empty")
    latin = tmp_path / "l.json"
    latin.write_bytes(b'{\n"locale": "\xe9"}')
    assert str(raised(latin)).endswith("l.json:2: the file is not UTF-8 text")


@pytest.mark.parametrize(("text", "kind"), [("[]", "a list"), ('"x"', "a string"), ("3", "a number"),
                                            ("null", "null")])
def test_top_level_must_be_an_object(tmp_path: Path, text: str, kind: str) -> None:
    error = raised(write(tmp_path, text, name="top.json"))
    expected = f'top.json: the top level must be a JSON object with a "tables" list, got {kind}'
    assert str(error).endswith(expected)


def test_byte_order_mark_is_accepted_and_hashed_as_read(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbf" + json.dumps({"tables": [table([{"name": "a", "type": "int"}])]}).encode()
    path = tmp_path / "bom.json"
    path.write_bytes(raw)
    loaded = load_config(path)
    assert loaded.ok
    assert loaded.text_sha256 == hashlib.sha256(raw).hexdigest()


def test_loaded_config_fields(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "configs").mkdir()
    path = write(tmp_path / "configs", {"tables": [table([{"name": "a", "type": "int"}])]})
    monkeypatch.chdir(tmp_path)
    loaded = load_config("configs/config.json")
    assert loaded.source == "configs/config.json"
    assert loaded.config_dir == tmp_path / "configs"
    assert loaded.config_dir.is_absolute()
    assert loaded.text_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.environment is None and loaded.notes == [] and loaded.ok


def test_load_config_text_for_remote_configs() -> None:
    text = json.dumps({"tables": [table([{"name": "a", "type": "int"}])]})
    loaded = load_config_text(text, "gs://bucket/retail.json", Path("."))
    assert loaded.ok and loaded.source == "gs://bucket/retail.json" and loaded.config_dir == Path(".")
    assert loaded.text_sha256 == hashlib.sha256(text.encode()).hexdigest()
    with pytest.raises(ConfigError) as caught:
        load_config_text('{"tables": [', "gs://bucket/retail.json", Path("."))
    assert str(caught.value).startswith("gs://bucket/retail.json:1:13: Expecting value")
    assert "load_config_text" in str(raised("gs://bucket/retail.json"))


def test_repeated_keys_are_warnings_at_their_place(tmp_path: Path) -> None:
    text = ('{"seed": 1, "seed": 2, "tables": [{"table_name": "t", "columns": ['
            '{"name": "a", "type": "int", "rule": "x", "rule": "y"}]}]}')
    loaded = load_config(write(tmp_path, text))
    assert loaded.ok
    assert [str(w) for w in loaded.issues.warnings] == [
        "key 'seed' appears more than once; only the last value is used",
        "t.columns[0] (a): key 'rule' appears more than once; only the last value is used",
    ]
    assert loaded.data["seed"] == 2 and loaded.data["tables"][0]["columns"][0]["rule"] == "y"


def test_raise_for_errors_carries_every_error(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, {"seed": "x", "tables": [table([{"name": "a", "type": "money"}])]}))
    with pytest.raises(ConfigError) as caught:
        loaded.raise_for_errors()
    assert len(caught.value.issues) == 2
    assert str(caught.value).endswith("seed: must be an integer, got string 'x' (and 1 more)")


# --- the contract's configs ----------------------------------------------------------------------


def test_contract_example_loads_clean() -> None:
    loaded = load_config(FIXTURES / "contract_example.json")
    assert loaded.issues.items == []
    assert [t["table_name"] for t in loaded.data["tables"]] == ["customers", "orders"]


def test_fixture_matches_the_contract_example() -> None:
    # The contract lies in shared/ beside the repository, on developers' machines and on CI alike.
    contract = Path(__file__).resolve().parents[4] / "shared" / "spec" / "CONTRACT.md"
    if not contract.exists():
        pytest.skip(f"the shared contract is not at {contract}")
    text = contract.read_text(encoding="utf-8")
    example = text.split("## 3. Config (JSON)\n```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(example) == json.loads((FIXTURES / "contract_example.json").read_text(encoding="utf-8"))


def test_every_optional_block_loads_clean() -> None:
    loaded = load_config(FIXTURES / "full.json")
    assert loaded.issues.items == []
    blocks = {"performance", "security", "openai", "output", "environments", "as_of", "scale"}
    assert set(loaded.data) >= blocks


# --- normalisation -------------------------------------------------------------------------------


def test_normalisation(tmp_path: Path) -> None:
    config = {"tables": [table([
        {"name": "a", "type": " INTEGER ", "constraint": ["pk", "Not_Null", "UNIQUE"]},
        {"name": "b", "type": "Str", "constraint": "unique", "sensitivity": "pii",
         "conditional_rules": [{"when": [{"column": "a", "operator": "IN", "value": [1]},
                                         {"column": "a", "operator": "Is_Null"}], "rule": None}]},
    ])]}
    loaded = load_config(write(tmp_path, config))
    assert loaded.ok, errors(loaded)
    a, b = loaded.data["tables"][0]["columns"]
    assert a == {"name": "a", "type": "integer", "constraint": ["PK", "not_null", "unique"]}
    assert b["type"] == "str" and b["constraint"] == ["unique"] and b["sensitivity"] == "PII"
    assert [c["operator"] for c in b["conditional_rules"][0]["when"]] == ["in", "is_null"]
    assert [str(c) for c in loaded.issues.corrections] == [
        "t.columns[1] (b): constraint 'unique' read as a list: ['unique']"
    ]
    assert "rows" not in loaded.data["tables"][0]


def test_tables_is_always_a_list(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, {"seed": 1}))
    assert errors(loaded) == ["missing required key 'tables'"]
    assert loaded.data["tables"] == []
    loaded = load_config(write(tmp_path, {"tables": "customers"}))
    assert errors(loaded) == ["tables: must be a list, got string 'customers'"]
    assert loaded.data["tables"] == []


# --- every problem, with its place ---------------------------------------------------------------


def test_many_problems_are_all_reported(tmp_path: Path) -> None:
    config = {
        "seed": "42",
        "sed": 1,
        "output": {"format": "xlsx"},
        "tables": [
            table([
                {"name": "id", "type": "int", "constraint": ["PK"]},
                {"name": "customer", "type": "int"},
                {"name": "status", "type": "str"},
                {"name": "amount", "type": "money", "nulable": True, "rule": {"type": "range", "min": "5"},
                 "null_probability": 2},
            ], name="orders", colums=[], rows=-3,
               foreign_keys=[{"child_column": "customer", "parent_table": "customers",
                              "distribution": "zipfian"}]),
            {"columns": [{"name": "a", "type": "str", "conditional_rules": [
                {"when": [{"column": "a", "operator": "="}], "rule": 5}]}]},
        ],
    }
    loaded = load_config(write(tmp_path, config))
    assert errors(loaded) == [
        "seed: must be an integer, got string '42'",
        "unknown top-level key 'sed'; did you mean 'seed'?",
        "output.format: 'xlsx' is not one of parquet, avro, csv",
        "orders.columns[3] (amount): type 'money' is not one of int, integer, float, double, decimal, bool, "
        "boolean, str, string, text, date, time, timestamp, datetime, uuid, email, phone",
        "orders.columns[3] (amount): unknown key 'nulable'; did you mean 'nullable'?",
        "orders.columns[3] (amount): null_probability must be <= 1, got 2",
        "orders: unknown key 'colums'; did you mean 'columns'?",
        "orders: rows must be >= 0, got -3",
        "orders.foreign_keys[0]: missing required key 'parent_column'",
        "orders.foreign_keys[0]: distribution 'zipfian' is not one of random, even, weighted, zipf; "
        "did you mean 'zipf'?",
        "tables[1]: missing required key 'table_name'",
        "tables[1].columns[0] (a).conditional_rules[0].when[0].operator: '=' is not one of ==, !=, >, >=, <, "
        "<=, in, not_in, is_null, is_not_null; did you mean '=='?",
        "tables[1].columns[0] (a).conditional_rules[0].rule: must be a string, an object or null, "
        "got integer 5",
    ]


def test_duplicate_table_and_column_names(tmp_path: Path) -> None:
    config = {"tables": [
        table([{"name": "a", "type": "int"}, {"name": "b", "type": "int"}, {"name": "a", "type": "str"}],
              name="orders"),
        table([{"name": "x", "type": "int"}, {"name": "X", "type": "int"}], name="orders"),
        table([{"name": "y", "type": "int"}], name="Orders"),
    ]}
    loaded = load_config(write(tmp_path, config))
    assert errors(loaded) == [
        "tables[0] (orders).columns[2] (a): name 'a' is already used by columns[0]",
        "tables[1] (orders): table_name 'orders' is already used by tables[0]",
    ]
    assert [str(w) for w in loaded.issues.warnings] == [
        "tables[1] (orders).columns[1] (X): name 'X' differs from columns[0]'s only in letter case; "
        "case-insensitive readers and file systems see one name",
        "Orders: table_name 'Orders' differs from tables[0]'s only in letter case; "
        "case-insensitive readers and file systems see one name",
    ]


def test_table_name_must_be_a_usable_directory_name(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, {"tables": [table([{"name": "a", "type": "int"}], name="a/b"),
                                                     table([{"name": "a", "type": "int"}], name="..")]}))
    assert [e.split(":")[0] for e in errors(loaded)] == ["a/b", ".."]
    assert all("it names the output directory" in e for e in errors(loaded))


def test_loading_never_imports_beam() -> None:
    code = (
        "import sys, synthbeam.rules.config.loader, synthbeam.rules.config.schema, synthbeam.rules.config.legacy, "
        "synthbeam.rules.config.environments; "
        "sys.exit(any(name.split('.')[0] == 'apache_beam' for name in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
