"""The values a compiled Faker method computes with, and how they become nodes.

While :mod:`.compile` evaluates a method's source symbolically, a variable holds a
constant, a finite distribution (:class:`Dist`: a choice over provider data, weights as
Faker reads them), a drawn integer range (:class:`IntDraw`) or a node under construction.
:func:`as_node` turns any of them into a :class:`~synthbeam.rules.generators.text.vector.Node`;
:func:`mixture` merges the outcomes of an ``if`` taken per possible value; :func:`formatted`
and :func:`printf` are Python's string formatting applied to distributions.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from synthbeam.rules.generators.text.vector import (
    Collapse,
    Const,
    IntText,
    Node,
    NotVectorisable,
    join,
    mix,
    pick,
)

TOKEN = re.compile(r"\{\{\s*(\w+)(:\s*\w+?)?\s*\}\}")


_PRINTF = re.compile(r"%(0?)(\d*)([dsi%])")


_FORMAT_SPEC = re.compile(r"^(0?)(\d*)d?$")


@dataclass(frozen=True)
class Dist:
    """A finite distribution over Python values (one random draw)."""

    values: tuple[Any, ...]
    weights: tuple[float, ...]

    @staticmethod
    def of(values: Iterable[Any], weights: Iterable[float] | None = None) -> Dist:
        values = tuple(values)
        if not values:
            raise NotVectorisable("random choice from an empty collection")
        raw = tuple(float(w) for w in weights) if weights is not None else (1.0,) * len(values)
        total = sum(raw)
        if not total > 0:
            raise NotVectorisable("weights sum to zero")
        return Dist(values, tuple(w / total for w in raw))

    def map(self, fn: Callable[[Any], Any]) -> Dist:
        return Dist(tuple(fn(v) for v in self.values), self.weights)


@dataclass(frozen=True)
class IntDraw:
    """A uniform integer ``low + step * k <= high`` not yet turned into text."""

    low: int
    high: int
    step: int = 1

    def text(self, width: int = 0, fill: str = "0") -> IntText:
        if self.high < self.low or self.step < 1:
            raise NotVectorisable("empty integer range")
        if self.low < 0 and width and fill == "0":
            raise NotVectorisable("zero-padding negative numbers")
        return IntText(self.low, self.high, self.step, width, fill)


class Static:
    """A value known when the rule is compiled (provider data, literals, arguments)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Static({self.value!r})"


@dataclass(frozen=True)
class Seq:
    """A tuple display holding random items (``"%03d-%04d" % (a, b)``)."""

    items: tuple[Any, ...]


Value = Any  # Static | Dist | IntDraw | Node | Seq


def as_node(value: Value) -> Node:
    """A value as a string-producing node (Faker's ``parse`` applies ``str``)."""
    if isinstance(value, Node):
        return value
    if isinstance(value, Static):
        if isinstance(value.value, (str, int, float)) and not isinstance(value.value, bool):
            return Const(str(value.value))
        raise NotVectorisable(f"{type(value.value).__name__} constant is not text")
    if isinstance(value, Dist):
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value.values):
            raise NotVectorisable("choice between values that are not text")
        return pick([str(v) for v in value.values], value.weights)
    if isinstance(value, IntDraw):
        return value.text()
    raise NotVectorisable(f"{type(value).__name__} is not text")


def mixture(outcomes: Sequence[tuple[float, Value]]) -> Value:
    """Outcomes with probabilities combined into one value (a Dist when all are known values)."""
    if len(outcomes) == 1:
        return outcomes[0][1]
    if all(isinstance(v, (Static, Dist)) for _, v in outcomes):
        values: list[Any] = []
        weights: list[float] = []
        for weight, value in outcomes:
            if isinstance(value, Static):
                values.append(value.value)
                weights.append(weight)
            else:
                values.extend(value.values)
                weights.extend(weight * w for w in value.weights)
        return Dist.of(values, weights)
    return mix([as_node(v) for _, v in outcomes], [w for w, _ in outcomes])


def elements_dist(elements: Any, weighted: bool) -> Dist:
    """What ``random_element(elements)`` draws from: keys by weight for an OrderedDict."""
    if isinstance(elements, dict):
        if not isinstance(elements, OrderedDict):
            raise NotVectorisable("Faker refuses plain dicts as weighted elements")
        keys = tuple(elements.keys())
        return Dist.of(keys, tuple(elements.values()) if weighted else None)
    views = ("dict_keys", "dict_values")
    if isinstance(elements, (str, list, tuple, range)) or type(elements).__name__ in views:
        return Dist.of(tuple(elements))
    raise NotVectorisable(f"random element of a {type(elements).__name__}")


# Decorators from faker.utils.decorators, recognised by their wrapper's code.
def _slug_local(text: str, ascii_only: bool) -> str:
    if ascii_only:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    else:
        text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[^\w\s-]", "", text, flags=re.U).lower()


def slugify_node(node: Node, ascii_only: bool) -> Node:
    """Faker's ``slugify`` applied to every value of ``node``.

    The per-character steps are pushed into the parts; stripping and turning
    runs of ``[-\\s]`` into ``-`` are too, unless some piece starts or ends with
    such a character (then a run could span two parts and the whole column is
    fixed up at the end instead).
    """
    local = node.map_text(lambda text: _slug_local(text, ascii_only))
    atoms = local.atoms()
    edges = re.compile(r"^[-\s]|[-\s]$", re.U)
    if atoms is not None and not any(edges.search(a) for a in atoms):
        return local.map_text(lambda text: re.sub(r"[-\s]+", "-", text, flags=re.U))
    return Collapse(local)


def apply_decorator(kind: str, value: Value) -> Value:
    if kind == "lowercase":
        return map_text_value(value, str.lower)
    if kind in ("slugify", "slugify_unicode"):
        ascii_only = kind == "slugify"
        if isinstance(value, (Static, Dist)):
            from faker.utils.text import slugify

            return map_values(value, lambda v: slugify(v, allow_unicode=not ascii_only))
        return slugify_node(as_node(value), ascii_only)
    raise NotVectorisable(f"decorator {kind}")


def map_values(value: Value, fn: Callable[[Any], Any]) -> Value:
    if isinstance(value, Static):
        return Static(fn(value.value))
    if isinstance(value, Dist):
        return value.map(fn)
    raise NotVectorisable("mapping a random value")


def map_text_value(value: Value, fn: Callable[[str], str]) -> Value:
    """``fn`` (character by character) applied to a constant, a distribution or a node."""
    if isinstance(value, (Static, Dist)):
        return map_values(value, lambda v: fn(v) if isinstance(v, str) else v)
    return as_node(value).map_text(fn)


def is_value(value: Any) -> bool:
    return isinstance(value, (Static, Dist, IntDraw, Node, Seq))


def freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def formatted(value: Value, spec: str) -> Node:
    """``format(value, spec)`` for f-strings: constants directly, integers padded."""
    if isinstance(value, Static):
        return Const(format(value.value, spec))
    if isinstance(value, Dist):
        return pick([format(v, spec) for v in value.values], value.weights)
    if isinstance(value, IntDraw):
        match = _FORMAT_SPEC.match(spec)
        if not match:
            raise NotVectorisable(f"format spec {spec!r}")
        return value.text(int(match.group(2) or 0), "0" if match.group(1) else " ")
    if isinstance(value, Node) and spec in ("", "s"):
        return value
    raise NotVectorisable(f"format spec {spec!r} on a random value")


def printf(template: str, args: Sequence[Value]) -> Node:
    """``template % args`` with ``%d``/``%0Nd``/``%s`` conversions over random values."""
    parts: list[Node] = []
    position = 0
    remaining = list(args)
    for match in _PRINTF.finditer(template):
        parts.append(Const(template[position : match.start()]))
        position = match.end()
        zero, width, kind = match.groups()
        if kind == "%":
            parts.append(Const("%"))
            continue
        if not remaining:
            raise NotVectorisable("not enough arguments for format")
        value = remaining.pop(0)
        if kind == "s":
            parts.append(as_node(value))
        else:
            parts.append(formatted(value, f"{zero}{width}d"))
    if remaining:
        raise NotVectorisable("too many arguments for format")
    parts.append(Const(template[position:]))
    return join(*parts)
