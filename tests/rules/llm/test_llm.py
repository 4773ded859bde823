"""``openai_generated``: a pool fetched once (real openai client, loopback stub), cached, picked per row."""

from __future__ import annotations

import json
import logging
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from synthbeam.rules.core import registry
from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.registry import Rows, Rule, RuleContext, Settings, lookup_rule
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.generators.compose import Finished
from synthbeam.rules.llm import rule as llm_module
from synthbeam.rules.llm.client import (
    ANSWER_OVERHEAD_TOKENS,
    TOKENS_PER_VALUE,
    LLMError,
    PoolRequest,
    build_messages,
    cost_usd,
    estimate_prompt_tokens,
    parse_values,
    price_of,
)
from synthbeam.rules.llm.rule import DISABLED_MESSAGE, OpenAIGenerated
from tests.llm_stub import StubLLM

KEY_ENV = "SYNTHBEAM_TEST_OPENAI_KEY"
SECRET = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
PROMPT = "Invent names of fictional coffee shops."


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only loopback, and only what a test sets: no ambient endpoint, headers or proxy."""
    for name in (
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
        "OPENAI_ADMIN_KEY",
        "OPENAI_CUSTOM_HEADERS",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        KEY_ENV,
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def stub() -> Iterator[StubLLM]:
    server = StubLLM().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def with_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, SECRET)
    return SECRET


class StandInSentence(Rule):
    """Plays the Faker ``sentence`` rule where the Faker family is absent."""

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        return pa.array([f"Sentence {n}." for n in stream.below(rows.index, 1000)], pa.string())

    def describe(self) -> str:
        return "sentence"


def openai_block(stub: StubLLM | None = None, **extra: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"enabled": True, "api_key_env": KEY_ENV, "timeout_seconds": 5}
    if stub is not None:
        block["base_url"] = stub.base_url
    return {**block, **extra}


def context(
    tmp_path: Path, openai: dict[str, Any] | None = None, settings: Settings | None = None, column: str = "c"
) -> RuleContext:
    settings = settings or Settings(seed=1, config_dir=tmp_path, openai=openai or {})
    return RuleContext(f"t.columns[0] ({column})", "t", column, "str", settings, Issues())


def build(ctx: RuleContext, **spec: Any) -> OpenAIGenerated:
    return OpenAIGenerated({"type": "openai_generated", "prompt": PROMPT, **spec}, ctx)


def messages(ctx: RuleContext, severity: str = "error") -> list[str]:
    return [str(issue) for issue in ctx.issues.items if issue.severity == severity]


def rows(rule: Rule, start: int, stop: int, counters: dict[str, int] | None = None) -> list[Any]:
    stream = Stream.root("synthbeam", 1, "t", "c").child("value")
    return rule.generate(Rows(np.arange(start, stop, dtype=np.uint64), counters=counters), stream).to_pylist()


def cache_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / ".synthbeam-cache" / "openai").glob("*.json"))


# --- the pool ----------------------------------------------------------------------------


def test_pool_is_fetched_once_cached_and_reused_without_the_server(tmp_path, stub, with_key) -> None:
    ctx = context(tmp_path, openai_block(stub))
    rule = build(ctx)
    assert messages(ctx) == [] and messages(ctx, "warning") == []
    assert stub.request_count == 2  # 200 values, at most 100 a request
    assert stub.authorizations == [f"Bearer {SECRET}"] * 2  # the key came from the env var
    assert len(rule.pool) == 200 == len(set(rule.pool))
    assert rule.describe() == "openai pool of 200 (gpt-4o-mini, fetched)"
    first_request = stub.requests[0]
    assert first_request["model"] == "gpt-4o-mini"
    assert first_request["response_format"] == {"type": "json_object"}
    assert PROMPT in first_request["messages"][-1]["content"]

    [cache_file] = cache_files(tmp_path)
    record = json.loads(cache_file.read_text())
    assert record["model"] == "gpt-4o-mini" and record["prompt"] == PROMPT and record["pool_size"] == 200
    assert record["values"] == list(rule.pool)
    assert record["usage"]["requests"] == 2 and record["usage"]["total_tokens"] > 0
    assert record["created"]

    values = rows(rule, 0, 1000)
    assert values == rows(rule, 0, 1000)
    assert set(values) <= set(rule.pool) and len(set(values)) > 150

    stub.stop()
    again_ctx = context(tmp_path, openai_block(stub))
    again = build(again_ctx)
    assert messages(again_ctx) == []
    assert stub.request_count == 2  # no request: the cache answered
    assert again.pool == rule.pool and again.source == "cache"
    assert again.describe() == "openai pool of 200 (gpt-4o-mini, cached)"
    assert rows(again, 0, 1000) == values


def test_a_cached_pool_needs_neither_the_integration_nor_a_key(tmp_path, stub, with_key, monkeypatch) -> None:
    fetched = build(context(tmp_path, openai_block(stub)), pool_size=30)
    monkeypatch.delenv(KEY_ENV)
    ctx = context(tmp_path, {"enabled": False, "api_key_env": KEY_ENV})
    offline = build(ctx, pool_size=30)
    assert messages(ctx) == []
    assert offline.pool == fetched.pool and rows(offline, 0, 300) == rows(fetched, 0, 300)
    assert stub.request_count == 1


def test_blocks_and_pickling_give_the_same_rows(tmp_path, stub, with_key) -> None:
    rule = build(context(tmp_path, openai_block(stub)), pool_size=50)
    whole = rows(rule, 0, 1000)
    assert whole == rows(rule, 0, 400) + rows(rule, 400, 1000)
    shipped = pickle.loads(pickle.dumps(rule))
    assert rows(shipped, 0, 1000) == whole
    assert shipped.describe() == rule.describe()


def test_the_cache_key_covers_model_system_prompt_pool_size_and_temperature(tmp_path, stub, with_key) -> None:
    block = openai_block(stub)
    build(context(tmp_path, block), pool_size=10)
    build(context(tmp_path, block), pool_size=10)  # cached
    assert stub.request_count == 1
    build(context(tmp_path, block), pool_size=10, temperature=0.7)
    build(context(tmp_path, block), pool_size=10, system="Be terse.")
    build(context(tmp_path, block), pool_size=10, model="gpt-4o")
    build(context(tmp_path, block), pool_size=11)
    build(context(tmp_path, block), pool_size=10, prompt="Invent street names.")
    assert stub.request_count == 6 and len(cache_files(tmp_path)) == 6
    assert stub.requests[1]["temperature"] == 0.7 and "temperature" not in stub.requests[0]
    assert stub.requests[2]["messages"][0] == {"role": "system", "content": "Be terse."}
    assert stub.requests[3]["model"] == "gpt-4o"


def test_cache_dir_is_relative_to_the_config_dir(tmp_path, stub, with_key) -> None:
    build(context(tmp_path, openai_block(stub, cache_dir="pools")), pool_size=5)
    assert len(list((tmp_path / "pools").glob("*.json"))) == 1


def test_duplicates_are_dropped_and_a_short_pool_is_a_warning(tmp_path, stub, with_key) -> None:
    stub.fixed_values = ["Bean There", " Brew Haha ", "Bean There", 42, None, {"nested": 1}, ""]
    ctx = context(tmp_path, openai_block(stub))
    rule = build(ctx, pool_size=10)
    assert rule.pool == ("Bean There", "Brew Haha", "42")
    assert stub.request_count == 2  # the top-up brought nothing new, so fetching stopped
    assert messages(ctx) == []
    assert messages(ctx, "warning") == ["t.columns[0] (c): asked gpt-4o-mini for 10 distinct values, got 3"]


def test_large_pools_are_asked_for_in_batches_that_avoid_earlier_values(tmp_path, stub, with_key) -> None:
    rule = build(context(tmp_path, openai_block(stub)), pool_size=250)
    assert len(rule.pool) == 250 and stub.request_count == 3
    asks = [request["messages"][-1]["content"] for request in stub.requests]
    assert ["exactly 100" in ask for ask in asks] == [True, True, False] and "exactly 50" in asks[2]
    assert rule.pool[0] in asks[1] and "do not repeat" in asks[1]


def test_the_pool_is_the_value_space_of_a_unique_column(tmp_path, stub, with_key) -> None:
    rule = build(context(tmp_path, openai_block(stub)), pool_size=20)
    assert rule.cardinality() == 20 and rule.enumerable()
    assert rule.value_at(np.arange(20)).to_pylist() == list(rule.pool)


def test_prefix_and_suffix_wrap_pool_values(tmp_path, stub, with_key) -> None:
    ctx = context(tmp_path, openai_block(stub))
    spec = {"type": "openai_generated", "prompt": PROMPT, "pool_size": 5, "prefix": "<", "suffix": ">"}
    rule = Finished(OpenAIGenerated(spec, ctx), spec, ctx)
    inner_pool = rule.inner.pool
    assert all(v.startswith("<") and v.endswith(">") and v[1:-1] in inner_pool for v in rows(rule, 0, 50))


# --- what the config gets wrong ----------------------------------------------------------


def test_disabled_without_a_cache_is_an_error(tmp_path, stub, with_key) -> None:
    ctx = context(tmp_path, {"enabled": False, "api_key_env": KEY_ENV, "base_url": stub.base_url})
    build(ctx)
    [error] = messages(ctx)
    assert error.startswith(f"t.columns[0] (c): {DISABLED_MESSAGE}; no cached pool at ")
    assert stub.request_count == 0


def test_no_openai_block_at_all_is_the_disabled_error(tmp_path) -> None:
    ctx = context(tmp_path, {})
    build(ctx)
    assert len(messages(ctx)) == 1 and DISABLED_MESSAGE in messages(ctx)[0]


def test_a_missing_key_names_the_variable(tmp_path, stub) -> None:
    ctx = context(tmp_path, openai_block(stub))
    build(ctx)
    [error] = messages(ctx)
    assert f"environment variable {KEY_ENV} (openai.api_key_env) is not set" in error
    assert "fallback_enabled" in error and stub.request_count == 0


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"prompt": ""}, "needs a non-empty 'prompt'"),
        ({"prompt": None}, "needs a non-empty 'prompt'"),
        ({"pool_size": 0}, "pool_size must be a whole number from 1 to 10,000, got 0"),
        ({"pool_size": "200"}, "pool_size must be a whole number"),
        ({"temperature": 3}, "temperature must be a number from 0 to 2, got 3"),
        ({"max_tokens": 4}, "max_tokens must be a whole number >= 16, got 4"),
        ({"model": ""}, "model must be a non-empty string"),
        ({"system": 7}, "system must be a string, got int"),
    ],
)
def test_bad_specs_are_reported_and_nothing_is_asked(tmp_path, stub, with_key, spec, expected) -> None:
    ctx = context(tmp_path, openai_block(stub))
    build(ctx, **spec)
    assert any(expected in message for message in messages(ctx)), messages(ctx)
    assert stub.request_count == 0


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"enabled": "yes"}, "openai.enabled must be true or false, got 'yes'"),
        ({"max_cost_usd": -1}, "openai.max_cost_usd must be a number >= 0, got -1"),
        ({"timeout_seconds": 0}, "openai.timeout_seconds must be a number > 0, got 0"),
        ({"api_key_env": ""}, "openai.api_key_env must be a non-empty string"),
        ({"base_url": "127.0.0.1:9/v1"}, "openai.base_url must start with http:// or https://"),
    ],
)
def test_bad_settings_are_reported(tmp_path, stub, with_key, block, expected) -> None:
    ctx = context(tmp_path, openai_block(stub, **block))
    build(ctx)
    assert any(expected in message for message in messages(ctx)), messages(ctx)
    assert stub.request_count == 0


def test_an_api_key_in_the_config_is_refused_without_echoing_it(tmp_path, stub, with_key) -> None:
    ctx = context(tmp_path, openai_block(stub, api_key=SECRET))
    build(ctx)
    [error] = messages(ctx)
    assert "openai.api_key must not be in the config" in error and SECRET not in error
    assert stub.request_count == 0


# --- cost ----------------------------------------------------------------------------------


def test_prices_come_from_the_table_with_a_conservative_default() -> None:
    assert price_of("gpt-4o-mini") == (0.15, 0.60)
    assert price_of("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert price_of("gpt-4o-2024-08-06") == (2.50, 10.00)
    assert price_of("my-local-llama") == price_of("gpt-4.5-preview") == (30.00, 60.00)
    assert cost_usd("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)


def test_a_request_that_could_exceed_the_limit_is_not_sent(tmp_path, stub, with_key) -> None:
    ctx = context(tmp_path, openai_block(stub, model="gpt-4o", max_cost_usd=0.01))
    build(ctx)
    [error] = messages(ctx)
    assert "openai cost limit" in error
    assert "$0.00 already spent of openai.max_cost_usd $0.01;" in error
    assert stub.request_count == 0 and cache_files(tmp_path) == []


def test_the_limit_stops_a_pool_half_way_and_spans_the_whole_compile(tmp_path, stub, with_key) -> None:
    request = PoolRequest("gpt-4o-mini", PROMPT, 200)
    first_batch = cost_usd(
        request.model,
        estimate_prompt_tokens(build_messages(request, 100, [], 0)),
        TOKENS_PER_VALUE * 100 + ANSWER_OVERHEAD_TOKENS,
    )
    settings = Settings(
        seed=1, config_dir=tmp_path, openai=openai_block(stub, max_cost_usd=first_batch * 1.05)
    )
    ctx = context(tmp_path, settings=settings)
    build(ctx)
    [error] = messages(ctx)
    assert "openai cost limit" in error and "$0.00 already spent" not in error
    assert stub.request_count == 1 and cache_files(tmp_path) == []
    # Another column of the same compile finds the money already spent.
    other = context(tmp_path, settings=settings, column="d")
    build(other, pool_size=100)
    assert "openai cost limit" in messages(other)[0] and stub.request_count == 1
    # A new compile (new Settings) starts a new budget.
    fresh = context(tmp_path, openai_block(stub, max_cost_usd=first_batch * 1.05))
    build(fresh, pool_size=100)
    assert messages(fresh) == [] and stub.request_count == 2


def test_a_server_that_reports_no_usage_is_charged_the_worst_case(tmp_path, stub, with_key) -> None:
    stub.omit_usage = True
    ctx = context(tmp_path, openai_block(stub))
    rule = build(ctx, pool_size=10)
    assert messages(ctx) == [] and len(rule.pool) == 10
    record = json.loads(cache_files(tmp_path)[0].read_text())
    assert record["usage"]["cost_usd"] >= (TOKENS_PER_VALUE * 10 + ANSWER_OVERHEAD_TOKENS) * 0.60 / 1e6


# --- failures and fallback ---------------------------------------------------------------


def test_a_server_error_without_fallback_is_an_error(tmp_path, stub, with_key) -> None:
    stub.fail_status = 500
    ctx = context(tmp_path, openai_block(stub))
    rule = build(ctx)
    [error] = messages(ctx)
    assert f"openai_generated could not get values: HTTP 500 from {stub.base_url}: " in error
    assert "stub failure" in error and "fallback_enabled" in error
    assert stub.request_count == 3  # the openai client's two retries
    assert cache_files(tmp_path) == [] and rule.pool == ()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Sure! Here are some coffee shops.", "the answer is not JSON"),
        ('{"shops": "Bean There"}', "the answer is a JSON object without a list of values"),
        ('"Bean There"', "the answer is JSON str, not a list"),
        ("", "the model answered with no content"),
    ],
)
def test_unusable_answers_are_rejected_loudly(tmp_path, stub, with_key, content, expected) -> None:
    stub.content = content
    ctx = context(tmp_path, openai_block(stub))
    build(ctx, pool_size=5)
    [error] = messages(ctx)
    assert expected in error and cache_files(tmp_path) == []


def test_answers_are_read_in_the_shapes_models_use() -> None:
    assert parse_values('{"values": ["a", "b"]}') == ["a", "b"]
    assert parse_values('["a", "b"]') == ["a", "b"]
    assert parse_values('```json\n["a", "b"]\n```') == ["a", "b"]
    assert parse_values('Here you go: ["a", "b"] enjoy') == ["a", "b"]
    assert parse_values('{"coffee_shops": ["a"]}') == ["a"]
    with pytest.raises(LLMError, match="without a list"):
        parse_values('{"a": ["x"], "b": ["y"]}')


def test_the_timeout_is_honoured(tmp_path, stub, with_key) -> None:
    stub.delay = 30
    ctx = context(tmp_path, openai_block(stub, timeout_seconds=0.3))
    started = time.monotonic()
    build(ctx, pool_size=5)
    elapsed = time.monotonic() - started
    [error] = messages(ctx)
    assert "timed out after 0.3s (openai.timeout_seconds), 2 retries included" in error
    assert elapsed < 8  # three 0.3 s attempts plus the client's backoff, not the stub's 30 s
    assert stub.request_count == 3


def sentence_rule_or_skip() -> None:
    from synthbeam.rules.config import catalog  # noqa: F401  (registers the Faker family, when present)

    if lookup_rule("sentence") is None:
        pytest.skip("no 'sentence' rule is registered (the Faker rule family is absent)")


def test_fallback_to_the_registered_sentence_rule(tmp_path, stub, with_key) -> None:
    sentence_rule_or_skip()
    stub.fail_status = 503
    ctx = context(tmp_path, openai_block(stub, fallback_enabled=True))
    rule = build(ctx)
    assert messages(ctx) == []
    [warning] = messages(ctx, "warning")
    assert "falls back to Faker sentences: HTTP 503" in warning
    counters: dict[str, int] = {}
    values = rows(rule, 0, 100, counters)
    assert all(isinstance(v, str) and v for v in values)
    assert counters == {"c:openai_fallback": 100}
    assert rows(pickle.loads(pickle.dumps(rule)), 0, 100) == values


def test_fallback_mechanics_with_a_stand_in_sentence_rule(tmp_path, stub, with_key, monkeypatch) -> None:
    # Runs whether or not the Faker family is present; the registry entry is restored after.
    monkeypatch.setitem(registry._RULES, "sentence", StandInSentence)
    stub.fail_status = 500
    ctx = context(tmp_path, openai_block(stub, fallback_enabled=True))
    rule = build(ctx)
    assert messages(ctx) == []
    assert messages(ctx, "warning") == [
        f"t.columns[0] (c): openai_generated falls back to Faker sentences: HTTP 500 from {stub.base_url}: "
        "stub failure"
    ]
    counters: dict[str, int] = {}
    whole = rows(rule, 0, 1000, counters)
    assert counters == {"c:openai_fallback": 1000}
    assert whole == rows(rule, 0, 400) + rows(rule, 400, 1000)
    assert rule.describe() == "openai fallback: sentence (gpt-4o-mini unavailable)"
    assert not rule.enumerable()
    assert cache_files(tmp_path) == []


def test_a_missing_key_falls_back_when_allowed(tmp_path, stub, monkeypatch) -> None:
    monkeypatch.setitem(registry._RULES, "sentence", StandInSentence)
    ctx = context(tmp_path, openai_block(stub, fallback_enabled=True))
    rule = build(ctx)
    assert messages(ctx) == [] and rule.source == "fallback" and stub.request_count == 0
    assert f"{KEY_ENV} (openai.api_key_env) is not set" in messages(ctx, "warning")[0]


def test_fallback_values_have_the_column_type(write_config, monkeypatch) -> None:
    # The design falls back by data type: numbers for an int column, dates for a date column.
    from synthbeam.rules.compiler.compile import build_plan
    from synthbeam.rules.engine.batch import generate_batch

    sentence_rule_or_skip()
    monkeypatch.delenv(KEY_ENV, raising=False)
    prompt = {"type": "openai_generated", "prompt": PROMPT}
    config = {
        "seed": 1,
        "as_of": "2026-01-01",
        "openai": openai_block(fallback_enabled=True),
        "tables": [
            {
                "table_name": "t",
                "rows": 300,
                "columns": [
                    {"name": kind, "type": kind, "rule": prompt} for kind in ("int", "date", "email", "bool", "str")
                ],
            }
        ],
    }
    plan, issues = build_plan(str(write_config(config)))
    assert not issues.errors, issues.errors
    warnings = [issue.message for issue in issues.warnings]
    assert any("falls back to its type's default rule 'range'" in w for w in warnings), warnings
    assert any("falls back to Faker sentences" in w for w in warnings), warnings
    batch = generate_batch(plan, "t", 0, 300)
    assert batch.schema.field("int").type == pa.int64() and batch.schema.field("date").type == pa.date32()
    assert all(0 <= v <= 10_000 for v in batch.column("int").to_pylist() if v is not None)
    assert all("@" in v for v in batch.column("email").to_pylist() if v is not None)
    assert set(batch.column("bool").drop_null().to_pylist()) == {True, False}
    assert all(len(v.split()) >= 1 and v.endswith(".") for v in batch.column("str").to_pylist() if v is not None)


def test_fallback_without_a_sentence_rule_is_an_error(tmp_path, stub, with_key, monkeypatch) -> None:
    monkeypatch.setattr(llm_module, "lookup_rule", lambda name, locale="en_US": None)
    stub.fail_status = 500
    ctx = context(tmp_path, openai_block(stub, fallback_enabled=True))
    build(ctx)
    [error] = messages(ctx)
    assert "openai.fallback_enabled needs a registered 'sentence' rule, and there is none" in error


def test_cost_limit_with_fallback_falls_back_with_a_warning(tmp_path, stub, with_key, monkeypatch) -> None:
    # issue 14 item 13: fallback_enabled means the column falls back whatever stopped the model.
    monkeypatch.setitem(registry._RULES, "sentence", StandInSentence)
    ctx = context(tmp_path, openai_block(stub, fallback_enabled=True, max_cost_usd=0.00001))
    rule = build(ctx)
    assert messages(ctx) == [] and rule.source == "fallback"
    [warning] = messages(ctx, "warning")
    assert "falls back to Faker sentences: openai cost limit" in warning
    assert "of openai.max_cost_usd $0.00001;" in warning and "$0.0000 " not in warning
    assert stub.request_count == 0
    counters: dict[str, int] = {}
    assert all(value.startswith("Sentence ") for value in rows(rule, 0, 3, counters))
    assert counters == {"c:openai_fallback": 3}


def test_cost_limit_without_fallback_is_an_error_that_says_how_to_fall_back(tmp_path, stub, with_key) -> None:
    ctx = context(tmp_path, openai_block(stub, max_cost_usd=0.00001))
    build(ctx)
    [error] = messages(ctx)
    assert "openai cost limit" in error and "max_cost_usd $0.00001;" in error and "fallback_enabled" in error


def test_money_is_written_as_people_write_it() -> None:
    from synthbeam.rules.llm.client import money

    assert [money(v) for v in (0, 0.00001, 0.000123456, 0.01, 0.0123456, 1, 1234.5)] == [
        "$0.00", "$0.00001", "$0.00012", "$0.01", "$0.0123", "$1.00", "$1,234.50"
    ]


def test_a_corrupt_cache_is_an_error_offline_and_refetched_online(tmp_path, stub, with_key) -> None:
    build(context(tmp_path, openai_block(stub)), pool_size=5)
    [cache_file] = cache_files(tmp_path)
    cache_file.write_text("{not json")
    offline = context(tmp_path, {"enabled": False})
    build(offline, pool_size=5)
    assert f"cache file {cache_file} is unreadable" in messages(offline)[0]
    online = context(tmp_path, openai_block(stub))
    rule = build(online, pool_size=5)
    assert messages(online) == [] and "asking the model again" in messages(online, "warning")[0]
    assert len(rule.pool) == 5 and json.loads(cache_file.read_text())["values"] == list(rule.pool)


def test_a_hand_edited_cache_is_used_as_written(tmp_path, stub, with_key) -> None:
    build(context(tmp_path, openai_block(stub)), pool_size=5)
    [cache_file] = cache_files(tmp_path)
    record = json.loads(cache_file.read_text())
    record["values"] = ["Espresso Yourself", "Brewed Awakening", "Espresso Yourself"]
    cache_file.write_text(json.dumps(record))
    rule = build(context(tmp_path, {"enabled": False}), pool_size=5)
    assert rule.pool == ("Espresso Yourself", "Brewed Awakening")


# --- the key stays secret ----------------------------------------------------------------


def test_the_key_never_leaves_the_client(tmp_path, stub, with_key, caplog, monkeypatch) -> None:
    caplog.set_level(logging.DEBUG)
    rule = build(context(tmp_path, openai_block(stub)), pool_size=20)
    assert stub.authorizations[-1] == f"Bearer {SECRET}"
    for cache_file in cache_files(tmp_path):
        assert SECRET not in cache_file.read_text()
    assert SECRET.encode() not in pickle.dumps(rule)
    assert SECRET not in repr(rule) + rule.describe() + repr(vars(rule))

    stub.fail_status = 401
    stub.echo_auth = True
    ctx = context(tmp_path, openai_block(stub), column="d")
    build(ctx, prompt="Invent cake names.")
    [error] = messages(ctx)
    assert "you sent Authorization: Bearer ***" in error and SECRET not in error

    stub.fail_status = None
    stub.content = f"I cannot share {SECRET} or anything else"
    ctx = context(tmp_path, openai_block(stub), column="e")
    build(ctx, prompt="Invent pie names.")
    [error] = messages(ctx)
    assert "the answer is not JSON" in error and SECRET not in error

    monkeypatch.setitem(registry._RULES, "sentence", StandInSentence)
    stub.content = None
    stub.fail_status = 500
    ctx = context(tmp_path, openai_block(stub, fallback_enabled=True), column="f")
    fallback = build(ctx, prompt="Invent tart names.")
    assert SECRET.encode() not in pickle.dumps(fallback)
    assert SECRET not in " ".join(messages(ctx, "warning"))

    assert SECRET not in caplog.text


# --- llm-check ---------------------------------------------------------------------------


def test_llm_check_reports_each_state_and_never_the_key(tmp_path, stub, monkeypatch) -> None:
    from synthbeam.pipeline.llm_check import llm_check  # the command's door; what it calls is tested above

    disabled = llm_check({"enabled": False}, tmp_path)
    assert disabled["status"] == "disabled" and not disabled["ok"]

    no_key = llm_check(openai_block(stub), tmp_path)
    assert no_key["status"] == "no_key" and KEY_ENV in no_key["message"]
    assert stub.request_count == 0

    monkeypatch.setenv(KEY_ENV, SECRET)
    success = llm_check(openai_block(stub), tmp_path)
    assert success["status"] == "success" and success["ok"]
    assert success["model"] == "gpt-4o-mini" and success["response_id"] == "chatcmpl-stub-1"
    assert success["latency_seconds"] >= 0 and success["base_url"] == stub.base_url
    assert stub.authorizations == [f"Bearer {SECRET}"]

    stub.fail_status = 401
    stub.echo_auth = True
    failed = llm_check(openai_block(stub), tmp_path)
    assert failed["status"] == "error" and "HTTP 401" in failed["message"]

    invalid = llm_check(openai_block(stub, api_key=SECRET), tmp_path)
    assert invalid["status"] == "invalid"
    for report in (disabled, no_key, success, failed, invalid):
        assert SECRET not in json.dumps(report)


def test_llm_check_counts_cached_pools(tmp_path, stub, with_key) -> None:
    from synthbeam.pipeline.llm_check import llm_check

    build(context(tmp_path, openai_block(stub)), pool_size=5)
    report = llm_check({"enabled": False}, tmp_path)
    assert report["cached_pools"] == 1
    assert report["cache_dir"] == str(tmp_path / ".synthbeam-cache" / "openai")
