"""One contract for every registered rule class, built-in or plugin: no list of rule types to keep.

Each class gives an ``example`` (column type, rule object); from it the test builds a one-table plan
and asks: values depend only on the row index (the same rows twice, and any block split, give the
same values), the rule makes the type it declares, and ``check`` accepts the rule's own output
(running the rule's conformance check when it has one).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthbeam.pipeline.check import check_output, format_result
from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.config import catalog  # noqa: F401
from synthbeam.rules.core.registry import Rows, Rule, iter_rule_classes
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.core.types import arrow_type
from synthbeam.rules.engine.batch import generate_batch
from tests.conftest import TEMPLATES
from tests.llm_stub import StubLLM

ROWS = 600
KEY_ENV = "SYNTHBEAM_CONTRACT_OPENAI_KEY"
CLASSES = sorted(iter_rule_classes(), key=lambda cls: (cls.__module__, cls.__qualname__))


def _id(cls: type[Rule]) -> str:
    return cls.names[0] if cls.names else cls.__qualname__


@pytest.fixture(scope="module")
def llm() -> Iterator[StubLLM]:
    server = StubLLM().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def plan_of(tmp_path: Path, llm: StubLLM, monkeypatch: pytest.MonkeyPatch):
    """A one-table plan around a rule object; the config sits next to a copy of templates/data."""
    monkeypatch.setenv(KEY_ENV, "sk-contract")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    shutil.copytree(TEMPLATES / "data", tmp_path / "data")

    def make(column_type: str, rule: dict[str, Any]) -> Any:
        config = {
            "seed": 7,
            "as_of": "2026-01-01",
            "openai": {
                "enabled": True,
                "base_url": llm.base_url,
                "api_key_env": KEY_ENV,
                "timeout_seconds": 5,
                "cache_dir": str(tmp_path / "llm-cache"),
            },
            "tables": [
                {
                    "table_name": "t",
                    "rows": ROWS,
                    "columns": [
                        {"name": "id", "type": "int", "constraint": ["PK"]},
                        {"name": "v", "type": column_type, "rule": rule},
                    ],
                }
            ],
        }
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        return build_plan(str(path))[0]

    return make


def test_every_registered_class_declares_its_keys_and_an_example() -> None:
    undeclared = [cls.__qualname__ for cls in CLASSES if cls.parameters is None or cls.example is None]
    assert not undeclared, f"rule classes without declared parameters or an example: {undeclared}"


@pytest.mark.parametrize("rule_class", CLASSES, ids=_id)
def test_rule_contract(rule_class: type[Rule], plan_of, tmp_path: Path) -> None:
    assert rule_class.example is not None
    column_type, spec = rule_class.example
    plan = plan_of(column_type, dict(spec))
    column = plan.tables["t"].column("v")
    rule = column.rule
    assert isinstance(rule, rule_class)

    # Determinism by index, and block-split equality: [0, n) == [0, k) + [k, n) for any k.
    whole = generate_batch(plan, "t", 0, ROWS).column("v")
    assert whole.to_pylist() == generate_batch(plan, "t", 0, ROWS).column("v").to_pylist()
    for split in (1, 257, ROWS - 1):
        parts = [generate_batch(plan, "t", 0, split), generate_batch(plan, "t", split, ROWS)]
        joined = pa.concat_arrays([part.column("v") for part in parts])
        assert joined.to_pylist() == whole.to_pylist(), split

    # The declared output type is the type the rule makes.
    # A rule reading other columns (template, expr) gets them from the table's own rows.
    table = generate_batch(plan, "t", 0, 50)
    rows = Rows(np.arange(50, dtype=np.uint64), lambda name, index: table.column(name).take(pa.array(index)))
    made = rule.generate(rows, Stream(11))
    assert made.type == arrow_type(rule.output_type), (made.type, rule.output_type)

    # check accepts the rule's own output, and runs the rule's conformance check when it has one.
    out = tmp_path / "out"
    (out / "t").mkdir(parents=True)
    batch = generate_batch(plan, "t", 0, ROWS)
    pq.write_table(pa.Table.from_batches([batch]), out / "t" / "part-00000.parquet")
    result = check_output(plan, out, "parquet")
    assert result.ok, result.breaches
    checks = result.checked["t"]["checks"]
    skipped = result.checked["t"]["skipped"]
    if rule_class.derived_from_row:
        # A pure function of the row (template, expr): check recomputes every row from its written inputs.
        assert "computed(v)" in checks, checks
    elif rule_class.has_value_check:
        assert any(name.endswith("(v)") and not name.startswith(("not_null", "unique")) for name in checks), checks
    else:
        assert any(reason.startswith("v: values (") and "no conformance check" in reason for reason in skipped)
        # ... which `check --verbose` prints.
        assert "t: skipped v: values (rule " in format_result(result, verbose=True)
