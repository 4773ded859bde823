"""``{"type": "regex", "regex": pattern}``: strings generated from the pattern itself.

The pattern is compiled once into a generator tree (``regex_gen``); patterns
that cannot be generated (look-arounds, back-references) are rejected at
validation. The value space is counted, so unique regex columns are checked
against the row count and built by permutation, not by retries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.conformance import StoredColumn, ValueCheck, affixed_regex_offending
from synthbeam.rules.core.registry import Domain, Param, Rows, Rule, RuleContext, register_rule
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.core.types import STRING_TYPES
from synthbeam.rules.generators.regex.sampler import RegexUnsupported, compile_regex

LISTED_DOMAIN = 4096  # a pattern with at most this many values lists them, so conditions can be checked


@register_rule("regex")
class Regex(Rule):
    """Strings that fully match ``regex``."""

    output_type = "str"
    formatted = True
    regex_is_pattern = True
    example = ("str", {"type": "regex", "regex": "^[A-Z]{3}-[0-9]{6}$"})
    parameters = (
        Param(
            "regex",
            "pattern",
            "the pattern values are generated from (before prefix and suffix)",
            required=True,
            aliases=("pattern",),
            json_types=("string",),
        ),
    )

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        self.pattern = spec.get("regex", spec.get("pattern"))
        self.generator = None
        if not isinstance(self.pattern, str) or not self.pattern:
            ctx.error("regex rule needs a non-empty 'regex' pattern")
            return
        try:
            self.generator = compile_regex(self.pattern)
        except RegexUnsupported as exc:
            ctx.error(f"regex {self.pattern!r}: {exc}")

    def cardinality(self) -> int | None:
        return self.generator.cardinality() if self.generator else None

    def domain(self) -> Domain | None:
        count = self.cardinality()
        if count is None or count > LISTED_DOMAIN:
            return None
        return Domain(values=self.value_at(np.arange(count, dtype=np.uint64)))

    def value_at(self, ordinal: np.ndarray) -> pa.Array:
        return self.generator.value_at_arrow(ordinal)

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        return self.generator.generate_arrow(stream, rows.index)

    def describe(self) -> str:
        return f"regex /{self.pattern}/"

    has_value_check = True

    def value_check(self, column: StoredColumn) -> ValueCheck | str | None:
        """Values are prefix + a full match of the pattern + suffix (cut or padded ones excepted)."""
        if not self.pattern:
            return None
        if column.type not in STRING_TYPES:
            return f"regex (values are stored as {column.type}, not text)"
        generated = re.compile(self.pattern, re.DOTALL)
        shown = (
            f"values not of the form {column.prefix!r} + /{self.pattern}/ + {column.suffix!r}"
            if column.affixed
            else f"values not fully matching /{self.pattern}/"
        )
        offending = affixed_regex_offending(column.prefix, column.suffix, generated, column.exempt)
        return ValueCheck("regex", shown, offending)
