"""A bounded fuzz of the config (issue #12): a rejected config is one line, exit 1 and nothing written;
an accepted one generates.

Each example takes a valid two-table config and applies a few mutations: a rule parameter, a
column or table key, a foreign key field set to a value of the wrong kind (text, null, a list, an
object, a reference, a fraction, a huge or negative number) or deleted. ``generate --rows 50`` runs
in-process through the CLI's ``main``. Examples are few and the run is deadline-bounded: this is a
smoke alarm for crashes ("unexpected ..." errors, tracebacks, partial output), not a search.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pipeline.conftest import read_parquet_table, read_report

BASE: dict[str, Any] = {
    "seed": 7,
    "as_of": "2026-01-01",
    "security": {"enable_data_masking": True},
    "tables": [
        {
            "table_name": "customers",
            "columns": [
                {"name": "id", "type": "int", "constraint": ["PK"]},
                {"name": "name", "type": "str", "rule": "first_name", "length": 20},
                {"name": "vip", "type": "bool", "rule": {"type": "bool", "probability": 0.2}},
                {"name": "score", "type": "float", "rule": {"type": "range", "min": 0, "max": 10, "precision": 2}},
                {"name": "tier", "type": "str",
                 "rule": {"type": "choice", "value": ["gold", "silver"], "probabilities": {"gold": 0.3}}},
                {"name": "joined", "type": "date",
                 "rule": {"type": "date_range", "start": "2020-01-01", "end": "2025-12-31"}},
                {"name": "code", "type": "str", "rule": {"type": "regex", "regex": "[A-Z]{3}-[0-9]{2}"},
                 "nullable": True, "null_probability": 0.1},
                {"name": "note", "type": "str", "rule": {"type": "fixed", "value": "n/a"}},
                {"name": "city", "type": "str", "sensitivity": "PII",
                 "rule": {"type": "choice_from_file", "file_path": "data.csv", "column": "city",
                          "weight_column": "weight"}},
            ],
        },
        {
            "table_name": "orders",
            "columns": [
                {"name": "order_id", "type": "int", "constraint": ["PK"]},
                {"name": "customer_id", "type": "int"},
                {"name": "amount", "type": "int", "rule": {"type": "range", "min": 1, "max": 500}},
                {"name": "placed", "type": "date",
                 "rule": {"type": "date_range", "start": {"column": "customers.joined"}, "end": "2026-01-01"}},
                {"name": "status", "type": "str", "rule": {"type": "choice", "value": ["new", "sent"]}},
                {"name": "sent_on", "type": "date", "rule": None,
                 "conditional_rules": [{"when": [{"column": "status", "operator": "==", "value": "sent"}],
                                        "rule": {"type": "date_range", "start": "2025-01-01", "end": "2025-12-31"}}]},
            ],
            "foreign_keys": [{"child_column": "customer_id", "parent_table": "customers", "parent_column": "id",
                              "distribution": "random"}],
        },
    ],
}  # fmt: skip

DATA_CSV = "city,weight\nLyon,2\nOslo,1\nQuito,0.5\n"
ODD_VALUES = st.sampled_from(
    ["x", "", None, [], [1, "a"], {}, {"a": 1}, {"column": "nope"}, {"column": "id"}, {"column": "amount"},
     {"column": "customers.joined"}, -1, 0, 1, 3, 1.5, 2.0, 10**30, -(10**30), 1e300, True, False, "2025-13-45",
     "2024-06-01", "12:00:00", "1e3", 0.5, "first_name", "choice", "range", "data.csv", "weight", "city",
     "choice_from_file", "hash", {"strategy": "hash"}, {"strategy": "null"}, "PII", "SENSITIVE", ["a", "b"],
     {"a": 0.5}, {"min": 1, "max": 2}]
)  # fmt: skip


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


RULE_KEYS = ("probability", "precision", "min", "max", "start", "end", "value", "probabilities", "file_path",
             "column", "weight_column", "params", "pool_size", "regex", "prefix", "suffix", "type")  # fmt: skip


def _slots(config: dict[str, Any]) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
    """(rule parameter slots, structural slots): (holder, key) pairs a mutation may set or delete.

    Tolerant of what earlier mutations did (a list turned into text is simply not descended into).
    """
    params: list[tuple[Any, Any]] = []
    structure: list[tuple[Any, Any]] = []
    for table in _dicts(config.get("tables")):
        structure += [(table, key) for key in ("rows", "table_name", "columns", "foreign_keys")]
        for fk in _dicts(table.get("foreign_keys")):
            structure += [(fk, key) for key in ("child_column", "parent_table", "parent_column", "distribution",
                                                "null_probability", "children_per_parent", "weights", "s")]  # fmt: skip
        for column in _dicts(table.get("columns")):
            keys = ("name", "type", "rule", "constraint", "nullable", "null_probability", "length", "sensitivity",
                    "masking")  # fmt: skip
            structure += [(column, key) for key in keys]
            rules = [column.get("rule")]
            for branch in _dicts(column.get("conditional_rules")):
                structure += [(branch, "rule"), (branch, "when")]
                structure += [(condition, key) for condition in _dicts(branch.get("when"))
                              for key in ("column", "operator", "value")]  # fmt: skip
                rules.append(branch.get("rule"))
            for rule in rules:
                if isinstance(rule, dict):
                    params += [(rule, key) for key in dict.fromkeys([*rule, *RULE_KEYS])]
    return params, structure


@st.composite
def mutated_configs(draw: st.DrawFn) -> dict[str, Any]:
    config = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 2))):
        params, structure = _slots(config)
        slots = structure if draw(st.integers(0, 3)) == 0 or not params else params
        holder, key = draw(st.sampled_from(slots))
        if draw(st.integers(0, 3)) == 0 and key in holder:
            del holder[key]
        else:
            holder[key] = draw(ODD_VALUES)
    return config


@settings(
    max_examples=45,
    deadline=20_000,
    derandomize=True,  # the same examples on every run: a failure here is reproducible, never flaky
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(config=mutated_configs())
def test_every_config_is_refused_in_one_line_or_generates(cli, config: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="synthbeam-fuzz-") as folder:
        path = Path(folder) / "fuzz.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        (Path(folder) / "data.csv").write_text(DATA_CSV, encoding="utf-8")
        out = Path(folder) / "out"
        run = cli("generate", path, "--rows", 50, "--out", out, "--no-progress")
        if run.code != 0:
            assert run.code == 1, run.err
            lines = run.err.splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), run.err
            assert "unexpected" not in run.err and "Traceback" not in run.err, run.err
            assert not out.exists(), f"a refused run left {sorted(p.name for p in out.rglob('*'))}"
            return
        report = read_report(out)
        for name, entry in report["tables"].items():
            table = read_parquet_table(out, name)
            assert table.num_rows == entry["rows_written"]


def test_the_unmutated_config_generates(cli, tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    path.write_text(json.dumps(BASE), encoding="utf-8")
    (tmp_path / "data.csv").write_text(DATA_CSV, encoding="utf-8")
    run = cli("generate", path, "--rows", 50, "--out", tmp_path / "out", "--no-progress")
    assert run.code == 0, run.err
    assert read_report(tmp_path / "out")["tables"]["orders"]["rows_written"] == 50


pytestmark = pytest.mark.filterwarnings("ignore")
