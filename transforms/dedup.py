"""The dedup pass in Beam: keyed stages with bounded state, shared by every dedup column of a run.

Runs the algorithm of :mod:`synthbeam.rules.engine.dedup` (same per-value and per-row
steps, so ``preview`` and every runner agree) as shuffles, never gathering a
column, its losers or its replacements into one element:

* **Draw**: every chunk yields ``((column, value), row)`` for each dedup column
  of its table; **FirstDraws** groups by value: the lowest row keeps it, the
  others become losers (keyed by column and block of rows), and each value
  drawn becomes a *taken* marker for round 1;
* **Candidates**: the losers of one block are generated together, each loser
  becoming ``((column, row), candidates)``;
* each **Round** groups proposals by value with that round's taken markers
  (round 1: every value drawn; later rounds: the values accepted the round
  before, as earlier ones were already dropped from every list), decides each
  value (:func:`~synthbeam.rules.engine.dedup.resolve_value`), then groups the outcome
  by loser (:func:`~synthbeam.rules.engine.dedup.settle_row`);
* the accepted values are grouped by (column, block) into one
  :class:`~synthbeam.rules.core.model.Replacements` per block: the output,
  ``(("table.column", block), Replacements)``, which generation reads as a
  multimap side input, fetching only the blocks of the rows it makes.

Losers left after the last round fail the pipeline, per column with the count,
before any block is released to generation.

Columns are numbered, and the number is part of every key, so all columns of a
level (:func:`~synthbeam.rules.engine.dedup.dedup_levels`: columns whose values do not
depend on one another) share one set of stages; a column that reads another
dedup column waits for that column's level, whose blocks it reads like
generation does.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
from apache_beam import pvalue

from synthbeam.rules.core.model import Plan, Replacements
from synthbeam.rules.engine.dedup import (
    ROUNDS,
    Candidate,
    block_of,
    candidate_values,
    collision_error,
    dedup_columns,
    dedup_levels,
    loser_candidates,
    replacement_blocks,
    resolve_value,
    settle_row,
    to_replacements,
)

from .chunks import ChainedChunks, Chunk, reiterable
from .generate import EmitChunks, multimap_lookup
from .versions import launcher_versions, verify_worker

__all__ = ["DedupPlan"]

_LOSERS, _FAILED = "losers", "failed"


class _PlanStep(beam.DoFn):
    """A step that generates values: checks the worker's versions, sees earlier levels' replacements."""

    def __init__(self, plan: Plan, columns: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.plan = plan
        self.columns = list(columns)  # every dedup column of the plan; a key's number indexes it
        self.versions = launcher_versions()

    def setup(self) -> None:
        verify_worker(self.versions)

    def with_earlier(self, earlier: Any) -> Plan:
        self.plan.replacements = replacement_blocks(self.plan, multimap_lookup(earlier))
        return self.plan


class _Draw(_PlanStep):
    """Chunk -> ``((column, value), row)`` for every non-null first draw of the level's columns."""

    def __init__(self, plan: Plan, columns: Sequence[tuple[str, str]], level: Sequence[tuple[str, str]]) -> None:
        super().__init__(plan, columns)
        self.level = [self.columns.index(pair) for pair in level]

    def process(self, chunk: Chunk, earlier: Any) -> Iterator[tuple[tuple[int, Hashable], int]]:
        plan = self.with_earlier(earlier)
        index = np.arange(chunk.start, chunk.stop, dtype=np.uint64)
        for number in self.level:
            table, column = self.columns[number]
            if table != chunk.table:
                continue
            values = candidate_values(plan, table, column, index, 0).to_pylist()
            for row, value in zip(index.tolist(), values):
                if value is not None:
                    yield (number, value), row


def _first_draws(element: tuple[tuple[int, Hashable], Iterable[int]]) -> Iterator[Any]:
    """A value's rows: the lowest keeps it, the rest lose; the value is taken for round 1."""
    key, rows = element
    number = key[0]
    ordered = sorted(rows)
    for row in ordered[1:]:
        yield pvalue.TaggedOutput(_LOSERS, ((number, block_of(row)), row))
    yield key, None


class _Candidates(_PlanStep):
    """``((column, block), losers)`` -> ``((column, row), candidates)`` per loser."""

    def process(self, element: tuple[tuple[int, int], Iterable[int]], earlier: Any) -> Iterator[Any]:
        (number, _), losers = element
        table, column = self.columns[number]
        drawn = loser_candidates(self.with_earlier(earlier), table, column, list(losers))
        for row, candidates in drawn.items():
            yield (number, row), candidates


def _proposals(element: tuple[tuple[int, int], list[Candidate]]) -> Iterator[tuple[tuple[int, Hashable], Any]]:
    (number, row), candidates = element
    for attempt, value in candidates:
        yield (number, value), (row, attempt)


def _resolve(element: tuple[tuple[int, Hashable], Iterable[Any]]) -> Iterator[tuple[tuple[int, int], Any]]:
    """One value: taken -> dropped from every proposer; else its lowest proposer wins it."""
    (number, value), entries = element
    proposals: list[tuple[int, int]] = []
    taken = False
    for entry in entries:
        if entry is None:
            taken = True
        else:
            proposals.append(entry)
    winner = resolve_value(taken, proposals)
    if winner is not None:
        yield (number, winner[0]), ("won", winner[1], value)
    elif taken:
        for row, _ in proposals:
            yield (number, row), ("dropped", value)


def _settle(element: tuple[tuple[int, int], Iterable[Any]]) -> Iterator[Any]:
    """One loser: takes its lowest-attempt win, or goes on with what is left (fails with nothing left)."""
    key, entries = element
    candidates: list[Candidate] = []
    wins: list[Candidate] = []
    dropped: list[Hashable] = []
    for entry in entries:
        if entry[0] == "state":
            candidates = entry[1]
        elif entry[0] == "won":
            wins.append((entry[1], entry[2]))
        else:
            dropped.append(entry[1])
    value, rest = settle_row(candidates, wins, dropped)
    if value is not None:
        yield key, value
    elif rest:
        yield pvalue.TaggedOutput(_LOSERS, (key, rest))
    else:
        yield pvalue.TaggedOutput(_FAILED, key[0])


_CHECKED = (("", -1), None)  # a block no lookup asks for: generation waits for it, so for the check


@dataclass(frozen=True)
class _Column:
    """What the steps that do not generate need to know of a dedup column (not the whole plan)."""

    key: str  # "table.column"
    place: str
    rows: int
    arrow_type: pa.DataType


def _described(plan: Plan) -> list[_Column]:
    return [
        _Column(f"{table}.{column}", plan.table(table).column(column).place, plan.table(table).rows,
                plan.table(table).column(column).arrow_type)
        for table, column in dedup_columns(plan)
    ]


def _check(_: bytes, failed: Mapping[int, int], columns: Sequence[_Column]) -> Any:
    """Fail the run, naming the first column (in plan order) whose losers are left."""
    for number in sorted(failed):
        raise collision_error(columns[number].place, failed[number], columns[number].rows)
    return _CHECKED


def _to_block(
    element: tuple[tuple[int, int], Iterable[tuple[int, Hashable]]], columns: Sequence[_Column]
) -> tuple[tuple[str, int], Replacements]:
    (number, block), accepted = element
    column = columns[number]
    return (column.key, block), to_replacements(dict(accepted), column.arrow_type)


class _DedupLevel(beam.PTransform):
    """PBegin -> replacement blocks of one level's columns (see the module docstring)."""

    def __init__(self, plan: Plan, level: Sequence[tuple[str, str]], chunks: Iterable[Chunk], earlier: Any) -> None:
        super().__init__()
        self.plan, self.level, self.chunks, self.earlier = plan, list(level), chunks, earlier

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        plan, columns = self.plan, dedup_columns(self.plan)
        earlier = pvalue.AsMultiMap(self.earlier)
        first = (
            pbegin
            | "Once" >> beam.Impulse()
            | "Chunks" >> beam.ParDo(EmitChunks(self.chunks))
            | "Spread" >> beam.Reshuffle()
            | "Draw" >> beam.ParDo(_Draw(plan, columns, self.level), earlier)
            | "ByValue" >> beam.GroupByKey()
            | "FirstDraws" >> beam.FlatMap(_first_draws).with_outputs(_LOSERS, main="taken")
        )
        state = (
            first[_LOSERS]
            | "ByBlock" >> beam.GroupByKey()
            | "Candidates" >> beam.ParDo(_Candidates(plan, columns), earlier)
        )
        taken = first.taken
        accepted: list[beam.PCollection] = []
        failed: list[beam.PCollection] = []
        for number in range(1, ROUNDS + 1):
            proposals = state | f"Propose{number}" >> beam.FlatMap(_proposals)
            outcomes = (
                (taken, proposals)
                | f"Meet{number}" >> beam.Flatten()
                | f"ByCandidate{number}" >> beam.GroupByKey()
                | f"Resolve{number}" >> beam.FlatMap(_resolve)
            )
            marked = state | f"State{number}" >> beam.Map(lambda kv: (kv[0], ("state", kv[1])))
            settled = (
                (marked, outcomes)
                | f"Join{number}" >> beam.Flatten()
                | f"ByLoser{number}" >> beam.GroupByKey()
                | f"Settle{number}" >> beam.FlatMap(_settle).with_outputs(_LOSERS, _FAILED, main="accepted")
            )
            accepted.append(settled.accepted)
            failed.append(settled[_FAILED])
            state = settled[_LOSERS]
            taken = settled.accepted | f"Taken{number}" >> beam.Map(lambda kv: ((kv[0][0], kv[1]), None))
        failed.append(state | "Left" >> beam.Map(lambda kv: kv[0][0]))
        counts = (
            failed
            | "AllFailed" >> beam.Flatten()
            | "FailedPerColumn" >> beam.combiners.Count.PerElement()
        )
        checked = pbegin | "CheckOnce" >> beam.Impulse() | "Check" >> beam.Map(
            _check, pvalue.AsDict(counts), _described(plan)
        )
        blocks = (
            accepted
            | "Accepted" >> beam.Flatten()
            | "KeyByBlock" >> beam.Map(lambda kv: ((kv[0][0], block_of(kv[0][1])), (kv[0][1], kv[1])))
            | "Blocks" >> beam.GroupByKey()
            | "Replacements" >> beam.Map(_to_block, _described(plan))
        )
        return (blocks, checked) | "WithCheck" >> beam.Flatten()


class DedupPlan(beam.PTransform):
    """PBegin -> ``(("table.column", block), Replacements)`` for every dedup column of the plan.

    One set of stages per level of columns (:func:`~synthbeam.rules.engine.dedup.dedup_levels`),
    however many columns a level holds; each level sees the blocks of the levels before it.
    """

    def __init__(self, plan: Plan, chunks: Mapping[str, Iterable[Chunk]]) -> None:
        super().__init__()
        self.plan = plan
        self.chunks = chunks

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        settled = pbegin | "None" >> beam.Create([])
        for number, level in enumerate(dedup_levels(self.plan)):
            tables = list(dict.fromkeys(table for table, _ in level))
            chunks = ChainedChunks(tuple(reiterable(self.chunks.get(table, ())) for table in tables))
            blocks = pbegin | f"Level{number}" >> _DedupLevel(self.plan, level, chunks, settled)
            settled = (settled, blocks) | f"Settled{number}" >> beam.Flatten()
        return settled
