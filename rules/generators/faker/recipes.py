"""Column-wise recipes for Faker methods whose code the evaluator cannot follow.

Each recipe is registered under the qualified name of the Faker function it
replaces (see :mod:`synthbeam.rules.generators.faker.compile`) and rebuilds that function's distribution
from the provider's data: SSNs (``en_US`` ranges, ``fr_FR`` NIR with its
mod-97 key), credit card numbers (Faker's card types, prefixes and lengths,
Luhn check digit), security codes and expiry dates, BBAN/IBAN (the locale's
BBAN format, ISO 13616 mod-97 check digits), IPv4 (Faker's networks minus the
reserved ones, weighted by size) and IPv6, company catch phrases, and the
internet helpers (``_to_ascii``, ``domain_word``) that emails and user names
are built from.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.generators.faker.compile import MethodCompiler, recipe
from synthbeam.rules.generators.faker.symbolic import Static, Value, as_node, map_text_value
from synthbeam.rules.generators.text.vector import (
    NUMERIFY,
    Const,
    Node,
    NotVectorisable,
    Pattern,
    digit_matrix,
    fixed_strings,
    mix,
    placeholders,
    ragged_strings,
    split_first,
)

_UPPER = tuple(string.ascii_uppercase)
_DIGIT_CHARS = frozenset(string.digits)


def _static(args: Mapping[str, Value], name: str) -> Any:
    value = args[name]
    if not isinstance(value, Static):
        raise NotVectorisable(f"computed argument {name}")
    return value.value


def _body_matrix(body: Node, index: np.ndarray, stream: Stream) -> np.ndarray:
    if isinstance(body, Pattern):
        return body.matrix(index, stream)
    if isinstance(body, Const):
        raw = np.frombuffer(body.text.encode("ascii"), dtype=np.uint8)
        return np.broadcast_to(raw, (len(index), len(raw))).copy()
    raise NotVectorisable(f"{type(body).__name__} has no byte matrix")


# -- SSN ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UsSsn(Node):
    """``AAA-GG-SSSS``: area 1-899 (666 becomes 667), group 1-99, serial 1-9999."""

    def _fields(self, area: np.ndarray, group: np.ndarray, serial: np.ndarray) -> pa.Array:
        dash = np.full((len(area), 1), ord("-"), dtype=np.uint8)
        matrix = np.hstack([digit_matrix(area, 3), dash, digit_matrix(group, 2), dash, digit_matrix(serial, 4)])
        return fixed_strings(matrix)

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        area = stream.child("area").integers(index, 1, 899)
        area[area == 666] = 667
        group = stream.child("group").integers(index, 1, 99)
        serial = stream.child("serial").integers(index, 1, 9999)
        return self._fields(area, group, serial)

    def cardinality(self) -> int:
        return 898 * 99 * 9999

    def enumerable(self) -> bool:
        return True

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        ordinal = np.asarray(ordinal, dtype=np.int64)
        area = ordinal // (99 * 9999) + 1
        area[area >= 666] += 1
        return self._fields(area, (ordinal // 9999) % 99 + 1, ordinal % 9999 + 1)

    def atoms(self) -> tuple[str, ...]:
        return (*string.digits, "-")

    def fixed_length(self) -> int:
        return 11


@recipe("faker.providers.ssn.en_US.Provider.ssn")
def _us_ssn(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    if _static(args, "taxpayer_identification_number_type") != provider.SSN_TYPE:
        raise NotVectorisable("only the SSN type is vectorised")
    return UsSsn()


@dataclass(frozen=True)
class FrSsn(Node):
    """The French NIR: sex, year, month, INSEE place, order number, then ``97 - n mod 97``."""

    places: tuple[str, ...]  # department + municipality codes, 5 characters each

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        sex = stream.child("sex").integers(index, 1, 2)
        year = stream.child("year").integers(index, 0, 99)
        month = stream.child("month").integers(index, 1, 12)
        place = stream.child("place").below(index, len(self.places))
        order = stream.child("order").integers(index, 1, 999)
        codes = np.array([list(p.encode("ascii")) for p in self.places], dtype=np.uint8)
        # The key treats Corsica's 2A and 2B as 19 and 18.
        numbers = np.array([int(p.replace("2A", "19").replace("2B", "18")) for p in self.places], dtype=np.int64)
        head = (sex * 100 + year) * 100 + month
        total = (head * 100_000 + numbers[place]) * 1000 + order
        key = 97 - total % 97
        matrix = np.hstack([digit_matrix(head, 5), codes[place], digit_matrix(order, 3), digit_matrix(key, 2)])
        return fixed_strings(matrix)

    def atoms(self) -> tuple[str, ...]:
        return (*string.digits, "A", "B")

    def fixed_length(self) -> int:
        return 15


@recipe("faker.providers.ssn.fr_FR.Provider.ssn")
def _fr_ssn(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    places = tuple(f"{entry[0]}{entry[1]}" for entry in provider.departments_and_municipalities)
    if any(len(p) != 5 for p in places):
        raise NotVectorisable("INSEE codes of unexpected length")
    return FrSsn(places)


# -- credit cards -------------------------------------------------------------------------------
def _cards(provider: Any, card_type: Any) -> list[Any]:
    """The cards ``_credit_card_type(card_type)`` draws from, equally likely."""
    if card_type is None:
        return list(provider.credit_card_types.values())
    if isinstance(card_type, str):
        if card_type not in provider.credit_card_types:
            raise NotVectorisable(f"unknown card type {card_type!r}")
        return [provider.credit_card_types[card_type]]
    return [card_type]


@dataclass(frozen=True)
class Luhn(Node):
    """Digits from ``body`` followed by their Luhn check digit."""

    body: Node

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        matrix = _body_matrix(self.body, index, stream)
        digits = matrix.astype(np.int64) - ord("0")
        doubled = digits[:, ::-1][:, 0::2] * 2
        total = (doubled - 9 * (doubled > 9)).sum(axis=1) + digits[:, ::-1][:, 1::2].sum(axis=1)
        check = ((10 - total % 10) % 10 + ord("0")).astype(np.uint8)
        return fixed_strings(np.hstack([matrix, check[:, None]]))

    def atoms(self) -> tuple[str, ...]:
        return tuple(string.digits)

    def fixed_length(self) -> int | None:
        length = self.body.fixed_length()
        return None if length is None else length + 1


@recipe("faker.providers.credit_card.Provider.credit_card_number")
def _card_number(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    cards = _cards(provider, _static(args, "card_type"))
    options: list[Node] = []
    weights: list[float] = []
    for card in cards:
        for prefix in card.prefixes:
            filler = "#" * (card.length - len(prefix) - 1)
            body = placeholders(prefix + filler, NUMERIFY)
            if not (body.charset() or set()) <= _DIGIT_CHARS:
                raise NotVectorisable("card prefix with non-digits")
            options.append(Luhn(body))
            weights.append(1.0 / len(cards) / len(card.prefixes))
    return mix(options, weights)


@recipe("faker.providers.credit_card.Provider.credit_card_security_code")
def _security_code(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    cards = _cards(provider, _static(args, "card_type"))
    return mix([placeholders("#" * card.security_code_length, NUMERIFY) for card in cards])


@dataclass(frozen=True)
class Expiry(Node):
    """A uniform instant between two timestamps, formatted with ``strftime``."""

    start_us: int
    end_us: int
    date_format: str

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        span = self.end_us - self.start_us
        offsets = np.floor(stream.uniform(index) * span).astype(np.int64)
        instants = pa.array(self.start_us + offsets, pa.timestamp("us"))
        return pc.strftime(instants, format=self.date_format)


def _microseconds(value: Any) -> int:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return (value - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)
    if isinstance(value, dt.date):
        return (value - dt.date(1970, 1, 1)).days * 86_400_000_000
    raise NotVectorisable("expiry bounds relative to now (pass dates to pin them)")


@recipe("faker.providers.credit_card.Provider.credit_card_expire")
def _card_expire(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    start, end = _microseconds(_static(args, "start")), _microseconds(_static(args, "end"))
    date_format = _static(args, "date_format")
    if end < start or not isinstance(date_format, str):
        raise NotVectorisable("expiry range")
    return Expiry(start, end, date_format)


# -- bank ---------------------------------------------------------------------------------------
@recipe("faker.providers.bank.Provider.bban")
def _bban(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    return placeholders(provider.bban_format, {"?": _UPPER}).substitute(NUMERIFY)


@dataclass(frozen=True)
class Iban(Node):
    """Country code, ISO 13616 mod-97 check digits, then the BBAN."""

    country: str
    bban: Node

    def _with_check(self, matrix: np.ndarray) -> pa.Array:
        remainder = np.zeros(len(matrix), dtype=np.int64)
        tail = np.frombuffer((self.country + "00").encode("ascii"), dtype=np.uint8)
        columns = [matrix[:, c] for c in range(matrix.shape[1])]
        columns += [np.full(len(matrix), code, dtype=np.uint8) for code in tail]
        for column in columns:
            letter = column >= ord("A")
            value = np.where(letter, column.astype(np.int64) - 55, column.astype(np.int64) - 48)
            remainder = (remainder * np.where(letter, 100, 10) + value) % 97
        check = digit_matrix(98 - remainder, 2)
        country = np.broadcast_to(tail[:2], (len(matrix), 2))
        return fixed_strings(np.hstack([country, check, matrix]))

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        return self._with_check(_body_matrix(self.bban, index, stream))

    def cardinality(self) -> int | None:
        return self.bban.cardinality()

    def enumerable(self) -> bool:
        return isinstance(self.bban, Pattern) and self.bban.enumerable() and self.bban.is_fixed_width()

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        assert isinstance(self.bban, Pattern)
        return self._with_check(self.bban.matrix_at(ordinal))

    def atoms(self) -> tuple[str, ...]:
        return (*string.digits, *string.ascii_uppercase)


@recipe("faker.providers.bank.Provider.iban")
def _iban(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    bban = as_node(compiler.call(provider.bban, (), {}))
    country = provider.country_code
    chars = bban.charset()
    if (
        len(country) != 2
        or not country.isupper()
        or chars is None
        or not chars <= _DIGIT_CHARS | set(_UPPER)
        or not (isinstance(bban, Pattern) and bban.is_fixed_width())
    ):
        raise NotVectorisable("BBAN format")
    return Iban(country, bban)


# -- IP addresses -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ipv4(Node):
    """Addresses drawn from groups of networks: a group by weight, then uniformly within it."""

    groups: tuple[tuple[float, tuple[tuple[int, int], ...]], ...]  # (weight, ((start, size), ...))

    def _addresses(self, group: int, draws: np.ndarray) -> np.ndarray:
        ranges = self.groups[group][1]
        starts = np.array([s for s, _ in ranges], dtype=np.int64)
        bounds = np.cumsum([0] + [n for _, n in ranges]).astype(np.int64)
        offsets = (draws % np.uint64(bounds[-1])).astype(np.int64)
        which = np.searchsorted(bounds, offsets, side="right") - 1
        return starts[which] + offsets - bounds[which]

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        draws = stream.child("address").bits(index)
        if len(self.groups) == 1:
            return dotted_quads(self._addresses(0, draws))
        cumulative = np.cumsum([w for w, _ in self.groups])
        cumulative = cumulative / cumulative[-1]
        group = stream.child("group").weighted(index, cumulative)
        addresses = np.empty(len(index), dtype=np.int64)
        for number in range(len(self.groups)):
            rows = group == number
            addresses[rows] = self._addresses(number, draws[rows])
        return dotted_quads(addresses)

    @property
    def ranges(self) -> list[tuple[int, int]]:
        return sorted({r for _, ranges in self.groups for r in ranges})

    def cardinality(self) -> int:
        return sum(n for _, n in self.ranges)

    def enumerable(self) -> bool:
        ranges = self.ranges
        return all(a[0] + a[1] <= b[0] for a, b in itertools.pairwise(ranges))

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        ranges = self.ranges
        starts = np.array([s for s, _ in ranges], dtype=np.int64)
        bounds = np.cumsum([0] + [n for _, n in ranges]).astype(np.int64)
        ordinal = np.asarray(ordinal, dtype=np.int64)
        which = np.searchsorted(bounds, ordinal, side="right") - 1
        return dotted_quads(starts[which] + ordinal - bounds[which])

    def atoms(self) -> tuple[str, ...]:
        return (*string.digits, ".")


def dotted_quads(addresses: np.ndarray) -> pa.Array:
    octets = [pa.array((addresses >> shift) & 0xFF, pa.int64()).cast(pa.string()) for shift in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")


def _network_ranges(networks: list[ipaddress.IPv4Network]) -> tuple[tuple[int, int], ...]:
    return tuple((int(n.network_address), n.num_addresses) for n in networks)


@recipe("faker.providers.internet.Provider.ipv4")
def _ipv4(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    if _static(args, "network"):
        raise NotVectorisable("network addresses")
    private = _static(args, "private")
    address_class = _static(args, "address_class")
    if private is True:
        return _ipv4_groups(provider._get_private_networks_and_weights, address_class)
    if private is False:
        return _ipv4_groups(provider._get_public_networks_and_weights, address_class)
    networks, _ = provider._get_all_networks_and_weights(address_class=address_class)
    return Ipv4(((1.0, _network_ranges(networks)),))


def _ipv4_groups(networks_of: Any, address_class: Any) -> Ipv4:
    # Faker picks a class a/b/c at random when none (or an unknown one) is given.
    classes = [address_class] if address_class in ("a", "b", "c") else ["a", "b", "c"]
    groups = []
    for network_class in classes:
        networks, _ = networks_of(address_class=network_class)
        if networks:
            groups.append((1.0, _network_ranges(networks)))
    if not groups:
        raise NotVectorisable("no networks")
    return Ipv4(tuple(groups))


@recipe("faker.providers.internet.Provider.ipv4_private")
def _ipv4_private(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    if _static(args, "network"):
        raise NotVectorisable("network addresses")
    return _ipv4_groups(provider._get_private_networks_and_weights, _static(args, "address_class"))


@recipe("faker.providers.internet.Provider.ipv4_public")
def _ipv4_public(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    if _static(args, "network"):
        raise NotVectorisable("network addresses")
    return _ipv4_groups(provider._get_public_networks_and_weights, _static(args, "address_class"))


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


@dataclass(frozen=True)
class Ipv6(Node):
    """Uniform addresses in [2**32, 2**128) in Python's compressed notation."""

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        high = stream.child("high").bits(index)
        low = stream.child("low").bits(index)
        low[(high == 0) & (low < np.uint64(1 << 32))] |= np.uint64(1 << 32)
        words = np.empty((len(index), 8), dtype=np.uint16)
        words[:, :4] = high.astype(">u8").view(">u2").reshape(-1, 4)
        words[:, 4:] = low.astype(">u8").view(">u2").reshape(-1, 4)
        nibbles = np.empty((len(index), 8, 4), dtype=np.uint8)  # rows, group, nibble
        for position, shift in enumerate((12, 8, 4, 0)):
            nibbles[:, :, position] = (words >> shift) & 0xF
        matrix = np.full((len(index), 8, 5), ord(":"), dtype=np.uint8)
        matrix[:, :, :4] = _HEX[nibbles]
        keep = np.ones((len(index), 8, 5), dtype=bool)
        for position, smallest in enumerate((0x1000, 0x100, 0x10)):  # no leading zeros
            keep[:, :, position] = words >= smallest
        keep[:, 7, 4] = False
        text = ragged_strings(matrix.reshape(len(index), 40), keep.reshape(len(index), 40))
        zero = words == 0
        runs = np.flatnonzero((zero[:, :-1] & zero[:, 1:]).any(axis=1))
        if len(runs):  # "::" compression; runs of zero words are astronomically rare
            fixed = [str(ipaddress.IPv6Address((int(high[r]) << 64) | int(low[r]))) for r in runs]
            mask = np.zeros(len(index), dtype=bool)
            mask[runs] = True
            slots = np.zeros(len(index), dtype=np.int64)
            slots[runs] = np.arange(len(runs))
            text = pc.if_else(pa.array(mask), pa.array(fixed, pa.string()).take(pa.array(slots)), text)
        return text

    def atoms(self) -> tuple[str, ...]:
        return (*"0123456789abcdef", ":")


@recipe("faker.providers.internet.Provider.ipv6")
def _ipv6(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    if _static(args, "network"):
        raise NotVectorisable("network addresses")
    return Ipv6()


# -- internet helpers ---------------------------------------------------------------------------
def ascii_transform(replacements: tuple[tuple[str, str], ...]) -> Any:
    """The provider's ``_to_ascii`` as a per-character function (exact when searches are single chars)."""
    if any(len(search) != 1 for search, _ in replacements):
        raise NotVectorisable("multi-character replacements")
    from faker.decode import unidecode

    def to_ascii(text: str) -> str:
        for search, replace in replacements:
            text = text.replace(search, replace)
        return unidecode(text)

    return to_ascii


@recipe("faker.providers.internet.Provider._to_ascii")
def _to_ascii(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    return map_text_value(args["string"], ascii_transform(tuple(provider.replacements)))


@recipe("faker.providers.internet.Provider.domain_word")
def _domain_word(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    first_word = split_first(compiler.node("company"), " ")
    return first_word.map_text(ascii_transform(tuple(provider.replacements)))
