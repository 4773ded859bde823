"""What ``check`` asks a rule: does a stored value conform to what the rule makes?

Each rule class answers for itself (``Rule.value_check`` for a column's values
as a whole, ``Rule.row_bounds`` for bounds that differ per row); this module
holds the shapes of those answers and the pure value tests they share (bounds,
full regex matches, affixes). ``pipeline/check/`` (``columns.py``, ``rows.py``) runs
them over the files: they know formats and tallies, not rule types.

Pure pyarrow/numpy: no Beam, no file reading.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from synthbeam.rules.core.registry import Rows, Rule

Offending = Callable[[pa.Array], np.ndarray]
MISSING_INT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class StoredColumn:
    """What a rule needs to know of the column its values were written to.

    ``rule`` is the column's whole rule (prefix, suffix and regex check applied),
    whose ``value_at`` gives the values as written; ``prefix``/``suffix`` are
    those affixes; ``exempt`` says whether a text may have been cut to
    ``max_length`` or padded to ``min_length`` (then it no longer matches).
    """

    name: str
    type: str
    arrow_type: pa.DataType
    max_length: int | None
    min_length: int | None
    rule: Rule
    prefix: str = ""
    suffix: str = ""
    exempt: Callable[[str], bool] = lambda _text: False

    @property
    def affixed(self) -> bool:
        return bool(self.prefix or self.suffix)


@dataclass
class ValueCheck:
    """A test of each non-null stored value: ``offending`` marks the values that breach it.

    ``name`` prefixes the check's label (``choice`` -> ``choice(tier)``); ``what``
    completes the breach line (``<count> values outside range [1, 9], e.g. ...``).
    """

    name: str
    what: str
    offending: Offending


EXAMPLES = 3  # values a breach line shows


def show(value: Any) -> str:
    """A value as a breach line shows it (dates in ISO form, long texts cut)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(show(v) for v in value) + ")"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def examples(values: Sequence[Any]) -> str:
    return ", ".join(show(v) for v in list(values)[:EXAMPLES])


def mask(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def bounds_offending(low: Any, high: Any) -> Offending:
    def offending(values: pa.Array) -> np.ndarray:
        return mask(pc.or_(pc.less(values, low), pc.greater(values, high)))

    return offending


def regex_offending(pattern: re.Pattern[str], exempt: Callable[[str], bool]) -> Offending:
    """Values that do not fully match ``pattern`` (Python ``re`` semantics, as the rules use).

    Arrow's RE2 screens the batch first where it accepts the pattern; only the
    values it rejects are judged by Python's ``re``, so a difference between the
    two engines can cost speed, never a false breach.
    """
    flags = "(?s)" if pattern.flags & re.DOTALL else ""
    screen: str | None = f"{flags}^(?:{pattern.pattern})$"
    try:
        pc.match_substring_regex(pa.array(["x"]), screen)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        screen = None

    def offending(values: pa.Array) -> np.ndarray:
        if screen is None:
            candidates = np.flatnonzero(mask(values.is_valid()))
        else:
            candidates = np.flatnonzero(mask(pc.invert(pc.match_substring_regex(values, screen))))
        bad = np.zeros(len(values), dtype=bool)
        if len(candidates):
            texts = values.take(pa.array(candidates)).to_pylist()
            for position, text in zip(candidates, texts):
                bad[position] = pattern.fullmatch(text) is None and not exempt(text)
        return bad

    return offending


def affixed_regex_offending(
    prefix: str, suffix: str, pattern: re.Pattern[str], exempt: Callable[[str], bool]
) -> Offending:
    """Values that are not ``prefix`` + a full match of ``pattern`` + ``suffix``.

    The pattern is matched on what lies between the affixes, not spliced between
    them: a pattern's own anchors (``^[A-Z]{3}$``) hold for the generated part only.
    """
    if not (prefix or suffix):
        return regex_offending(pattern, exempt)
    middle_offending = regex_offending(pattern, lambda _: False)
    frame = len(prefix) + len(suffix)

    def offending(values: pa.Array) -> np.ndarray:
        framed = pc.and_(
            pc.and_(pc.starts_with(values, prefix), pc.ends_with(values, suffix)),
            pc.greater_equal(pc.utf8_length(values), frame),
        )
        middles = pc.utf8_slice_codeunits(values, len(prefix), -len(suffix) if suffix else None)
        bad = mask(values.is_valid()) & (~mask(framed) | middle_offending(middles))
        positions = np.flatnonzero(bad)
        if len(positions):
            for position, text in zip(positions, values.take(pa.array(positions)).to_pylist()):
                bad[position] = not exempt(text)
        return bad

    return offending


BoundsKind = Literal["int", "float", "temporal"]


@dataclass
class RowBounds:
    """A rule's bounds, per row: parameters, how to read values, and the engine's rounding.

    What ``check`` uses for a rule whose bounds are column references: each row's
    value must lie within that row's bounds.
    """

    low: Any
    high: Any
    numbers_of: Callable[[pa.Array], np.ndarray]
    constant: Callable[[Any], Any]
    kind: BoundsKind
    tolerance: float = 0.0

    def describe(self) -> str:
        from synthbeam.rules.core.registry import ColumnRef

        def name(bound: Any) -> str:
            if not isinstance(bound, ColumnRef):
                return str(bound)
            return bound.name if bound.offset is None else f"{bound.name} {bound.offset!r}"

        return f"[{name(self.low)}, {name(self.high)}]"

    def offending(self, rows: Rows, values: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bad positions mask, low per row, high per row); rows with a missing start are not judged."""
        from synthbeam.rules.core.params import per_row

        count = len(values)
        low = np.broadcast_to(np.asarray(per_row(self.low, rows, self.numbers_of, self.constant)), count)
        high = np.broadcast_to(np.asarray(per_row(self.high, rows, self.numbers_of, self.constant)), count)
        present = mask(values.is_valid())
        if self.kind == "temporal":
            number = self.numbers_of(values)
            low_known = low != MISSING_INT
            high_known = high != MISSING_INT
            top = np.maximum(high, low)
            bad = present & low_known & ((number < low) | (high_known & (number > top)))
        else:
            number = np.asarray(values.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
            low = low.astype(np.float64)
            high = high.astype(np.float64)
            low_known, high_known = ~np.isnan(low), ~np.isnan(high)
            if self.kind == "int":
                bottom = np.ceil(low)
                top = np.maximum(np.floor(high), bottom)
                bad = present & low_known & ((number < bottom) | (high_known & (number > top)))
            else:
                bottom, top = np.fmin(low, high), np.fmax(low, high)
                bad = (
                    present
                    & low_known
                    & ((number < bottom - self.tolerance) | (high_known & (number > top + self.tolerance)))
                )
        return bad, low, high
