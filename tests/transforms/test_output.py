"""The commit step: the all-or-nothing switch into OUT, overwrite, retry safety, recovery, cleanup helpers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from synthbeam.transforms import tree
from synthbeam.transforms.output import (
    OutputLayout,
    commit_output,
    output_entries,
    recover,
    remove_tree,
    write_json,
)
from synthbeam.transforms.write import TableWritten


def _stage(layout: OutputLayout, table: str, names: list[str]) -> TableWritten:
    directory = Path(layout.staging) / table
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_text(name)
    pattern = f"{table}-*-of-{len(names):05d}.csv"
    return TableWritten(
        table=table, rows=len(names), chunks=len(names), file_count=len(names), file_pattern=pattern, events={"c:x": 1}
    )


def test_commit_moves_tables_writes_report_and_drops_staging(tmp_path: Path) -> None:
    layout = OutputLayout(str(tmp_path / "out"), "run1")
    tables = [_stage(layout, "a", ["a-00000-of-00001.csv"]), _stage(layout, "b", ["b-0.csv", "b-1.csv"])]
    report = commit_output(layout, tables, overwrite=False, report={"seed": 1, "tables": {"b": {}, "a": {}}})
    out = tmp_path / "out"
    assert sorted(os.listdir(out)) == ["_report.json", "a", "b"]
    assert sorted(os.listdir(out / "b")) == ["b-0.csv", "b-1.csv"]
    on_disk = json.loads((out / "_report.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert list(on_disk["tables"]) == ["b", "a"]  # the plan's order
    assert on_disk["tables"]["b"]["rows_written"] == 2
    assert on_disk["tables"]["a"]["events"] == {"c:x": 1}
    assert on_disk["total_rows"] == 3


def test_commit_with_overwrite_replaces_old_content(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "old_table").mkdir(parents=True)
    (out / "old_table" / "x.parquet").write_text("old")
    (out / "_report.json").write_text("{}")
    layout = OutputLayout(str(out), "run2")
    commit_output(layout, [_stage(layout, "a", ["a-0.csv"])], overwrite=True, report={"tables": {}})
    assert sorted(os.listdir(out)) == ["_report.json", "a"]


def _previous_output(out: Path) -> None:
    (out / "old").mkdir(parents=True)
    (out / "old" / "f").write_text("old")
    (out / "_report.json").write_text('{"run_id": "before", "tables": {}}')


def test_commit_is_safe_to_retry_after_dying_mid_switch(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _previous_output(out)
    layout = OutputLayout(str(out), "run3")
    table = _stage(layout, "a", ["a-0.csv", "a-1.csv"])
    # A first attempt that died after moving the previous output aside and the new table in:
    (Path(layout.staging) / "_COMMITTING").write_text(json.dumps({"new": ["a", "_report.json"]}))
    Path(layout.old).mkdir()
    for name in ("old", "_report.json"):
        os.rename(out / name, Path(layout.old) / name)
    os.rename(Path(layout.staging) / "a", out / "a")
    commit_output(layout, [table], overwrite=True, report={"tables": {}})
    assert sorted(os.listdir(out)) == ["_report.json", "a"]
    assert sorted(os.listdir(out / "a")) == ["a-0.csv", "a-1.csv"]


def test_a_failed_rename_puts_the_previous_output_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    _previous_output(out)
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    layout = OutputLayout(str(out), "run4")
    tables = [_stage(layout, "a", ["a-0.csv"]), _stage(layout, "b", ["b-0.csv"])]
    real_move = tree.move

    def failing_move(source: str, target: str) -> None:
        if source.endswith("_report.json") and ".synthbeam-tmp-" in source:
            raise OSError(28, "No space left on device (injected)")
        real_move(source, target)

    monkeypatch.setattr(tree, "move", failing_move)
    with pytest.raises(OSError, match="injected"):
        commit_output(layout, tables, overwrite=True, report={"tables": {}})
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if ".synthbeam-" not in str(p)) == before
    assert json.loads((out / "_report.json").read_text())["run_id"] == "before"
    assert not Path(layout.old).exists()


def test_recover_undoes_a_switch_killed_half_way(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _previous_output(out)
    layout = OutputLayout(str(out), "run5")
    _stage(layout, "a", ["a-0.csv"])
    (Path(layout.staging) / "_report.json").write_text('{"run_id": "run5", "tables": {}}')
    (Path(layout.staging) / "_COMMITTING").write_text(json.dumps({"new": ["a", "_report.json"]}))
    Path(layout.old).mkdir()
    os.rename(out / "_report.json", Path(layout.old) / "_report.json")  # "old" not moved yet
    assert recover(layout) == "restored"
    assert sorted(os.listdir(out)) == ["_report.json", "old"]
    assert json.loads((out / "_report.json").read_text())["run_id"] == "before"


def test_output_entries_and_remove_tree(tmp_path: Path) -> None:
    assert output_entries(str(tmp_path / "missing")) == set()
    (tmp_path / "d" / "t").mkdir(parents=True)
    (tmp_path / "d" / ".synthbeam-tmp-1").mkdir()
    assert output_entries(str(tmp_path / "d")) == {"t"}  # empty directories count; run leftovers do not
    (tmp_path / "d" / "r.json").write_text("x")
    assert output_entries(str(tmp_path / "d")) == {"t", "r.json"}
    remove_tree(str(tmp_path / "d" / "t"))
    remove_tree(str(tmp_path / "d" / "never"))
    assert output_entries(str(tmp_path / "d")) == {"r.json"}


def test_remove_tree_unlinks_links_without_following_them(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "t").symlink_to(victim)
    remove_tree(str(tmp_path / "d"))
    assert (victim / "keep.txt").read_text() == "mine"


def test_write_json_replaces(tmp_path: Path) -> None:
    path = str(tmp_path / "r.json")
    write_json(path, {"a": 1})
    write_json(path, {"a": 2})
    assert json.loads(Path(path).read_text()) == {"a": 2}
    assert os.listdir(tmp_path) == ["r.json"]


def test_a_switch_leaves_other_runs_working_files_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _previous_output(out)
    (out / ".synthbeam-tmp-other" / "t").mkdir(parents=True)
    (out / ".synthbeam-tmp-other" / "t" / "t-0.csv").write_text("in flight")
    layout = OutputLayout(str(out), "run6")
    commit_output(layout, [_stage(layout, "a", ["a-0.csv"])], overwrite=True, report={"tables": {}})
    assert sorted(os.listdir(out)) == [".synthbeam-tmp-other", "_report.json", "a"]
    assert (out / ".synthbeam-tmp-other" / "t" / "t-0.csv").read_text() == "in flight"
