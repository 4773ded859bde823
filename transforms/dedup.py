"""The dedup pass in Beam: unique columns that cannot be enumerated, made unique at any scale.

Runs the rounds of :mod:`synthbeam.rules.dedup` (same candidates, same
resolution, so ``preview`` and every runner agree) without collecting the
column anywhere:

* round 0 keys every drawn value by itself and combines per value, keeping
  the lowest row index (:class:`LowestRowWins`); the other rows are losers;
* each later round draws the losers' candidates on one worker (losers are
  few), then re-generates the column chunk by chunk to find which candidates
  some row already drew (a scan against a small side input, not a shuffle),
  and settles the round with :func:`~synthbeam.rules.dedup.resolve_round`;
* the result, one :class:`~synthbeam.rules.model.Replacements` per column,
  is the only thing that travels on, as a side input of generation.

Rounds that have nothing left to settle cost nothing: the scan skips chunks
when the candidate set is empty. Losers left after the last round fail the
pipeline with the column's name and the count.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam import pvalue

from synthbeam.rules.dedup import (
    ROUNDS,
    candidate_values,
    collision_error,
    dedup_columns,
    resolve_round,
    round_candidates,
    to_replacements,
)
from synthbeam.rules.model import Plan, Replacements

from .chunks import Chunk, reiterable
from .generate import EmitChunks
from .versions import launcher_versions, verify_worker

__all__ = ["DedupColumn", "DedupPlan", "LowestRowWins"]


@dataclass
class RoundState:
    """Where a column's dedup stands between rounds (one element, small)."""

    pending: list[int]
    accepted: dict[int, Hashable] = field(default_factory=dict)


class LowestRowWins(beam.CombineFn):
    """Per value: the lowest row index keeps it; every other row holding it is a loser."""

    def create_accumulator(self) -> tuple[int, list[int]]:
        return (-1, [])

    def add_input(self, accumulator: tuple[int, list[int]], row: int) -> tuple[int, list[int]]:
        return self.merge_accumulators([accumulator, (row, [])])

    def merge_accumulators(self, accumulators: Iterable[tuple[int, list[int]]]) -> tuple[int, list[int]]:
        rows: list[int] = []
        for lowest, others in accumulators:
            if lowest >= 0:
                rows.append(lowest)
            rows.extend(others)
        if not rows:
            return (-1, [])
        lowest = min(rows)
        rows.remove(lowest)
        return (lowest, rows)

    def extract_output(self, accumulator: tuple[int, list[int]]) -> list[int]:
        return accumulator[1]


def _with(plan: Plan, replacements: Mapping[str, Replacements]) -> Plan:
    """The plan as workers see it: with the dedup results of columns settled earlier."""
    if replacements:
        plan.replacements = {**plan.replacements, **dict(replacements)}
    return plan


class _DrawnValues(beam.DoFn):
    """Chunk -> ``(value, row)`` for every non-null first draw of the column."""

    def __init__(self, plan: Plan, table: str, column: str) -> None:
        super().__init__()
        self.plan, self.table, self.column = plan, table, column
        self.versions = launcher_versions()

    def setup(self) -> None:
        verify_worker(self.versions)

    def process(self, chunk: Chunk, earlier: Mapping[str, Replacements]) -> Iterator[tuple[Any, int]]:
        plan = _with(self.plan, earlier)
        index = np.arange(chunk.start, chunk.stop, dtype=np.uint64)
        values = candidate_values(plan, self.table, self.column, index, 0).to_pylist()
        for row, value in zip(index.tolist(), values):
            if value is not None:
                yield value, row


class _BlockedValues(beam.DoFn):
    """Chunk -> the round's candidate values that some row of the chunk drew first."""

    def __init__(self, plan: Plan, table: str, column: str) -> None:
        super().__init__()
        self.plan, self.table, self.column = plan, table, column

    def process(
        self, chunk: Chunk, candidates: Mapping[int, Sequence[Hashable]], earlier: Mapping[str, Replacements]
    ) -> Iterator[Hashable]:
        wanted = {value for values in candidates.values() for value in values if value is not None}
        if not wanted:
            return
        plan = _with(self.plan, earlier)
        index = np.arange(chunk.start, chunk.stop, dtype=np.uint64)
        for value in candidate_values(plan, self.table, self.column, index, 0).to_pylist():
            if value in wanted:
                yield value


def _candidates(
    state: RoundState, plan: Plan, table: str, column: str, round_number: int, earlier: Mapping[str, Replacements]
) -> dict[int, list[Hashable]]:
    if not state.pending:
        return {}
    return round_candidates(_with(plan, earlier), table, column, state.pending, round_number)


def _settle(state: RoundState, candidates: Mapping[int, Sequence[Hashable]], blocked: Iterable[Hashable]) -> RoundState:
    if not state.pending:
        return state
    accepted, pending = resolve_round(candidates, set(blocked) | set(state.accepted.values()))
    return RoundState(pending, {**state.accepted, **accepted})


def _finish(state: RoundState, plan: Plan, table: str, column: str) -> tuple[str, Replacements]:
    column_plan = plan.table(table).column(column)
    if state.pending:
        raise collision_error(column_plan.place, len(state.pending), plan.table(table).rows)
    return f"{table}.{column}", to_replacements(state.accepted, column_plan.arrow_type)


class DedupColumn(beam.PTransform):
    """PBegin -> one ``("table.column", Replacements)`` element for one column."""

    def __init__(self, plan: Plan, table: str, column: str, chunks: Iterable[Chunk], earlier: pvalue.PCollection):
        super().__init__()
        self.plan, self.table, self.column = plan, table, column
        self.chunks = reiterable(chunks)
        self.earlier = earlier

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        plan, table, column = self.plan, self.table, self.column
        earlier = pvalue.AsDict(self.earlier)
        chunks = (
            pbegin
            | "Once" >> beam.Impulse()
            | "Chunks" >> beam.ParDo(EmitChunks(self.chunks))
            | "Spread" >> beam.Reshuffle()
        )
        losers = (
            chunks
            | "Draw" >> beam.ParDo(_DrawnValues(plan, table, column), earlier)
            | "LowestRowWins" >> beam.CombinePerKey(LowestRowWins())
            | "Losers" >> beam.FlatMap(lambda keyed: keyed[1])
            | "AllLosers" >> beam.combiners.ToList()
        )
        state = losers | "Round0" >> beam.Map(lambda rows: RoundState(sorted(rows)))
        for number in range(1, ROUNDS + 1):
            candidates = state | f"Candidates{number}" >> beam.Map(_candidates, plan, table, column, number, earlier)
            blocked = (
                chunks
                | f"Blocked{number}"
                >> beam.ParDo(_BlockedValues(plan, table, column), pvalue.AsSingleton(candidates), earlier)
                | f"AllBlocked{number}" >> beam.combiners.ToSet()
            )
            state = state | f"Settle{number}" >> beam.Map(
                _settle, pvalue.AsSingleton(candidates), pvalue.AsSingleton(blocked)
            )
        return state | "Finish" >> beam.Map(_finish, plan, table, column)


class DedupPlan(beam.PTransform):
    """PBegin -> ``("table.column", Replacements)`` for every column of the plan that needs a dedup pass.

    Columns are settled in table order, each seeing the results of the ones
    before it (a child's values may depend on a parent's deduplicated key).
    """

    def __init__(self, plan: Plan, chunks: Mapping[str, Iterable[Chunk]]) -> None:
        super().__init__()
        self.plan = plan
        self.chunks = chunks

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        settled = pbegin | "None" >> beam.Create([])
        for table, column in dedup_columns(self.plan):
            result = pbegin | f"Dedup[{table}.{column}]" >> DedupColumn(
                self.plan, table, column, self.chunks[table], settled
            )
            settled = (settled, result) | f"Settled[{table}.{column}]" >> beam.Flatten()
        return settled
