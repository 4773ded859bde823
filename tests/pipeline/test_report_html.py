"""``_profile.json`` checked against DuckDB, ``_report.html`` in a real headless Chromium, ``synthbeam report``."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TEMPLATES

TEMPLATE_NAMES = ("retail", "hr")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each template generated once (with a profile) for the whole module."""
    from synthbeam.pipeline.cli import main

    done = {}
    for name in TEMPLATE_NAMES:
        out = tmp_path_factory.mktemp(name) / "out"
        assert main(["generate", str(TEMPLATES / f"{name}.json"), "--out", str(out), "--num-shards", "2"]) == 0
        done[name] = out
    return done


def _comparable(value: object) -> object:
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    return value


@pytest.mark.parametrize("template", TEMPLATE_NAMES)
def test_profile_matches_duckdb(outputs: dict[str, Path], template: str) -> None:
    out = outputs[template]
    profile = json.loads((out / "_profile.json").read_text())
    report = json.loads((out / "_report.json").read_text())
    assert list(profile["tables"]) == list(report["tables"])
    db = duckdb.connect()
    for table, entry in profile["tables"].items():
        source = f"read_parquet('{out / table}/*.parquet')"
        assert entry["rows"] == db.execute(f"select count(*) from {source}").fetchone()[0]
        for column, stats in entry["columns"].items():
            quoted = f'"{column}"'
            rows, nulls, distinct, low, high = db.execute(
                f"select count(*), count(*) filter (where {quoted} is null), count(distinct {quoted}), "
                f"min({quoted}), max({quoted}) from {source}"
            ).fetchone()
            place = f"{table}.{column}"
            assert stats["nulls"] == nulls and stats["null_share"] == round(nulls / rows, 6), place
            assert abs(stats["distinct"] - distinct) <= 0.02 * distinct, place
            kind = db.execute(f"select typeof({quoted}) from {source} limit 1").fetchone()[0]
            if kind != "TIMESTAMP":  # DuckDB shows timestamps without the T; compared below
                assert (stats["min"], stats["max"]) == (_comparable(low), _comparable(high)), place
            else:
                assert stats["min"].replace("T", " ") == str(low) and stats["max"].replace("T", " ") == str(high)
            shares = sum(t["share"] for t in stats.get("top", [])) + stats["null_share"]
            if stats.get("top_is_all"):
                assert shares == pytest.approx(1.0, abs=1e-4), place


def test_children_per_parent_match_duckdb(outputs: dict[str, Path]) -> None:
    out = outputs["retail"]
    profile = json.loads((out / "_profile.json").read_text())
    db = duckdb.connect()
    for table, column, parent, key in (
        ("orders", "customer_id", "customers", "customer_id"),
        ("order_items", "order_id", "orders", "order_id"),
        ("order_items", "product_id", "products", "product_id"),
    ):
        expected = db.execute(
            f"select coalesce(n, 0) as children, count(*) as parents from read_parquet('{out / parent}/*.parquet') p "
            f"left join (select {column} as k, count(*) as n from read_parquet('{out / table}/*.parquet') "
            f"where {column} is not null group by 1) c on p.{key} = c.k group by 1 order by 1"
        ).fetchall()
        spread = profile["tables"][table]["columns"][column]["children_per_parent"]
        assert spread["exact"] and [tuple(pair) for pair in spread["histogram"]] == expected, (table, column)


def test_the_html_is_self_contained_and_names_every_table_and_column(outputs: dict[str, Path]) -> None:
    page = (outputs["retail"] / "_report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    external = re.findall(r"(?:src|href)=\"(?!#)([^\"]+)\"", page) + re.findall(r"url\((?!#)", page)
    assert external == []
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)
    report = json.loads((outputs["retail"] / "_report.json").read_text())
    for table, entry in report["tables"].items():
        assert f'data-table="{table}"' in page
        assert all(f"<code>{c['name']}</code>" in page for c in entry["columns"])
    assert "wall time, start to finish" in page  # refreshed with the launcher's figures


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("no chromium, and apt-get is unavailable or needs root: apt-get install chromium to run this")
    try:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=300, check=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "chromium"]
        subprocess.run(install, capture_output=True, timeout=900, env=env, check=True)
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"chromium is not installed and apt-get install chromium failed: {exc}")
    found = shutil.which("chromium")
    if not found:
        pytest.skip("apt-get install chromium gave no chromium binary")
    return found


def _headless(browser: str, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         "--window-size=1280,2000", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.parametrize("template", TEMPLATE_NAMES)
def test_the_page_renders_in_headless_chromium(outputs: dict[str, Path], template: str, tmp_path: Path) -> None:
    from PIL import Image

    browser = _chromium()
    broken = tmp_path / "broken.html"
    broken.write_text('<html><body><script>console.error("marker-1234")</script></body></html>')
    assert any("marker-1234" in line for line in _console_lines(_headless(browser, broken, "--dump-dom").stderr))

    page = outputs[template] / "_report.html"
    dumped = _headless(browser, page, "--dump-dom")
    assert dumped.returncode == 0 and _console_lines(dumped.stderr) == []
    tables = json.loads((outputs[template] / "_report.json").read_text())["tables"]
    for table in tables:
        assert f'<section class="profile" id="table-{table}" data-table="{table}">' in dumped.stdout
        assert f'<g class="table" data-table="{table}">' in dumped.stdout

    shot = tmp_path / "page.png"
    taken = _headless(browser, page, f"--screenshot={shot}")
    assert taken.returncode == 0 and shot.is_file()
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 16) or []
    assert len(colours) > 20  # text, bars, the diagram: not a blank page
    dominant = max(colours)[0] / (image.width * image.height)
    assert dominant < 0.95


def test_report_command_rebuilds_the_page(outputs: dict[str, Path], cli, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    shutil.copytree(outputs["hr"], out)
    original = (out / "_report.html").read_text()
    (out / "_report.html").unlink()
    run = cli("report", out)
    assert run.code == 0, run.err
    assert (out / "_report.html").read_text() == original
    run = cli("report", tmp_path)
    assert run.code == 1 and "has no _report.json" in run.err and run.err.count("\n") == 1


def test_no_profile_writes_neither_file(cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = cli("generate", TEMPLATES / "hr.json", "--out", out, "--no-profile")
    assert run.code == 0, run.err
    assert (out / "_report.json").is_file()
    assert not (out / "_profile.json").exists() and not (out / "_report.html").exists()
