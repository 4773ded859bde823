"""Every Faker method is a rule; the common ones are computed column-wise from Faker's data.

Any Faker method name is a rule (``{"type": "date_of_birth", "params":
{"minimum_age": 18}}``; case, spaces and underscores are ignored):
:class:`FakerMethod`, reached through ``register_fallback``, draws rows from a
seeded pool of Faker's own values (:mod:`.pool`).

The methods in :data:`VECTORISED_METHODS` are registered rule classes, one per
family (names, address, phone, company, SSN, internet, lorem, credit card,
bank). They compile the method of the plan's locale into a node tree
(:mod:`.compile`, :mod:`.recipes`, :mod:`.lorem`) built from that
locale's provider data (its word lists, weights, formats) and generate whole
columns with numpy (:mod:`~synthbeam.rules.generators.text.vector`). Where a locale's implementation
cannot be compiled (or the ``params`` are ones no recipe handles) the same
class falls back to the pool; ``describe()`` and ``vectorised`` say which.

Vectorised: names (``first_name``, ``last_name``, ``name`` and their
``_male``/``_female`` forms, ``prefix``/``suffix`` forms, ``ja_JP`` kana and
romanized names), address (``address``, ``street_address``, ``street_name``,
``building_number``, ``city``, ``postcode``, ``zipcode``, ``country``,
``country_code``, ``state``, ``administrative_unit``, ``state_abbr``,
``secondary_address``), ``phone_number``/``msisdn``, ``company``, ``job``,
``ssn``, ``user_name``, ``email``/``free_email``/``company_email``/
``safe_email``, ``domain_name``, ``ipv4``/``ipv4_private``/``ipv4_public``/
``ipv6``, ``word``/``sentence``/``paragraph``/``text``,
``credit_card_number``/``credit_card_security_code``/``credit_card_expire``,
``iban``/``bban``. Everything else goes through the pool.

Purity: every value is a function of (column stream key, row index) and the
pinned Faker version. ``credit_card_expire`` counts its default ten years from
the plan's ``as_of`` date instead of the wall clock. Unique columns: rules
whose values can be enumerated (``ssn``, ``iban``, ``ipv4``, fixed patterns,
picks, and ``email``/``user_name`` through a ``first.last<tag>`` scheme) offer
``value_at``; the rest offer ``per_row``, values that are independent per row.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.compile_cache import cached
from synthbeam.rules.core.registry import (
    Param,
    Rows,
    Rule,
    RuleContext,
    iter_rule_classes,
    normalise_name,
    register_fallback,
    register_rule,
)
from synthbeam.rules.core.seeding import Stream, derive_key
from synthbeam.rules.generators.faker import lorem, recipes  # noqa: F401  (register their recipes)
from synthbeam.rules.generators.faker.compile import MethodCompiler, compiler_for
from synthbeam.rules.generators.faker.pool import (
    DEFAULT_POOL_SIZE,
    Pool,
    faker_arguments,
    faker_method_name,
    infer_kind,
    params_key,
    per_row_values,
    render_text,
    sample_values,
    suggest_faker_methods,
    unknown_locale,
    unknown_method_message,
)
from synthbeam.rules.generators.faker.symbolic import as_node
from synthbeam.rules.generators.faker.unique import UniqueChoice, space_bound, unique_choice
from synthbeam.rules.generators.text.vector import Concatenation, Const, Node, NotVectorisable, Pick, mix

__all__ = [
    "VECTORISED_METHODS",
    "FakerMethod",
    "VectorisedFaker",
    "faker_method_name",
    "suggest_faker_methods",
]

T = TypeVar("T")

_POOL_BUDGET_BYTES = 64 << 20
_MIN_POOL = 100
_EXPIRY_SPAN = dt.timedelta(days=3652.4)  # Faker's "+10y"


def _read_params(spec: Mapping[str, Any], ctx: RuleContext) -> dict[str, Any]:
    params = spec.get("params") or {}
    if not isinstance(params, Mapping):
        ctx.error(f"params must be an object of keyword arguments, got {type(params).__name__}")
        return {}
    return dict(params)


def _read_pool_size(spec: Mapping[str, Any], ctx: RuleContext) -> int:
    size = spec.get("pool_size", DEFAULT_POOL_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        ctx.error(f"pool_size must be a whole number >= 1, got {size!r}")
        return DEFAULT_POOL_SIZE
    return size


class FakerMethod(Rule):
    """Any Faker method: rows pick from a pool of Faker's values seeded by the column."""

    parameters = (
        Param(
            "params",
            "object of keyword arguments",
            "arguments of the Faker method, checked against its signature",
            json_types=("object",),
        ),
        Param(
            "pool_size",
            "whole number >= 1",
            "Faker values drawn into the pool",
            f"{DEFAULT_POOL_SIZE:,}",
            json_types=("integer",),
        ),
    )
    # Rule names (normalised) that stand for another Faker method: the seed's shortcuts.
    aliases: ClassVar[dict[str, str]] = {}

    @classmethod
    def unknown_key_hint(cls, key: str, spec: Mapping[str, Any], locale: str) -> str | None:
        """A Faker argument written beside ``type`` instead of inside ``params`` (it used to be ignored)."""
        written = str(spec.get("type") or "")
        method = faker_method_name(cls.aliases.get(normalise_name(written), written), locale)
        if method is None:
            return None
        arguments = faker_arguments(locale, method)
        if arguments is None or key not in arguments:
            return None
        shown = json.dumps({"type": written, "params": {key: spec.get(key)}}, default=str)
        return f"it is an argument of Faker {method}: put it in params, {shown}"

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        self.locale = ctx.settings.locale
        self.written = str(spec.get("type") or (self.names[0] if self.names else ""))
        self.params = _read_params(spec, ctx)
        self.pool_size = _read_pool_size(spec, ctx)
        self.kind = "str"
        self.method = self.resolve(ctx)
        if self.method is not None:
            self.add_default_params(ctx)
            self.check_call(ctx)
        self.output_type = self.kind

    def resolve(self, ctx: RuleContext) -> str | None:
        """The Faker method the rule names, or None (reported) when the locale has none."""
        problem = unknown_locale(self.locale)
        if problem is not None:
            ctx.error(problem)
            return None
        method = faker_method_name(self.written, self.locale)
        if method is None:
            ctx.error(unknown_method_message(self.written, self.locale))
        return method

    def add_default_params(self, ctx: RuleContext) -> None:
        """Parameters a rule pins so values do not depend on the wall clock."""

    def check_call(self, ctx: RuleContext) -> None:
        """Call the method (a few times, fixed seed): report failures, infer the value type."""
        method = self.method
        if method is None:
            return
        accepted = faker_arguments(self.locale, method) if self.params else None
        unknown = [key for key in self.params if accepted is not None and key not in accepted]
        for key in unknown:
            close = difflib.get_close_matches(key, sorted(accepted or ()), n=1)
            fix = f"did you mean {close[0]!r}?" if close else f"it takes {', '.join(accepted or ()) or 'none'}"
            ctx.error(f"params: {key!r} is not an argument of Faker {method}: {fix}")
        if unknown:
            self.method = None
            return
        try:
            samples = sample_values(self.locale, self.method, self.params)
        except Exception as exc:  # Faker raises anything; the user needs its message
            arguments = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
            ctx.error(f"Faker {self.method}({arguments}) failed: {type(exc).__name__}: {exc}")
            self.method = None
            return
        self.kind = infer_kind(samples)
        texts = [render_text(v) or "" for v in samples]
        average = max(1, sum(len(t.encode("utf-8")) for t in texts) // max(1, len(texts)))
        affordable = max(_MIN_POOL, _POOL_BUDGET_BYTES // average)
        if self.pool_size > affordable:
            ctx.warning(
                f"Faker {self.method} values average {average} bytes; pool_size reduced from "
                f"{self.pool_size} to {affordable} to stay within {_POOL_BUDGET_BYTES >> 20} MB"
            )
            self.pool_size = affordable

    # -- generation -----------------------------------------------------------------------------
    def _pool(self) -> Pool:
        pool = getattr(self, "_cache_pool", None)
        if pool is None:
            pool = Pool(self.locale, self.method, self.params, self.pool_size, self.kind)
            self._cache_pool = pool
        return pool

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        if self.method is None:
            return pa.nulls(len(rows), pa.string())
        return self._pool().generate(rows.index, stream)

    @property
    def row_independent(self) -> bool:
        """Whether ``generate`` draws each row independently (a pool repeats its values)."""
        return False

    def per_row(self, rows: Rows, stream: Stream) -> pa.Array:
        """Values drawn independently per row (Faker re-seeded for every row): for unique columns."""
        if self.method is None:
            return pa.nulls(len(rows), pa.string())
        return per_row_values(self.locale, self.method, self.params, self.kind, rows.index, stream)

    def describe(self) -> str:
        return f"faker pool {self.method or self.written} ({self.pool_size})"


def _resolve_faker_rule(name: str, locale: str) -> type[Rule] | None:
    return FakerMethod if faker_method_name(name, locale) else None


register_fallback(_resolve_faker_rule)


class VectorisedFaker(FakerMethod):
    """A Faker method computed column-wise from the locale's provider data (pool when it cannot be)."""

    # Methods a locale may lack, with the method used instead (and reported as a correction).
    stand_ins: ClassVar[dict[str, str]] = {}

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        self.vectorised = False
        self.fallback_reason = ""
        super().__init__(spec, ctx)
        if self.method is None:
            return
        try:
            self._cache_node = self.compile()
            self.vectorised = True
            self.output_type = "str"
        except NotVectorisable as exc:
            self.fallback_reason = str(exc)

    def resolve(self, ctx: RuleContext) -> str | None:
        written = self.aliases.get(normalise_name(self.written), self.written)
        problem = unknown_locale(self.locale)
        if problem is not None:
            ctx.error(problem)
            return None
        method = faker_method_name(written, self.locale)
        stand_in = self.stand_ins.get(normalise_name(written))
        if method is None and stand_in and faker_method_name(stand_in, self.locale):
            ctx.correction(f"Faker locale {self.locale} has no {written}; using {stand_in}")
            return faker_method_name(stand_in, self.locale)
        if method is None:
            ctx.error(unknown_method_message(written, self.locale))
        return method

    def compile(self) -> Node:
        """The column's node, from the compile cache when an earlier run built it (see ``compile_cache``)."""
        node = self._cached_or_raise("node", lambda: as_node(compiler_for(self.locale).value(self.method, self.params)))
        if node.pooled():
            self.pooled_tokens = node.pooled()
        return node

    def _cached_or_raise(self, kind: str, build: Callable[[], T]) -> T:
        """``build()`` through the compile cache, which also keeps why it raised NotVectorisable."""

        def outcome() -> T | str:
            try:
                return build()
            except NotVectorisable as exc:
                return str(exc)

        result = cached(kind, (type(self).__qualname__, self.locale, self.method, params_key(self.params)), outcome)
        if isinstance(result, str):
            raise NotVectorisable(result)
        return result

    def _node(self) -> Node:
        node = getattr(self, "_cache_node", None)
        if node is None:
            node = self.compile()
            self._cache_node = node
        return node

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        if not self.vectorised:
            return super().generate(rows, stream)
        return self._node().generate(rows.index, stream)

    @property
    def row_independent(self) -> bool:
        return self.vectorised

    def per_row(self, rows: Rows, stream: Stream) -> pa.Array:
        if self.vectorised:
            return self.generate(rows, stream)
        return super().per_row(rows, stream)

    def cardinality(self) -> int | None:
        return self._node().cardinality() if self.vectorised else None

    def enumerable(self) -> bool:
        return self.vectorised and self._node().enumerable()

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return self._node().value_at(ordinal)

    def max_cardinality(self) -> int | None:
        exact = self.cardinality()
        if exact is not None or not self.vectorised:
            return exact
        return space_bound(self._node())

    def unique_values(self, rows: int) -> UniqueChoice | None:
        """A choice of word-list formats made one-to-one (:mod:`.unique`), unless ``value_at`` serves."""
        if not self.vectorised or self.enumerable():
            return None
        built = getattr(self, "_cache_unique", None)
        if built is None or built[0] != rows:
            salt = derive_key("faker-unique-choice", self.locale, self.method, params_key(self.params))
            built = (rows, unique_choice(self._node(), rows, salt))
            self._cache_unique = built
        return built[1]

    def describe(self) -> str:
        if not self.vectorised:
            reason = f"; not vectorised: {self.fallback_reason}" if self.fallback_reason else ""
            return super().describe() + reason
        pooled = getattr(self, "pooled_tokens", ())
        extra = f", pooled tokens: {', '.join(pooled)}" if pooled else ""
        return f"faker {self.method} (vectorised{extra})"


@register_rule(
    "first_name",
    "last_name",
    "name",
    "first_name_male",
    "first_name_female",
    "first_name_nonbinary",
    "last_name_male",
    "last_name_female",
    "name_male",
    "name_female",
    "prefix",
    "prefix_male",
    "prefix_female",
    "suffix",
    "suffix_male",
    "suffix_female",
    "first_kana_name",
    "last_kana_name",
    "kana_name",
    "first_romanized_name",
    "last_romanized_name",
    "romanized_name",
)
class FakerNames(VectorisedFaker):
    """Person names from the locale's name lists, weights and name formats."""

    example = ("str", {"type": "first_name"})


@register_rule(
    "address",
    "street_address",
    "street_name",
    "building_number",
    "city",
    "postcode",
    "zipcode",
    "country",
    "country_code",
    "state",
    "administrative_unit",
    "state_abbr",
    "secondary_address",
)
class FakerAddress(VectorisedFaker):
    """Addresses and their parts from the locale's address formats and place lists."""

    example = ("str", {"type": "city"})

    stand_ins: ClassVar[dict[str, str]] = {"zipcode": "postcode", "state": "administrative_unit"}


@register_rule("phone_number", "phone", "msisdn")
class FakerPhone(VectorisedFaker):
    """Phone numbers from the locale's (weighted) number formats."""

    example = ("str", {"type": "phone_number"})

    formatted = True
    masking_kind = "phone"

    aliases: ClassVar[dict[str, str]] = {"phone": "phone_number"}
    regex_retries_from_pattern = True


@register_rule("company", "job")
class FakerCompany(VectorisedFaker):
    """Company names (from name formats) and job titles."""

    example = ("str", {"type": "company"})


@register_rule("ssn")
class FakerSsn(VectorisedFaker):
    """National identity numbers: en_US ranges, fr_FR NIR with its key, format patterns elsewhere."""

    example = ("str", {"type": "ssn"})

    formatted = True


@register_rule("ipv4", "ipv4_private", "ipv4_public", "ipv6", "domain_name")
class FakerNetwork(VectorisedFaker):
    """IP addresses (IPv4 from Faker's networks minus reserved ones, IPv6 uniform) and domain names."""

    example = ("str", {"type": "ipv4"})

    formatted = True


@register_rule("word", "sentence", "paragraph", "text")
class FakerLorem(VectorisedFaker):
    """Lorem words, sentences, paragraphs and texts from the locale's word list."""

    example = ("str", {"type": "sentence"})


@register_rule(
    "credit_card_number",
    "cc",
    "credit_card_security_code",
    "cc_cvv",
    "credit_card_expire",
    "cc_expiry_date",
)
class FakerCreditCard(VectorisedFaker):
    """Card numbers with Luhn check digits, security codes, MM/YY expiry dates."""

    example = ("str", {"type": "credit_card_number"})

    formatted = True

    aliases: ClassVar[dict[str, str]] = {
        "cc": "credit_card_number",
        "cccvv": "credit_card_security_code",
        "ccexpirydate": "credit_card_expire",
    }

    def add_default_params(self, ctx: RuleContext) -> None:
        if self.method != "credit_card_expire":
            return
        start = dt.datetime.combine(ctx.settings.as_of, dt.time())
        if "start" not in self.params:
            self.params["start"] = start
            if not ctx.settings.as_of_explicit:
                ctx.warning(
                    f"credit_card_expire counts from today ({ctx.settings.as_of}), so this column changes "
                    "from day to day; set as_of in the config or --as-of to pin it"
                )
        if "end" not in self.params:
            self.params["end"] = start + _EXPIRY_SPAN


@register_rule("iban", "bban")
class FakerBank(VectorisedFaker):
    """Bank account numbers: the locale's BBAN format, IBAN check digits by ISO 13616."""

    example = ("str", {"type": "iban"})

    formatted = True


# -- emails and user names: unique by construction ---------------------------------------------
TAG_SPACE = 10_000  # at most this many numeric tags (0..9999) after "first.last"
_FOLDED_DOMAINS = 16  # uniform domain lists up to this size are enumerated with the tag


def tag_space(names: int) -> int:
    """How many tags to use so ``names * tags`` lies just below a power of four (and tags <= TAG_SPACE).

    Unique columns draw their ordinals from a Feistel permutation over the smallest
    power of four covering the value space, cycle-walking past the end of the space
    (:func:`~synthbeam.rules.relations.keys.unique_ordinals`). A space just below a power of four makes that walk
    all but free; the tag count stays between a quarter of TAG_SPACE and TAG_SPACE.
    """
    ceiling = 4 ** ((names * TAG_SPACE).bit_length() // 2)
    while ceiling > names * TAG_SPACE:
        ceiling //= 4
    return max(1, min(TAG_SPACE, ceiling // names))


class UniqueNames:
    """``first.last<tag>`` (and ``@domain``): ordinal -> (tag, domain, first, last) is one-to-one.

    Names are slugged like Faker's user names, deduplicated and never end in a
    digit, so the tag (no leading zeros, omitted when 0) can be read back off
    the end. A short uniform domain list is part of the enumeration (the tail
    table holds every ``<tag>@domain``), so distinct ordinals give distinct
    (local part, domain) pairs; any other domain is drawn per ordinal, and then
    the local parts alone are distinct. Each value is one Arrow take over the
    name and tail tables.
    """

    def __init__(self, first: tuple[str, ...], last: tuple[str, ...], domain: Node | None, salt: int) -> None:
        self.first_count, self.last_count = len(first), len(last)
        self.salt = salt
        domains: tuple[str, ...] = ("",)
        self.domain: Node | None = None  # drawn per ordinal when not enumerated
        if isinstance(domain, Const):
            domains = ("@" + domain.text,)
        elif isinstance(domain, Pick) and domain.weights is None and len(domain.values) <= _FOLDED_DOMAINS:
            domains = tuple("@" + d for d in domain.values)
        elif domain is not None:
            self.domain = domain
        self.tags = tag_space(self.first_count * self.last_count * len(domains))
        tails = [(str(tag) if tag else "") + d for tag in range(self.tags) for d in domains]
        self.parts = Concatenation([[f + "." for f in first], last, tails])
        self.space = self.first_count * self.last_count * len(tails)

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        ordinal = np.asarray(ordinal, dtype=np.uint64)
        names, lasts = np.uint64(self.first_count * self.last_count), np.uint64(self.last_count)
        # mixed radix (tail, first, last), last fastest; in place, as fresh chunk-sized arrays page-fault
        tail = ordinal // names
        last = tail * names
        np.subtract(ordinal, last, out=last)
        first = last // lasts
        last -= first * lasts
        values = self.parts.build([first.view(np.int64), last.view(np.int64), tail.view(np.int64)], len(ordinal))
        if self.domain is not None:
            values = pc.binary_join_element_wise(values, "@", self.domain.generate(ordinal, Stream(self.salt)), "")
        return values


def _slug_names(compiler: MethodCompiler, provider: Any, token: str) -> tuple[str, ...]:
    """A name list as Faker's ``user_name`` writes names: lower, ASCII, slugged; distinct."""
    from faker.utils.text import slugify

    from synthbeam.rules.generators.faker.recipes import ascii_transform

    node = as_node(compiler.value(token))
    if not isinstance(node, (Const, Pick)):
        raise NotVectorisable(f"{token} is not a list of names")
    to_ascii = ascii_transform(tuple(provider.replacements))
    slugged = (slugify(to_ascii(v.lower()), allow_unicode=True) for v in node.atoms())
    names = [n for n in slugged if n and not n[-1].isdigit() and "." not in n]
    if not names:
        raise NotVectorisable(f"no usable {token} values")
    return tuple(dict.fromkeys(names))


class _EmailLike(VectorisedFaker):
    """Adds the ``first.last<tag>`` scheme, so unique columns are built by permutation."""

    def unique_scheme(self) -> UniqueNames:
        """The ``first.last<tag>`` scheme (cached like ``compile``); NotVectorisable if the locale has none."""
        return self._cached_or_raise("unique-names", self._build_scheme)

    def _build_scheme(self) -> UniqueNames:
        compiler = compiler_for(self.locale)
        generator = compiler.generator
        provider = generator.user_name.__self__
        tokens = [t for f in provider.user_name_formats for t in _tokens(f)]
        first = next((t for t in tokens if "first" in t), None)
        last = next((t for t in tokens if "last" in t), None)
        if first is None or last is None:
            raise NotVectorisable("user name formats without first and last names")
        domain = self.domain_node(compiler)
        salt = derive_key("faker-unique", self.locale, self.method, repr(sorted(self.params.items())))
        return UniqueNames(_slug_names(compiler, provider, first), _slug_names(compiler, provider, last), domain, salt)

    def domain_node(self, compiler: MethodCompiler) -> Node | None:
        return None

    def _scheme(self) -> UniqueNames | None:
        scheme = getattr(self, "_cache_scheme", None)
        if scheme is None and self.method is not None:
            try:
                scheme = self.unique_scheme()
            except NotVectorisable:
                return None
            self._cache_scheme = scheme
        return scheme

    def cardinality(self) -> int | None:
        scheme = self._scheme()
        return scheme.space if scheme is not None else super().cardinality()

    def enumerable(self) -> bool:
        return self._scheme() is not None

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        scheme = self._scheme()
        if scheme is None:
            raise NotImplementedError(f"{self.method} cannot enumerate its values")
        return scheme.value_at(ordinal)


def _tokens(template: str) -> list[str]:
    import re

    return re.findall(r"\{\{\s*(\w+)\s*\}\}", template)


@register_rule("user_name")
class FakerUserName(_EmailLike):
    """User names from the locale's formats; unique columns use ``first.last<tag>``."""

    example = ("str", {"type": "user_name"})


@register_rule("email", "free_email", "company_email", "safe_email")
class FakerEmail(_EmailLike):
    """Emails as Faker writes them (``user_name@domain``); unique columns use ``first.last<tag>@domain``."""

    example = ("str", {"type": "email"})

    formatted = True
    masking_kind = "email"

    def domain_node(self, compiler: MethodCompiler) -> Node | None:
        lower = str.lower
        if self.method == "email":
            if self.params.get("domain"):
                return Const(str(self.params["domain"]).lower())
            if self.params.get("safe", True):
                return compiler.node("safe_domain_name").map_text(lower)
            return mix([compiler.node("domain_name"), compiler.node("free_email_domain")]).map_text(lower)
        method = {
            "safe_email": "safe_domain_name",
            "free_email": "free_email_domain",
            "company_email": "domain_name",
        }[self.method]
        return compiler.node(method).map_text(lower)


def vectorised_methods(*, plugins: bool = True) -> tuple[str, ...]:
    """Every Faker method a registered class computes column-wise (shortcut aliases left out).

    Read from the registry, so a family added (here or by a plugin) is listed without editing a list.
    """
    return tuple(
        dict.fromkeys(
            name
            for family in iter_rule_classes(plugins=plugins)
            if issubclass(family, VectorisedFaker)
            for name in family.names
            if normalise_name(name) not in {normalise_name(alias) for alias in family.aliases}
        )
    )


# The built-in families' methods (plugins load later, on the first lookup).
VECTORISED_METHODS: tuple[str, ...] = vectorised_methods(plugins=False)
