"""Unique Faker columns by construction: a one-to-one ordinal -> value map over a choice of formats.

A vectorised Faker method is a node tree (:mod:`synthbeam.rules.generators.text.vector`). Most name-like
methods are a weighted choice (:class:`~synthbeam.rules.generators.text.vector.Mix`) between formats, each
a join of word lists and separators: ``company`` is ``{{last_name}}
{{company_suffix}}``, ``{{last_name}}-{{last_name}}`` or ``{{last_name}},
{{last_name}} and {{last_name}}``. Each format on its own enumerates its values
(``Join.value_at``, mixed radix over the lists); the choice does not, because
two formats could make the same text. This module proves, cheaply and
conservatively, which formats cannot (:func:`disjoint`), and builds a
:class:`UniqueChoice` over a set of pairwise disjoint formats:

* formats identical but for one list (``{{first_name_male}} {{last_name}}`` and
  ``{{first_name_female}} {{last_name}}``) are merged first into one format over
  the union of the two lists: exactly the union of their values;
* formats that cannot be shown disjoint from a more likely one are left out
  (``Mr./Dr. {{first_name_male}} ...`` overlaps ``Dr. {{first_name_female}}
  ...``: one of them goes, about 1% of ``name`` values), and so are formats
  whose values cannot be counted; when what is kept is under half of Faker's
  values (``city``: three of its four formats glue a suffix to a name) there
  is no unique choice and the column keeps its dedup pass;
* each kept format gets a quota of the table's rows in proportion to its
  weight, capped by its own value count, the excess going to the others
  (water-filling). The table's rows thus see Faker's format shares as far as
  each format's space allows.

Ordinal ``o`` of the layout falls in one format's quota, and its offset there
goes through that format's own keyed permutation (:func:`~synthbeam.rules.relations.keys.unique_ordinals`)
before ``value_at``, so a format's values are spread over all of its lists
rather than counting up from the first words. The unique column's row index
goes through a keyed permutation of ``[0, rows)`` first (the engine's
``permutation`` key strategy), so which format a row gets is random too.

What changes against a non-unique column: words inside a format are uniform
rather than weighted by Faker's frequencies (weighted draws are what collide),
and a format's share is capped by its size. Values depend on the table's row
count (the quotas do), as a dedup pass's re-draws did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.generators.text.vector import Const, Join, Mix, Node, Pick, scatter
from synthbeam.rules.relations.keys import unique_ordinals

__all__ = ["UniqueChoice", "disjoint", "formats_of", "space_bound", "unique_choice"]

KEPT_SHARE = 0.5  # the kept formats must make at least this share of Faker's values


def formats_of(node: Node) -> list[tuple[Node, float]]:
    """The node's formats with their probabilities (one format when it is no choice)."""
    if isinstance(node, Mix):
        return list(zip(node.options, node.weights))
    return [(node, 1.0)]


def space_bound(node: Node) -> int | None:
    """At most this many distinct values (the formats' counts added up), or None when one is unknown."""
    total = 0
    for option, _ in formats_of(node):
        count = option.cardinality()
        if count is None:
            return None
        total += count
    return total


def _parts(node: Node) -> tuple[Node, ...]:
    return node.parts if isinstance(node, Join) else (node,)


def _merged(a: Node, b: Node) -> Node | None:
    """One format holding exactly the values of ``a`` and ``b``, when they differ in a single list."""
    left, right = _parts(a), _parts(b)
    if len(left) != len(right):
        return None
    differing = [i for i, (x, y) in enumerate(zip(left, right)) if x != y]
    if len(differing) != 1:
        return None
    position = differing[0]
    x, y = left[position], right[position]
    if not isinstance(x, Pick) or not isinstance(y, Pick):
        return None
    union = Pick(tuple(dict.fromkeys(x.values + y.values)))
    parts = (*left[:position], union, *left[position + 1 :])
    return Join(parts) if len(parts) > 1 else union


def merge_formats(formats: Sequence[tuple[Node, float]]) -> list[tuple[Node, float]]:
    """Formats identical but for one word list merged (weights added), until none merge."""
    merged = list(formats)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                union = _merged(merged[i][0], merged[j][0])
                if union is not None:
                    merged[i] = (union, merged[i][1] + merged[j][1])
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


def _exact_count(node: Node, char: str) -> int | None:
    """How often ``char`` occurs in every value of ``node`` (None: it varies or is unknown)."""
    total = 0
    for part in _parts(node):
        if isinstance(part, Const):
            total += part.text.count(char)
            continue
        atoms = part.atoms()
        if atoms is None or any(char in atom for atom in atoms):
            return None
    return total


def _const_chars(node: Node) -> set[str]:
    return {char for part in _parts(node) if isinstance(part, Const) for char in part.text}


def _separated_by_counts(a: Node, b: Node) -> bool:
    """Some character occurs a fixed, different number of times in every value of each."""
    for char in _const_chars(a) | _const_chars(b):
        left, right = _exact_count(a, char), _exact_count(b, char)
        if left is not None and right is not None and left != right:
            return True
    return False


def _word_like(part: Node, separators: set[str]) -> bool:
    """A non-empty run of text that never holds a separator character."""
    atoms = part.atoms()
    if atoms is None or any(separators & set(atom) for atom in atoms):
        return False
    if isinstance(part, Pick):
        return all(part.values)
    length = part.fixed_length()
    return length is not None and length > 0


def _separated_by_tokens(a: Node, b: Node) -> bool:
    """Both split the same way at their separators, and some aligned word lists share no word.

    With ``S`` every character of either format's constants, and no list word
    holding one, a value cuts uniquely into runs of ``S`` characters (the
    constants) and runs without (the words); equal values need equal constants
    and, position by position, a word both lists hold.
    """
    left, right = _parts(a), _parts(b)
    separators = _const_chars(a) | _const_chars(b)
    for part in (*left, *right):
        if not isinstance(part, Const) and not _word_like(part, separators):
            return False
    for x, y in zip(left, right):
        if isinstance(x, Const) != isinstance(y, Const):
            return True
        if isinstance(x, Const) and isinstance(y, Const) and x.text != y.text:
            return True
    if len(left) != len(right):
        return True
    for x, y in zip(left, right):
        if isinstance(x, Pick) and isinstance(y, Pick) and not set(x.values) & set(y.values):
            return True
        lengths = (x.fixed_length(), y.fixed_length())
        if None not in lengths and lengths[0] != lengths[1]:
            return True
    return False


def disjoint(a: Node, b: Node) -> bool:
    """True only when no value of ``a`` can equal a value of ``b`` (False: not shown)."""
    lengths = (a.fixed_length(), b.fixed_length())
    if None not in lengths and lengths[0] != lengths[1]:
        return True
    return _separated_by_counts(a, b) or _separated_by_tokens(a, b)


def quotas(spaces: Sequence[int], weights: Sequence[float], rows: int) -> list[int] | None:
    """Rows per format summing to ``rows``: shares by weight, each capped by its space (None: too few values)."""
    if sum(spaces) < rows:
        return None
    result = [0] * len(spaces)
    open_ = [i for i in range(len(spaces))]
    remaining = rows
    while open_ and remaining:
        total_weight = sum(weights[i] for i in open_)
        capped = [i for i in open_ if spaces[i] <= remaining * weights[i] / total_weight]
        if capped:
            for i in capped:
                result[i] = spaces[i]
                remaining -= spaces[i]
            open_ = [i for i in open_ if i not in capped]
            continue
        shares = [remaining * weights[i] / total_weight for i in open_]
        floors = [int(share) for share in shares]
        for i, floor in zip(open_, floors):
            result[i] = floor
        left = remaining - sum(floors)
        by_fraction = sorted(range(len(open_)), key=lambda k: (-(shares[k] - floors[k]), k))
        for k in by_fraction[:left]:
            result[open_[k]] += 1
        remaining = 0
    return result


@dataclass(frozen=True)
class UniqueChoice:
    """Ordinals ``[0, space)`` one-to-one onto values of pairwise disjoint formats, by quota."""

    formats: tuple[Node, ...]
    quotas: tuple[int, ...]
    salt: int

    @property
    def space(self) -> int:
        return sum(self.quotas)

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        ordinal = np.asarray(ordinal, dtype=np.uint64)
        starts = np.cumsum((0, *self.quotas))
        chosen = np.searchsorted(starts, ordinal, side="right") - 1
        pieces: list[tuple[np.ndarray, pa.Array]] = []
        for number, node in enumerate(self.formats):
            positions = np.flatnonzero(chosen == number)
            if not len(positions):
                continue
            offset = ordinal[positions] - np.uint64(starts[number])
            spread = unique_ordinals(Stream(self.salt).child("format", number), offset, int(node.cardinality() or 0))
            pieces.append((positions, _value_at(node, spread)))
        if not pieces:
            return pa.array([], pa.string())
        return scatter(pieces, len(ordinal))


def _value_at(node: Node, ordinal: np.ndarray) -> pa.Array:
    """``node.value_at``; a join of word lists as one Arrow take over its lists side by side (no element-wise join)."""
    tables = node._static if isinstance(node, Join) else None
    if tables is None or not isinstance(node, Join):
        return node.value_at(ordinal)
    remaining = ordinal.copy()
    digits: list[np.ndarray | int] = []
    for part in reversed(node.parts):
        if isinstance(part, Pick):
            count = np.uint64(len(part.values))
            quotient = remaining // count
            digits.append((remaining - quotient * count).view(np.int64))
            remaining = quotient
        else:
            digits.append(0)
    return tables.build(digits[::-1], len(ordinal))


def unique_choice(node: Node, rows: int, salt: int) -> UniqueChoice | None:
    """A :class:`UniqueChoice` with ``rows`` values over the node's formats, or None when it has too few."""
    formats = [(f, w) for f, w in merge_formats(formats_of(node)) if f.enumerable()]
    kept: list[tuple[Node, float]] = []
    for candidate in sorted(formats, key=lambda fw: -fw[1]):  # stable: ties keep Faker's order
        if all(disjoint(candidate[0], other) for other, _ in kept):
            kept.append(candidate)
    if sum(w for _, w in kept) < KEPT_SHARE:
        return None  # most of Faker's values would never appear: a dedup pass keeps them
    spaces = [int(f.cardinality()) for f, _ in kept]  # type: ignore[arg-type]
    shares = quotas(spaces, [w for _, w in kept], rows)
    if shares is None:
        return None
    used = [(f, q) for (f, _), q in zip(kept, shares) if q]
    return UniqueChoice(tuple(f for f, _ in used), tuple(q for _, q in used), salt)
