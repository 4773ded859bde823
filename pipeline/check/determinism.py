"""The determinism check: sample rows recomputed from the plan must equal the written rows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.conformance import examples as _examples
from synthbeam.rules.core.conformance import show
from synthbeam.rules.core.model import Plan, TablePlan
from synthbeam.rules.engine.batch import generate_batch

from .columns import mask
from .result import Breach

SAMPLE_ROWS = 100  # rows per table recomputed for the determinism check


class Determinism:
    """The first rows of a table, recomputed, found again in the output by primary key."""

    def __init__(self, table: TablePlan, key: str, compared: list[str], expected: list[dict[str, Any]]) -> None:
        self.table = table
        self.hint = ""
        self.key = key
        self.compared = compared
        self.expected = expected
        key_type = table.column(key).arrow_type
        self.wanted = pa.array([row[key] for row in expected], key_type)
        self.found: dict[Any, list[dict[str, Any]]] = {}

    @classmethod
    def create(
        cls, plan: Plan, table: TablePlan, transformed: set[str], unstable: set[str], skipped: list[str]
    ) -> Determinism | None:
        if table.rows == 0:
            return None
        if len(table.primary_key) != 1:
            skipped.append("determinism (no single-column primary key to find rows by)")
            return None
        key = table.primary_key[0]
        if key in transformed:
            skipped.append(f"determinism (primary key {key} is masked/encrypted)")
            return None
        try:
            batch = generate_batch(plan, table.name, 0, min(table.rows, SAMPLE_ROWS))
        except Exception as exc:  # a rule that cannot run here (e.g. missing cache) is not a breach
            skipped.append(f"determinism (recomputing rows failed: {type(exc).__name__}: {exc})")
            return None
        compared = [
            c.name for c in table.columns if c.name not in transformed and (c.name not in unstable or c.name == key)
        ]
        left_out = sorted(unstable - transformed - {key})
        if left_out:
            skipped.append(f"determinism of {', '.join(left_out)} (depends on a dedup pass's re-draws)")
        expected = batch.select(compared).to_pylist()
        if key in unstable:
            # Without the run's dedup result only rows whose key no earlier row drew keep it for sure.
            drawn: set[Any] = set()
            kept = []
            for row in expected:
                if row[key] not in drawn:
                    kept.append(row)
                drawn.add(row[key])
            expected = kept
        return cls(table, key, compared, expected)

    def consume(self, arrays: dict[str, pa.Array]) -> None:
        keys = arrays.get(self.key)
        if keys is None or not len(keys):
            return
        hit = mask(pc.is_in(keys, value_set=self.wanted))
        if not hit.any():
            return
        positions = pa.array(np.flatnonzero(hit))
        present = [name for name in self.compared if name in arrays]
        columns = {name: arrays[name].take(positions).to_pylist() for name in present}
        for i in range(len(positions)):
            row = {name: columns[name][i] for name in present}
            matches = self.found.setdefault(row[self.key], [])
            if len(matches) < 4:
                matches.append(row)

    def finish(self, hints: list[str]) -> list[Breach]:
        name = self.table.name
        missing: list[Any] = []
        differing: list[tuple[Any, dict[str, Any], dict[str, Any]]] = []
        for row in self.expected:
            candidates = self.found.get(row[self.key])
            if not candidates:
                missing.append(row[self.key])
                continue
            if not any(_same_row(row, candidate) for candidate in candidates):
                differing.append((row[self.key], row, candidates[0]))
        hint = f" ({'; '.join(hints)})" if hints else ""
        breaches = []
        total = len(self.expected)
        if missing:
            breaches.append(
                Breach(
                    f"{name}: determinism: {len(missing)} of {total} recomputed rows have no row with their "
                    f"{self.key} in the output, e.g. {self.key}={_examples(missing)}{hint}",
                    (self.key,),
                )
            )
        if differing:
            columns = sorted(
                {c for _, want, got in differing for c in want if c in got and not _same_value(want[c], got[c])}
            )
            key, want, got = differing[0]
            detail = "; ".join(
                f"{c} {show(got[c])} (expected {show(want[c])})"
                for c in want
                if c in got and not _same_value(want[c], got[c])
            )
            breaches.append(
                Breach(
                    f"{name}: determinism: {len(differing)} of {total} recomputed rows differ from the output "
                    f"in {', '.join(columns)}, e.g. {self.key}={show(key)}: {detail}{hint}",
                    tuple(columns),
                )
            )
        return breaches


def _same_value(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        return expected == actual or (math.isnan(expected) and math.isnan(actual))
    return expected == actual


def _same_row(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(_same_value(value, actual[name]) for name, value in expected.items() if name in actual)
