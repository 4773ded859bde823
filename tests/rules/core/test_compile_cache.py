"""The Faker compile cache: same values with or without it, no Faker import when warm, never trusted blindly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from synthbeam.rules.core import compile_cache
from tests.conftest import REPO


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("SYNTHBEAM_CACHE_DIR", str(directory))
    compile_cache.reset()
    yield directory
    compile_cache.reset()


def _counting(value):
    calls = []

    def compute():
        calls.append(1)
        return value

    return compute, calls


def test_results_survive_the_process_through_the_file(cache_dir) -> None:
    compute, calls = _counting({"nodes": [1, 2, 3]})
    assert compile_cache.cached("kind", ("en_US", "m"), compute) == {"nodes": [1, 2, 3]}
    assert compile_cache.cached("kind", ("en_US", "m"), compute) == {"nodes": [1, 2, 3]}
    assert len(calls) == 1
    compile_cache.flush()
    path = compile_cache.cache_file()
    assert path is not None and path.parent == cache_dir and path.exists()
    assert oct(cache_dir.stat().st_mode & 0o777) == oct(0o700)

    compile_cache.reset()  # a new process, as far as the cache knows
    again, again_calls = _counting("never")
    assert compile_cache.cached("kind", ("en_US", "m"), again) == {"nodes": [1, 2, 3]}
    assert again_calls == []
    other, other_calls = _counting("other")
    assert compile_cache.cached("kind", ("de_DE", "m"), other) == "other"
    assert other_calls == [1]


def test_an_empty_setting_turns_the_cache_off(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SYNTHBEAM_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    compile_cache.reset()
    try:
        assert compile_cache.cache_file() is None
        compile_cache.cached("kind", (1,), lambda: 1)
        compile_cache.flush()
        assert list(tmp_path.iterdir()) == []
    finally:
        compile_cache.reset()


def test_failures_are_not_kept(cache_dir) -> None:
    def failing():
        raise RuntimeError("Faker said no")

    with pytest.raises(RuntimeError, match="Faker said no"):
        compile_cache.cached("kind", (1,), failing)
    compute, calls = _counting(5)
    assert compile_cache.cached("kind", (1,), compute) == 5
    assert calls == [1]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_file_others_may_write_is_not_read(cache_dir) -> None:
    compile_cache.cached("kind", (1,), lambda: "stored")
    compile_cache.flush()
    path = compile_cache.cache_file()
    path.chmod(0o666)
    compile_cache.reset()
    compute, calls = _counting("computed")
    assert compile_cache.cached("kind", (1,), compute) == "computed"
    assert calls == [1]


def test_a_corrupt_file_is_ignored_and_replaced(cache_dir) -> None:
    path = compile_cache.cache_file()
    cache_dir.mkdir(mode=0o700)
    path.write_bytes(b"not a pickle")
    compute, calls = _counting("fresh")
    assert compile_cache.cached("kind", (1,), compute) == "fresh"
    assert calls == [1]
    compile_cache.flush()
    compile_cache.reset()
    again, again_calls = _counting("never")
    assert compile_cache.cached("kind", (1,), again) == "fresh"
    assert again_calls == []


def test_the_file_name_changes_with_the_code_in_any_subfolder(cache_dir, tmp_path, monkeypatch) -> None:
    first = compile_cache.cache_file()
    copy = tmp_path / "rules"
    shutil.copytree(compile_cache.RULES_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(compile_cache, "RULES_ROOT", copy)
    compile_cache.reset()
    assert compile_cache.cache_file() == first  # the same code, wherever it lies
    nested = copy / "generators" / "faker" / "compile.py"
    assert nested in compile_cache.rules_sources()
    nested.write_text(nested.read_text() + "# another build\n")
    compile_cache.reset()
    assert compile_cache.cache_file() != first


_FINGERPRINT = """
import hashlib, sys
import pyarrow as pa
from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.engine.batch import generate_batch
plan, _ = build_plan(sys.argv[1])
digest = hashlib.sha256()
for table in plan.tables.values():
    batch = generate_batch(plan, table.name, 0, min(table.rows, 2000))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    digest.update(sink.getvalue().to_pybytes())
described = {c.name: c.rule.describe() for t in plan.tables.values() for c in t.columns if c.rule is not None}
print(json.dumps({"digest": digest.hexdigest(), "faker": "faker" in sys.modules, "described": described}))
""".replace("import hashlib, sys", "import hashlib, json, sys")


def _fingerprint(config: Path, cache: str) -> dict:
    env = {**os.environ, "SYNTHBEAM_CACHE_DIR": cache}
    done = subprocess.run(
        [sys.executable, "-c", _FINGERPRINT, str(config)], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_warm_cache_gives_the_same_rows_without_importing_faker(tmp_path) -> None:
    config = REPO / "benchmarks" / "retail2.json"
    uncached = _fingerprint(config, "")
    cold = _fingerprint(config, str(tmp_path / "cache"))
    warm = _fingerprint(config, str(tmp_path / "cache"))
    assert uncached["faker"] and cold["faker"]
    assert not warm["faker"], "every Faker column of retail-2 is vectorised: a warm cache needs no Faker"
    assert uncached["digest"] == cold["digest"] == warm["digest"]
    assert uncached["described"] == warm["described"]


def test_the_file_keeps_the_newest_entries_and_old_builds_go(cache_dir, monkeypatch) -> None:
    monkeypatch.setattr(compile_cache, "MAX_ENTRIES", 3)
    for number in range(5):
        compile_cache.cached("kind", (number,), lambda number=number: number)
    compile_cache.flush()
    cache_dir.joinpath("faker-compile-oldbuild.pickle").write_bytes(b"old")
    os.utime(cache_dir / "faker-compile-oldbuild.pickle", (0, 0))
    cache_dir.joinpath("faker-compile-otherbuild.pickle").write_bytes(b"recent")
    compile_cache.cached("kind", (5,), lambda: 5)
    compile_cache.flush()
    assert not (cache_dir / "faker-compile-oldbuild.pickle").exists()
    assert (cache_dir / "faker-compile-otherbuild.pickle").exists()

    compile_cache.reset()
    kept = [n for n in range(6) if compile_cache.cached("kind", (n,), lambda: "recomputed") == n]
    assert kept == [3, 4, 5]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_nothing_is_written_where_others_may_write(cache_dir) -> None:
    cache_dir.mkdir()
    cache_dir.chmod(0o777)
    compile_cache.cached("kind", (1,), lambda: 1)
    compile_cache.flush()
    assert list(cache_dir.iterdir()) == []


def test_the_directory_follows_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SYNTHBEAM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    compile_cache.reset()
    try:
        assert compile_cache.cache_file().parent == tmp_path / "xdg" / "synthbeam"
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        compile_cache.reset()
        assert compile_cache.cache_file().parent == tmp_path / "home" / ".cache" / "synthbeam"

        def no_home() -> Path:
            raise RuntimeError("Could not determine home directory")

        monkeypatch.setattr(Path, "home", staticmethod(no_home))
        compile_cache.reset()
        assert compile_cache.cache_file() is None
        assert compile_cache.cached("kind", (1,), lambda: 1) == 1
    finally:
        compile_cache.reset()


def test_the_file_stays_under_its_size_limit(cache_dir, monkeypatch) -> None:
    monkeypatch.setattr(compile_cache, "MAX_BYTES", 50_000)
    for number in range(8):
        compile_cache.cached("kind", (number,), lambda number=number: bytes([number]) * 20_000)
    compile_cache.flush()
    assert compile_cache.cache_file().stat().st_size <= 50_000
    compile_cache.reset()
    kept = [n for n in range(8) if compile_cache.cached("kind", (n,), lambda: None) is not None]
    assert kept and kept == list(range(8 - len(kept), 8))  # the newest survive
