"""Configs of the older generator (issue 14, items 17-18): the logging block, the pointer to docs/migrating.md."""

from __future__ import annotations

import logging

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
