"""Which parent row holds a given key value, in time that does not grow with the parent table.

A weighted foreign key names parent *values* (``{"FR": 5, "DE": 3}``) and
draws parent *row indices*, so it needs the row of each named value. Scanning
the parent column finds them, but a value that is no parent makes the scan
read the whole column: 2.37 s at 40 million parents, about 10 minutes at 10^10,
in the launcher and again in every worker process (issue 15).

Weighted foreign keys need a PK or unique parent column, and most such columns
can be inverted:

* a sequence key (``1..N``): value ``v`` is row ``v - 1``;
* a permutation key (a unique rule with an enumerable value space, put through
  the keyed Feistel permutation of ``rules/relations/keys.py``) whose rule can turn a
  value back into its ordinal (``Rule.ordinal_of``): the inverse permutation
  gives the row.

Every row found this way is confirmed by computing the parent's value there.
Other parent columns (a dedup'd Faker value, a UUID) are scanned only over
their first :data:`SCAN_ROWS` rows: a named value beyond them is treated as
unlisted, and ``validate`` says so.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.model import ColumnPlan, Plan, TablePlan
from synthbeam.rules.core.seeding import mix64
from synthbeam.rules.relations.keys import _ROUNDS, KEY_SPACE_LIMIT, ColumnSource, _half_bits, column_stream

__all__ = ["SCAN_ROWS", "invertible", "locate_values"]

# Rows of a non-invertible parent column searched for weighted values: a constant cost (~0.1 s).
SCAN_ROWS = 1 << 20
_SCAN_BLOCK = 1 << 18


def invertible(column: ColumnPlan) -> bool:
    """Whether a parent value's row is computed (not searched) for ``column``."""
    if column.key_strategy == "sequence":
        return True
    rule = column.rule
    return column.key_strategy == "permutation" and rule is not None and rule.invertible()


def locate_values(
    plan: Plan, parent: TablePlan, column: ColumnPlan, wanted: Iterable[str], generate_columns: ColumnSource
) -> dict[str, int]:
    """``{value text: parent row index}`` for the ``wanted`` texts that are values of ``column``.

    Values not found are left out. For a column that is not :func:`invertible`,
    only the first :data:`SCAN_ROWS` rows are searched.
    """
    wanted = list(dict.fromkeys(str(text) for text in wanted))
    if invertible(column):
        candidates = _inverted(plan, parent, column, wanted)
        return _confirmed(plan, parent, column, candidates, generate_columns)
    return _scanned(plan, parent, column, wanted, min(parent.rows, SCAN_ROWS), generate_columns)


def _inverted(plan: Plan, parent: TablePlan, column: ColumnPlan, wanted: list[str]) -> dict[str, int]:
    """Candidate rows from the key's inverse (confirmed by the caller)."""
    found: dict[str, int] = {}
    if column.key_strategy == "sequence":
        for text in wanted:
            number = _integer(text)
            if number is not None and 1 <= number <= parent.rows:
                found[text] = number - 1
        return found
    space = min(column.rule.cardinality(), KEY_SPACE_LIMIT)
    stream = column_stream(plan, parent.name, column.name).child("key")
    for text in wanted:
        ordinal = column.rule.ordinal_of(text)
        if ordinal is None or not 0 <= ordinal < space:
            continue
        row = _inverse_permutation(stream, ordinal, space)
        if row < parent.rows:
            found[text] = row
    return found


def _integer(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _inverse_feistel(value: int, round_keys: list[int], half_bits: int) -> int:
    mask = (1 << half_bits) - 1
    left, right = (value >> half_bits) & mask, value & mask
    for key in reversed(round_keys):
        # forward: (L, R) -> (R, L ^ f(R ^ k)); so the previous R is this L, the previous L is R ^ f(L ^ k)
        mixed = int(mix64(np.array([left ^ key], dtype=np.uint64))[0]) & mask
        left, right = right ^ mixed, left
    return (left << half_bits) | right


def _inverse_permutation(stream, ordinal: int, space: int) -> int:
    """The row index ``unique_ordinals(stream, ., space)`` maps to ``ordinal`` (cycle walking undone)."""
    if space <= 1:
        return 0
    half_bits = _half_bits(space)
    round_keys = [stream.child("feistel", number).key for number in range(_ROUNDS)]
    row = _inverse_feistel(ordinal, round_keys, half_bits)
    while row >= space:
        row = _inverse_feistel(row, round_keys, half_bits)
    return row


def _texts(
    plan: Plan, parent: TablePlan, column: ColumnPlan, rows: np.ndarray, generate_columns: ColumnSource
) -> np.ndarray:
    values = generate_columns(plan, parent.name, rows.astype(np.uint64), [column.name])[column.name]
    return values.cast(pa.string()).to_numpy(zero_copy_only=False)


def _confirmed(
    plan: Plan, parent: TablePlan, column: ColumnPlan, candidates: dict[str, int], generate_columns: ColumnSource
) -> dict[str, int]:
    """The candidates whose row really holds the value (a cast or a cut could make it differ)."""
    if not candidates:
        return {}
    texts = _texts(plan, parent, column, np.array(list(candidates.values()), dtype=np.int64), generate_columns)
    return {text: row for (text, row), actual in zip(candidates.items(), texts) if actual == text}


def _scanned(
    plan: Plan, parent: TablePlan, column: ColumnPlan, wanted: list[str], rows: int, generate_columns: ColumnSource
) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, rows, _SCAN_BLOCK):
        stop = min(rows, start + _SCAN_BLOCK)
        texts = _texts(plan, parent, column, np.arange(start, stop, dtype=np.int64), generate_columns)
        for position in np.flatnonzero(np.isin(texts, wanted)):
            found.setdefault(str(texts[position]), start + int(position))
        if len(found) == len(wanted):
            break
    return found
