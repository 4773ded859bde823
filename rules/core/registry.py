"""The rule registry: one class per rule type, registered by name.

A rule class is built once per column at plan time from its config object
(``__init__`` parses and reports problems into the context), then asked for
values of any set of rows at generation time. Adding a rule type means writing
one class with ``@register_rule("name", ...)``; nothing else dispatches on names.
The class declares its keys (:class:`Param`): the unknown-key check, the JSON
Schema's rule descriptions and docs/rules.md are made from those declarations.

Rule classes in other installed packages register through the entry point group
``synthbeam.rules`` (see docs/plugins.md). They are loaded lazily, on the first
lookup in a process, so a Beam worker unpickling a plan finds them too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.seeding import Stream

if TYPE_CHECKING:
    from synthbeam.rules.core.conformance import RowBounds, StoredColumn, ValueCheck

_RULES: dict[str, type[Rule]] = {}
_NORMALISED: dict[str, str] = {}
_FALLBACKS: list[Callable[[str, str], type[Rule] | None]] = []
ENTRY_POINT_GROUP = "synthbeam.rules"
MaskingKind = Literal["text", "email", "phone"]
_PLUGINS_LOADED = False


def normalise_name(name: str) -> str:
    """Rule-name matching ignores case, spaces and underscores (the seed's habit)."""
    return re.sub(r"[\s_]+", "", str(name)).lower()


def register_rule(*names: str) -> Callable[[type[Rule]], type[Rule]]:
    """Class decorator: register ``cls`` under each of ``names``; a name twice is an error."""

    def decorate(cls: type[Rule]) -> type[Rule]:
        for name in names:
            if name in _RULES and _RULES[name] is not cls:
                raise RuntimeError(f"rule name {name!r} registered twice: {_RULES[name].__name__} and {cls.__name__}")
            _RULES[name] = cls
            _NORMALISED.setdefault(normalise_name(name), name)
        # Only the class's own names: a subclass (choice_from_file of choice) is not its parent's rule.
        cls.names = tuple(dict.fromkeys((*cls.__dict__.get("names", ()), *names)))
        return cls

    return decorate


def register_fallback(resolver: Callable[[str, str], type[Rule] | None]) -> None:
    """Add a resolver asked, in order, for names no class is registered under.

    ``resolver(name, locale)`` returns a rule class or None; the Faker family
    uses it so any Faker method name is a rule without listing them all.
    """
    if resolver not in _FALLBACKS:
        _FALLBACKS.append(resolver)


def load_plugins() -> None:
    """Import every module the ``synthbeam.rules`` entry points name (once per process).

    Importing the module registers its classes (``@register_rule``); an entry
    point naming a class that was not decorated registers it under its
    ``names``. A plugin that fails to import is an error naming it, not a
    silently missing rule. The flag is set first, so a plugin that looks a
    rule up while it is imported does not load the plugins again.
    """
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return
    _PLUGINS_LOADED = True
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception as exc:  # a broken plugin must name itself, whatever it raised
            raise RuntimeError(f"rule plugin {entry.name!r} ({entry.value}) failed to load: {exc}") from exc
        if isinstance(loaded, type) and issubclass(loaded, Rule) and loaded.names:
            register_rule(*loaded.names)(loaded)


def lookup_registered(name: str) -> type[Rule] | None:
    """The registered class for ``name`` (exact, then ignoring case/spaces/underscores); no fallbacks."""
    load_plugins()
    canonical = name if name in _RULES else _NORMALISED.get(normalise_name(name))
    return _RULES[canonical] if canonical else None


def lookup_rule(name: str, locale: str = "en_US") -> type[Rule] | None:
    """The class for ``name``: registered (exact, then ignoring case/spaces/underscores), then fallbacks."""
    load_plugins()
    if name in _RULES:
        return _RULES[name]
    canonical = _NORMALISED.get(normalise_name(name))
    if canonical:
        return _RULES[canonical]
    for resolver in _FALLBACKS:
        found = resolver(name, locale)
        if found is not None:
            return found
    return None


def registered_names() -> dict[str, type[Rule]]:
    load_plugins()
    return dict(_RULES)


@dataclass(frozen=True)
class Param:
    """One key a rule object takes, declared on the rule class.

    ``kind`` is what the value holds, in words (docs, schema); ``json_types``
    the JSON types it may have (empty: any). ``reference``: the key also takes
    ``{"column": ...}`` (a same-row column, or ``parent.column`` through the
    table's foreign key, with an optional ``default``). ``aliases`` are older
    spellings still read. ``default`` is shown as written in the docs.
    """

    name: str
    kind: str
    doc: str = ""
    default: str = ""
    required: bool = False
    reference: bool = False
    aliases: tuple[str, ...] = ()
    json_types: tuple[str, ...] = ()
    # Keys people write meaning this one (not accepted: they only steer the "did you mean").
    mistaken_for: tuple[str, ...] = ()
    # A path to a file the rule reads at plan time (relative to the config): fetched next to a remote config.
    file: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


# The keys every object rule takes (compose.Finished applies prefix, suffix and the regex check).
COMMON_PARAMS: tuple[Param, ...] = (
    Param("type", "rule name", "the rule type, or a Faker method name", required=True, json_types=("string",)),
    Param("prefix", "text", "put before every value", json_types=("string",)),
    Param("suffix", "text", "put after every value", json_types=("string",)),
    Param(
        "regex",
        "pattern",
        "a check the finished value (prefix and suffix included) must fully match",
        json_types=("string",),
    ),
)


@dataclass
class Settings:
    """Run-wide inputs a rule may need when it is compiled."""

    seed: int = 0
    locale: str = "en_US"
    as_of: dt.date = field(default_factory=dt.date.today)
    as_of_explicit: bool = False
    config_dir: Path = field(default_factory=Path.cwd)
    openai: Mapping[str, Any] = field(default_factory=dict)
    # Where choice_from_file finds relative paths when not in config_dir: a local copy of the
    # files next to a remote config (pipeline/config.py fetches them there).
    data_dir: Path | None = None


@dataclass
class RuleContext:
    """What a rule sees while it is compiled: where it is, its column's type, the settings."""

    place: str
    table: str
    column: str
    column_type: str
    settings: Settings
    issues: Issues
    columns: Mapping[str, str] = field(default_factory=dict)  # same-table column -> type
    # "parent.column" -> type, for every table this one has a foreign key to (as the config declares it)
    parent_columns: Mapping[str, str] = field(default_factory=dict)

    def error(self, message: str) -> None:
        self.issues.error(self.place, message)

    def warning(self, message: str) -> None:
        self.issues.warning(self.place, message)

    def correction(self, message: str) -> None:
        self.issues.correction(self.place, message)


class Rows:
    """The rows a rule is asked to fill: global row indices plus lookups of other columns.

    ``ref(name)`` returns another column's values for exactly these rows; the
    engine guarantees same-table columns are computed first (dependency order)
    and resolves ``parent.column`` names through the table's foreign key.
    ``count`` records things worth reporting (values that failed a check);
    counts of a subset flow into the counters of the rows it was taken from.
    """

    __slots__ = ("_lookup", "_parent", "_positions", "counters", "index")

    def __init__(
        self,
        index: np.ndarray,
        lookup: Callable[[str, np.ndarray], pa.Array] | None = None,
        counters: dict[str, int] | None = None,
    ) -> None:
        self.index = np.asarray(index, dtype=np.uint64)
        self._lookup = lookup
        self._parent: Rows | None = None
        self._positions: np.ndarray | None = None
        self.counters = counters if counters is not None else {}

    def __len__(self) -> int:
        return len(self.index)

    def ref(self, name: str) -> pa.Array:
        if self._parent is not None:
            return self._parent.ref(name).take(pa.array(self._positions))
        if self._lookup is None:
            raise KeyError(f"column {name!r} is not available to this rule")
        return self._lookup(name, self.index)

    def take(self, positions: np.ndarray) -> Rows:
        """The subset of these rows at ``positions`` (references follow along)."""
        subset = Rows(self.index[positions], None, self.counters)
        subset._parent = self
        subset._positions = np.asarray(positions, dtype=np.int64)
        return subset

    def count(self, name: str, amount: int) -> None:
        if amount:
            self.counters[name] = self.counters.get(name, 0) + int(amount)


@dataclass(frozen=True)
class Offset:
    """What a reference adds to the value it reads: a duration (``unit`` "seconds") or a plain number.

    Applied column-wise to the referenced Arrow values; a date moves by whole
    days only, a time wraps around midnight, a null stays null.
    """

    amount: float
    unit: str | None = None  # "seconds" for a duration, None for a number

    def problem_with(self, column_type: str) -> str | None:
        """Why this offset cannot apply to a column of ``column_type`` (with the fix), or None."""
        if column_type in ("int", "float"):
            return None if self.unit is None else "a number column takes a number offset, such as 30"
        if column_type not in ("date", "time", "timestamp"):
            return f"a {column_type} column takes no offset; offsets apply to dates, times, timestamps and numbers"
        if self.unit is None:
            return f'a {column_type} column takes a duration offset, such as "{self.amount:g} days"'
        if column_type == "date" and self.amount % 86_400:
            return 'a date moves by whole days: use "N days" or "N weeks", or refer to a timestamp column'
        return None

    def apply(self, values: pa.Array) -> pa.Array:
        kind = values.type
        if pa.types.is_date(kind):
            problem = self.problem_with("date")
            if problem:
                raise ValueError(problem)
            days = values.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
            return _rebuilt(values, days.astype(np.int64) + int(self.amount) // 86_400, pa.int32(), kind)
        if pa.types.is_timestamp(kind) or pa.types.is_time(kind):
            if self.unit is None:
                raise ValueError(self.problem_with("timestamp"))
            per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[kind.unit]
            storage = pa.int64() if kind.bit_width == 64 else pa.int32()
            numbers = values.cast(storage).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
            numbers = numbers + int(self.amount) * per_second
            if pa.types.is_time(kind):
                numbers %= 86_400 * per_second
            return _rebuilt(values, numbers, storage, kind)
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            if self.unit is not None:
                raise ValueError("a number column takes a number offset, such as 30")
            import pyarrow.compute as pc

            return pc.add(values, pa.scalar(self.amount))
        raise ValueError(f"a {kind} column takes no offset")

    def __repr__(self) -> str:
        if self.unit is None:
            return f"{self.amount:+g}"
        days, rest = divmod(int(self.amount), 86_400)
        return f"{days:+d} days" if not rest else f"{int(self.amount):+d} seconds"


def _rebuilt(values: pa.Array, numbers: np.ndarray, storage: pa.DataType, kind: pa.DataType) -> pa.Array:
    mask = values.is_null().to_numpy(zero_copy_only=False) if values.null_count else None
    return pa.array(np.where(mask, 0, numbers) if mask is not None else numbers, storage, mask=mask).cast(kind)


@dataclass(frozen=True)
class ColumnRef:
    """A rule parameter that takes its value from another column of the row.

    ``default`` (parsed like a constant of the parameter) stands in where the
    referenced value is null; without one such rows get null, never a value
    bent to the other bound. ``key`` is the parameter's name, for messages.
    """

    name: str
    default: Any = None
    key: str = field(default="", compare=False)
    offset: Offset | None = None

    def __repr__(self) -> str:
        extra = f", default: {self.default}" if self.default is not None else ""
        extra += f", offset: {self.offset!r}" if self.offset is not None else ""
        return f"{{column: {self.name}{extra}}}"


@dataclass(frozen=True)
class Domain:
    """The values a rule can give, as far as its parameters pin them down.

    Either ``values`` (every value, typed as the rule makes them) or the closed
    interval [``low``, ``high``] (Python scalars of the rule's output type).
    Used to tell a condition that compares with a value the column never holds.
    """

    values: pa.Array | None = None
    low: Any = None
    high: Any = None

    def describe(self, limit: int = 6) -> str:
        if self.values is None:
            return f"[{self.low}, {self.high}]"
        shown = [json.dumps(v, default=str) for v in self.values.to_pylist()[:limit]]
        more = ", ..." if len(self.values) > limit else ""
        return f"{{{', '.join(shown)}{more}}}"


class Rule:
    """Base class of every rule type.

    Subclasses set ``output_type`` (a canonical column type) in ``__init__``,
    report config problems through ``ctx`` and implement ``generate``.
    ``cardinality`` (distinct values the rule can produce, None when unbounded
    or unknown) lets validation reject impossible unique constraints; rules
    whose value space can be enumerated implement ``value_at`` so unique keys
    are built by a permutation instead of a dedup pass.
    """

    names: ClassVar[tuple[str, ...]] = ()
    output_type: str = "str"
    # The keys this rule takes beyond COMMON_PARAMS; None: not declared, so keys go unchecked
    # (a plugin may leave it out; the rule contract test lists such classes).
    parameters: ClassVar[tuple[Param, ...] | None] = None
    # (column type, rule object): a config that uses the rule, shown in docs/rules.md and run by the
    # rule contract test (tests/rules/test_rule_contract.py) for every registered class.
    example: ClassVar[tuple[str, Mapping[str, Any]] | None] = None
    # Whether ``regex`` is the pattern values are made from (the regex rule), not a check.
    regex_is_pattern: ClassVar[bool] = False
    # Rows failing a ``regex`` check are retried with values generated from the pattern itself
    # rather than with this rule again (the design's phone numbers: a pattern such as
    # ``^\+1-[0-9]{3}-[0-9]{3}-[0-9]{4}$`` is a format, not a filter).
    regex_retries_from_pattern: ClassVar[bool] = False
    # Values with a structure a ``length`` cut breaks (an address, a UUID, a pattern): a cut is
    # warned about, and refused on a unique column, rather than written as ``lyang@exam``.
    formatted: ClassVar[bool] = False
    # Values that are a pure function of the columns the rule reads (a template, an expression, a
    # copy): no draw of their own, so ``check`` recomputes each row from its written inputs.
    derived_from_row: bool = False  # a class default; fixed sets it on an instance that copies a column

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        self.spec = dict(spec)

    @classmethod
    def declared(cls) -> tuple[Param, ...] | None:
        """Every key a rule object of this class takes (common ones first), or None when undeclared."""
        if cls.parameters is None:
            return None
        own = {param.name for param in cls.parameters}
        return (*(p for p in COMMON_PARAMS if p.name not in own), *cls.parameters)

    @classmethod
    def unknown_key_hint(cls, key: str, spec: Mapping[str, Any], locale: str) -> str | None:
        """A rule-specific hint for an unknown key (Faker rules: "put it in params"), or None."""
        return None

    def references(self) -> set[str]:
        """Names of columns (same table, or ``parent.column``) this rule reads."""
        return {value.name for value in vars(self).values() if isinstance(value, ColumnRef)}

    def cardinality(self) -> int | None:
        return None

    def domain(self) -> Domain | None:
        """The values this rule can give, when its parameters pin them down (None: not known)."""
        return None

    def column_refs(self) -> list[ColumnRef]:
        """The parameters that read another column."""
        return [value for value in vars(self).values() if isinstance(value, ColumnRef)]

    def makes_nulls(self) -> bool:
        """Whether some rows get null by the rule itself (a ``null`` choice or fixed value)."""
        return False

    def enumerable(self) -> bool:
        return type(self).value_at is not Rule.value_at and not self.references()

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        """The ``ordinal``-th value of the rule's value space (0 <= ordinal < cardinality)."""
        raise NotImplementedError

    def max_cardinality(self) -> int | None:
        """At most this many distinct values: ``cardinality`` when that is exact, else a bound (None: unknown)."""
        return self.cardinality()

    def unique_values(self, rows: int) -> Any:
        """Distinct values for a unique column of ``rows`` rows when the rule cannot enumerate its whole space.

        An object with ``space`` (>= rows) and ``value_at(ordinal)``, one-to-one on
        ``[0, space)``; None when the rule has none (then ``value_at`` or a dedup pass).
        """
        return None

    def ordinal_of(self, text: str) -> int | None:
        """The ordinal whose :meth:`value_at` reads as ``text``, or None; only for :meth:`invertible` rules.

        Lets a weighted foreign key find the parent row of a named value without
        scanning the parent (``rules/relations/parent_lookup.py``).
        """
        raise NotImplementedError

    def invertible(self) -> bool:
        return self.enumerable() and type(self).ordinal_of is not Rule.ordinal_of

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        raise NotImplementedError

    def describe(self) -> str:
        """How this rule produces values, for ``plan`` and the report: by default its rule name, as users write it."""
        names = getattr(type(self), "names", ())
        return str(names[0]).replace("_", " ") if names else type(self).__name__

    # -- what ``check`` asks (rules/core/conformance.py) ------------------------------------------------
    # Whether the class can tell a conforming value from another at all; False: ``check --verbose``
    # lists its columns as having no conformance check.
    has_value_check: ClassVar[bool] = False

    def value_check(self, column: StoredColumn) -> ValueCheck | str | None:
        """The test every stored value of ``column`` must pass; a reason when it cannot be tested here.

        None: this rule has no conformance check (any value passes).
        """
        return None

    def row_bounds(self, column_type: str) -> RowBounds | str:
        """Bounds read per row (column references), or why this rule has none to check."""
        return f"{type(self).__name__} has no bounds to check"

    def unwrapped(self) -> tuple[Rule, str, str, re.Pattern[str] | None]:
        """(the rule that makes values, prefix, suffix, regex check): what a wrapper adds, taken apart."""
        return self, "", "", None

    # -- what the compiler and security ask ------------------------------------------------------
    @classmethod
    def corrected_type(cls, column_type: str, spec: Mapping[str, Any]) -> tuple[str, str] | None:
        """(new column type, why) when a rule object ``spec`` of this class makes ``column_type`` wrong.

        Asked before the rule is compiled, since the rule is then compiled for the corrected type.
        """
        return None

    # How partial masking treats this rule's values: "email" keeps the domain, "phone" the last digits.
    masking_kind: ClassVar[MaskingKind] = "text"

    def makes_uuids(self) -> bool:
        """Whether every value is a canonical UUID (a ``uuid`` column keeps Avro's ``uuid`` type)."""
        return False

    def __getstate__(self) -> dict[str, Any]:
        # Process-local caches (Faker instances, pools) are rebuilt on the worker.
        return {k: v for k, v in vars(self).items() if not k.startswith("_cache")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)


def iter_rule_classes(*, plugins: bool = True) -> Iterable[type[Rule]]:
    """Every registered class once, in registration order (plugins included unless ``plugins=False``)."""
    if plugins:
        load_plugins()
    return list(dict.fromkeys(_RULES.values()))
