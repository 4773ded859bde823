"""A rule from another installed package (tests/plugin, entry point ``synthbeam.rules``) works end to end.

``make`` installs tests/plugin into the test venv; nothing in synthbeam names its ``dice`` rule.
validate, plan, generate (in process, multi-process workers, the portable runner) and check all
find it through the entry point, loaded lazily wherever a rule is looked up or a plan unpickled.
"""

from __future__ import annotations

import ast
import json
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

from synthbeam.rules.compiler.compile import build_plan
from tests.pipeline.conftest import read_parquet_table

REPO = Path(__file__).resolve().parents[2]

CONFIG = {
    "seed": 5,
    "as_of": "2026-01-01",
    "tables": [
        {
            "table_name": "games",
            "rows": 400,
            "columns": [
                {"name": "game_id", "type": "int", "constraint": ["PK"]},
                {"name": "roll", "type": "int", "rule": {"type": "dice", "count": 3, "sides": 6}},
                {"name": "label", "type": "str", "rule": {"type": "dice", "sides": 20, "prefix": "d20="}},
            ],
        }
    ],
}


@pytest.fixture
def plugin_config(write_config) -> Path:
    return write_config(json.loads(json.dumps(CONFIG)), "dice.json")


def test_the_plugin_is_installed() -> None:
    from importlib.metadata import entry_points

    names = {entry.name for entry in entry_points(group="synthbeam.rules")}
    assert "dice" in names, "run `make` (it installs tests/plugin into the venv)"


def test_a_fresh_interpreter_finds_the_rule_without_importing_it() -> None:
    code = "from synthbeam.rules.core.registry import lookup_rule; print(lookup_rule('dice').__module__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.stdout.strip() == "synthbeam_dice", done.stderr


def test_validate_plan_generate_check(cli, plugin_config, tmp_path) -> None:
    run = cli("validate", plugin_config)
    assert run.code == 0, run.err
    run = cli("plan", plugin_config)
    assert run.code == 0 and "dice 3d6" in run.out, run.out + run.err
    out = tmp_path / "out"
    run = cli("generate", plugin_config, "--out", out)
    assert run.code == 0, run.err
    rolls = read_parquet_table(out, "games").column("roll").to_pylist()
    assert len(rolls) == 400 and min(rolls) >= 3 and max(rolls) <= 18 and len(set(rolls)) > 10
    run = cli("check", plugin_config, out, "--verbose")
    assert run.code == 0, run.out + run.err
    assert "dice(roll)" in run.out, run.out


def test_check_finds_values_the_plugin_rule_cannot_make(cli, plugin_config, tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    assert cli("generate", plugin_config, "--out", out, "--num-shards", "1").code == 0
    (shard,) = (out / "games").glob("*.parquet")
    table = pq.read_table(shard)
    rolls = table.column("roll").to_pylist()
    rolls[0] = 99
    pq.write_table(table.set_column(1, "roll", pa.array(rolls, pa.int64())), shard)
    run = cli("check", plugin_config, out)
    assert run.code == 1 and "values outside [3, 18]" in run.out, run.out


def test_the_plugins_keys_are_checked_too(cli, write_config) -> None:
    config = json.loads(json.dumps(CONFIG))
    config["tables"][0]["columns"][1]["rule"] = {"type": "dice", "side": 6}
    run = cli("validate", write_config(config, "typo.json"))
    assert run.code == 1
    assert "games.columns[1] (roll): unknown key 'side' in the dice rule: did you mean 'sides'?" in run.err + run.out


def test_a_pickled_plan_generates_in_a_fresh_interpreter(plugin_config, tmp_path) -> None:
    """What a Beam worker does: unpickle the plan (importing the plugin by itself) and generate a block."""
    plan, _ = build_plan(str(plugin_config))
    pickled = tmp_path / "plan.pickle"
    pickled.write_bytes(pickle.dumps(plan))
    code = (
        "import pickle, sys; from synthbeam.rules.engine.batch import generate_batch; "
        "plan = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "print(generate_batch(plan, 'games', 100, 110).column('roll').to_pylist())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(pickled)], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    from synthbeam.rules.engine.batch import generate_batch

    assert done.stdout.strip() == str(generate_batch(plan, "games", 100, 110).column("roll").to_pylist())


@pytest.mark.slow
@pytest.mark.parametrize(
    "runner",
    [
        pytest.param(["--direct_running_mode=multi_processing", "--direct_num_workers=2"], id="multi-process"),
        pytest.param(["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"], id="portable"),
    ],
)
def test_other_runners_write_the_same_rows(cli, plugin_config, tmp_path, runner) -> None:
    local = tmp_path / "local"
    assert cli("generate", plugin_config, "--out", local).code == 0
    other = tmp_path / "other"
    done = subprocess.run(
        [sys.executable, "-m", "synthbeam.pipeline", "generate", str(plugin_config), "--out", str(other), *runner],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    expected = read_parquet_table(local, "games").sort_by("game_id")
    assert read_parquet_table(other, "games").sort_by("game_id").equals(expected)


def _code_without_docstrings(source: str) -> str:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(body, list):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def test_the_docs_example_is_the_tested_plugin() -> None:
    """docs/plugins.md shows the plugin these tests install, comments and docstrings aside."""
    docs = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    shown = re.search(r"```python\n# synthbeam_dice/__init__.py\n(.*?)```", docs, re.S)
    assert shown is not None
    plugin = (REPO / "tests" / "plugin" / "synthbeam_dice" / "__init__.py").read_text(encoding="utf-8")
    assert _code_without_docstrings(shown.group(1)) == _code_without_docstrings(plugin)
    assert "from synthbeam.rules.core import (" in shown.group(1)  # the stable names, not internal modules
