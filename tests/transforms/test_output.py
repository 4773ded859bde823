"""The commit step: all-or-nothing promotion into OUT, overwrite, retry safety, cleanup helpers."""

from __future__ import annotations

import json
import os
from pathlib import Path

from synthbeam.transforms.output import (
    OutputLayout,
    commit_output,
    existing_entries,
    remove_tree,
    write_json,
)
from synthbeam.transforms.write import TableWritten


def _stage(layout: OutputLayout, table: str, names: list[str]) -> TableWritten:
    directory = Path(layout.staging) / table
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for name in names:
        (directory / name).write_text(name)
        files.append(str(directory / name))
    return TableWritten(table=table, rows=len(names), chunks=len(names), files=files, events={"c:x": 1})


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


def test_commit_is_safe_to_retry(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "old").mkdir(parents=True)
    (out / "old" / "f").write_text("old")
    layout = OutputLayout(str(out), "run3")
    table = _stage(layout, "a", ["a-0.csv", "a-1.csv"])
    # A first attempt that died after the old content went and one file moved:
    (Path(layout.staging) / "_COMMITTING").write_text("")
    (out / "old" / "f").unlink()
    (out / "old").rmdir()
    (out / "a").mkdir()
    os.rename(table.files[0], out / "a" / "a-0.csv")
    commit_output(layout, [table], overwrite=True, report={"tables": {}})
    assert sorted(os.listdir(out)) == ["_report.json", "a"]
    assert sorted(os.listdir(out / "a")) == ["a-0.csv", "a-1.csv"]


def test_existing_entries_and_remove_tree(tmp_path: Path) -> None:
    assert existing_entries(str(tmp_path / "missing")) == set()
    (tmp_path / "d" / "t").mkdir(parents=True)
    assert existing_entries(str(tmp_path / "d")) == set()  # only empty directories
    (tmp_path / "d" / "t" / "f").write_text("x")
    (tmp_path / "d" / "r.json").write_text("x")
    assert existing_entries(str(tmp_path / "d")) == {"t", "r.json"}
    remove_tree(str(tmp_path / "d" / "t"))
    remove_tree(str(tmp_path / "d" / "never"))
    assert existing_entries(str(tmp_path / "d")) == {"r.json"}


def test_write_json_replaces(tmp_path: Path) -> None:
    path = str(tmp_path / "r.json")
    write_json(path, {"a": 1})
    write_json(path, {"a": 2})
    assert json.loads(Path(path).read_text()) == {"a": 2}
    assert os.listdir(tmp_path) == ["r.json"]
