"""Conditions compare as SQL does: a null value satisfies nothing but ``is_null``."""

from __future__ import annotations

import pyarrow as pa
import pytest

from synthbeam.rules.engine.conditions import OPERATORS, typed_operand


@pytest.mark.parametrize(
    ("operator", "operand", "expected"),
    [
        ("==", 1, [True, False, False]),
        ("!=", 1, [False, False, True]),
        (">", 1, [False, False, True]),
        (">=", 1, [True, False, True]),
        ("<", 2, [True, False, False]),
        ("<=", 1, [True, False, False]),
        ("<=", 2, [True, False, True]),
        ("in", [1, 7], [True, False, False]),
        ("in", [1, None], [True, False, False]),
        ("not_in", [1], [False, False, True]),
        ("not_in", [1, None], [False, False, True]),
        ("is_null", None, [False, True, False]),
        ("is_not_null", None, [True, False, True]),
    ],
)
def test_null_values_satisfy_only_is_null(operator: str, operand: object, expected: list[bool]) -> None:
    values = pa.array([1, None, 2], pa.int64())
    result = OPERATORS[operator](values, typed_operand(operand, operator, values.type))
    assert result.fill_null(False).to_pylist() == expected
