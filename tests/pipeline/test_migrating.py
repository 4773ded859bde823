"""Configs of the older generator (issue 14, items 17-18): the logging block, the pointer to docs/migrating.md."""

from __future__ import annotations

import logging
from pathlib import Path

from tests.pipeline.conftest import read_parquet_table

OLD_STYLE = {
    "seed": 1,
    "logging": {"level": "INFO", "file": "logs/generation.log"},
    "tables": [
        {
            "table_name": "a",
            "rows": 20,
            "columns": [
                {"name": "id", "type": "int", "constraint": ["PK"]},
                {"name": "city", "type": "str", "rule": {"type": "choice", "value": ["X", "Y"]}},
            ],
        },
        {
            "table_name": "b",
            "rows": 5,
            "columns": [{"name": "city", "type": "str"}],
            "foreign_keys": [{"child_column": "city", "parent_table": "a", "parent_column": "city"}],
        },
    ],
}


def test_a_logging_block_is_accepted_and_applied_to_synthbeams_messages(cli, write_config, tmp_path) -> None:
    config = write_config(OLD_STYLE)
    assert cli("validate", config).code == 0
    out = tmp_path / "out"
    run = cli("generate", config, "--out", out)
    assert run.code == 0, run.err
    assert read_parquet_table(out, "b").num_rows == 5
    log = (tmp_path / "logs" / "generation.log").read_text(encoding="utf-8").splitlines()
    assert any(" INFO synthbeam.pipeline.run: generate " in line and "2 table(s), 25 rows" in line for line in log)
    assert any(" INFO synthbeam.pipeline.run: wrote 25 rows to " in line for line in log)
    assert any(" WARNING synthbeam.pipeline.notices: b.foreign_keys[0]: " in line for line in log)
    # The command's end takes the handler away again.
    assert not logging.getLogger("synthbeam").handlers and logging.getLogger("synthbeam").propagate


def test_the_level_filters_messages(cli, write_config, tmp_path) -> None:
    config = write_config({**OLD_STYLE, "logging": {"level": "warning", "file": "quiet.log", "format": "%(message)s"}})
    assert cli("generate", config, "--out", tmp_path / "out").code == 0
    log = (tmp_path / "quiet.log").read_text(encoding="utf-8").splitlines()
    assert log and all(line.startswith("b.foreign_keys[0]: ") for line in log)


def test_errors_reach_the_log_file_too(cli, write_config, tmp_path) -> None:
    config = write_config({**OLD_STYLE, "logging": {"file": "run.log"}})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    run = cli("generate", config, "--out", tmp_path / "out")
    assert run.code == 1
    assert "is not empty" in (tmp_path / "run.log").read_text(encoding="utf-8")


def test_a_bad_logging_block_is_a_placed_error(cli, write_config) -> None:
    run = cli("validate", write_config({**OLD_STYLE, "logging": {"level": "LOUD", "colour": True}}))
    assert run.code == 1 and "Traceback" not in run.err
    assert "logging.level" in run.err and "logging" in run.err and "colour" in run.err


# --- item 18: docs/migrating.md and the pointer to it --------------------------------------------

MIGRATING = Path(__file__).resolve().parents[2] / "docs" / "migrating.md"


def validate_notes(run) -> list[str]:
    section = run.out.split("\nnotes:", 1)[1].split("\n\n", 1)[0]
    return [line.removeprefix("  - ") for line in section.splitlines() if line.startswith("  - ")]


def test_validate_points_an_old_config_to_migrating(cli, write_config) -> None:
    run = cli("validate", write_config(OLD_STYLE))
    assert run.code == 0
    [note] = [n for n in validate_notes(run) if "docs/migrating.md" in n]
    assert note.startswith("this config looks like one of the older generator's (a logging block)")


def test_validate_points_a_legacy_flat_config_to_migrating(cli, write_config) -> None:
    run = cli("validate", write_config({"seed": 1, "customers": {"customer_id": "random_int", "email": "email"}}))
    assert run.code == 0, run.err
    assert any("(the legacy flat format)" in n and "docs/migrating.md" in n for n in validate_notes(run))


def test_a_current_config_gets_no_pointer(cli, write_config) -> None:
    config = {key: value for key, value in OLD_STYLE.items() if key != "logging"}
    assert "migrating" not in cli("validate", write_config(config)).out


def test_config_flag_is_accepted_wherever_config_is(cli, write_config, tmp_path) -> None:
    config = write_config({key: value for key, value in OLD_STYLE.items() if key != "logging"})
    assert cli("validate", "--config", config).code == 0
    assert cli(f"--config={config}", "plan").out.startswith(f"plan for {config}")
    out = tmp_path / "out"
    assert cli("generate", "--config", config, "--out", out).code == 0
    assert read_parquet_table(out, "a").num_rows == 20
    run = cli("check", "--config", config, out)
    assert run.code == 0, run.out
    run = cli("validate", "--config")
    assert (run.code, run.err) == (
        1,
        "error: synthbeam validate: argument --config: expected one argument (see synthbeam validate --help)\n",
    )


def test_migrating_lists_every_deliberate_difference() -> None:
    text = MIGRATING.read_text(encoding="utf-8")
    for topic in (
        "## 1. Choice probabilities",
        "## 2. Uniqueness",
        "## 3. `openai.fallback_enabled`",
        "## 4. Unknown rule names and types",
        "## 5. Masking and encryption",
        "## 6. No partial output",
        "## 7. The command line: `--config`",
        "## 10. The `logging` block",
    ):
        assert topic in text
    assert text.count("**Old behaviour:**") >= 6


def test_the_documented_recipe_for_old_probabilities_gives_the_old_shares(make_plan) -> None:
    # migrating.md section 1: list the unlisted choices with weight 1.0 to get the old shares.
    from synthbeam.rules.engine.batch import generate_batch

    column = {"name": "tier", "type": "str", "rule": {"type": "choice", "value": ["gold", "silver"]}}
    rows = 60_000
    shares = {}
    for name, probabilities in (("new", {"gold": 0.2}), ("old", {"gold": 0.2, "silver": 1.0})):
        rule = {**column["rule"], "probabilities": probabilities}
        plan = make_plan(
            {"seed": 1, "tables": [{"table_name": "t", "rows": rows, "columns": [{**column, "rule": rule}]}]}
        )
        values = generate_batch(plan, "t", 0, rows).column(0).to_pylist()
        shares[name] = values.count("gold") / rows
    assert abs(shares["new"] - 0.2) < 0.01
    assert abs(shares["old"] - 0.2 / 1.2) < 0.01
