"""Vectorised evaluation of ``conditional_rules`` conditions over a block of rows.

A condition compares another column of the same row with a constant. A
comparison with a null value is false (except ``is_null``), as in SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.model import Condition
from synthbeam.rules.core.registry import Rows

OPERATORS: dict[str, Callable[[pa.Array, Any], pa.Array]] = {
    "==": pc.equal,
    "!=": pc.not_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    "in": lambda values, choices: pc.is_in(values, value_set=choices, skip_nulls=True),
    "not_in": lambda values, choices: pc.and_(
        pc.is_valid(values), pc.invert(pc.is_in(values, value_set=choices, skip_nulls=True))
    ),
    "is_null": lambda values, _: pc.is_null(values),
    "is_not_null": lambda values, _: pc.is_valid(values),
}
LIST_OPERATORS = frozenset({"in", "not_in"})
UNARY_OPERATORS = frozenset({"is_null", "is_not_null"})


def typed_operand(value: Any, operator: str, target: pa.DataType) -> Any:
    """The condition's constant in the compared column's type (raises on mismatch)."""
    if operator in UNARY_OPERATORS:
        return None
    if operator in LIST_OPERATORS:
        items = value if isinstance(value, (list, tuple)) else [value]
        return pa.array([_scalar(item, target).as_py() for item in items], target)
    return _scalar(value, target)


def _scalar(value: Any, target: pa.DataType) -> pa.Scalar:
    if pa.types.is_string(target):
        return pa.scalar(str(value), target)
    return pa.scalar(value).cast(target)


def evaluate_conditions(conditions: Sequence[Condition], rows: Rows) -> np.ndarray:
    """True where every condition holds."""
    holds = np.ones(len(rows), dtype=bool)
    for condition in conditions:
        values = rows.ref(condition.column)
        operand = typed_operand(condition.value, condition.operator, values.type)
        result = OPERATORS[condition.operator](values, operand)
        holds &= pc.fill_null(result, False).to_numpy(zero_copy_only=False)
    return holds
