"""Calling Faker itself: instances per locale, method names, seeded pools, per-row values.

Faker's single stateful RNG cannot be addressed by row, so rules never call it
row by row on the hot path. Instead a column draws from a *pool*: ``size``
values produced by a Faker instance seeded from the column's stream key, built
once per process and picked from by ``stream.below(index, size)``; the pool
depends only on (locale, method, params, key, size), so every worker rebuilds
the same one. Unique columns that cannot be enumerated use ``per_row_values``:
one Faker call per row with the generator re-seeded from ``stream.bits(i)``,
slow but row-independent.

Faker's output is only stable for one Faker version (the project pins it).
Methods whose defaults are relative to "now" (``date_of_birth``,
``credit_card_expire`` ...) give pools that change with the calendar day.
"""

from __future__ import annotations

import datetime as dt
import decimal
import difflib
import functools
import inspect
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.compile_cache import cached
from synthbeam.rules.core.registry import normalise_name
from synthbeam.rules.core.seeding import Stream, derive_key
from synthbeam.rules.generators.text.vector import Node

DEFAULT_POOL_SIZE = 10_000
_SAMPLES_FOR_TYPE = 16

# Generator attributes that are plumbing, not value generators.
NON_GENERATORS = frozenset(
    {
        "add_provider",
        "del_arguments",
        "format",
        "get_arguments",
        "get_formatter",
        "get_providers",
        "parse",
        "provider",
        "providers",
        "random",
        "seed",
        "seed_instance",
        "seed_locale",
        "set_arguments",
        "set_formatter",
    }
)

ARROW_TYPES = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"),
}

# Faker generators share provider instances' caches; building or seeding one
# must not interleave with another thread using the same locale.
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock(locale: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(locale, threading.Lock())


@functools.lru_cache(maxsize=32)
def faker_generator(locale: str) -> Any:
    """The shared Faker generator of ``locale`` (read its data; do not draw from it)."""
    from faker import Factory

    try:
        return Factory.create(locale)
    except AttributeError as exc:
        raise ValueError(f"unknown Faker locale {locale!r}") from exc


@functools.lru_cache(maxsize=32)
def _drawing_generator(locale: str) -> Any:
    """A second generator per locale, used (under the locale lock) for seeded draws."""
    from faker import Factory

    return Factory.create(locale)


@functools.lru_cache(maxsize=32)
def faker_method_names(locale: str) -> dict[str, str]:
    """Normalised name -> real name of every value-generating method of ``locale``."""
    return cached("method-names", (locale,), lambda: _method_names(locale))


def _method_names(locale: str) -> dict[str, str]:
    try:
        generator = faker_generator(locale)
    except ValueError:
        return {}
    names: dict[str, str] = {}
    for name in sorted(dir(generator)):
        if name.startswith("_") or name in NON_GENERATORS:
            continue
        attribute = getattr(generator, name, None)
        if not inspect.ismethod(attribute) or attribute.__self__ is generator:
            continue
        names.setdefault(normalise_name(name), name)
    return names


def faker_arguments(locale: str, method: str) -> tuple[str, ...] | None:
    """The keyword arguments Faker's ``method`` takes in ``locale``; None when it takes any (``**kwargs``).

    Through the compile cache: a warm cache answers without importing Faker.
    """
    return cached("arguments", (locale, method), lambda: _arguments(locale, method))


def _arguments(locale: str, method: str) -> tuple[str, ...] | None:
    try:
        function = getattr(faker_generator(locale), method)
        signature = inspect.signature(function)
    except (AttributeError, TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return tuple(name for name, p in signature.parameters.items() if p.kind in kinds and name != "self")


def unknown_locale(locale: str) -> str | None:
    """Why Faker has no locale ``locale`` (the message), or None when it has it."""

    def check() -> str | None:
        try:
            faker_generator(locale)
        except ValueError as exc:
            return str(exc)
        return None

    return cached("unknown-locale", (locale,), check)


def params_key(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A cache key for call parameters (their reprs, sorted by name)."""
    return tuple(sorted((str(name), repr(value)) for name, value in params.items()))


def faker_method_name(name: str, locale: str) -> str | None:
    """The Faker method ``name`` means in ``locale`` (ignoring case, spaces, underscores), or None."""
    if not isinstance(name, str) or not name.strip():
        return None
    return faker_method_names(locale).get(normalise_name(name))


def suggest_faker_methods(name: str, locale: str, n: int = 3) -> list[str]:
    """Up to ``n`` Faker methods of ``locale`` whose names are close to ``name``."""
    names = faker_method_names(locale)
    close = difflib.get_close_matches(normalise_name(name), list(names), n=n, cutoff=0.6)
    return [names[key] for key in close]


def unknown_method_message(name: str, locale: str) -> str:
    suggestions = suggest_faker_methods(name, locale)
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return f"unknown Faker method {name!r} for locale {locale}{hint}"


def call_seeded(locale: str, method: str, params: Mapping[str, Any], seeds: list[int]) -> list[Any]:
    """``method(**params)`` once per seed, the generator re-seeded before each call."""
    with _lock(locale):
        generator = _drawing_generator(locale)
        function = getattr(generator, method)
        values = []
        for seed in seeds:
            generator.seed_instance(seed)
            values.append(function(**params))
        return values


def call_sequence(locale: str, method: str, params: Mapping[str, Any], seed: int, count: int) -> list[Any]:
    """``count`` successive values of ``method(**params)`` after seeding with ``seed``."""
    with _lock(locale):
        generator = _drawing_generator(locale)
        generator.seed_instance(seed)
        function = getattr(generator, method)
        return [function(**params) for _ in range(count)]


def value_kind(value: Any) -> str:
    """The canonical column type a Faker return value maps to."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, int) and -(1 << 63) <= value < (1 << 63):
        return "int"
    if isinstance(value, (float, decimal.Decimal)):
        return "float"
    if isinstance(value, dt.datetime):
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    return "str"


def infer_kind(values: list[Any]) -> str:
    kinds = {value_kind(v) for v in values if v is not None}
    if len(kinds) == 1:
        return kinds.pop()
    if kinds == {"int", "float"}:
        return "float"
    return "str"


def render_text(value: Any) -> str | None:
    """A Faker value as text: JSON for containers, hex for bytes, ``str`` otherwise."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        if isinstance(value, (set, frozenset)):
            value = sorted(value, key=repr)
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return str(value)


def _plain(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "float":
        return float(value)
    if kind == "timestamp" and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if kind == "time" and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def to_arrow(values: list[Any], kind: str) -> pa.Array:
    """Faker values as an Arrow array of the natural type of ``kind``."""
    if kind == "str":
        return pa.array([render_text(v) for v in values], pa.string())
    return pa.array([_plain(v, kind) for v in values], ARROW_TYPES[kind])


def pool_seed(key: int) -> int:
    return derive_key("faker-pool", key)


@dataclass(frozen=True, eq=False)
class PoolToken(Node):
    """A Faker method inside a vectorised format that has no column-wise recipe.

    Its values come from a seeded pool of ``size`` Faker values (built per
    stream key, once per process), then are picked by row.
    """

    locale: str
    method: str
    size: int = 1_000
    _cache_pools: dict[int, pa.Array] = field(default_factory=dict, compare=False, repr=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PoolToken) and (self.locale, self.method, self.size) == (
            other.locale,
            other.method,
            other.size,
        )

    def __hash__(self) -> int:
        return hash((PoolToken, self.locale, self.method, self.size))

    def _pool(self, key: int) -> pa.Array:
        pool = self._cache_pools.get(key)
        if pool is None:
            values = call_sequence(self.locale, self.method, {}, pool_seed(key), self.size)
            pool = pa.array([render_text(v) for v in values], pa.string())
            self._cache_pools[key] = pool
        return pool

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        pool = self._pool(stream.key)
        return pool.take(pa.array(stream.child("pick").below(index, len(pool))))

    def pooled(self) -> tuple[str, ...]:
        return (self.method,)


class Pool:
    """A column's pool of Faker values, built lazily per stream key."""

    def __init__(self, locale: str, method: str, params: Mapping[str, Any], size: int, kind: str) -> None:
        self.locale = locale
        self.method = method
        self.params = dict(params)
        self.size = size
        self.kind = kind
        self._pools: dict[int, pa.Array] = {}
        self._guard = threading.Lock()

    def values(self, key: int) -> pa.Array:
        with self._guard:
            pool = self._pools.get(key)
        if pool is None:
            raw = call_sequence(self.locale, self.method, self.params, pool_seed(key), self.size)
            pool = to_arrow(raw, self.kind)
            with self._guard:
                if len(self._pools) > 16:  # retries use fresh streams; keep memory bounded
                    self._pools.clear()
                self._pools[key] = pool
        return pool

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        pool = self.values(stream.child("pool").key)
        return pool.take(pa.array(stream.child("pick").below(index, self.size)))


def per_row_values(
    locale: str, method: str, params: Mapping[str, Any], kind: str, index: np.ndarray, stream: Stream
) -> pa.Array:
    """One Faker call per row, seeded by ``stream.bits(row)``: row-independent, slow."""
    seeds = [int(s) for s in stream.child("row").bits(index)]
    return to_arrow(call_seeded(locale, method, params, seeds), kind)


def sample_values(locale: str, method: str, params: Mapping[str, Any]) -> list[Any]:
    """A few values from a fixed seed: proves the call works and shows the value type."""
    return cached(
        "samples",
        (locale, method, params_key(params)),
        lambda: call_sequence(locale, method, params, derive_key("faker-sample", method), _SAMPLES_FOR_TYPE),
    )
