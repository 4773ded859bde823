"""The column profile of a run (``OUT/_profile.json``): per-batch partials merged by a Beam ``CombineFn``.

Each generated batch (as written: masked, encrypted) becomes a small
:class:`TablePartial` on the worker that made it, then :class:`ProfileFn`
merges the partials of every table (Beam lifts the combine, so each worker
merges its own before the shuffle) into one JSON-ready profile.

What is exact and what is sampled, and why:

* **rows and nulls** are counted on every row (``null_count`` is free), so
  null shares are exact at any size.
* **min/max** of numbers, dates, times, timestamps and booleans are exact
  (``pyarrow.compute.min_max`` costs microseconds per batch); of strings they
  come from the sample, which at 50k rows per batch would otherwise cost more
  than generating some columns.
* **the sample**: rows whose index is a multiple of ``stride = ceil(rows /
  sample_rows)``, so the sample does not depend on chunking, workers or
  shards, and a table of at most ``sample_rows`` rows is profiled in full,
  exactly. Distinct counts, top values, histograms and string min/max come
  from it. When a table is sampled, the distinct count is estimated by the
  method of moments under a uniform-frequency model: the ``D`` for which a
  sample of ``n`` of ``N`` values would be expected to show the ``d`` distinct
  values seen (``d = D(1 - (1 - n/N)^(N/D))``), exact for all-distinct and
  saturated columns, and marked ``"distinct_exact": false``.
* **children per parent** of a foreign key: counted per parent value, for
  every parent when the parent table has at most ``sample_parents`` rows,
  otherwise for the parents whose key hashes (Fibonacci hashing) into a ``1/stride`` slice (whole
  families, so the counts are true counts), with the childless parents of
  the slice estimated.

Hashing every string of a run (what an exact or HyperLogLog distinct count
needs) cost about half of the generation time of the bench's customers
table; the sample keeps the profile near 5% of a run (docs/report.md).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.model import ColumnPlan, Plan

__all__ = ["PROFILE", "ProfileFn", "ProfileSettings", "TablePartial", "finish_profile", "profile_batch"]

PROFILE = "profile"  # tag of the per-chunk profile partials
PROFILE_VERSION = 1
TOP_VALUES = 10
HISTOGRAM_BINS = 20
LOW_CARDINALITY = 20  # at most this many distinct values: show them all, not a histogram


# Samples live long (the whole run) while batches come and go: kept in malloc's memory and in a few
# large arrays rather than thousands of small ones in Arrow's pool, where they pinned the pages of
# freed batches (+100 MB peak RSS at 5M rows) and made every accumulator slow to encode.
_POOL = pa.system_memory_pool()
COMPACT_EVERY = 16


@dataclass(frozen=True)
class ProfileSettings:
    sample_rows: int = 16_384  # tables of at most this many rows are profiled in full
    sample_parents: int = 16_384  # parents whose children are counted, per foreign key


@dataclass
class ColumnPartial:
    """What a column's rows seen so far say: exact counts, exact numeric bounds, the sampled values."""

    nulls: int = 0
    minimum: Any = None
    maximum: Any = None
    sample: list[pa.Array] = field(default_factory=list)
    children: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # FK: (parent value, count)

    def merge(self, other: ColumnPartial) -> None:
        self.nulls += other.nulls
        self.minimum = _pick(min, self.minimum, other.minimum)
        self.maximum = _pick(max, self.maximum, other.maximum)
        self.sample.extend(other.sample)
        self.children.extend(other.children)
        if len(self.sample) >= COMPACT_EVERY:
            self.sample = [pa.concat_arrays(self.sample, memory_pool=_POOL)]
        if len(self.children) >= COMPACT_EVERY:
            values = np.concatenate([v for v, _ in self.children])
            self.children = [(values, np.concatenate([c for _, c in self.children]))]


def _pick(choose: Any, a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else choose(a, b)


@dataclass
class TablePartial:
    table: str
    rows: int = 0
    sampled_rows: int = 0
    columns: dict[str, ColumnPartial] = field(default_factory=dict)

    def merge(self, other: TablePartial) -> None:
        self.rows += other.rows
        self.sampled_rows += other.sampled_rows
        for name, column in other.columns.items():
            # Merged into a column of our own: Beam forbids changing an input, and ``other`` may be one.
            self.columns.setdefault(name, ColumnPartial()).merge(column)


def stride(rows: int, sample: int) -> int:
    return max(1, math.ceil(rows / max(1, sample)))


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
def _exact_bounds(array: pa.Array) -> bool:
    kind = array.type
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_temporal(kind)
    )


def _children(values: pa.Array, parent_rows: int, settings: ProfileSettings) -> tuple[np.ndarray, np.ndarray] | None:
    """(parent value, children) of this batch, for every parent or the hashed slice of them."""
    present = values.drop_null()
    step = stride(parent_rows, settings.sample_parents)
    if step > 1:
        if not pa.types.is_integer(present.type):
            return None  # a string key at scale: no cheap slice of parents (the report says so)
        keys = present.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        with np.errstate(over="ignore"):  # Fibonacci hashing: multiply, keep high bits
            slot = (keys.view(np.uint64) * _GOLDEN) >> np.uint64(40)
        present = pa.array(keys[slot % np.uint64(step) == 0], memory_pool=_POOL)
    counted = pc.value_counts(present, memory_pool=_POOL)
    return (
        np.array(counted.field("values").to_numpy(zero_copy_only=False)),
        np.array(counted.field("counts").to_numpy(zero_copy_only=False), dtype=np.int64),
    )


def profile_batch(
    plan: Plan, table: str, start: int, batch: pa.RecordBatch, settings: ProfileSettings = ProfileSettings()
) -> TablePartial:
    """The partial profile of rows ``[start, start + len(batch))`` of ``table``, as written."""
    table_plan = plan.table(table)
    step = stride(table_plan.rows, settings.sample_rows)
    first = (-start) % step
    picked = np.arange(first, batch.num_rows, step) if step > 1 else None
    partial = TablePartial(table, rows=batch.num_rows, sampled_rows=batch.num_rows if picked is None else len(picked))
    by_name = {column.name: column for column in table_plan.columns}
    sampled = batch if picked is None else pc.take(batch, pa.array(picked), memory_pool=_POOL)
    for name in batch.schema.names:
        array = batch.column(name)
        sample = sampled.column(name)
        column = ColumnPartial(nulls=array.null_count, sample=[sample])
        bounds = pc.min_max(array if _exact_bounds(array) or picked is None else sample)
        column.minimum, column.maximum = bounds["min"].as_py(), bounds["max"].as_py()
        fk = by_name[name].foreign_key if name in by_name else None
        if fk is not None and fk.parent_table in plan.tables:
            counted = _children(array, plan.table(fk.parent_table).rows, settings)
            if counted is not None:
                column.children.append(counted)
        partial.columns[name] = column
    return partial


class ProfileFn(beam.CombineFn):
    """``TablePartial`` elements -> the ``_profile.json`` document (:func:`finish_profile` of the merged partials)."""

    def __init__(self, plan: Plan, settings: ProfileSettings = ProfileSettings()) -> None:
        super().__init__()
        self.plan = plan
        self.settings = settings

    def create_accumulator(self) -> dict[str, TablePartial]:
        return {}

    def add_input(self, accumulator: dict[str, TablePartial], partial: TablePartial) -> dict[str, TablePartial]:
        accumulator.setdefault(partial.table, TablePartial(partial.table)).merge(partial)
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[dict[str, TablePartial]]) -> dict[str, TablePartial]:
        merged: dict[str, TablePartial] = {}
        for accumulator in accumulators:
            for partial in accumulator.values():
                self.add_input(merged, partial)
        return merged

    def extract_output(self, accumulator: dict[str, TablePartial]) -> dict[str, Any]:
        return finish_profile(self.plan, accumulator, self.settings)


# --- the finished profile ---------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def estimate_distinct(seen: int, sampled: int, total: int) -> int:
    """Distinct values among ``total`` given ``seen`` distinct in a sample of ``sampled`` (uniform model)."""
    if sampled >= total or seen == 0:
        return seen
    if seen >= sampled:
        return total
    fraction = sampled / total

    def expected(distinct: float) -> float:
        return distinct * (1.0 - (1.0 - fraction) ** (total / distinct))

    low, high = float(seen), float(total)
    for _ in range(100):
        middle = (low + high) / 2
        if expected(middle) < seen:
            low = middle
        else:
            high = middle
    return round((low + high) / 2)


def _numeric(values: pa.Array) -> np.ndarray | None:
    """Sample values as float64 for a histogram (dates as days, times and timestamps as microseconds)."""
    kind = values.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return values.to_numpy(zero_copy_only=False).astype(np.float64)
    if pa.types.is_date32(kind):
        return values.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.float64)
    if pa.types.is_timestamp(kind) or pa.types.is_time64(kind):
        return values.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
    return None


def _edge_label(value: float, kind: pa.DataType) -> Any:
    if pa.types.is_date32(kind):
        return (dt.date(1970, 1, 1) + dt.timedelta(days=math.floor(value))).isoformat()
    if pa.types.is_timestamp(kind):
        return (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=round(value))).isoformat(sep=" ")
    if pa.types.is_time64(kind):
        return (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=round(value))).time().isoformat()
    if pa.types.is_integer(kind):
        return round(value)
    return round(value, 6)


def _children_distribution(
    column: ColumnPartial, parent_rows: int, settings: ProfileSettings
) -> dict[str, Any] | None:
    if not column.children:
        return None
    values = np.concatenate([v for v, _ in column.children])
    counts = np.concatenate([c for _, c in column.children])
    if values.dtype == object:
        keys, inverse = np.unique(values.astype(str), return_inverse=True)
    else:
        keys, inverse = np.unique(values, return_inverse=True)
    per_parent = np.bincount(inverse, weights=counts).astype(np.int64) if len(keys) else np.zeros(0, np.int64)
    step = stride(parent_rows, settings.sample_parents)
    parents = parent_rows if step == 1 else max(len(keys), round(parent_rows / step))
    childless = parents - len(keys)
    children, parents_with = np.unique(per_parent, return_counts=True)
    histogram = ([[0, int(childless)]] if childless > 0 else []) + [
        [int(c), int(p)] for c, p in zip(children, parents_with)
    ]
    total_children = int(per_parent.sum())
    return {
        "parents": parent_rows,
        "parents_counted": int(parents),  # all of them, or the hashed slice
        "parents_with_children": round(len(keys) * parent_rows / parents) if parents else 0,
        "exact": step == 1,
        "childless": int(childless),
        "mean": round(total_children / parents, 4) if parents else 0.0,
        "min": 0 if childless > 0 else int(per_parent.min(initial=0)),
        "max": int(per_parent.max(initial=0)),
        "histogram": histogram,  # [children, parents with that many]
    }


def _column_profile(
    plan: Plan, column_plan: ColumnPlan | None, partial: ColumnPartial, rows: int, sampled_rows: int,
    settings: ProfileSettings,
) -> dict[str, Any]:
    sample = pa.concat_arrays([s.cast(partial.sample[0].type) for s in partial.sample]) if partial.sample else None
    present = sample.drop_null() if sample is not None else pa.array([])
    non_null = rows - partial.nulls
    counted = pc.value_counts(present) if len(present) else None
    seen = len(counted) if counted is not None else 0
    exact = sampled_rows >= rows
    entry: dict[str, Any] = {
        "type": str(sample.type) if sample is not None else None,
        "rows": rows,
        "nulls": partial.nulls,
        "null_share": round(partial.nulls / rows, 6) if rows else 0.0,
        "distinct": estimate_distinct(seen, len(present), non_null) if not exact else seen,
        "distinct_exact": exact,
        "min": _json_value(partial.minimum),
        "max": _json_value(partial.maximum),
        "sampled_rows": sampled_rows,
    }
    if counted is not None:
        order = np.argsort(-counted.field("counts").to_numpy(zero_copy_only=False), kind="stable")
        values = counted.field("values").take(pa.array(order[:TOP_VALUES])).to_pylist()
        counts = counted.field("counts").take(pa.array(order[:TOP_VALUES])).to_pylist()
        numeric = _numeric(present)
        if seen <= LOW_CARDINALITY or numeric is None:
            share = len(present) + (sampled_rows - len(present))  # shares of all sampled rows, nulls included
            entry["top"] = [
                {"value": _json_value(v), "count": int(c), "share": round(c / share, 6)} for v, c in zip(values, counts)
            ]
            entry["top_is_all"] = seen <= TOP_VALUES
        else:
            counts_per_bin, edges = np.histogram(numeric, bins=HISTOGRAM_BINS)
            entry["histogram"] = {
                "edges": [_edge_label(e, present.type) for e in edges],
                "counts": [int(c) for c in counts_per_bin],
            }
            quantiles = np.quantile(numeric, [0.25, 0.5, 0.75])
            entry["quartiles"] = [_edge_label(q, present.type) for q in quantiles]
    fk = column_plan.foreign_key if column_plan is not None else None
    if fk is not None and fk.parent_table in plan.tables:
        entry["foreign_key"] = f"{fk.parent_table}.{fk.parent_column}"
        distribution = _children_distribution(partial, plan.table(fk.parent_table).rows, settings)
        if distribution is not None:
            entry["children_per_parent"] = distribution
            if not exact:  # parents with children, from whole families: skew does not fool it as it fools a row sample
                entry["distinct"] = distribution["parents_with_children"]
    return entry


def finish_profile(
    plan: Plan, partials: Mapping[str, TablePartial], settings: ProfileSettings = ProfileSettings()
) -> dict[str, Any]:
    """The ``_profile.json`` document: every table of the plan, in generation order."""
    tables: dict[str, Any] = {}
    for name, table_plan in plan.tables.items():
        partial = partials.get(name) or TablePartial(name)
        columns = {}
        for column_plan in table_plan.columns:
            column = partial.columns.get(column_plan.name) or ColumnPartial()
            columns[column_plan.name] = _column_profile(
                plan, column_plan, column, partial.rows, partial.sampled_rows, settings
            )
        tables[name] = {"rows": partial.rows, "sampled_rows": partial.sampled_rows, "columns": columns}
    return {
        "profile_version": PROFILE_VERSION,
        "sample_rows": settings.sample_rows,
        "sample_parents": settings.sample_parents,
        "tables": tables,
    }
