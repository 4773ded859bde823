"""What every object rule can add: ``prefix``, ``suffix`` and a final ``regex`` check.

For every rule type but ``regex`` (where ``regex`` is the pattern values are
generated from), ``regex`` is a check the finished value, prefix and suffix
included, must fully match. Rows that fail are regenerated from fresh,
attempt-numbered streams a bounded number of times; rows that still fail are
left null and counted (``<column>:regex_unmatched``), never patched silently.
A rule with ``regex_retries_from_pattern`` (phone numbers) is retried with
values generated from the pattern instead, as the design document does: a
Faker phone that fits the pattern is kept, one that does not is replaced by a
number made from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.registry import ColumnRef, Domain, MaskingKind, Rows, Rule, RuleContext
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.core.values import coerce
from synthbeam.rules.generators.regex.rule import Regex

MAX_ATTEMPTS = 10


def _texts(values: pa.Array) -> pa.Array:
    return coerce(values, "str")


def full_match_mask(values: pa.Array, pattern: re.Pattern[str]) -> np.ndarray:
    """True where the (string) value fully matches; nulls never match."""
    texts = values.to_numpy(zero_copy_only=False)
    return np.fromiter(
        (text is not None and pattern.fullmatch(text) is not None for text in texts),
        dtype=bool,
        count=len(texts),
    )


class Finished(Rule):
    """A rule with its prefix/suffix applied and its regex check enforced."""

    def __init__(self, inner: Rule, spec: Mapping[str, Any], ctx: RuleContext, check: bool = True) -> None:
        self.inner = inner
        self.spec = dict(spec)
        self.prefix = str(spec.get("prefix") or "")
        self.suffix = str(spec.get("suffix") or "")
        self.place = ctx.place
        self.column = ctx.column
        self.check: re.Pattern[str] | None = None
        pattern = spec.get("regex") if check else None
        if pattern is not None:
            try:
                self.check = re.compile(str(pattern))
            except re.error as exc:
                ctx.error(f"regex {pattern!r} is not a valid regular expression: {exc}")
        affixed = bool(self.prefix or self.suffix)
        self.output_type = "str" if affixed or self.check else inner.output_type
        self.retry_rule = inner
        if self.check is not None and inner.regex_retries_from_pattern:
            self.retry_rule = _pattern_rule(str(pattern), inner, ctx)

    @property
    def names(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.inner.names

    def references(self) -> set[str]:
        return self.inner.references()

    def unwrapped(self) -> tuple[Rule, str, str, re.Pattern[str] | None]:
        return self.inner, self.prefix, self.suffix, self.check

    @property
    def masking_kind(self) -> MaskingKind:  # type: ignore[override]
        return self.inner.masking_kind

    def makes_uuids(self) -> bool:
        return False  # a prefix, suffix or check makes text that is not certainly a UUID

    def column_refs(self) -> list[ColumnRef]:
        return self.inner.column_refs()

    @property
    def formatted(self) -> bool:  # type: ignore[override]
        return self.check is not None or self.inner.formatted

    def cardinality(self) -> int | None:
        return self.inner.cardinality() if self.check is None else None

    def domain(self) -> Domain | None:
        # A check only removes values (failing rows end null), so the inner domain still holds them all.
        inner = self.inner.domain()
        if inner is None or not (self.prefix or self.suffix):
            return inner
        return Domain(values=self._affix(inner.values)) if inner.values is not None else None

    def makes_nulls(self) -> bool:
        return self.inner.makes_nulls()

    def enumerable(self) -> bool:
        return self.check is None and self.inner.enumerable()

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return self._affix(self.inner.value_at(ordinal))

    def _affix(self, values: pa.Array) -> pa.Array:
        if not (self.prefix or self.suffix or self.check):
            return values
        texts = _texts(values)
        if self.prefix or self.suffix:
            texts = pc.binary_join_element_wise(self.prefix, texts, self.suffix, "")
        return texts

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        values = self._affix(self.inner.generate(rows, stream))
        if self.check is None:
            return values
        failing = np.flatnonzero(~full_match_mask(values, self.check))
        attempt = 0
        while len(failing) and attempt < MAX_ATTEMPTS:
            attempt += 1
            retry_rows = rows.take(failing)
            retried = self._affix(self.retry_rule.generate(retry_rows, stream.child("attempt", attempt)))
            ok = full_match_mask(retried, self.check)
            if ok.any():
                replacement = np.full(len(values), -1, dtype=np.int64)
                replacement[failing[ok]] = np.flatnonzero(ok)
                values = pc.if_else(pa.array(replacement >= 0), _scatter(retried, replacement), values)
            failing = failing[~ok]
        if len(failing):
            rows.count(f"{self.column}:regex_unmatched", len(failing))
            mask = np.zeros(len(values), dtype=bool)
            mask[failing] = True
            values = pc.if_else(pa.array(mask), pa.nulls(len(values), values.type), values)
        return values

    def describe(self) -> str:
        extras = [f"prefix {self.prefix!r}"] if self.prefix else []
        extras += [f"suffix {self.suffix!r}"] if self.suffix else []
        if self.check and self.retry_rule is not self.inner:
            extras.append(f"made from /{self.check.pattern}/ where it does not match")
        elif self.check:
            extras.append(f"checked by /{self.check.pattern}/")
        return self.inner.describe() + (f" ({', '.join(extras)})" if extras else "")


def _pattern_rule(pattern: str, inner: Rule, ctx: RuleContext) -> Rule:
    """A ``regex`` rule generating from ``pattern``, or ``inner`` (with a warning) if the pattern cannot generate."""
    issues = Issues()
    scratch = RuleContext(ctx.place, ctx.table, ctx.column, ctx.column_type, ctx.settings, issues, ctx.columns)
    generated = Regex({"type": "regex", "regex": pattern}, scratch)
    if issues.errors:
        ctx.warning(
            f"{issues.errors[0].message}; values that fail the check are retried with "
            f"{inner.describe()} instead of being made from the pattern"
        )
        return inner
    return generated


def _scatter(source: pa.Array, slots: np.ndarray) -> pa.Array:
    """An array the length of ``slots``: ``source[slot]`` where slot >= 0, else null."""
    return source.take(pa.array(np.maximum(slots, 0), mask=slots < 0))
