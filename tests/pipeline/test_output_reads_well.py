"""What people read: the generate summary, preview's blocks, validate's columns, help texts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import TEMPLATES

WIDE = {
    "seed": 1,
    "tables": [
        {
            "table_name": "p",
            "rows": 10,
            "columns": [
                {"name": "id", "type": "int", "constraint": ["PK"]},
                {"name": "u", "type": "uuid", "rule": "uuid"},
                {"name": "f", "type": "str", "rule": {"type": "fixed", "value": "x"}},
                {"name": "street_address_of_the_person", "type": "str", "rule": "street_address"},
                {"name": "company_name_of_the_person", "type": "str", "rule": "company"},
            ],
        },
        {
            "table_name": "c",
            "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}, {"name": "pid", "type": "int"}],
            "foreign_keys": [
                {
                    "child_column": "pid",
                    "parent_table": "p",
                    "parent_column": "id",
                    "children_per_parent": {"min": 1, "max": 24},
                    "null_probability": 0.1,
                }
            ],
        },
    ],
}


@pytest.fixture
def wide(write_config) -> Path:
    return write_config(WIDE, "wide.json")


def test_preview_repeats_the_key_column_on_every_wrapped_block(cli, wide, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    run = cli("preview", wide, "--table", "p", "--limit", "3")
    assert run.code == 0, run.err
    blocks = run.out.split("\n\n")
    assert len(blocks) >= 3
    for block in blocks:
        lines = block.strip("\n").splitlines()
        header = lines[-5] if block is blocks[0] else lines[0]
        assert header.split()[0] == "id", block
        assert [line.split()[0] for line in lines[-3:]] == ["1", "2", "3"], block


@pytest.mark.parametrize("columns", ["100", "200"])
def test_validate_wraps_generated_by_at_the_terminal_width_and_never_cuts_a_number(cli, wide, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", columns)
    run = cli("validate", wide)
    assert run.code == 0, run.err
    assert all(len(line) <= int(columns) for line in run.out.splitlines() if "(random)" in line or "per parent" in line)
    text = " ".join(run.out.split())
    assert "1..24 children per parent, null 10%" in text and "…" not in run.out
    assert "Uuid4" not in run.out and "Fixed" not in run.out
    assert 'fixed "x"' in run.out


def test_no_internal_class_names_in_generated_by(cli) -> None:
    for template in ("retail.json", "hr.json"):
        run = cli("validate", TEMPLATES / template)
        assert run.code == 0
        described = [line.split("  ")[-1] for line in run.out.splitlines() if line.startswith("       ")]
        assert not [d for d in described if re.search(r"\b[A-Z][a-z]+[A-Z0-9]\w*", d)], described


def test_generate_summary_names_wall_time_and_each_tables_own_time(cli, tmp_path: Path) -> None:
    run = cli("generate", TEMPLATES / "hr.json", "--out", tmp_path / "out", "--no-profile")
    assert run.code == 0, run.err
    head = run.out.splitlines()[0]
    match = re.search(r"in ([\d.]+) s wall time \(the pipeline ([\d.]+) s of it", head)
    assert match and float(match[1]) >= float(match[2]) > 0
    assert "own time (s)" in run.out and "done after (s)" in run.out
    report = json.loads((tmp_path / "out" / "_report.json").read_text())
    row = next(line for line in run.out.splitlines() if line.strip().startswith("employees"))
    assert f"{report['tables']['employees']['busy_seconds']:.2f}" in row


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["validate", "--config", "{config}"], "valid: "),
        (["plan", "--config", "{config}", "--erd", "mermaid"], "erDiagram"),
        (["preview", "--config", "{config}", "--limit", "2"], "departments: rows 1-2"),
    ],
)
def test_config_flag_works_wherever_config_does(cli, args, fragment) -> None:
    run = cli(*[a.format(config=TEMPLATES / "hr.json") for a in args])
    assert run.code == 0, run.err
    assert fragment in run.out


def test_config_flag_for_generate_and_check(cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("generate", "--config", TEMPLATES / "hr.json", "--out", out, "--no-profile").code == 0
    run = cli("check", "--config", TEMPLATES / "hr.json", out)
    assert run.code == 0, run.out + run.err


def test_config_given_twice_or_not_at_all_is_one_line(cli, tmp_path: Path) -> None:
    run = cli("validate", TEMPLATES / "hr.json", "--config", TEMPLATES / "retail.json")
    assert run.code == 1 and "CONFIG given twice" in run.err and run.err.count("\n") == 1
    run = cli("plan")
    assert run.code == 1 and "a CONFIG is required" in run.err


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_validate_and_plan_refuse_out(cli, command) -> None:
    run = cli(command, TEMPLATES / "hr.json", "--out", "somewhere")
    assert run.code == 1 and "unrecognized arguments: --out" in run.err


def test_validate_refuses_num_shards(cli) -> None:
    run = cli("validate", TEMPLATES / "hr.json", "--num-shards", "2")
    assert run.code == 1 and "unrecognized arguments: --num-shards" in run.err


def test_every_command_and_option_has_help(capsys) -> None:
    from synthbeam.pipeline.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in commands.choices.items():
        assert sub.description, name
        for action in sub._actions:
            if action.help == "==SUPPRESS==" or action.dest == "help":
                continue
            assert action.help, f"{name} {action.option_strings or action.dest}"
        debug = next(a for a in sub._actions if a.dest == "debug")
        assert ("Beam" in debug.help) == (name == "generate"), name
    decrypt = commands.choices["decrypt"].format_usage()
    assert "ENCRYPTED_DIR" in decrypt and "OUT_DIR" not in decrypt


def test_generate_without_a_terminal_prints_progress_lines(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SYNTHBEAM_PROGRESS_SECONDS", "0.05")
    run = cli("generate", TEMPLATES / "retail.json", "--out", tmp_path / "out", "--no-profile", "--scale", "20")
    assert run.code == 0, run.err
    lines = [line for line in run.err.splitlines() if not line.startswith("warning: ")]  # the config's warnings
    assert lines and all(line.startswith("progress: ") for line in lines)
    assert any(re.search(r"rows \(\d+%\), .* rows/s, ETA ", line) for line in lines), lines
    quiet = cli("generate", TEMPLATES / "hr.json", "--out", tmp_path / "o2", "--no-progress")
    assert quiet.code == 0 and quiet.err == ""
