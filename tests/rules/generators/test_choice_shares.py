"""validate shows every choice's share when probabilities list only some (issue 14, item 9)."""

from __future__ import annotations

from pathlib import Path

from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.engine.batch import generate_batch
from tests.conftest import one_table

C02 = Path(__file__).parents[1] / "fixtures" / "silent" / "c02_dict.json"


def test_unlisted_choices_get_their_share_said() -> None:
    plan, issues = build_plan(str(C02))
    assert [str(w) for w in issues.warnings] == [
        "t.columns[1] (chp): probabilities name 1 of 3 choices, so the other 2 share what is left equally "
        '(not weight 1 each, as in the older generator): "a" 50%, "b" 25%, "c" 25%'
    ]
    values = generate_batch(plan, "t", 0, 2000).column("chp").to_pylist()
    for choice, share in (("a", 0.5), ("b", 0.25), ("c", 0.25)):  # the rows hold what the warning says
        assert abs(values.count(choice) / len(values) - share) < 0.04


def test_long_choice_lists_show_the_first_shares(write_config) -> None:
    choices = [f"v{i}" for i in range(20)]
    rule = {"type": "choice", "value": choices, "probabilities": {"v0": 0.62}}
    config = {**one_table([{"name": "c", "type": "str", "rule": rule}]), "as_of": "2026-01-01"}
    _, issues = build_plan(str(write_config(config)))
    (warning,) = [str(w) for w in issues.warnings]
    assert '"v0" 62%, "v1" 2%' in warning and warning.endswith('"v11" 2%, ... (8 more)')


def test_choices_listed_in_full_say_nothing(write_config) -> None:
    rule = {"type": "choice", "value": [1, 2], "probabilities": {"1": 3, "2": 1}}
    config = {**one_table([{"name": "c", "type": "int", "rule": rule}]), "as_of": "2026-01-01"}
    _, issues = build_plan(str(write_config(config)))
    assert issues.warnings == []
