"""The OpenAI-compatible endpoint behind ``openai_generated`` (and what ``synthbeam llm-check`` calls).

Contract:

- The API key is read only from the environment variable named by ``openai.api_key_env``
  (default ``OPENAI_API_KEY``) and handed to the ``openai`` client, nothing else: it is never
  stored on an object that outlives the call, cached, logged or put in a message (text that
  comes back from the server is scrubbed of it before it is shown).
- A value pool is fetched with chat completions asking for a JSON list, at most
  :data:`BATCH_SIZE` values a request, deduplicated in answer order, and kept in a JSON cache
  file keyed by sha256 of (model, system, prompt, pool_size, temperature).
- Before each request its worst-case cost (estimated prompt tokens plus ``max_tokens`` of
  answer, at :func:`price_of` the model) is checked against what is left of
  ``openai.max_cost_usd``; the request is refused, not sent, when it could exceed it. After
  the request the real ``usage`` is charged.
- ``openai.timeout_seconds`` is the per-request timeout; the client retries a failed request
  :data:`MAX_RETRIES` times (its own retry logic, which honours ``retry-after`` headers).

Pure Python plus the ``openai`` package, imported only when a request is made; never
imports apache_beam.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_MAX_COST_USD = 1.0
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_CACHE_DIR = ".synthbeam-cache/openai"
MAX_RETRIES = 2
BATCH_SIZE = 100
# Values already chosen that a follow-up batch is shown, so it asks for new ones without
# the prompt growing with the pool.
AVOID_SHOWN = 100
TOKENS_PER_VALUE = 50
ANSWER_OVERHEAD_TOKENS = 200
CACHE_FORMAT = 1
DEFAULT_SYSTEM = "You generate realistic synthetic test data. Answer with JSON only, no commentary."

# USD per million tokens (input, output), list prices of the OpenAI API in 2025. A model
# not listed is priced at DEFAULT_PRICE, deliberately high, so the cost limit errs on the
# side of refusing; users of a free local endpoint raise openai.max_cost_usd instead.
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1": (15.00, 60.00),
    "o1-mini": (1.10, 4.40),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
}
DEFAULT_PRICE: tuple[float, float] = (30.00, 60.00)
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")


class LLMError(Exception):
    """A request that failed or an answer that cannot be used; the message is one key-free line."""


class CostLimitError(LLMError):
    """A request refused because it could take spending past ``openai.max_cost_usd``."""


def one_line(text: str, secret: str | None = None, limit: int = 300) -> str:
    """``text`` on one line, shortened, with ``secret`` (if any) replaced by ``***``."""
    if secret:
        text = text.replace(secret, "***")
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def safe_url(url: str | None) -> str:
    """``url`` without user:password, for messages."""
    if not url:
        return "https://api.openai.com/v1 (default)"
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class OpenAISettings:
    """The ``openai`` settings block, parsed, with the defaults of an absent key."""

    enabled: bool = False
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key_env: str = DEFAULT_API_KEY_ENV
    max_cost_usd: float = DEFAULT_MAX_COST_USD
    fallback_enabled: bool = False
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    cache_dir: Path = Path(DEFAULT_CACHE_DIR)

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None, config_dir: Path) -> tuple[OpenAISettings, list[str]]:
        """Settings from the config block, plus one message per problem (config place included)."""
        raw = dict(raw or {})
        problems: list[str] = []

        def flag(name: str, default: bool) -> bool:
            value = raw.get(name, default)
            if not isinstance(value, bool):
                problems.append(f"openai.{name} must be true or false, got {value!r}")
                return default
            return value

        def number(name: str, default: float, allow_zero: bool) -> float:
            value = raw.get(name, default)
            good = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if not good or value < 0 or (value == 0 and not allow_zero):
                bound = ">= 0" if allow_zero else "> 0"
                problems.append(f"openai.{name} must be a number {bound}, got {value!r}")
                return default
            return float(value)

        def text(name: str, default: str | None) -> str | None:
            value = raw.get(name, default)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                problems.append(f"openai.{name} must be a non-empty string, got {value!r}")
                return default
            return value

        if "api_key" in raw:
            # The value is deliberately not echoed: it may be a real key.
            problems.append(
                "openai.api_key must not be in the config: put the key in the environment variable "
                "named by openai.api_key_env instead"
            )
        base_url = text("base_url", None)
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            problems.append(f"openai.base_url must start with http:// or https://, got {safe_url(base_url)!r}")
            base_url = None
        cache_dir = Path(text("cache_dir", DEFAULT_CACHE_DIR) or DEFAULT_CACHE_DIR).expanduser()
        if not cache_dir.is_absolute():
            cache_dir = Path(config_dir) / cache_dir
        settings = cls(
            enabled=flag("enabled", False),
            model=text("model", DEFAULT_MODEL) or DEFAULT_MODEL,
            base_url=base_url,
            api_key_env=text("api_key_env", DEFAULT_API_KEY_ENV) or DEFAULT_API_KEY_ENV,
            max_cost_usd=number("max_cost_usd", DEFAULT_MAX_COST_USD, allow_zero=True),
            fallback_enabled=flag("fallback_enabled", False),
            timeout_seconds=number("timeout_seconds", DEFAULT_TIMEOUT_SECONDS, allow_zero=False),
            cache_dir=cache_dir,
        )
        return settings, problems

    def api_key(self) -> str | None:
        """The key from the environment (None when unset or empty); callers must not keep it."""
        return os.environ.get(self.api_key_env) or None


def price_of(model: str) -> tuple[float, float]:
    """USD per million (input, output) tokens; dated snapshots price as their base model."""
    if model in PRICES_PER_MILLION:
        return PRICES_PER_MILLION[model]
    return PRICES_PER_MILLION.get(_SNAPSHOT.sub("", model), DEFAULT_PRICE)


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    price_in, price_out = price_of(model)
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000


def estimate_prompt_tokens(messages: Sequence[Mapping[str, str]]) -> int:
    """An upper estimate: a token is about 4 characters of English; count one per 3 bytes."""
    return sum(math.ceil(len(m["content"].encode("utf-8")) / 3) + 8 for m in messages) + 8


def money(usd: float) -> str:
    """Dollars as people write them: from $0.01 up at most four decimals, below it two significant digits.

    A fixed ``.4f`` printed ``max_cost_usd $0.0000`` for a limit of $0.00001, which reads as
    "no budget at all"; scientific notation (``1e-05``) is no better on a terminal.
    """
    if usd == 0:
        return "$0.00"
    if abs(usd) >= 0.01:
        text = f"{usd:,.4f}".rstrip("0")
    else:
        text = f"{usd:.{1 - math.floor(math.log10(abs(usd)))}f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"${whole}.{fraction.ljust(2, '0')}"


@dataclass
class Budget:
    """Money spent on requests in one compile, against ``openai.max_cost_usd``."""

    limit_usd: float
    spent_usd: float = 0.0
    requests: int = 0
    # place -> what that column's pool cost and where it came from, for the run's report.
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)

    def check(self, worst_case_usd: float) -> None:
        if self.spent_usd + worst_case_usd > self.limit_usd:
            raise CostLimitError(
                f"openai cost limit: the next request could cost up to {money(worst_case_usd)}, "
                f"{money(self.spent_usd)} already spent of openai.max_cost_usd {money(self.limit_usd)}; "
                "raise max_cost_usd or lower pool_size"
            )

    def charge(self, usd: float) -> None:
        self.spent_usd += usd
        self.requests += 1


@dataclass(frozen=True)
class PoolRequest:
    """What to ask for. The cache key covers everything that shapes the answer but max_tokens."""

    model: str
    prompt: str
    pool_size: int
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None

    def key_fields(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "system": self.system,
            "prompt": self.prompt,
            "pool_size": self.pool_size,
            "temperature": self.temperature,
        }

    def cache_key(self) -> str:
        canonical = json.dumps(self.key_fields(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    cost_usd: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "requests": self.requests,
            "cost_usd": round(self.cost_usd, 6),
        }


@dataclass
class Pool:
    """A fetched or cached value pool."""

    values: list[str]
    usage: Usage = field(default_factory=Usage)
    source: str = "api"  # "api" | "cache"
    created: str = ""


# --- cache -------------------------------------------------------------------------------


def cache_path(cache_dir: Path, request: PoolRequest) -> Path:
    return Path(cache_dir) / f"{request.cache_key()}.json"


def load_cached_pool(path: Path, request: PoolRequest) -> Pool | None:
    """The pool cached at ``path`` (None when there is no file); LLMError when it is unusable."""
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LLMError(f"cache file {path} is unreadable: {one_line(str(exc))}") from None
    if not isinstance(record, dict):
        raise LLMError(f"cache file {path} does not hold a JSON object")
    mismatched = [k for k, v in request.key_fields().items() if record.get(k) != v]
    if mismatched:
        raise LLMError(f"cache file {path} was made for another request ({', '.join(mismatched)} differ)")
    values = record.get("values")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise LLMError(f"cache file {path} needs 'values', a non-empty list of strings")
    raw_usage = record.get("usage") if isinstance(record.get("usage"), dict) else {}
    try:
        usage = Usage(
            prompt_tokens=int(raw_usage.get("prompt_tokens", 0)),
            completion_tokens=int(raw_usage.get("completion_tokens", 0)),
            requests=int(raw_usage.get("requests", 0)),
            cost_usd=float(raw_usage.get("cost_usd", 0.0)),
        )
    except (TypeError, ValueError):
        usage = Usage()  # usage is a record of the past; the values are what matter
    # Hand-edited files may repeat a value; a pool is a set in a fixed order.
    return Pool(list(dict.fromkeys(values)), usage, "cache", str(record.get("created", "")))


def save_pool(path: Path, request: PoolRequest, pool: Pool) -> None:
    """Write the cache file atomically (a reader never sees half a file)."""
    record = {
        "synthbeam_openai_pool": CACHE_FORMAT,
        "key": request.cache_key(),
        **request.key_fields(),
        "values": pool.values,
        "usage": pool.usage.as_dict(),
        "created": pool.created,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)


# --- requests ----------------------------------------------------------------------------


def make_client(settings: OpenAISettings, api_key: str) -> Any:
    """The real ``openai`` client for ``settings``; the key lives only in this client."""
    import openai

    try:
        return openai.OpenAI(
            api_key=api_key,
            base_url=settings.base_url,
            timeout=settings.timeout_seconds,
            max_retries=MAX_RETRIES,
        )
    except (openai.OpenAIError, ValueError, TypeError) as exc:
        raise LLMError(f"cannot set up the openai client: {one_line(str(exc), api_key)}") from None


def build_messages(request: PoolRequest, wanted: int, chosen: Sequence[str], batch: int) -> list[dict[str, str]]:
    ask = (
        f"{request.prompt.strip()}\n\n"
        f'Return a JSON object {{"values": [...]}} holding exactly {wanted} distinct values, '
        "each a JSON string."
    )
    if chosen:
        shown = json.dumps(list(chosen[-AVOID_SHOWN:]), ensure_ascii=False)
        ask += f" This is batch {batch + 1}; do not repeat any of these values: {shown}"
    return [
        {"role": "system", "content": request.system or DEFAULT_SYSTEM},
        {"role": "user", "content": ask},
    ]


_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


def parse_values(content: str | None) -> list[Any]:
    """The list in a model's answer: ``{"values": [...]}``, a bare ``[...]``, or one in text.

    Anything else (an object without exactly one list, a string, a number) is rejected
    loudly, since guessing would put garbage into every row.
    """
    if content is None or not content.strip():
        raise LLMError("the model answered with no content")
    text = _FENCE.sub("", content.strip())
    try:
        answer = json.loads(text)
    except json.JSONDecodeError:
        start, end = text.find("["), text.rfind("]")
        if start < 0 or end <= start:
            raise LLMError(f"the answer is not JSON: {one_line(content, limit=120)}") from None
        try:
            answer = json.loads(text[start : end + 1])
        except json.JSONDecodeError:
            raise LLMError(f"the answer is not JSON: {one_line(content, limit=120)}") from None
    if isinstance(answer, dict):
        if isinstance(answer.get("values"), list):
            answer = answer["values"]
        else:
            lists = [v for v in answer.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise LLMError(f"the answer is a JSON object without a list of values: {one_line(text, limit=120)}")
            answer = lists[0]
    if not isinstance(answer, list):
        raise LLMError(f"the answer is JSON {type(answer).__name__}, not a list: {one_line(text, limit=120)}")
    return answer


def clean_values(items: Sequence[Any]) -> list[str]:
    """Strings from scalar items (numbers keep their JSON form); nested values are dropped."""
    values = []
    for item in items:
        if isinstance(item, str):
            text = item.strip()
        elif isinstance(item, (bool, int, float)):
            text = json.dumps(item)
        else:
            continue
        if text:
            values.append(text)
    return values


def complete(
    client: Any,
    request: PoolRequest,
    messages: list[dict[str, str]],
    max_tokens: int,
    settings: OpenAISettings,
    secret: str,
) -> Any:
    import openai

    options: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "max_tokens": max_tokens,
        "response_format": {"type": "json_object"},
    }
    if request.temperature is not None:
        options["temperature"] = request.temperature
    try:
        return client.chat.completions.create(**options)
    except openai.APITimeoutError:
        raise LLMError(
            f"request to {safe_url(settings.base_url)} timed out after {settings.timeout_seconds:g}s "
            f"(openai.timeout_seconds), {MAX_RETRIES} retries included"
        ) from None
    except openai.APIStatusError as exc:
        body = exc.body if isinstance(exc.body, Mapping) else {}
        detail = body.get("message") if isinstance(body.get("message"), str) else exc.message
        raise LLMError(
            f"HTTP {exc.status_code} from {safe_url(settings.base_url)}: {one_line(detail, secret)}"
        ) from None
    except openai.APIConnectionError as exc:
        cause = exc.__cause__ or exc
        raise LLMError(f"cannot reach {safe_url(settings.base_url)}: {one_line(str(cause), secret)}") from None
    except openai.OpenAIError as exc:
        raise LLMError(f"openai client error: {one_line(str(exc), secret)}") from None


def fetch_pool(
    client: Any,
    request: PoolRequest,
    budget: Budget,
    settings: OpenAISettings,
    secret: str,
    batch_size: int = BATCH_SIZE,
) -> Pool:
    """Ask for ``request.pool_size`` distinct values, ``batch_size`` a request, within ``budget``.

    A follow-up request tops up values lost to duplicates; a request that brings nothing new
    ends the fetch with what there is (the caller decides whether that is enough).
    """
    chosen: dict[str, None] = {}
    usage = Usage()
    max_requests = math.ceil(request.pool_size / batch_size) + 2
    while len(chosen) < request.pool_size and usage.requests < max_requests:
        wanted = min(batch_size, request.pool_size - len(chosen))
        messages = build_messages(request, wanted, list(chosen), usage.requests)
        max_tokens = request.max_tokens or TOKENS_PER_VALUE * wanted + ANSWER_OVERHEAD_TOKENS
        worst_case = cost_usd(request.model, estimate_prompt_tokens(messages), max_tokens)
        budget.check(worst_case)
        response = complete(client, request, messages, max_tokens, settings, secret)
        usage.requests += 1
        spent = worst_case  # a server that reports no usage is charged the worst case
        if getattr(response, "usage", None) is not None:
            prompt_tokens = int(response.usage.prompt_tokens or 0)
            completion_tokens = int(response.usage.completion_tokens or 0)
            usage.prompt_tokens += prompt_tokens
            usage.completion_tokens += completion_tokens
            spent = cost_usd(request.model, prompt_tokens, completion_tokens)
        usage.cost_usd += spent
        budget.charge(spent)
        if not response.choices:
            raise LLMError("the answer has no choices")
        choice = response.choices[0]
        content = choice.message.content
        if content and secret:
            # Scrubbed before parsing: an error quotes (and may cut) the content.
            content = content.replace(secret, "***")
        try:
            items = parse_values(content)
        except LLMError:
            if choice.finish_reason == "length":
                raise LLMError(
                    f"the answer was cut off at max_tokens {max_tokens}; raise max_tokens or lower pool_size"
                ) from None
            raise
        fresh = [v for v in clean_values(items) if v not in chosen]
        if not fresh:
            break
        chosen.update(dict.fromkeys(fresh))
    if not chosen:
        raise LLMError("the model returned no usable values")
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    return Pool(list(chosen)[: request.pool_size], usage, "api", created)
