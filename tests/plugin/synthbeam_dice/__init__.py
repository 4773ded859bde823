"""An example rule plugin: ``{"type": "dice", "count": 2, "sides": 6}``, the sum of rolled dice.

Pure: every value is a function of (column stream, row index), so any block of rows, on any
worker, gets the same values. Registered through the ``synthbeam.rules`` entry point group
(see pyproject.toml); synthbeam imports this module on its first rule lookup in a process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from synthbeam.rules.core import (  # the names a rule class needs: they stay here when modules move
    Domain,
    Param,
    Rows,
    Rule,
    RuleContext,
    StoredColumn,
    Stream,
    ValueCheck,
    bounds_offending,
    read_number,
    register_rule,
)


@register_rule("dice")
class Dice(Rule):
    """The sum of ``count`` dice with ``sides`` sides each."""

    output_type = "int"
    parameters = (
        Param("count", "whole number from 1 to 100", "dice rolled per row", "1", json_types=("integer",)),
        Param("sides", "whole number from 2 to 1000", "sides of each die", "6", json_types=("integer",)),
    )
    example = ("int", {"type": "dice", "count": 2, "sides": 6})
    has_value_check = True

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        self.count = int(read_number(spec, "count", ctx, 1, low=1, high=100, integer=True))
        self.sides = int(read_number(spec, "sides", ctx, 6, low=2, high=1000, integer=True))

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        total = np.zeros(len(rows), dtype=np.int64)
        for die in range(self.count):
            total += stream.child("die", die).integers(rows.index, 1, self.sides)
        return pa.array(total, pa.int64())

    def cardinality(self) -> int | None:
        return self.count * (self.sides - 1) + 1

    def domain(self) -> Domain | None:
        return Domain(low=self.count, high=self.count * self.sides)

    def value_check(self, column: StoredColumn) -> ValueCheck | str | None:
        if column.affixed or column.type not in ("int", "float"):
            return f"dice (values are stored as {column.type})"
        low, high = pa.scalar(self.count, pa.int64()), pa.scalar(self.count * self.sides, pa.int64())
        return ValueCheck(
            "dice", f"values outside [{self.count}, {self.count * self.sides}]", bounds_offending(low, high)
        )

    def describe(self) -> str:
        return f"dice {self.count}d{self.sides}"
