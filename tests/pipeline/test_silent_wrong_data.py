"""Issue 14, items 1-9, at the user's door: validate's exit code and lines, plan's warnings, rows read back.

The configs are copies of the reproducers in tests/rules/fixtures/silent/; each
validated (most with no warning) and wrote rows that were not what it said.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tests.conftest import TEMPLATES
from tests.pipeline.conftest import read_parquet_table, read_report

FIXTURES = Path(__file__).resolve().parent.parent / "rules" / "fixtures" / "silent"


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("c51_condtypes", "t.columns[3] (x).conditional_rules[0].when[0]: value 50 is a number but score is a str"),
        ("c05b", "t.columns[0] (b): range [1, 5] makes int values, but a bool column would store every number"),
        ("email_len", "users.columns[4] (email): is unique, but length 10 cuts "),
        ("c07_uniq", "t.columns[4] (un): is unique, but its rule, cut to length 5, cannot produce enough"),
        ("c30_fknonuniq", "b.foreign_keys[1]: a weighted foreign key needs a PK or unique parent column"),
    ],
)
def test_validate_refuses_with_one_placed_line(cli, fixture, error) -> None:
    run = cli("validate", FIXTURES / f"{fixture}.json")
    assert run.code == 1
    lines = run.err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"error: {error}"), lines
    assert lines[1].startswith("invalid: 1 error(s)")
    assert "Traceback" not in run.err and run.out == ""


def test_generate_refuses_a_uniqueness_it_cannot_keep_before_writing(cli, tmp_path) -> None:
    out = tmp_path / "out"
    run = cli("generate", FIXTURES / "c07_uniq.json", "--out", out)
    assert run.code == 1
    assert run.err.startswith("error: ") and "t.columns[4] (un): is unique" in run.err
    assert not out.exists()


@pytest.mark.parametrize(
    ("fixture", "warning"),
    [
        (
            "cond_bad_value",
            'subscriptions.columns[7] (canceled_on).conditional_rules[0].when[0]: value "cancelled" never occurs',
        ),
        ("end_nullable_parent", "invoices.columns[2] (issued_on): end refers to subscriptions.canceled_on"),
        ("c02_dict", "t.columns[1] (chp): probabilities name 1 of 3 choices, so the other 2 share what is left"),
    ],
)
def test_validate_warns(cli, fixture, warning) -> None:
    run = cli("validate", FIXTURES / f"{fixture}.json")
    assert run.code == 0
    assert f"  - {warning}" in run.out.split("\nwarnings (")[1].split("\nnotes")[0]


ROWS_WARNING = "rows: --rows 100 has no effect: it is the row count of tables that set none"


def test_rows_that_change_nothing_are_said_by_validate_and_plan(cli) -> None:
    run = cli("validate", TEMPLATES / "retail.json", "--rows", 100)
    assert run.code == 0 and f"  - {ROWS_WARNING}" in run.out and "use --scale F" in run.out
    run = cli("plan", TEMPLATES / "retail.json", "--rows", 100)
    assert run.code == 0 and f"warning: {ROWS_WARNING}" in run.err


def test_rows_that_change_nothing_are_said_by_generate_and_kept_in_the_report(cli, tmp_path) -> None:
    out = tmp_path / "out"
    run = cli("generate", TEMPLATES / "hr.json", "--rows", 100, "--out", out, "--no-progress")
    assert run.code == 0
    assert run.err.count(f"warning: {ROWS_WARNING}") == 1
    assert any(note.startswith(ROWS_WARNING) for note in read_report(out)["notes"])


def test_rows_a_table_takes_say_nothing(cli, write_config) -> None:
    config = {
        "seed": 1,
        "tables": [
            {"table_name": "a", "rows": 5, "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}]},
            {"table_name": "b", "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}]},
        ],
    }
    run = cli("validate", write_config(config), "--rows", 100, "--as-of", "2026-01-01")
    assert run.code == 0 and "has no effect" not in run.out


def test_rows_from_an_environment_that_change_nothing_warn(cli, write_config) -> None:
    config = {
        "seed": 1,
        "environments": {"ci": {"rows": 7}},
        "tables": [{"table_name": "a", "rows": 5, "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}]}],
    }
    run = cli("validate", write_config(config), "--environment", "ci", "--as-of", "2026-01-01")
    assert "rows: rows 7 from environment 'ci' has no effect" in run.out


NULL_END = {
    "seed": 5,
    "as_of": "2025-12-31",
    "tables": [
        {
            "table_name": "subs",
            "rows": 60,
            "columns": [
                {"name": "sub_id", "type": "int", "constraint": ["PK"]},
                {"name": "status", "type": "str", "rule": {"type": "choice", "value": ["active", "canceled"]}},
                {"name": "started_on", "type": "date",
                 "rule": {"type": "date_range", "start": "2020-01-01", "end": "2022-12-31"}},
                {"name": "canceled_on", "type": "date", "rule": None,
                 "conditional_rules": [
                     {"when": [{"column": "status", "operator": "==", "value": "canceled"}],
                      "rule": {"type": "date_range", "start": {"column": "started_on"}, "end": "2024-12-31"}}]},
            ],
        },
        {
            "table_name": "invoices",
            "rows": 600,
            "columns": [
                {"name": "sub_id", "type": "int"},
                {"name": "issued_on", "type": "date",
                 "rule": {"type": "date_range", "start": {"column": "subs.started_on"},
                          "end": {"column": "subs.canceled_on"}}},
                {"name": "issued_or_today", "type": "date",
                 "rule": {"type": "date_range", "start": {"column": "subs.started_on"},
                          "end": {"column": "subs.canceled_on", "default": "today"}}},
            ],
            "foreign_keys": [{"child_column": "sub_id", "parent_table": "subs", "parent_column": "sub_id"}],
        },
    ],
}  # fmt: skip


def test_a_null_end_gives_null_rows_and_a_default_fills_them(cli, write_config, tmp_path) -> None:
    out = tmp_path / "out"
    run = cli("generate", write_config(NULL_END), "--out", out)
    assert run.code == 0, run.err
    subs = read_parquet_table(out, "subs")
    invoices = read_parquet_table(out, "invoices")
    joined = invoices.join(subs, "sub_id")
    canceled = pc.is_valid(joined["canceled_on"])
    assert 0 < pc.sum(canceled).as_py() < joined.num_rows
    assert pc.is_valid(joined["issued_on"]).equals(canceled)  # once: the start date, for every active one
    assert pc.all(pc.is_valid(joined["issued_or_today"])).as_py()
    assert pc.all(pc.less_equal(joined["started_on"], joined["issued_or_today"])).as_py()
    assert pc.max(joined["issued_or_today"]).as_py().isoformat() <= "2025-12-31"
    active = joined.filter(pc.invert(canceled))
    assert len(pc.unique(active["issued_or_today"])) > 50  # spread up to as_of, not stuck on the start
    assert joined.schema.field("issued_on").type == pa.date32()
    assert cli("check", write_config(NULL_END), out).code == 0  # check judges each row's bounds the same way
