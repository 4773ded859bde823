"""Inputs that crashed or hung (issue #12 items 12 and 14): one placed line, exit 1, nothing written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "issue12"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("r1", "error: t.columns[0] (b): probability must be a number from 0 to 1, got 'x'"),
        (
            "r2",
            "error: t.columns[0] (f): choice_from_file x.xlsx: x.xlsx is not an XLSX workbook "
            "(BadZipFile: File is not a zip file); save it as .xlsx or .csv",
        ),
        ("r3", "error: t.columns[0] (f): precision must be a whole number from 0 to 15, got 'x'"),
        ("r4", "error: t.columns[0] (f): choice_from_file file_path must be a path as text, got 5"),
    ],
)
def test_repros_are_placed_config_errors(cli, tmp_path: Path, name: str, expected: str) -> None:
    config = shutil.copy(FIXTURES / f"{name}.json", tmp_path / f"{name}.json")
    (tmp_path / "x.xlsx").write_text("any text, not a zip", encoding="utf-8")
    out = tmp_path / "out"
    run = cli("generate", config, "--rows", 5, "--out", out)
    assert (run.code, run.err) == (1, expected.replace("error: ", f"error: {config}: ", 1) + "\n")
    assert not out.exists()


def test_negative_direct_num_workers_is_one_line(cli, tmp_path: Path) -> None:
    config = shutil.copy(FIXTURES / "ok.json", tmp_path / "ok.json")
    out = tmp_path / "out"
    run = cli("generate", config, "--rows", 5, "--out", out, "--direct_num_workers=-1")
    assert (run.code, run.err) == (1, "error: --direct_num_workers must be 0 (one per CPU) or more, got -1\n")
    assert not out.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("command", ["validate", "generate"])
def test_fifo_config_is_refused_without_blocking(cli, tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    run = cli(command, fifo, "--out", tmp_path / "out") if command == "generate" else cli(command, fifo)
    assert run.code == 1
    assert run.err.splitlines()[0] == (
        f"error: {fifo} is not a regular file (a FIFO, device or socket): give the path of a JSON file"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_config_is_refused_at_once(cli, tmp_path: Path) -> None:
    run = cli("generate", "/dev/zero", "--out", tmp_path / "out")
    assert (run.code, run.err) == (
        1,
        "error: /dev/zero is not a regular file (a FIFO, device or socket): give the path of a JSON file\n",
    )


def test_config_over_the_size_cap_is_refused(cli, tmp_path: Path) -> None:
    from synthbeam.rules.config.loader import MAX_CONFIG_BYTES

    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(MAX_CONFIG_BYTES + 1)  # sparse: no 16 MB written
    run = cli("validate", big)
    assert run.code == 1
    assert run.err.splitlines()[0] == (
        f"error: {big} is larger than 16 MB, the most a config may be: put large value lists in choice_from_file files"
    )


HUGE = {
    "tables": [
        {"table_name": "p", "rows": 50, "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}]},
        {
            "table_name": "c",
            "columns": [{"name": "pid", "type": "int"}],
            "foreign_keys": [
                {
                    "child_column": "pid",
                    "parent_table": "p",
                    "parent_column": "id",
                    "children_per_parent": {"min": 10**15, "max": 10**15},
                }
            ],
        },
    ]
}


def test_huge_plan_is_refused_by_validate_and_generate_unless_allowed(cli, write_config, tmp_path: Path) -> None:
    config = write_config(HUGE, "huge.json")
    expected = (
        "performance.max_total_rows: the plan has 50,000,000,000,000,050 rows in total (c: 50,000,000,000,000,000), "
        "more than the 1,000,000,000,000 allowed: lower rows, scale or children_per_parent, or raise "
        "performance.max_total_rows (--allow-huge lifts the limit)"
    )
    run = cli("validate", config)
    assert run.code == 1 and run.err.splitlines()[0] == f"error: {expected}"
    run = cli("generate", config, "--out", tmp_path / "out")
    assert (run.code, run.err) == (1, f"error: {config}: {expected}\n")
    assert not (tmp_path / "out").exists()
    run = cli("validate", config, "--allow-huge")
    assert run.code == 0, run.err
    assert "2 table(s), 50,000,000,000,000,050 rows in total" in run.out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_or_device_key_file_is_refused_without_blocking(cli, write_config, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.key")
    for key_file in (str(tmp_path / "fifo.key"), "/dev/zero"):
        config = {
            "security": {"enable_encryption": True, "key_file": key_file},
            "tables": [
                {"table_name": "t", "rows": 5, "columns": [{"name": "e", "type": "email", "sensitivity": "PII"}]}
            ],
        }
        run = cli("validate", write_config(config))
        assert run.code == 1
        assert f"key file {key_file} is not a regular file" in run.err.splitlines()[0], run.err
