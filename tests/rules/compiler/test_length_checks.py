"""A length cut that breaks formatted values warns, and on a unique column is refused (issue 14, item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.core.errors import ConfigError
from synthbeam.rules.engine.batch import generate_batch
from tests.conftest import one_table

FIXTURES = Path(__file__).parents[1] / "fixtures" / "silent"


def compiled(write_config, columns: list[dict], rows: int = 200) -> tuple[list[str], list[str], object]:
    """(warnings, errors, plan or None)."""
    try:
        plan, issues = build_plan(str(write_config({**one_table(columns, rows=rows), "as_of": "2026-01-01"})))
    except ConfigError as exc:
        return [], [str(issue) for issue in exc.issues], None
    return [str(w) for w in issues.warnings], [], plan


def test_a_unique_email_cut_short_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        build_plan(str(FIXTURES / "email_len.json"))
    (error,) = [str(issue) for issue in caught.value.issues]
    assert error.startswith("users.columns[4] (email): is unique, but length 10 cuts ")
    assert "breaks their format" in error and "set length to at least " in error


@pytest.mark.parametrize(
    ("rule", "length", "example"),
    [
        ("email", 10, "@"),
        ("uuid", 8, "-"),
        ({"type": "regex", "regex": "^INV-[0-9]{8}$"}, 6, "INV-"),
        ({"type": "first_name", "regex": "^[A-Z][a-z]+$"}, 2, ""),  # a regex check: cut values may fail it
        ("phone_number", 5, ""),
    ],
)
def test_cutting_formatted_values_warns_with_an_example(write_config, rule, length, example) -> None:
    warnings, errors, plan = compiled(write_config, [{"name": "c", "type": "str", "rule": rule, "length": length}])
    assert errors == []
    (warning,) = warnings
    assert warning.startswith(f"t.columns[0] (c): length {length} cuts ")
    assert "breaks their format" in warning and example in warning
    values = generate_batch(plan, "t", 0, 50).column("c").to_pylist()  # the rows are still what the warning says
    assert all(len(v) <= length for v in values if v is not None)


@pytest.mark.parametrize(
    ("rule", "length"),
    [
        ("email", 64),  # long enough: nothing is cut
        ("company", 5),  # free text: a cut is what the user asked for
        ({"type": "choice", "value": ["alpha", "beta"]}, 3),
    ],
)
def test_cuts_that_break_no_format_say_nothing(write_config, rule, length) -> None:
    warnings, errors, _ = compiled(write_config, [{"name": "c", "type": "str", "rule": rule, "length": length}])
    assert errors == [] and warnings == []
