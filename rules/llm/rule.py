"""``openai_generated``: values from a language model, made deterministic by a fixed pool.

An LLM answer is not a function of (seed, table, column, row index), so the model is asked
once, at plan time, for ``pool_size`` distinct values; rows then pick from that pool with
the column's counter-based stream: ``pool[stream.below(index, len(pool))]``. The pool is
kept in a JSON cache file (``openai.cache_dir``, default ``.synthbeam-cache/openai`` beside
the config) keyed by sha256 of (model, system, prompt, pool_size, temperature), so a run
with a cache file makes no request, needs no key, and works offline even with
``openai.enabled`` false; a cache file may be edited by hand to curate the values.

Spec: ``prompt`` (required), ``pool_size`` (default 200), ``model`` (default
``openai.model``), ``temperature``, ``system``, ``max_tokens`` (per request; default
50 per value asked + 200), plus ``prefix``/``suffix``/``regex`` (applied by the composer).

The pool is fetched while the rule is compiled (the plan is compiled once, on the
launcher), stored on the rule and pickled with it: Beam workers never call the API and
never see the key. Requests share one budget per compile (``openai.max_cost_usd``); a
request that could exceed it is refused, not sent, and the column then fails like any other
column whose model cannot be reached (below). :func:`openai_spending` is what the run's
report says about the money spent and where each column's values came from.

When fetching fails (HTTP error, timeout, unusable answer, no key in the environment, the
cost limit) and
``openai.fallback_enabled`` is true, the column falls back, with a warning, to values of its
type as the design document does: Faker sentences (the registered ``sentence`` rule) for a
``str`` column, the type's default rule for any other (an ``int`` column gets ``range``, a
``date`` column ``date_range``, an ``email`` column ``email``...). Every row made that way is
counted as ``<column>:openai_fallback``. Without fallback, or without the fallback rule, the
failure is a config error. A disabled integration with no cache file is always an error.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.registry import Param, Rows, Rule, RuleContext, Settings, lookup_rule, register_rule
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.core.types import DEFAULT_RULES
from synthbeam.rules.llm.client import (
    Budget,
    CostLimitError,
    LLMError,
    OpenAISettings,
    Pool,
    PoolRequest,
    cache_path,
    fetch_pool,
    load_cached_pool,
    make_client,
    money,
    one_line,
    save_pool,
)

log = logging.getLogger(__name__)

DEFAULT_POOL_SIZE = 200
MAX_POOL_SIZE = 10_000
FALLBACK_RULE = "sentence"  # of a str column; other types fall back to their default rule
DISABLED_MESSAGE = (
    "openai_generated needs openai.enabled true (and an API key in the env var named by openai.api_key_env)"
)

# One budget per compile: every rule compiled with the same Settings object spends from it.
_BUDGETS: dict[int, Budget] = {}


def fallback_spec(column_type: str) -> dict[str, str]:
    """The rule a column falls back to when its model cannot be reached: sentences for text, else the type's default."""
    if column_type == "str":
        return {"type": FALLBACK_RULE}
    return dict(DEFAULT_RULES.get(column_type, {"type": FALLBACK_RULE}))


def run_budget(settings: Settings, limit_usd: float) -> Budget:
    """The spending shared by every ``openai_generated`` rule of one compile."""
    key = id(settings)
    budget = _BUDGETS.get(key)
    if budget is None:
        budget = _BUDGETS[key] = Budget(limit_usd)
        # ids are reused after collection, so the entry must go with its Settings.
        weakref.finalize(settings, _BUDGETS.pop, key, None)
    return budget


def openai_spending(settings: Settings) -> dict[str, Any] | None:
    """What this compile's ``openai_generated`` columns cost, for the run's report; None without any.

    ``spent_usd`` is what requests of this run cost (cached pools cost nothing now); each
    column says where its values came from (``api``, ``cache``, ``fallback``).
    """
    budget = _BUDGETS.get(id(settings))
    if budget is None:
        return None
    return {
        "max_cost_usd": budget.limit_usd,
        "spent_usd": round(budget.spent_usd, 6),
        "requests": budget.requests,
        "columns": {place: dict(entry) for place, entry in budget.columns.items()},
    }


def _pool_request(spec: Mapping[str, Any], settings: OpenAISettings, ctx: RuleContext) -> PoolRequest | None:
    """The request the spec describes; None (with errors reported) when it has problems."""
    problems = 0

    def bad(message: str) -> None:
        nonlocal problems
        problems += 1
        ctx.error(message)

    prompt = spec.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        bad("openai_generated needs a non-empty 'prompt'")
    pool_size = spec.get("pool_size", DEFAULT_POOL_SIZE)
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or not 1 <= pool_size <= MAX_POOL_SIZE:
        bad(f"pool_size must be a whole number from 1 to {MAX_POOL_SIZE:,}, got {pool_size!r}")
    model = spec.get("model", settings.model)
    if not isinstance(model, str) or not model.strip():
        bad(f"model must be a non-empty string, got {model!r}")
    temperature = spec.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2
    ):
        bad(f"temperature must be a number from 0 to 2, got {temperature!r}")
    system = spec.get("system")
    if system is not None and not isinstance(system, str):
        bad(f"system must be a string, got {type(system).__name__}")
    max_tokens = spec.get("max_tokens")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 16):
        bad(f"max_tokens must be a whole number >= 16, got {max_tokens!r}")
    if problems:
        return None
    return PoolRequest(
        model=model,
        prompt=prompt,
        pool_size=pool_size,
        system=system,
        temperature=float(temperature) if temperature is not None else None,
        max_tokens=max_tokens,
    )


@register_rule("openai_generated")
class OpenAIGenerated(Rule):
    """Rows drawn uniformly from a pool of LLM-made values fetched (or cached) at plan time."""

    output_type = "str"
    example = ("str", {"type": "openai_generated", "prompt": "a product review headline", "pool_size": 20})
    parameters = (
        Param("prompt", "text", "what one value should be", required=True, json_types=("string",)),
        Param(
            "pool_size",
            f"whole number from 1 to {MAX_POOL_SIZE:,}",
            "distinct values to fetch",
            f"{DEFAULT_POOL_SIZE:,}",
            json_types=("integer",),
        ),
        Param("model", "text", "the model to ask", "openai.model", json_types=("string",)),
        Param("temperature", "number from 0 to 2", "sampling temperature", json_types=("number",)),
        Param("system", "text", "a system message", json_types=("string",)),
        Param("max_tokens", "whole number >= 16", "the answer's token limit", json_types=("integer",)),
    )

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        self.column = ctx.column
        self.pool: tuple[str, ...] = ()
        self.values = pa.array([], pa.string())
        self.source = "none"  # "cache" | "api" | "fallback" | "none" (compile failed)
        self.fallback: Rule | None = None
        self.cache_file = ""
        settings, problems = OpenAISettings.parse(ctx.settings.openai, ctx.settings.config_dir)
        self.model = str(spec.get("model") or settings.model)
        for problem in problems:
            ctx.error(problem)
        request = _pool_request(spec, settings, ctx)
        if request is None or problems:
            return
        self._fill(request, settings, ctx)

    def _fill(self, request: PoolRequest, settings: OpenAISettings, ctx: RuleContext) -> None:
        path = cache_path(settings.cache_dir, request)
        self.cache_file = str(path)
        budget = run_budget(ctx.settings, settings.max_cost_usd)
        budget.columns[ctx.place] = {"source": "none", "values": 0, "cost_usd": 0.0}
        try:
            self._fetch_or_load(request, settings, ctx, path, budget)
        finally:
            budget.columns[ctx.place].update(source=self.source, values=len(self.pool))

    def _fetch_or_load(
        self, request: PoolRequest, settings: OpenAISettings, ctx: RuleContext, path: Path, budget: Budget
    ) -> None:
        try:
            cached = load_cached_pool(path, request)
        except LLMError as exc:
            if not settings.enabled:
                ctx.error(str(exc))
                return
            ctx.warning(f"{exc}; asking the model again and replacing it")
            cached = None
        if cached is not None:
            self._use(cached)
            return
        if not settings.enabled:
            ctx.error(f"{DISABLED_MESSAGE}; no cached pool at {path}")
            return
        secret = settings.api_key()
        if not secret:
            self._failed(f"environment variable {settings.api_key_env} (openai.api_key_env) is not set", settings, ctx)
            return
        try:
            spent_before = budget.spent_usd
            try:
                pool = fetch_pool(make_client(settings, secret), request, budget, settings, secret)
            finally:
                budget.columns[ctx.place]["cost_usd"] = round(budget.spent_usd - spent_before, 6)
        except CostLimitError as exc:
            # Like any other failure to get values: fallback_enabled means "fall back", with a warning.
            self._failed(str(exc), settings, ctx)
            return
        except LLMError as exc:
            self._failed(one_line(str(exc), secret), settings, ctx)
            return
        if len(pool.values) < request.pool_size:
            ctx.warning(f"asked {request.model} for {request.pool_size} distinct values, got {len(pool.values)}")
        try:
            save_pool(path, request, pool)
        except OSError as exc:
            ctx.warning(f"could not write the pool cache {path}: {exc}; the next run will ask again")
        log.info(
            "%s: %d values from %s in %d request(s), about %s",
            ctx.place,
            len(pool.values),
            request.model,
            pool.usage.requests,
            money(pool.usage.cost_usd),
        )
        self._use(pool)

    def _use(self, pool: Pool) -> None:
        self.pool = tuple(pool.values)
        self.values = pa.array(self.pool, pa.string())
        self.source = pool.source

    def _failed(self, reason: str, settings: OpenAISettings, ctx: RuleContext) -> None:
        spec = fallback_spec(ctx.column_type)
        described = "Faker sentences" if spec["type"] == FALLBACK_RULE else f"its type's default rule {spec['type']!r}"
        if not settings.fallback_enabled:
            ctx.error(
                f"openai_generated could not get values: {reason} "
                f"(set openai.fallback_enabled to fall back to {described})"
            )
            return
        fallback_class = lookup_rule(spec["type"], ctx.settings.locale)
        if fallback_class is None:
            ctx.error(
                f"openai_generated could not get values: {reason}; openai.fallback_enabled needs "
                f"a registered {spec['type']!r} rule, and there is none"
            )
            return
        ctx.warning(f"openai_generated falls back to {described}: {reason}")
        self.fallback = fallback_class(spec, ctx)
        self.output_type = self.fallback.output_type
        self.source = "fallback"

    def cardinality(self) -> int | None:
        if self.fallback is not None:
            return self.fallback.cardinality()
        return len(self.pool) or None

    def enumerable(self) -> bool:
        # Fallback rows go through generate(), so they are counted even in a unique column.
        return self.fallback is None and bool(self.pool)

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return self.values.take(pa.array(np.asarray(ordinal, dtype=np.int64)))

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        if self.fallback is not None:
            rows.count(f"{self.column}:openai_fallback", len(rows))
            return self.fallback.generate(rows, stream.child("fallback"))
        if not self.pool:  # only after a compile error, which stops the run before any rows
            return pa.nulls(len(rows), pa.string())
        return self.values.take(pa.array(stream.below(rows.index, len(self.pool))))

    def describe(self) -> str:
        if self.fallback is not None:
            return f"openai fallback: {self.fallback.describe()} ({self.model} unavailable)"
        state = {"cache": "cached", "api": "fetched"}.get(self.source, "no values")
        return f"openai pool of {len(self.pool)} ({self.model}, {state})"

    def __repr__(self) -> str:
        return f"OpenAIGenerated(model={self.model!r}, pool={len(self.pool)}, source={self.source!r})"
