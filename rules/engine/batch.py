"""Generate any rows of any table: the one entry point of the rule engine.

``generate_batch(plan, table, start, stop)`` returns rows ``[start, stop)`` as a
``pyarrow.RecordBatch``. Values are pure functions of (seed, table, column,
row index): the same rows come out whether they are produced in one call or
many, in any order, on any worker. ``generate_columns`` does the same for an
arbitrary array of row indices and a subset of columns, which is how a child
table computes its parent's key (or any parent column) for the parent rows
it points at, without the parent table ever being collected.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.errors import GenerationError
from synthbeam.rules.core.model import ColumnPlan, Plan, TablePlan
from synthbeam.rules.core.registry import Rows
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.core.values import apply_lengths, coerce
from synthbeam.rules.engine.conditions import evaluate_conditions
from synthbeam.rules.relations import foreign_keys as relations
from synthbeam.rules.relations.keys import KEY_SPACE_LIMIT, column_stream, group_ordinal, unique_ordinals

__all__ = ["generate_batch", "generate_batch_counted", "generate_columns"]


def generate_batch(plan: Plan, table: str, start: int, stop: int) -> pa.RecordBatch:
    """Rows ``[start, stop)`` of ``table`` with the table's Arrow schema."""
    return generate_batch_counted(plan, table, start, stop)[0]


def generate_batch_counted(plan: Plan, table: str, start: int, stop: int) -> tuple[pa.RecordBatch, dict[str, int]]:
    """Like ``generate_batch``, plus counts of reportable events (``column:event`` -> n)."""
    table_plan = plan.table(table)
    index = np.arange(start, stop, dtype=np.uint64)
    counters: dict[str, int] = {}
    values = generate_columns(plan, table, index, counters=counters)
    for column in table_plan.columns:
        nulls = values[column.name].null_count if column.not_null else 0
        if nulls:  # Parquet would refuse the batch, but Avro and CSV would write 0 or '' in its place
            raise GenerationError(f"{column.place}: {nulls} null values in a PK/not_null column")
    batch = pa.RecordBatch.from_arrays([values[c.name] for c in table_plan.columns], schema=table_plan.schema)
    return batch, counters


def generate_columns(
    plan: Plan,
    table: str,
    index: np.ndarray,
    wanted: Iterable[str] | None = None,
    counters: dict[str, int] | None = None,
    attempts: dict[str, int] | None = None,
) -> dict[str, pa.Array]:
    """Values of ``wanted`` columns (default: all) for the rows at ``index``.

    Only the wanted columns and the columns they depend on are computed.
    ``counters`` (if given) receives counts of reportable events by column.
    ``attempts`` maps a column to a retry number: its values then come from a
    fresh, attempt-numbered stream (how the dedup pass re-draws collisions).
    """
    counters = counters if counters is not None else {}
    table_plan = plan.table(table)
    needed = _dependency_closure(table_plan, wanted)
    computed: dict[str, pa.Array] = {}

    def lookup(name: str, row_index: np.ndarray) -> pa.Array:
        if name not in computed:
            if "." not in name:
                raise KeyError(f"{table}.{name} referenced before it was generated")
            computed[name] = relations.parent_column(plan, table_plan, name, row_index, generate_columns)
        return computed[name]

    rows = Rows(index, lookup, counters)
    for name in table_plan.order:
        if name in needed:
            attempt = (attempts or {}).get(name, 0)
            computed[name] = _column_values(plan, table_plan, table_plan.column(name), rows, attempt)
    return {name: computed[name] for name in (wanted or [c.name for c in table_plan.columns])}


def _dependency_closure(table_plan: TablePlan, wanted: Iterable[str] | None) -> set[str]:
    if wanted is None:
        return {c.name for c in table_plan.columns}
    needed: set[str] = set()
    pending = list(wanted)
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        pending.extend(ref for ref in column_dependencies(table_plan.column(name)) if "." not in ref)
    return needed


def column_dependencies(column: ColumnPlan) -> set[str]:
    """Columns this column reads: rule references and condition columns."""
    refs: set[str] = set()
    if column.rule is not None:
        refs |= column.rule.references()
    for branch in column.branches:
        refs |= {cond.column for cond in branch.conditions}
        if branch.rule is not None:
            refs |= branch.rule.references()
    return refs


def _column_values(plan: Plan, table: TablePlan, column: ColumnPlan, rows: Rows, attempt: int = 0) -> pa.Array:
    """The column's values for ``rows``; rows drawn null get no value drawn at all.

    Values are a function of each row's index alone, so drawing them only for
    the non-null rows gives the same values as drawing for all and blanking
    some, at a fraction of the cost for mostly-null columns.
    """
    stream = column_stream(plan, table.name, column.name)
    if attempt:
        stream = stream.child("attempt", attempt)
    if column.null_probability > 0 and not column.not_null:
        is_null = stream.child("null").bernoulli(rows.index, column.null_probability)
        if is_null.any():
            present = np.flatnonzero(~is_null)
            values = _present_values(plan, table, column, rows.take(present), stream)
            slots = np.full(len(rows), 0, dtype=np.int64)
            slots[present] = np.arange(len(present))
            return values.take(pa.array(slots, mask=is_null))
    return _present_values(plan, table, column, rows, stream)


def _present_values(plan: Plan, table: TablePlan, column: ColumnPlan, rows: Rows, stream: Stream) -> pa.Array:
    if column.key_strategy == "group" and column.foreign_key is None:
        values = column.rule.value_at(group_ordinal(plan, table.name, column, rows.index))
    elif column.foreign_key is not None:
        values = relations.foreign_key_values(plan, table, column, rows, generate_columns)
    elif column.key_strategy == "sequence":
        values = pa.array(rows.index.astype(np.int64) + 1, pa.int64())
    elif column.key_strategy == "permutation":
        made = column.rule.unique_values(table.rows)
        if made is not None:
            values = made.value_at(unique_ordinals(stream.child("key"), rows.index, made.space))
        else:
            space = min(column.rule.cardinality(), KEY_SPACE_LIMIT)
            values = column.rule.value_at(unique_ordinals(stream.child("key"), rows.index, space))
    elif column.branches:
        values = _conditional_values(column, rows, stream)
    elif column.rule is None:
        values = pa.nulls(len(rows), column.arrow_type)
    elif column.key_strategy == "dedup" and hasattr(column.rule, "per_row"):
        values = column.rule.per_row(rows, stream.child("value"))
    else:
        values = column.rule.generate(rows, stream.child("value"))
    values = coerce(values, column.type, column.place)
    values = apply_lengths(values, column, stream.child("length"), rows.index)
    replaced = plan.replacements.get(f"{table.name}.{column.name}")
    if replaced is not None:
        values = replaced.apply(rows.index, values)
        rows.count(f"{column.name}:dedup_replaced", replaced.count_in(rows.index))
    return values


def _conditional_values(column: ColumnPlan, rows: Rows, stream: Stream) -> pa.Array:
    """First branch whose conditions hold picks the rule; otherwise the column's rule."""
    undecided = np.ones(len(rows), dtype=bool)
    pieces: list[tuple[np.ndarray, pa.Array]] = []
    for number, branch in enumerate(column.branches):
        holds = evaluate_conditions(branch.conditions, rows) & undecided
        undecided &= ~holds
        positions = np.flatnonzero(holds)
        if len(positions):
            pieces.append((positions, _rule_values(branch.rule, rows, positions, stream.child("when", number), column)))
    positions = np.flatnonzero(undecided)
    if len(positions):
        pieces.append((positions, _rule_values(column.rule, rows, positions, stream.child("value"), column)))
    order = np.concatenate([p for p, _ in pieces]) if pieces else np.empty(0, dtype=np.int64)
    merged = pa.concat_arrays([v for _, v in pieces]) if pieces else pa.nulls(0, column.arrow_type)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return merged.take(pa.array(inverse))


def _rule_values(rule, rows: Rows, positions: np.ndarray, stream: Stream, column: ColumnPlan) -> pa.Array:
    if rule is None:
        return pa.nulls(len(positions), column.arrow_type)
    return coerce(rule.generate(rows.take(positions), stream), column.type, column.place)
