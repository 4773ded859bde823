"""Issue 12, items 1-7 and ``--out /``: the output directory never costs a user a file.

Every test runs the real CLI and looks at the real files: a precious file
beside or behind the output survives, the previous output survives a failed
commit, a second run is refused while the first holds ``OUT``, links are not
followed, dead runs' leftovers are tidied. The configs are issue 12's
reproducers (``fixtures/output_safety``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pipeline.conftest import listing, read_report

FIXTURES = Path(__file__).parent / "fixtures" / "output_safety"

# What every run writes at the top of OUT besides its tables (the report, the profile and its page).
RUN_FILES = ("_profile.json", "_report.html", "_report.json")


@pytest.fixture
def ok_config(tmp_path: Path) -> Path:
    """The plain one-table config (table ``t``), copied beside the test's outputs."""
    return Path(shutil.copy(FIXTURES / "ok.json", tmp_path / "ok.json"))


def _one_line_error(run, *needles: str) -> None:
    assert run.code == 1, run.err
    assert run.err.count("\n") == 1 and "Traceback" not in run.err, run.err
    for needle in needles:
        assert needle in run.err, run.err


def _rows(out: Path, table: str = "t") -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(path).num_rows for path in (out / table).glob("*.parquet"))


# --- 1. glob characters in --out are literal ---------------------------------------------------


def test_glob_in_out_never_touches_a_sibling(cli, ok_config, tmp_path) -> None:
    group = tmp_path / "G"
    (group / "other").mkdir(parents=True)
    (group / "other" / "notes.txt").write_text("precious")
    out = group / "o*"
    assert cli("generate", ok_config, "--rows", 5, "--out", out).code == 0
    run = cli("generate", ok_config, "--rows", 7, "--out", out, "--overwrite")
    assert run.code == 0, run.err
    assert (group / "other" / "notes.txt").read_text() == "precious"
    assert sorted(os.listdir(out)) == sorted([*RUN_FILES, "t"])
    assert _rows(out) == 7


@pytest.mark.parametrize("name", ["run [1]", "what?", "[ab]c*"])
def test_out_with_brackets_and_wildcards_is_written_literally(cli, ok_config, tmp_path, name) -> None:
    (tmp_path / "run 1").mkdir()  # what "run [1]" would match as a pattern
    (tmp_path / "run 1" / "keep.txt").write_text("mine")
    out = tmp_path / name
    run = cli("generate", ok_config, "--rows", 5, "--out", out, "--num-shards", 2)
    assert run.code == 0, run.err
    assert sorted(os.listdir(out)) == sorted([*RUN_FILES, "t"])
    assert _rows(out) == 5
    assert read_report(out)["tables"]["t"]["file_pattern"] == str(out / "t" / "t-*-of-00002.parquet")
    assert sorted(os.listdir(out / "t")) == [f"t-0000{n}-of-00002.parquet" for n in (0, 1)]
    assert os.listdir(tmp_path / "run 1") == ["keep.txt"]


def test_wildcards_in_an_output_url_are_refused(cli, ok_config) -> None:
    run = cli("generate", ok_config, "--rows", 5, "--out", "gs://bucket/o*")
    _one_line_error(run, "gs://bucket/o*", "wildcards")


# --- 2. table names validate refuses are the ones generate cannot write --------------------------


@pytest.mark.parametrize(
    ("config", "needle"),
    [("bracket.json", "wildcard"), ("long.json", "255-byte limit")],
)
def test_validate_refuses_table_names_files_cannot_hold(cli, tmp_path, config, needle) -> None:
    path = shutil.copy(FIXTURES / config, tmp_path / config)
    run = cli("validate", path)
    assert run.code == 1 and needle in run.err and "Traceback" not in run.err, run.err
    run = cli("generate", path, "--rows", 5, "--out", tmp_path / "out")
    _one_line_error(run, needle)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["*", "**", "a?", "x" * 201, ".synthbeam-lock", "_report.html"])
def test_more_names_refused_with_their_place(cli, write_config, tmp_path, name) -> None:
    path = write_config({"tables": [{"table_name": name, "columns": [{"name": "a", "type": "int"}]}]})
    run = cli("validate", path)
    assert run.code == 1 and "table name" in run.err, run.err


def test_names_like_the_commits_own_temp_files_are_written_literally(cli, tmp_path) -> None:
    """Validate passes ``_audit.jsonl.tmp`` / ``_report.json.tmp``, so generate must write them."""
    config = json.loads((FIXTURES / "audittmp.json").read_text())
    config["tables"].append({"table_name": "_report.json.tmp", "columns": [{"name": "a", "type": "int"}]})
    path = tmp_path / "audittmp.json"
    path.write_text(json.dumps(config))
    assert cli("validate", path).code == 0
    out = tmp_path / "out"
    for attempt in range(2):  # and again over itself
        run = cli("generate", path, "--rows", 5, "--out", out, *(["--overwrite"] if attempt else []))
        assert run.code == 0, run.err
        assert sorted(os.listdir(out)) == sorted([*RUN_FILES, "_audit.jsonl", "_audit.jsonl.tmp", "_report.json.tmp"])
        assert _rows(out, "_audit.jsonl.tmp") == 5 and _rows(out, "_report.json.tmp") == 5
        assert set(read_report(out)["tables"]) == {"_audit.jsonl.tmp", "_report.json.tmp"}


@pytest.mark.parametrize("output_format", ["parquet", "avro", "csv"])
def test_the_longest_accepted_name_is_written(cli, write_config, tmp_path, output_format) -> None:
    name = "é" * 100  # 200 bytes of UTF-8: the limit
    path = write_config({"tables": [{"table_name": name, "columns": [{"name": "a", "type": "int"}]}]})
    assert cli("validate", path).code == 0
    out = tmp_path / "out"
    run = cli("generate", path, "--rows", 3, "--out", out, "--format", output_format)
    assert run.code == 0, run.err
    assert sorted(os.listdir(out)) == sorted([*RUN_FILES, name])


_NAME_CHARACTERS = "ab_-. é*?[]{}~$%!'\"/\\\x00\n"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet=_NAME_CHARACTERS, min_size=1, max_size=12) | st.sampled_from(["x" * 200, "x" * 201]))
def test_a_table_name_validate_accepts_is_one_generate_writes(cli, write_config, tmp_path_factory, name) -> None:
    path = write_config({"tables": [{"table_name": name, "columns": [{"name": "a", "type": "int"}]}]})
    validated = cli("validate", path)
    out = tmp_path_factory.mktemp("names") / "out"
    run = cli("generate", path, "--rows", 2, "--out", out, "--format", "csv")
    if validated.code:
        assert run.code == 1 and run.err.count("\n") == 1 and not out.exists(), run.err
        return
    assert run.code == 0, run.err
    assert sorted(os.listdir(out)) == sorted([*RUN_FILES, name])
    assert read_report(out)["tables"][name]["rows_written"] == 2


# --- 3. --overwrite is all or nothing --------------------------------------------------------------


def _fail_on(monkeypatch, module, function: str, when) -> None:
    real = getattr(module, function)

    def failing(*args, **kwargs):
        if when(*(str(a) for a in args)):
            raise OSError(28, f"No space left on device (injected in {function})")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, function, failing)


def _staged(path: str) -> bool:
    return ".synthbeam-tmp-" in path


@pytest.mark.parametrize(
    ("module", "function", "when"),
    [
        # The report's own rename into OUT: the old code had deleted the previous output by then.
        (os, "rename", lambda source, target: target.endswith(os.sep + "_report.json")),
        ("tree", "write_text", lambda path, text: path.endswith("_report.json") and _staged(path)),
        ("tree", "move", lambda source, target: target.endswith(os.sep + "t") and not _staged(target)),
    ],
    ids=["report-rename-fails", "report-write-enospc", "table-rename-fails"],
)
def test_a_failed_commit_keeps_the_previous_output(
    cli, ok_config, tmp_path, monkeypatch, module, function, when
) -> None:
    out = tmp_path / "out"
    assert cli("generate", ok_config, "--rows", 5, "--out", out, "--seed", 1).code == 0
    before = listing(out)
    if module == "tree":
        from synthbeam.transforms import tree as module
    _fail_on(monkeypatch, module, function, when)
    run = cli("generate", ok_config, "--rows", 9, "--out", out, "--seed", 2, "--overwrite")
    _one_line_error(run, "injected")
    monkeypatch.undo()
    assert listing(out) == before
    assert read_report(out)["seed"] == 1 and _rows(out) == 5


# --- 4. one run at a time --------------------------------------------------------------------------

_HOLDER = """
import sys, time
from synthbeam.pipeline.claim import OutputClaim
claim = OutputClaim(sys.argv[1]); claim.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_run_is_refused_while_another_holds_the_output(cli, ok_config, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        run = cli("generate", ok_config, "--rows", 5, "--out", out)
        _one_line_error(run, "in use by another synthbeam run", f"pid {holder.pid}", "started ")
        assert sorted(os.listdir(out)) == [".synthbeam-lock"]
    finally:
        holder.kill()
        holder.wait()
    # The claim died with its process: the next run goes ahead and leaves no lock file behind.
    run = cli("generate", ok_config, "--rows", 5, "--out", out)
    assert run.code == 0, run.err
    assert sorted(os.listdir(out)) == sorted([*RUN_FILES, "t"])


def test_two_runs_at_once_do_not_mix(tmp_path, ok_config) -> None:
    out = tmp_path / "out"
    synthbeam = [sys.executable, "-m", "synthbeam.pipeline"]
    runs = [
        subprocess.Popen(
            [*synthbeam, "generate", str(ok_config), "--rows", str(rows), "--out", str(out), "--overwrite"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rows in (3000, 4000)
    ]
    results = [(run.wait(timeout=120), run.stderr.read()) for run in runs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 1]), results
    for code, err in results:
        if code:
            assert "in use by another synthbeam run" in err, err
    report = read_report(out)
    assert _rows(out) == report["total_rows"] in (3000, 4000)
    assert sorted(os.listdir(out)) == sorted([*RUN_FILES, "t"])


# --- 5. links inside OUT are not followed ------------------------------------------------------------


def test_a_link_named_like_a_table_is_never_written_through(cli, ok_config, tmp_path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    out = tmp_path / "so"
    out.mkdir()
    (out / "t").symlink_to(victim)
    run = cli("generate", ok_config, "--rows", 5, "--out", out)
    _one_line_error(run, "not empty")
    run = cli("generate", ok_config, "--rows", 5, "--out", out, "--overwrite")
    _one_line_error(run, "not a synthbeam output")
    assert os.listdir(victim) == ["keep.txt"]


def test_overwrite_replaces_a_link_itself_not_its_target(cli, ok_config, tmp_path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    out = tmp_path / "out"
    assert cli("generate", ok_config, "--rows", 5, "--out", out).code == 0
    shutil.rmtree(out / "t")
    (out / "t").symlink_to(victim)
    run = cli("generate", ok_config, "--rows", 6, "--out", out, "--overwrite")
    assert run.code == 0, run.err
    assert os.listdir(victim) == ["keep.txt"]
    assert not (out / "t").is_symlink() and _rows(out) == 6


def test_a_lock_file_link_is_not_written_through(cli, ok_config, tmp_path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".synthbeam-lock").symlink_to(victim)
    run = cli("generate", ok_config, "--rows", 5, "--out", out)
    _one_line_error(run, ".synthbeam-lock")
    assert victim.read_text() == "mine"


# --- 6. --overwrite replaces only a previous output ----------------------------------------------------


def test_overwrite_refuses_a_directory_that_is_not_an_output(cli, ok_config, tmp_path) -> None:
    out = tmp_path / "docs"
    (out / "photos").mkdir(parents=True)
    (out / "photos" / "cat.jpg").write_text("jpg")
    (out / "thesis.docx").write_text("years of work")
    before = listing(out)
    run = cli("generate", ok_config, "--rows", 5, "--out", out, "--overwrite")
    _one_line_error(run, "not a synthbeam output", "thesis.docx")
    assert listing(out) == before
    (out / "_report.json").write_text("not json")  # a file of that name is not enough
    run = cli("generate", ok_config, "--rows", 5, "--out", out, "--overwrite")
    _one_line_error(run, "not a synthbeam output")
    assert (out / "thesis.docx").exists()


def test_overwrite_of_an_empty_directory_is_fine(cli, ok_config, tmp_path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert cli("generate", ok_config, "--rows", 5, "--out", out, "--overwrite").code == 0
    assert _rows(out) == 5


# --- 7. dead runs' leftovers ----------------------------------------------------------------------------


def test_leftovers_of_dead_runs_are_removed_and_reported(cli, ok_config, tmp_path) -> None:
    out = tmp_path / "out"
    (out / ".synthbeam-tmp-20260101-000000-dead01").mkdir(parents=True)  # killed before staging a file
    (out / ".synthbeam-tmp-20260101-000000-dead02" / "t").mkdir(parents=True)
    (out / ".synthbeam-tmp-20260101-000000-dead02" / "t" / "x.parquet").write_text("half")
    run = cli("generate", ok_config, "--rows", 5, "--out", out)
    assert run.code == 0, run.err
    assert "removed 2 leftover(s) of interrupted runs" in run.err
    assert sorted(os.listdir(out)) == sorted([*RUN_FILES, "t"])
    assert any("leftover" in note for note in read_report(out)["notes"])


def test_a_switch_killed_half_way_is_undone_by_the_next_run(cli, ok_config, tmp_path) -> None:
    out = tmp_path / "out"
    assert cli("generate", ok_config, "--rows", 5, "--out", out, "--seed", 1).code == 0
    before = listing(out)
    # What a run killed between moving the previous output aside and moving its report in leaves:
    staging, old = out / ".synthbeam-tmp-dead", out / ".synthbeam-old-dead"
    (staging / "t").mkdir(parents=True)
    (staging / "_report.json").write_text('{"run_id": "dead", "tables": {}}')
    (staging / "_COMMITTING").write_text(json.dumps({"new": ["t", "_report.json"]}))
    old.mkdir()
    for name in ("t", "_report.json"):
        os.rename(out / name, old / name)
    os.rename(staging / "t", out / "t")
    run = cli("generate", ok_config, "--rows", 5, "--out", out)
    _one_line_error(run, "not empty")  # the previous output is back, and is not overwritten unasked
    assert listing(out) == before
    run = cli("generate", ok_config, "--rows", 6, "--out", out, "--overwrite")
    assert run.code == 0 and _rows(out) == 6, run.err


def test_a_killed_run_leaves_nothing_the_next_run_keeps(tmp_path, ok_config) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "synthbeam.pipeline", "generate", str(ok_config), "--out", str(out)]
    run = subprocess.Popen([*command, "--rows", "50000000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not any(n.startswith(".synthbeam-tmp-") for n in (os.listdir(out) if out.exists() else [])):
            assert time.monotonic() < deadline and run.poll() is None
            time.sleep(0.05)
    finally:
        run.kill()
        run.wait()
    finished = subprocess.run([*command, "--rows", "5"], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert "leftover(s) of interrupted runs" in finished.stderr
    assert sorted(os.listdir(out)) == sorted([*RUN_FILES, "t"])


# --- 14 (part). dangerous targets are refused at once -------------------------------------------------


@pytest.mark.parametrize("overwrite", [False, True])
def test_out_root_is_refused_at_once(cli, ok_config, overwrite) -> None:
    started = time.monotonic()
    run = cli("generate", ok_config, "--rows", 5, "--out", "/", *(["--overwrite"] if overwrite else []))
    assert time.monotonic() - started < 3
    _one_line_error(run, "refusing" if overwrite else "not empty")


def test_home_is_refused(cli, ok_config, tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("x")
    monkeypatch.setenv("HOME", str(home))
    run = cli("generate", ok_config, "--rows", 5, "--out", home, "--overwrite")
    _one_line_error(run, "refusing", "home")
    assert os.listdir(home) == [".bashrc"]
