"""Strings that fully match a regular expression: random per row, or enumerated.

Contract
--------
``RegexGenerator(pattern, max_repeat=8)`` (or the cached :func:`compile_regex`) parses
``pattern`` with Python's own regex parser into a tree of character sets, literals,
concatenations, alternations and bounded repetitions.

* ``generate(stream, index)`` returns a numpy object array with one ``str`` per row
  index. Each value is a pure function of (stream key, row index), so any slice of rows
  generated in any order equals the same rows generated in one call, and every value
  ``re.fullmatch``-es the pattern. Choices are uniform per node: each branch of
  ``a|b``, each repetition count of ``x{2,5}`` and each character of a class is
  equally likely (so values are not uniform over the set of strings).
  ``generate_arrow`` returns the same values as an Arrow string array, built from
  bytes without ``str`` objects; patterns of fixed shape (literals, classes and exact
  repetitions, e.g. ``[A-Z]{3}-\\d{6}``) are generated like Faker's ``bothify``
  patterns (:class:`~synthbeam.rules.generators.text.vector.Pattern`: a table gather per few characters).
* ``cardinality()`` is the exact number of *distinct* strings ``generate`` can
  produce. Ambiguous patterns such as ``a?a?`` or ``[a-z]+[a-z0-9]*`` count every
  string once (the count comes from a deterministic automaton, not from multiplying
  choices). It is ``None`` when the count exceeds 2**63, or when the pattern is too
  intricate to count within a fixed budget (more than 4,096 character positions once
  repetitions are unrolled, 20,000 automaton states, or a few million set operations;
  e.g. ``(a?){4000}``). Counting runs once per generator, on first use.
* ``value_at(ordinals)`` is a bijection from ``[0, cardinality())`` onto those strings:
  ordinal ``k`` is the ``k``-th string in sorted (code point) order, so distinct
  ordinals give distinct strings. It is vectorised over the ordinals (one numpy pass
  per character position and automaton state) and works for ambiguous patterns too;
  ``value_at_arrow`` returns them as an Arrow string array.

Value space
-----------
* Unbounded quantifiers ``*``, ``+`` and ``{n,}`` generate at most ``n + max_repeat``
  repetitions; lazy forms (``*?``, ``{n,m}?``) generate like the greedy ones. Every
  pattern therefore has a finite value space, and ``cardinality`` counts exactly that
  space (e.g. ``[ab]*`` with ``max_repeat=3`` has 1 + 2 + 4 + 8 = 15 values).
* ``.`` and every negation (``[^...]``, ``\\D``, ``\\W``, ``\\S``) draw from printable
  ASCII 0x20-0x7E minus the excluded characters. ``\\d`` is ``0-9``, ``\\w`` is
  ``[A-Za-z0-9_]``, ``\\s`` is space, tab, newline, carriage return, vertical tab and
  form feed. Literals and explicit class members (non-ASCII ones included) are
  generated as written.
* Case-insensitive matching is supported, globally (``(?i)``) or scoped
  (``(?i:...)``): each letter may then be generated in its simple lower- or upper-case
  form (``(?i)k`` gives ``k`` or ``K``, never the Kelvin sign), and a negated class
  excludes every case form of its members.
* Groups (capturing, non-capturing, named) and alternation are supported; the anchors
  ``^ $ \\A \\Z`` generate nothing and must stand where nothing can precede (``^``,
  ``\\A``) or follow (``$``, ``\\Z``) them.

Rejected with :class:`RegexUnsupported`, whose message names the construct: syntax
errors, backreferences, lookahead and lookbehind, conditionals ``(?(1)...)``, word
boundaries ``\\b \\B``, atomic groups and possessive quantifiers, anchors elsewhere
than at the edges, and character classes that leave nothing to generate.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.seeding import Stream, as_index
from synthbeam.rules.generators.text.vector import fixed_strings
from synthbeam.rules.generators.text.vector import pattern as slot_pattern

try:
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # Python 3.10
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = ["RegexGenerator", "RegexUnsupported", "compile_regex"]

_CODE = np.uint32
_PRINTABLE = np.arange(0x20, 0x7F, dtype=_CODE)
_DIGITS = np.arange(ord("0"), ord("9") + 1, dtype=_CODE)
_WORD = np.array(sorted(map(ord, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")), _CODE)
_SPACE = np.array(sorted(map(ord, " \t\n\r\x0b\x0c")), dtype=_CODE)
_CATEGORIES = {
    _sre.CATEGORY_DIGIT: (_DIGITS, False),
    _sre.CATEGORY_NOT_DIGIT: (_DIGITS, True),
    _sre.CATEGORY_WORD: (_WORD, False),
    _sre.CATEGORY_NOT_WORD: (_WORD, True),
    _sre.CATEGORY_SPACE: (_SPACE, False),
    _sre.CATEGORY_NOT_SPACE: (_SPACE, True),
}
_START_ANCHORS = {_sre.AT_BEGINNING: "^", _sre.AT_BEGINNING_STRING: "\\A"}
_END_ANCHORS = {_sre.AT_END: "$", _sre.AT_END_STRING: "\\Z"}
_POSSESSIVE_REPEAT = getattr(_sre, "POSSESSIVE_REPEAT", None)
_ATOMIC_GROUP = getattr(_sre, "ATOMIC_GROUP", None)

_MAX_POSITIONS = 4096
_MAX_DFA_STATES = 20_000
_MAX_COUNTING_WORK = 4_000_000
_CARDINALITY_LIMIT = 1 << 63
_DRAW_SPAN_LIMIT = 1 << 40


class RegexUnsupported(ValueError):
    """The pattern is invalid, or uses a construct whose matches cannot be generated."""


class _Node:
    __slots__ = ("max_len", "min_len", "node_id", "positions")

    def __init__(self, node_id: int, min_len: int, max_len: int, positions: int) -> None:
        self.node_id = node_id
        self.min_len = min_len
        self.max_len = max_len
        self.positions = positions


class _Literal(_Node):
    __slots__ = ("codes",)

    def __init__(self, node_id: int, codes: np.ndarray) -> None:
        super().__init__(node_id, len(codes), len(codes), len(codes))
        self.codes = codes


class _Anchor(_Node):
    __slots__ = ("at_start", "symbol")

    def __init__(self, node_id: int, symbol: str, at_start: bool) -> None:
        super().__init__(node_id, 0, 0, 0)
        self.symbol = symbol
        self.at_start = at_start


class _Chars(_Node):
    __slots__ = ("codes",)

    def __init__(self, node_id: int, codes: np.ndarray) -> None:
        super().__init__(node_id, 1, 1, 1)
        self.codes = codes


class _Concat(_Node):
    __slots__ = ("parts",)

    def __init__(self, node_id: int, parts: list[_Node]) -> None:
        super().__init__(
            node_id,
            sum(part.min_len for part in parts),
            sum(part.max_len for part in parts),
            sum(part.positions for part in parts),
        )
        self.parts = parts


class _Alt(_Node):
    __slots__ = ("options",)

    def __init__(self, node_id: int, options: list[_Node]) -> None:
        super().__init__(
            node_id,
            min(option.min_len for option in options),
            max(option.max_len for option in options),
            sum(option.positions for option in options),
        )
        self.options = options


class _Repeat(_Node):
    __slots__ = ("body", "high", "low")

    def __init__(self, node_id: int, body: _Node, low: int, high: int) -> None:
        super().__init__(node_id, body.min_len * low, body.max_len * high, body.positions * high)
        self.body = body
        self.low = low
        self.high = high


@functools.lru_cache(maxsize=4096)
def _case_forms(code: int) -> tuple[int, ...]:
    char = chr(code)
    candidates = {char, char.lower(), char.upper(), char.swapcase(), char.casefold()}
    matcher = re.compile(re.escape(char), re.IGNORECASE)
    return tuple(sorted(ord(form) for form in candidates if len(form) == 1 and matcher.fullmatch(form)))


def _case_closure(codes: np.ndarray) -> np.ndarray:
    forms = {form for code in codes.tolist() for form in _case_forms(code)}
    return np.array(sorted(forms), dtype=_CODE)


class _TreeBuilder:
    """Turns the parser's output into generator nodes, rejecting what cannot be generated."""

    def __init__(self, max_repeat: int) -> None:
        self.max_repeat = max_repeat
        self.next_id = 0
        self.emits_nul = False

    def reject(self, construct: str) -> RegexUnsupported:
        return RegexUnsupported(construct)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def chars_node(self, codes: np.ndarray) -> _Node:
        if codes.size == 0:
            raise self.reject(
                "a character class leaves no character to generate (negation is relative to printable ASCII 0x20-0x7E)"
            )
        if codes[0] == 0:
            self.emits_nul = True
        if codes.size == 1:
            return _Literal(self.new_id(), codes)
        return _Chars(self.new_id(), codes)

    def sequence(self, items: list, flags: int) -> _Node:
        parts: list[_Node] = []
        for op, argument in items:
            node = self.item(op, argument, flags)
            if isinstance(node, _Literal) and parts and isinstance(parts[-1], _Literal):
                parts[-1] = _Literal(parts[-1].node_id, np.concatenate([parts[-1].codes, node.codes]))
            else:
                parts.append(node)
        if not parts:
            return _Literal(self.new_id(), np.empty(0, dtype=_CODE))
        if len(parts) == 1:
            return parts[0]
        return _Concat(self.new_id(), parts)

    def item(self, op: object, argument: object, flags: int) -> _Node:
        ignore_case = bool(flags & re.IGNORECASE)
        if op == _sre.LITERAL:
            codes = np.array([argument], dtype=_CODE)
            return self.chars_node(_case_closure(codes) if ignore_case else codes)
        if op == _sre.NOT_LITERAL:
            codes = np.array([argument], dtype=_CODE)
            return self.chars_node(np.setdiff1d(_PRINTABLE, _case_closure(codes) if ignore_case else codes))
        if op == _sre.ANY:
            return self.chars_node(_PRINTABLE)
        if op == _sre.IN:
            return self.chars_node(self.char_class(argument, ignore_case))
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
            low, high, body_items = argument
            if high == _sre.MAXREPEAT:
                high = low + self.max_repeat
            body = self.sequence(body_items, flags)
            if high == 0 or body.max_len == 0:
                return _Literal(self.new_id(), np.empty(0, dtype=_CODE))
            if low == high == 1:
                return body
            return _Repeat(self.new_id(), body, low, high)
        if op == _sre.SUBPATTERN:
            _group, add_flags, del_flags, body_items = argument
            return self.sequence(body_items, (flags | add_flags) & ~del_flags)
        if op == _sre.BRANCH:
            _unused, branches = argument
            return _Alt(self.new_id(), [self.sequence(branch, flags) for branch in branches])
        if op == _sre.AT:
            if argument in _START_ANCHORS:
                return _Anchor(self.new_id(), _START_ANCHORS[argument], at_start=True)
            if argument in _END_ANCHORS:
                return _Anchor(self.new_id(), _END_ANCHORS[argument], at_start=False)
            if argument == _sre.AT_BOUNDARY:
                raise self.reject("word boundary \\b cannot be generated")
            if argument == _sre.AT_NON_BOUNDARY:
                raise self.reject("non-boundary \\B cannot be generated")
            raise self.reject(f"anchor {argument} cannot be generated")
        if op == _sre.GROUPREF:
            raise self.reject(f"backreference \\{argument} cannot be generated (it repeats an earlier match)")
        if op == _sre.GROUPREF_EXISTS:
            raise self.reject("conditional group (?(id)yes|no) cannot be generated")
        if op == _sre.ASSERT:
            direction, _body = argument
            which = "lookahead (?=...)" if direction >= 0 else "lookbehind (?<=...)"
            raise self.reject(f"{which} cannot be generated")
        if op == _sre.ASSERT_NOT:
            direction, _body = argument
            which = "negative lookahead (?!...)" if direction >= 0 else "negative lookbehind (?<!...)"
            raise self.reject(f"{which} cannot be generated")
        if _POSSESSIVE_REPEAT is not None and op == _POSSESSIVE_REPEAT:
            raise self.reject("possessive quantifier (*+, ++, ?+, {m,n}+) cannot be generated reliably")
        if _ATOMIC_GROUP is not None and op == _ATOMIC_GROUP:
            raise self.reject("atomic group (?>...) cannot be generated reliably")
        raise self.reject(f"construct {op} cannot be generated")

    def char_class(self, items: list, ignore_case: bool) -> np.ndarray:
        negate = False
        members: list[np.ndarray] = []
        for op, argument in items:
            if op == _sre.NEGATE:
                negate = True
            elif op == _sre.LITERAL:
                members.append(np.array([argument], dtype=_CODE))
            elif op == _sre.RANGE:
                low, high = argument
                members.append(np.arange(low, high + 1, dtype=_CODE))
            elif op == _sre.CATEGORY and argument in _CATEGORIES:
                codes, negated = _CATEGORIES[argument]
                members.append(np.setdiff1d(_PRINTABLE, codes) if negated else codes)
            else:
                raise self.reject(f"character class item {op} {argument} cannot be generated")
        codes = np.unique(np.concatenate(members)) if members else np.empty(0, dtype=_CODE)
        if ignore_case:
            codes = _case_closure(codes)
        return np.setdiff1d(_PRINTABLE, codes) if negate else codes


def _check_anchors(node: _Node, builder: _TreeBuilder, text_before: bool, text_after: bool) -> None:
    if isinstance(node, _Anchor):
        if node.at_start and text_before:
            raise builder.reject(f"anchor {node.symbol} must be at the start: text could precede it")
        if not node.at_start and text_after:
            raise builder.reject(f"anchor {node.symbol} must be at the end: text could follow it")
    elif isinstance(node, _Concat):
        widths = [part.max_len for part in node.parts]
        for position, part in enumerate(node.parts):
            _check_anchors(
                part,
                builder,
                text_before or any(widths[:position]),
                text_after or any(widths[position + 1 :]),
            )
    elif isinstance(node, _Alt):
        for option in node.options:
            _check_anchors(option, builder, text_before, text_after)
    elif isinstance(node, _Repeat):
        repeats_text = node.high > 1 and node.body.max_len > 0
        _check_anchors(node.body, builder, text_before or repeats_text, text_after or repeats_text)


# --------------------------------------------------------------------------- generation

_CodesAndLengths = tuple[np.ndarray, "np.ndarray | int"]
"""Code points (rows x width, zero-padded on the right) and the length per row, or one length for all."""


def _draw_chars(
    codes: np.ndarray, stream: Stream, rows: np.ndarray, count: int, into: np.ndarray | None = None
) -> np.ndarray:
    """``count`` independent characters of ``codes`` per row, several per 64-bit draw."""
    size = len(codes)
    per_draw = 1
    while size ** (per_draw + 1) <= _DRAW_SPAN_LIMIT:
        per_draw += 1
    drawn = np.empty((len(rows), count), dtype=_CODE) if into is None else into
    radix = np.uint64(size)
    for draw_no, first in enumerate(range(0, count, per_draw)):
        in_draw = min(per_draw, count - first)
        remaining = stream.child(draw_no).bits(rows)
        span = np.uint64(size**in_draw)
        # x - (x // n) * n is x % n: numpy divides uint64 by a scalar several times faster than it takes remainders
        remaining = remaining - (remaining // span) * span
        for column in range(first, first + in_draw):
            quotient = remaining // radix
            drawn[:, column] = codes[(remaining - quotient * radix).view(np.int64)]
            remaining = quotient
    return drawn


def _fill(node: _Node, stream: Stream, rows: np.ndarray, into: np.ndarray) -> None:
    """Write a fixed-length node's values straight into ``into`` (rows x node length)."""
    if isinstance(node, _Concat):
        offset = 0
        for part in node.parts:
            _fill(part, stream, rows, into[:, offset : offset + part.max_len])
            offset += part.max_len
    elif isinstance(node, _Chars):
        _draw_chars(node.codes, stream.child(node.node_id), rows, 1, into)
    elif isinstance(node, _Repeat) and isinstance(node.body, _Chars):
        _draw_chars(node.body.codes, stream.child(node.node_id), rows, node.high, into)
    elif node.max_len:
        into[:] = _emit(node, stream, rows)[0]


def _place(out: np.ndarray, rows: np.ndarray | None, offset: np.ndarray | int, codes: np.ndarray) -> None:
    width = codes.shape[1]
    if width == 0:
        return
    if isinstance(offset, int):
        if rows is None:
            out[:, offset : offset + width] = codes
        else:
            out[rows, offset : offset + width] = codes
        return
    row_ids = np.arange(out.shape[0]) if rows is None else rows
    out[row_ids[:, None], offset[:, None] + np.arange(width)] = codes


def _join(pieces: list[_CodesAndLengths], row_count: int) -> _CodesAndLengths:
    if all(isinstance(length, int) for _codes, length in pieces):
        joined = np.concatenate([codes for codes, _length in pieces], axis=1)
        return joined, sum(length for _codes, length in pieces)  # type: ignore[misc]
    out = np.zeros((row_count, sum(codes.shape[1] for codes, _length in pieces)), dtype=_CODE)
    offset: np.ndarray | int = 0
    for codes, length in pieces:
        _place(out, None, offset, codes)
        offset = offset + length
    return out, offset


def _emit(node: _Node, stream: Stream, rows: np.ndarray) -> _CodesAndLengths:
    row_count = len(rows)
    if isinstance(node, _Literal):
        return np.broadcast_to(node.codes, (row_count, len(node.codes))), len(node.codes)
    if isinstance(node, _Anchor):
        return np.zeros((row_count, 0), dtype=_CODE), 0
    if isinstance(node, _Chars):
        return _draw_chars(node.codes, stream.child(node.node_id), rows, 1), 1
    if isinstance(node, _Concat):
        if node.min_len == node.max_len:
            out = np.empty((row_count, node.max_len), dtype=_CODE)
            _fill(node, stream, rows, out)
            return out, node.max_len
        return _join([_emit(part, stream, rows) for part in node.parts], row_count)
    if isinstance(node, _Alt):
        return _emit_alt(node, stream, rows)
    if isinstance(node, _Repeat):
        return _emit_repeat(node, stream, rows)
    raise TypeError(f"unknown node {node!r}")


def _emit_alt(node: _Alt, stream: Stream, rows: np.ndarray) -> _CodesAndLengths:
    choice = stream.child(node.node_id).below(rows, len(node.options))
    out = np.zeros((len(rows), node.max_len), dtype=_CODE)
    lengths = np.zeros(len(rows), dtype=np.int64)
    for option_no, option in enumerate(node.options):
        chosen = np.flatnonzero(choice == option_no)
        if chosen.size == 0:
            continue
        codes, length = _emit(option, stream, rows[chosen])
        out[chosen, : codes.shape[1]] = codes
        lengths[chosen] = length
    if node.min_len == node.max_len:
        return out, node.max_len
    return out, lengths


def _emit_repeat(node: _Repeat, stream: Stream, rows: np.ndarray) -> _CodesAndLengths:
    own_stream = stream.child(node.node_id)
    body = node.body
    if isinstance(body, _Literal):
        repeated = np.tile(body.codes, node.high)
        if node.low == node.high:
            return np.broadcast_to(repeated, (len(rows), len(repeated))), len(repeated)
        counts = own_stream.child("count").integers(rows, node.low, node.high)
        lengths = counts * len(body.codes)
        return np.where(np.arange(len(repeated)) < lengths[:, None], repeated, 0).astype(_CODE), lengths
    if isinstance(body, _Chars):
        codes = _draw_chars(body.codes, own_stream, rows, node.high)
        if node.low == node.high:
            return codes, node.high
        counts = own_stream.child("count").integers(rows, node.low, node.high)
        codes[np.arange(node.high) >= counts[:, None]] = 0
        return codes, counts
    if node.low == node.high:
        return _join([_emit(body, own_stream.child(rep), rows) for rep in range(node.high)], len(rows))
    counts = own_stream.child("count").integers(rows, node.low, node.high)
    out = np.zeros((len(rows), node.max_len), dtype=_CODE)
    offsets = np.zeros(len(rows), dtype=np.int64)
    for rep in range(node.high):
        chosen = None if rep < node.low else np.flatnonzero(counts > rep)
        if chosen is not None and chosen.size == 0:
            break
        codes, length = _emit(body, own_stream.child(rep), rows if chosen is None else rows[chosen])
        if chosen is None:
            _place(out, None, offsets, codes)
            offsets += length
        else:
            _place(out, chosen, offsets[chosen], codes)
            offsets[chosen] += length
    return out, offsets


def _to_strings(codes: np.ndarray, lengths: np.ndarray | int, may_contain_nul: bool) -> np.ndarray:
    row_count, width = codes.shape
    if width == 0:
        return np.full(row_count, "", dtype=object)
    if may_contain_nul:
        row_lengths = np.broadcast_to(np.asarray(lengths, dtype=np.int64), (row_count,))
        texts = np.empty(row_count, dtype=object)
        texts[:] = ["".join(map(chr, row[:length])) for row, length in zip(codes.tolist(), row_lengths.tolist())]
        return texts
    texts = np.ascontiguousarray(codes, dtype=_CODE).view(f"U{width}").reshape(row_count)
    return texts.astype(object)


def _to_arrow(codes: np.ndarray, lengths: np.ndarray | int, may_contain_nul: bool) -> pa.Array:
    """Rows of code points as an Arrow string array; ASCII rows are packed as bytes, no ``str`` objects."""
    row_count, width = codes.shape
    if width == 0 or row_count == 0:
        return pa.array([""] * row_count, pa.string())
    if int(codes.max()) >= 0x80:
        return pa.array(_to_strings(codes, lengths, may_contain_nul), pa.string())
    ascii_codes = codes.astype(np.uint8)
    if isinstance(lengths, int) and lengths == width:
        return fixed_strings(ascii_codes)
    row_lengths = np.broadcast_to(np.asarray(lengths, dtype=np.int64), (row_count,))
    offsets = np.zeros(row_count + 1, dtype=np.int32)
    np.cumsum(row_lengths, out=offsets[1:])
    data = ascii_codes[np.arange(width) < row_lengths[:, None]]
    return pa.StringArray.from_buffers(row_count, pa.py_buffer(offsets), pa.py_buffer(data))


def _fixed_slots(node: _Node) -> list[tuple[str, ...]] | None:
    """The node as character slots (each uniform over its alternatives), if its shape is fixed.

    Literals, classes and exact repetitions of them: such patterns (``[A-Z]{3}-\\d{6}``)
    generate like Faker's ``bothify`` patterns, a table gather per few characters.
    """
    if isinstance(node, _Anchor):
        return []
    if isinstance(node, (_Literal, _Chars)):
        codes = node.codes.tolist()
        if any(0xD800 <= code <= 0xDFFF for code in codes):
            return None  # lone surrogates have no UTF-8 form
        if isinstance(node, _Literal):
            return [("".join(map(chr, codes)),)]
        return [tuple(map(chr, codes))]
    if isinstance(node, _Repeat) and node.low == node.high:
        body = _fixed_slots(node.body)
        return None if body is None else body * node.low
    if isinstance(node, _Concat):
        slots: list[tuple[str, ...]] = []
        for part in node.parts:
            part_slots = _fixed_slots(part)
            if part_slots is None:
                return None
            slots.extend(part_slots)
        return slots
    return None


# --------------------------------------------------------------------------- enumeration


class _TooComplex(Exception):
    """Counting the value space would exceed the position, state or work budget."""


class _Positions:
    """Glushkov position automaton of the repetition-unrolled tree."""

    def __init__(self) -> None:
        self.work_left = _MAX_COUNTING_WORK
        self.charset_of: list[int] = []
        self.follow: list[set[int]] = []
        self.charsets: list[np.ndarray] = []
        self.charset_ids: dict[bytes, int] = {}

    def new_position(self, codes: np.ndarray | None) -> int:
        if codes is None:
            self.charset_of.append(-1)
            self.follow.append(set())
            return len(self.follow) - 1
        key = codes.tobytes()
        if key not in self.charset_ids:
            self.charset_ids[key] = len(self.charsets)
            self.charsets.append(codes)
        self.charset_of.append(self.charset_ids[key])
        self.follow.append(set())
        return len(self.follow) - 1

    def spend(self, work: int) -> None:
        self.work_left -= work
        if self.work_left < 0:
            raise _TooComplex

    def concat(self, left: tuple, right: tuple) -> tuple[set[int], set[int], bool]:
        left_first, left_last, left_nullable = left
        right_first, right_last, right_nullable = right
        self.spend(len(left_first) + len(right_last) + len(left_last) * (len(right_first) + 1))
        for position in left_last:
            self.follow[position] |= right_first
        first = left_first | right_first if left_nullable else left_first
        last = right_last | left_last if right_nullable else right_last
        return first, last, left_nullable and right_nullable

    def build(self, node: _Node) -> tuple[set[int], set[int], bool]:
        if isinstance(node, _Anchor):
            return set(), set(), True
        if isinstance(node, _Chars):
            position = self.new_position(node.codes)
            return {position}, {position}, False
        if isinstance(node, _Literal):
            result: tuple[set[int], set[int], bool] = (set(), set(), True)
            for code in node.codes:
                position = self.new_position(np.array([code], dtype=_CODE))
                result = self.concat(result, ({position}, {position}, False))
            return result
        if isinstance(node, _Concat):
            result = (set(), set(), True)
            for part in node.parts:
                result = self.concat(result, self.build(part))
            return result
        if isinstance(node, _Alt):
            built = [self.build(option) for option in node.options]
            return (
                set().union(*(first for first, _last, _nullable in built)),
                set().union(*(last for _first, last, _nullable in built)),
                any(nullable for _first, _last, nullable in built),
            )
        if isinstance(node, _Repeat):
            optional_tail: tuple[set[int], set[int], bool] = (set(), set(), True)
            for _optional in range(node.high - node.low):
                first, last, _nullable = self.concat(self.build(node.body), optional_tail)
                optional_tail = (first, last, True)
            result = (set(), set(), True)
            for _required in range(node.low):
                result = self.concat(result, self.build(node.body))
            return self.concat(result, optional_tail)
        raise TypeError(f"unknown node {node!r}")


def _atoms(charsets: list[np.ndarray]) -> tuple[list[np.ndarray], list[list[int]]]:
    """Split the characters into classes no charset tells apart; each charset is a union of atoms."""
    boundaries = []
    for codes in charsets:
        breaks = np.flatnonzero(np.diff(codes.astype(np.int64)) != 1)
        boundaries += [codes[np.r_[0, breaks + 1]], codes[np.r_[breaks, len(codes) - 1]].astype(np.int64) + 1]
    edges = np.unique(np.concatenate(boundaries).astype(np.int64))
    segment_starts, segment_stops = edges[:-1], edges[1:]
    membership = np.stack([np.isin(segment_starts, codes) for codes in charsets], axis=1)
    used = membership.any(axis=1)
    signatures, atom_of_segment = np.unique(membership[used], axis=0, return_inverse=True)
    atom_of_segment = atom_of_segment.reshape(-1)
    starts, stops = segment_starts[used], segment_stops[used]
    atom_codes = [
        np.concatenate(
            [
                np.arange(start, stop, dtype=_CODE)
                for start, stop in zip(starts[atom_of_segment == atom], stops[atom_of_segment == atom])
            ]
        )
        for atom in range(len(signatures))
    ]
    atoms_of_charset = [np.flatnonzero(signatures[:, charset]).tolist() for charset in range(len(charsets))]
    return atom_codes, atoms_of_charset


class _Enumerator:
    """Deterministic automaton of the finite value space, with the number of strings per state.

    Ranking follows the automaton: at each state, stopping (if accepting) ranks first,
    then continuations by next character, which is exactly sorted string order.
    """

    def __init__(self, root: _Node) -> None:
        self.max_len = root.max_len
        positions = _Positions()
        start = positions.new_position(None)
        first, last, nullable = positions.build(root)
        positions.follow[start] = set(first)
        accepting_positions = last | {start} if nullable else last
        atom_codes, atoms_of_charset = _atoms(positions.charsets) if positions.charsets else ([], [])
        self.atom_sizes = [len(codes) for codes in atom_codes]
        self.atom_codes = atom_codes

        states: list[frozenset[int]] = [frozenset({start})]
        state_ids = {states[0]: 0}
        self.accepting: list[bool] = []
        self.transitions: list[list[tuple[int, int]]] = []
        for positions_here in states:
            self.accepting.append(not accepting_positions.isdisjoint(positions_here))
            follow_sets = [positions.follow[position] for position in positions_here]
            positions.spend(sum(map(len, follow_sets)))
            following = set().union(*follow_sets)
            positions.spend(len(following) * len(atom_codes))
            targets: dict[int, set[int]] = {}
            for position in following:
                for atom in atoms_of_charset[positions.charset_of[position]]:
                    targets.setdefault(atom, set()).add(position)
            moves = []
            for atom, target_positions in sorted(targets.items()):
                target = frozenset(target_positions)
                if target not in state_ids:
                    state_ids[target] = len(states)
                    states.append(target)
                moves.append((atom, state_ids[target]))
            self.transitions.append(moves)
            if len(states) > _MAX_DFA_STATES:
                raise _TooComplex
        self.counts = self._count_strings()
        self.total = self.counts[0]
        self._tables: dict[int, tuple] = {}

    def _count_strings(self) -> list[int]:
        counts: list[int | None] = [None] * len(self.transitions)
        pending = [0]
        while pending:
            state = pending[-1]
            if counts[state] is not None:
                pending.pop()
                continue
            missing = [target for _atom, target in self.transitions[state] if counts[target] is None]
            if missing:
                pending.extend(missing)
                continue
            counts[state] = int(self.accepting[state]) + sum(
                self.atom_sizes[atom] * counts[target]  # type: ignore[operator]
                for atom, target in self.transitions[state]
            )
            pending.pop()
        return [count or 0 for count in counts]

    def table(self, state: int) -> tuple:
        if state not in self._tables:
            moves = self.transitions[state]
            codes = np.concatenate([self.atom_codes[atom] for atom, _target in moves])
            targets = np.concatenate([np.full(self.atom_sizes[atom], target, dtype=np.int64) for atom, target in moves])
            order = np.argsort(codes, kind="stable")
            codes, targets = codes[order], targets[order]
            distinct_targets, target_slot = np.unique(targets, return_inverse=True)
            weights = np.array([self.counts[target] for target in targets.tolist()], dtype=np.uint64)
            ends = np.cumsum(weights, dtype=np.uint64)
            self._tables[state] = (codes, ends - weights, ends, distinct_targets.tolist(), target_slot)
        return self._tables[state]

    def unrank(self, ordinals: np.ndarray) -> _CodesAndLengths:
        row_count = len(ordinals)
        out = np.zeros((row_count, self.max_len), dtype=_CODE)
        lengths = np.zeros(row_count, dtype=np.int64)
        frontier: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {
            0: [(np.arange(row_count), ordinals.astype(np.uint64))]
        }
        depth = 0
        while frontier:
            next_frontier: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
            for state, groups in frontier.items():
                rows = np.concatenate([rows for rows, _ranks in groups])
                ranks = np.concatenate([ranks for _rows, ranks in groups])
                if self.accepting[state]:
                    stops = ranks == 0
                    lengths[rows[stops]] = depth
                    rows, ranks = rows[~stops], ranks[~stops] - np.uint64(1)
                if rows.size == 0:
                    continue
                codes, starts, ends, targets, target_slot = self.table(state)
                if len(targets) == 1:
                    picks, ranks = np.divmod(ranks, np.uint64(self.counts[targets[0]]))
                    out[rows, depth] = codes[picks]
                    next_frontier.setdefault(targets[0], []).append((rows, ranks))
                    continue
                picks = np.searchsorted(ends, ranks, side="right")
                ranks = ranks - starts[picks]
                out[rows, depth] = codes[picks]
                slots = target_slot[picks]
                order = np.argsort(slots, kind="stable")
                bounds = np.cumsum(np.bincount(slots, minlength=len(targets)))[:-1]
                for target, target_rows, target_ranks in zip(
                    targets, np.split(rows[order], bounds), np.split(ranks[order], bounds)
                ):
                    if target_rows.size:
                        next_frontier.setdefault(target, []).append((target_rows, target_ranks))
            frontier = next_frontier
            depth += 1
        return out, lengths


# --------------------------------------------------------------------------- public API


class RegexGenerator:
    """Generates and enumerates the strings matching one pattern (see the module docstring)."""

    pattern: str
    max_repeat: int

    def __init__(self, pattern: str, max_repeat: int = 8) -> None:
        if not isinstance(pattern, str):
            raise RegexUnsupported(f"regex must be a string, got {type(pattern).__name__}")
        if max_repeat < 0:
            raise ValueError(f"max_repeat must be >= 0, got {max_repeat}")
        try:
            re.compile(pattern)
            parsed = _sre_parse.parse(pattern, 0)
        except (re.error, RecursionError, OverflowError) as err:
            raise RegexUnsupported(f"invalid regex: {err}") from err
        self.pattern = pattern
        self.max_repeat = max_repeat
        builder = _TreeBuilder(max_repeat)
        self._root = builder.sequence(list(parsed), parsed.state.flags)
        _check_anchors(self._root, builder, text_before=False, text_after=False)
        self._may_contain_nul = builder.emits_nul
        self._enumerator_built = False
        self._enumerator: _Enumerator | None = None
        slots = _fixed_slots(self._root) if self._root.positions <= _MAX_POSITIONS else None
        self._pattern = None if slots is None else slot_pattern(slots)

    def __repr__(self) -> str:
        return f"RegexGenerator({self.pattern!r}, max_repeat={self.max_repeat})"

    def __reduce__(self) -> tuple:
        return (compile_regex, (self.pattern, self.max_repeat))

    def _enumeration(self) -> _Enumerator | None:
        if not self._enumerator_built:
            try:
                if self._root.positions > _MAX_POSITIONS:
                    raise _TooComplex
                enumerator = _Enumerator(self._root)
                if enumerator.total <= _CARDINALITY_LIMIT:
                    self._enumerator = enumerator
            except _TooComplex:
                pass
            self._enumerator_built = True
        return self._enumerator

    def cardinality(self) -> int | None:
        """Exact number of distinct values, or ``None`` above 2**63 or beyond the counting budget."""
        enumerator = self._enumeration()
        return None if enumerator is None else enumerator.total

    def generate(self, stream: Stream, index: np.ndarray) -> np.ndarray:
        """One matching string per row index, as a numpy object array."""
        return np.asarray(self.generate_arrow(stream, index).to_numpy(zero_copy_only=False), dtype=object)

    def generate_arrow(self, stream: Stream, index: np.ndarray) -> pa.Array:
        """``generate`` as an Arrow string array (the same values, built without ``str`` objects)."""
        rows = as_index(index)
        if self._pattern is not None:
            return self._pattern.generate(rows, stream)
        codes, lengths = _emit(self._root, stream, rows)
        return _to_arrow(codes, lengths, self._may_contain_nul)

    def value_at(self, ordinal: np.ndarray) -> np.ndarray:
        """The ``k``-th value in sorted order for each ordinal ``k`` in ``[0, cardinality())``."""
        enumerator = self._enumeration()
        if enumerator is None:
            raise RegexUnsupported(
                "value space cannot be enumerated "
                "(more than 2**63 values, or too intricate to count: more than "
                f"{_MAX_POSITIONS} character positions, {_MAX_DFA_STATES} automaton states "
                f"or {_MAX_COUNTING_WORK} set operations)"
            )
        ordinals = np.asarray(ordinal)
        if ordinals.dtype.kind not in "iu":
            raise ValueError(f"ordinals must be integers, got dtype {ordinals.dtype}")
        ordinals = ordinals.reshape(-1)
        if ordinals.size and ordinals.dtype.kind == "i" and int(ordinals.min()) < 0:
            raise ValueError(f"ordinal {int(ordinals.min())} is negative")
        ordinals = ordinals.astype(np.uint64)
        if ordinals.size and int(ordinals.max()) >= enumerator.total:
            raise ValueError(f"ordinal {int(ordinals.max())} is outside [0, {enumerator.total})")
        codes, lengths = enumerator.unrank(ordinals)
        return _to_strings(codes, lengths, self._may_contain_nul)

    def value_at_arrow(self, ordinal: np.ndarray) -> pa.Array:
        """``value_at`` as an Arrow string array."""
        return pa.array(self.value_at(ordinal), pa.string())


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str, max_repeat: int = 8) -> RegexGenerator:
    """A cached :class:`RegexGenerator` for ``pattern``."""
    return RegexGenerator(pattern, max_repeat)
