"""What generate tells its user: warnings, audit, memory, LLM spending (issue 14, items 10-13).

Every warning the plan carries reaches stderr once and the report's ``notes``; an enabled
audit always leaves its record; memory over ``max_memory_mb`` is said; an LLM cost limit
with ``fallback_enabled`` falls back, and what the run spent is in the report.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.llm_stub import StubLLM
from tests.pipeline.conftest import read_parquet_table, read_report

FIXTURES = Path(__file__).parent / "fixtures"
KEY_ENV = "SYNTHBEAM_TEST_OPENAI_KEY"

FK_TO_NON_UNIQUE = {
    "seed": 1,
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
            "rows": 50,
            "columns": [{"name": "city", "type": "str"}],
            "foreign_keys": [{"child_column": "city", "parent_table": "a", "parent_column": "city"}],
        },
    ],
}


def warning_lines(text: str) -> list[str]:
    return [line.removeprefix("warning: ") for line in text.splitlines() if line.startswith("warning: ")]


def test_validate_warnings_reach_generate_stderr_once_and_the_report(cli, write_config, tmp_path) -> None:
    config = write_config(FK_TO_NON_UNIQUE)
    validated = cli("validate", config)
    assert validated.code == 0
    listed = validated.out.split("warnings (", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    expected = [line.removeprefix("  - ") for line in listed]
    assert expected, validated.out  # the config has at least one warning to carry
    out = tmp_path / "out"
    run = cli("generate", config, "--out", out)
    assert run.code == 0, run.err
    said = warning_lines(run.err)
    assert said == expected  # each once, in validate's words
    notes = read_report(out)["notes"]
    assert all(warning in notes for warning in expected)
    assert read_parquet_table(out, "b").num_rows == 50


# --- openai ----------------------------------------------------------------------------------


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch):
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv(KEY_ENV, "sk-test-0123456789abcdef0123456789abcdef")
    server = StubLLM().start()
    try:
        yield server
    finally:
        server.stop()


def llm_config(stub: StubLLM, **openai: object) -> dict:
    block = {"enabled": True, "api_key_env": KEY_ENV, "base_url": stub.base_url, "timeout_seconds": 5, **openai}
    column = {
        "name": "shop",
        "type": "str",
        "rule": {"type": "openai_generated", "prompt": "coffee shops", "pool_size": 20},
    }
    return {"seed": 1, "openai": block, "tables": [{"table_name": "t", "rows": 30, "columns": [column]}]}


def test_cost_limit_with_fallback_falls_back_and_says_so(cli, write_config, stub, tmp_path) -> None:
    config = write_config(llm_config(stub, max_cost_usd=0.00001, fallback_enabled=True))
    out = tmp_path / "out"
    run = cli("generate", config, "--out", out)
    assert run.code == 0, run.err
    [warning] = warning_lines(run.err)
    assert "falls back to Faker sentences: openai cost limit" in warning
    assert "max_cost_usd $0.00001;" in warning
    assert stub.request_count == 0
    report = read_report(out)
    assert warning in report["notes"]
    assert report["tables"]["t"]["events"] == {"shop:openai_fallback": 30}
    assert report["openai"]["spent_usd"] == 0 and report["openai"]["max_cost_usd"] == 0.00001
    assert report["openai"]["columns"]["t.columns[0] (shop)"]["source"] == "fallback"
    assert read_parquet_table(out, "t").column("shop").null_count == 0


def test_cost_limit_without_fallback_is_one_line_with_readable_money(cli, write_config, stub, tmp_path) -> None:
    run = cli("generate", write_config(llm_config(stub, max_cost_usd=0.00001)), "--out", tmp_path / "out")
    assert run.code == 1 and len(run.err.strip().splitlines()) == 1
    assert "max_cost_usd $0.00001;" in run.err and "Traceback" not in run.err
    assert not (tmp_path / "out").exists()


def test_what_the_run_spent_is_in_the_report(cli, write_config, stub, tmp_path) -> None:
    config = write_config(llm_config(stub))
    out = tmp_path / "out"
    assert cli("generate", config, "--out", out).code == 0
    spending = read_report(out)["openai"]
    assert stub.request_count == 1 and spending["requests"] == 1
    [cache_file] = (tmp_path / ".synthbeam-cache" / "openai").glob("*.json")
    cached_cost = json.loads(cache_file.read_text())["usage"]["cost_usd"]
    assert spending["spent_usd"] == pytest.approx(cached_cost) and cached_cost > 0
    assert spending["columns"]["t.columns[0] (shop)"] == {"source": "api", "values": 20, "cost_usd": cached_cost}
    # The second run reads the cache: nothing spent now, and the report says where the values came from.
    again = tmp_path / "again"
    assert cli("generate", config, "--out", again).code == 0
    spending = read_report(again)["openai"]
    assert spending["spent_usd"] == 0 and spending["columns"]["t.columns[0] (shop)"]["source"] == "cache"
    shutil.rmtree(again)


# --- audit -------------------------------------------------------------------------------------


def test_an_enabled_audit_writes_its_record_even_when_nothing_is_protected(cli, tmp_path) -> None:
    config = tmp_path / "c28.json"
    shutil.copy(FIXTURES / "c28_audit_only.json", config)  # audit_enabled, masking and encryption off
    out = tmp_path / "out"
    run = cli("generate", config, "--out", out)
    assert run.code == 0, run.err
    report = read_report(out)
    [line] = (out / "_audit.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record == {
        "event": "run",
        "run_id": report["run_id"],
        "config_sha256": report["config_sha256"],
        "seed": 1,
        "rows": {"t": 5},
        "masking_enabled": False,
        "encryption_enabled": False,
        "protected": {},
        "key_fingerprint": None,
    }


def test_the_run_record_follows_the_table_records_when_columns_are_protected(cli, tmp_path) -> None:
    config = json.loads((FIXTURES / "c28_audit_only.json").read_text())
    config["security"]["enable_data_masking"] = True
    config["tables"][0]["columns"][1]["type"] = "str"  # hash masking makes text
    path = tmp_path / "masked.json"
    path.write_text(json.dumps(config))
    out = tmp_path / "out"
    assert cli("generate", path, "--out", out).code == 0
    records = [json.loads(line) for line in (out / "_audit.jsonl").read_text().splitlines()]
    assert [r["event"] for r in records] == ["protect", "run"]
    assert records[0]["masked"] == {"a": "partial", "b": "hash"}
    assert records[1]["protected"] == {"t": ["a", "b"]} and records[1]["masking_enabled"] is True


def test_no_audit_file_unless_enabled(cli, write_config, tmp_path) -> None:
    config = json.loads((FIXTURES / "c28_audit_only.json").read_text())
    config["security"] = {"enable_data_masking": True}
    config["tables"][0]["columns"][1]["type"] = "str"
    out = tmp_path / "out"
    assert cli("generate", write_config(config), "--out", out).code == 0
    assert not (out / "_audit.jsonl").exists()


# --- memory ------------------------------------------------------------------------------------


def test_memory_above_max_memory_mb_is_said_on_stderr_and_in_the_report(cli, write_config, tmp_path) -> None:
    config = json.loads((FIXTURES / "c28_audit_only.json").read_text())
    config["performance"] = {"max_memory_mb": 1}
    out = tmp_path / "out"
    run = cli("generate", write_config(config), "--out", out)
    assert run.code == 0, run.err
    report = read_report(out)
    [warning] = [w for w in warning_lines(run.err) if "max_memory_mb" in w]
    assert f"peaked at {report['peak_rss_mb']:,.0f} MB, above performance.max_memory_mb 1:" in warning
    assert "bounds the size of one generated chunk, not the memory of the processes" in warning
    assert warning in report["notes"] and report["peak_rss_mb"] > 1


def test_memory_within_max_memory_mb_says_nothing(cli, write_config, tmp_path) -> None:
    config = json.loads((FIXTURES / "c28_audit_only.json").read_text())
    config["performance"] = {"max_memory_mb": 1_000_000}
    out = tmp_path / "out"
    run = cli("generate", write_config(config), "--out", out)
    assert run.code == 0 and "max_memory_mb" not in run.err
    assert not any("max_memory_mb" in note for note in read_report(out)["notes"])
