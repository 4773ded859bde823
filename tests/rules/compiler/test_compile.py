"""Validation: every impossible request is rejected before a row is written, with its place."""

from __future__ import annotations

import pytest

from synthbeam.rules.core.errors import ConfigError
from tests.conftest import errors_of, one_table, single_error


def test_unknown_faker_method_suggests_close_names(make_plan) -> None:
    message = single_error(make_plan, [{"name": "n", "type": "str", "rule": "frist_name"}])
    assert message.startswith("t.columns[0] (n): unknown rule 'frist_name'")
    assert "first_name" in message


def test_faker_names_ignore_case_spaces_and_underscores(make_plan) -> None:
    plan = make_plan(
        one_table(
            [
                {"name": "n", "type": "str", "rule": "First Name"},
                {"name": "m", "type": "str", "rule": "LASTNAME"},
            ]
        )
    )
    assert plan.table("t").column("n").rule is not None


def test_invalid_regex_pattern(make_plan) -> None:
    message = single_error(
        make_plan, [{"name": "r", "type": "str", "rule": {"type": "regex", "regex": "[a-"}}]
    )
    assert "t.columns[0] (r)" in message and "regex" in message


def test_ungeneratable_regex(make_plan) -> None:
    message = single_error(
        make_plan, [{"name": "r", "type": "str", "rule": {"type": "regex", "regex": "a(?=b)"}}]
    )
    assert "t.columns[0] (r)" in message


def test_invalid_check_regex(make_plan) -> None:
    message = single_error(
        make_plan, [{"name": "r", "type": "str", "rule": {"type": "word", "regex": "(unclosed"}}]
    )
    assert "not a valid regular expression" in message


def test_min_greater_than_max(make_plan) -> None:
    message = single_error(
        make_plan, [{"name": "amount", "type": "int", "rule": {"type": "range", "min": 5, "max": 1}}]
    )
    assert message == "t.columns[0] (amount): range min 5 > max 1"


@pytest.mark.parametrize(
    "rule",
    [
        {"type": "date_range", "start": "2024-02-01", "end": "2024-01-01"},
        {"type": "time_range", "start": "10:00:00", "end": "09:00:00"},
        {"type": "timestamp_range", "start": "2024-01-02 00:00:00", "end": "2024-01-01 00:00:00"},
    ],
)
def test_start_after_end(make_plan, rule) -> None:
    message = single_error(make_plan, [{"name": "when", "type": "str", "rule": rule}])
    assert "is after end" in message and "t.columns[0] (when)" in message


def test_bad_date_text(make_plan) -> None:
    message = single_error(
        make_plan, [{"name": "d", "type": "date", "rule": {"type": "date_range", "start": "2024-13-01"}}]
    )
    assert "start '2024-13-01' is not a valid date" in message


@pytest.mark.parametrize(
    "probabilities, expected",
    [
        ({"a": -0.1}, "must be a number >= 0"),
        ({"z": 0.5}, "'z', which is not one of the choices"),
        ({"a": 0.6, "b": 0.4}, "leave nothing for unlisted choices ['c']"),
    ],
)
def test_bad_probabilities(make_plan, probabilities, expected) -> None:
    rule = {"type": "choice", "value": ["a", "b", "c"], "probabilities": probabilities}
    message = single_error(make_plan, [{"name": "c", "type": "str", "rule": rule}])
    assert expected in message


def test_probabilities_normalised_when_every_choice_listed(make_plan) -> None:
    plan = make_plan(
        one_table(
            [
                {
                    "name": "c",
                    "type": "str",
                    "rule": {"type": "choice", "value": ["a", "b"], "probabilities": {"a": 2, "b": 6}},
                }
            ]
        )
    )
    assert plan.table("t").column("c").rule.cumulative.tolist() == [0.25, 1.0]


@pytest.mark.parametrize("spelling", [{"true": 0.3, "1.5": 0.2}, {"True": 0.3, "1.5": 0.2}])
def test_probabilities_name_non_text_choices_as_json_or_python_writes_them(make_plan, spelling) -> None:
    rule = {"type": "choice", "value": [1.5, True, None], "probabilities": spelling}
    plan = make_plan(one_table([{"name": "c", "type": "str", "rule": rule}]))
    assert plan.table("t").column("c").rule.cumulative.tolist() == pytest.approx([0.2, 0.5, 1.0])


def test_unknown_probability_names_list_the_choices_in_json(make_plan) -> None:
    rule = {"type": "choice", "value": [1.5, True, None], "probabilities": {"yes": 0.3}}
    message = single_error(make_plan, [{"name": "c", "type": "str", "rule": rule}])
    assert "'yes', which is not one of the choices ['1.5', 'true', 'null']" in message


def _two_tables(fk, parent_columns=None):
    return {
        "tables": [
            {
                "table_name": "parent",
                "rows": 10,
                "columns": parent_columns or [{"name": "id", "type": "int", "constraint": ["PK"]}],
            },
            {
                "table_name": "child",
                "rows": 10,
                "columns": [
                    {"name": "id", "type": "int", "constraint": ["PK"]},
                    {"name": "parent_id", "type": "int"},
                ],
                "foreign_keys": [fk],
            },
        ]
    }


def test_fk_to_missing_table(make_plan) -> None:
    errors = errors_of(
        make_plan, _two_tables({"child_column": "parent_id", "parent_table": "parnet", "parent_column": "id"})
    )
    assert errors == ["child.foreign_keys[0]: parent_table 'parnet' does not exist; did you mean 'parent'?"]


def test_fk_to_missing_column(make_plan) -> None:
    errors = errors_of(
        make_plan,
        _two_tables({"child_column": "parent_id", "parent_table": "parent", "parent_column": "nope"}),
    )
    assert errors == ["child.foreign_keys[0]: parent_column 'nope' is not a column of parent"]


def test_fk_cycle_rejected_but_self_reference_allowed(make_plan) -> None:
    cycle = {
        "tables": [
            {
                "table_name": "a",
                "rows": 5,
                "columns": [
                    {"name": "id", "type": "int", "constraint": ["PK"]},
                    {"name": "b_id", "type": "int"},
                ],
                "foreign_keys": [{"child_column": "b_id", "parent_table": "b", "parent_column": "id"}],
            },
            {
                "table_name": "b",
                "rows": 5,
                "columns": [
                    {"name": "id", "type": "int", "constraint": ["PK"]},
                    {"name": "a_id", "type": "int"},
                ],
                "foreign_keys": [{"child_column": "a_id", "parent_table": "a", "parent_column": "id"}],
            },
        ]
    }
    errors = errors_of(make_plan, cycle)
    assert len(errors) == 1 and "cycle" in errors[0] and "a -> b -> a" in errors[0]
    self_ref = one_table(
        [{"name": "id", "type": "int", "constraint": ["PK"]}, {"name": "boss", "type": "int"}],
        foreign_keys=[{"child_column": "boss", "parent_table": "t", "parent_column": "id"}],
    )
    assert make_plan(self_ref).table("t").rows == 1000


@pytest.mark.parametrize(
    "rule, space",
    [
        ({"type": "choice", "value": ["a", "b", "c", "d", "e"]}, "5"),
        ({"type": "range", "min": 1, "max": 50}, "50"),
        ({"type": "date_range", "start": "2024-01-01", "end": "2024-01-31"}, "31"),
        ({"type": "regex", "regex": "[AB][0-9]"}, "20"),
        ({"type": "range", "min": 1, "max": 9, "prefix": "X"}, "9"),
    ],
)
def test_unique_column_without_enough_values(make_plan, rule, space) -> None:
    message = single_error(
        make_plan, [{"name": "k", "type": "str", "rule": rule, "constraint": ["unique"]}], rows=1000
    )
    assert message.startswith("t.columns[0] (k): is unique but its rule")
    assert f"has only {space} distinct values for 1,000 rows" in message


def test_unique_over_a_million_rows_from_five_choices(make_plan) -> None:
    message = single_error(
        make_plan,
        [
            {
                "name": "k",
                "type": "str",
                "constraint": ["PK"],
                "rule": {"type": "choice", "value": list("abcde")},
            }
        ],
        rows=1_000_000,
    )
    assert "only 5 distinct values for 1,000,000 rows" in message


def test_column_reference_cycle(make_plan) -> None:
    errors = errors_of(
        make_plan,
        one_table(
            [
                {"name": "a", "type": "date", "rule": {"type": "date_range", "start": {"column": "b"}}},
                {"name": "b", "type": "date", "rule": {"type": "date_range", "start": {"column": "a"}}},
            ]
        ),
    )
    assert any("cycle" in e and "a -> b -> a" in e for e in errors), errors


def test_reference_to_missing_column(make_plan) -> None:
    errors = errors_of(
        make_plan,
        one_table(
            [{"name": "a", "type": "date", "rule": {"type": "date_range", "start": {"column": "nope"}}}]
        ),
    )
    assert any("t.columns[0] (a)" in e and "'nope'" in e for e in errors), errors


def test_condition_on_missing_column(make_plan) -> None:
    errors = errors_of(make_plan, one_table([
        {"name": "a", "type": "str", "rule": "word"},
        {"name": "b", "type": "str", "rule": None, "conditional_rules": [
            {"when": [{"column": "zz", "operator": "==", "value": 1}], "rule": "word"}]},
    ]))
    assert errors == ["t.columns[1] (b).conditional_rules[0].when[0]: condition on column 'zz', "
                      "which this table does not have"]


def test_condition_with_unknown_operator(make_plan) -> None:
    errors = errors_of(make_plan, one_table([
        {"name": "a", "type": "str", "rule": "word"},
        {"name": "b", "type": "str", "rule": None, "conditional_rules": [
            {"when": [{"column": "a", "operator": "~=", "value": 1}], "rule": "word"}]},
    ]))
    assert len(errors) == 1 and "~=" in errors[0]
    assert "t.columns[1] (b).conditional_rules[0].when[0]" in errors[0]


def test_condition_value_of_the_wrong_type(make_plan) -> None:
    errors = errors_of(make_plan, one_table([
        {"name": "a", "type": "date"},
        {"name": "b", "type": "str", "rule": None, "conditional_rules": [
            {"when": [{"column": "a", "operator": ">", "value": "not a date"}], "rule": "word"}]},
    ]))
    assert len(errors) == 1 and "cannot be compared with a date column" in errors[0]


def test_choice_from_file_missing_file_and_column(make_plan, tmp_path) -> None:
    (tmp_path / "cities.csv").write_text("city,weight\nOslo,1\n", encoding="utf-8")
    errors = errors_of(
        make_plan,
        one_table(
            [
                {
                    "name": "a",
                    "type": "str",
                    "rule": {"type": "choice_from_file", "file_path": "missing.csv"},
                },
                {
                    "name": "b",
                    "type": "str",
                    "rule": {"type": "choice_from_file", "file_path": "cities.csv", "column": "town"},
                },
            ]
        ),
    )
    assert any("t.columns[0] (a)" in e and "missing.csv" in e and "not found" in e for e in errors), errors
    assert any("t.columns[1] (b)" in e and "'town'" in e and "cities.csv" in e for e in errors), errors


def test_choice_from_xlsx_with_weights(make_plan, tmp_path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["city", "people"])
    for city, people in (("Oslo", 1), ("Rome", 3)):
        workbook.active.append([city, people])
    workbook.save(tmp_path / "cities.xlsx")
    plan = make_plan(
        one_table(
            [
                {
                    "name": "c",
                    "type": "str",
                    "rule": {
                        "type": "choice_from_file",
                        "file_path": "cities.xlsx",
                        "column": "city",
                        "weight_column": "people",
                    },
                }
            ],
            rows=8000,
        )
    )
    from synthbeam.rules.engine.batch import generate_batch

    values = generate_batch(plan, "t", 0, 8000).column("c").to_pylist()
    assert set(values) == {"Oslo", "Rome"}
    assert abs(values.count("Rome") / 8000 - 0.75) < 0.02


def test_choice_from_xlsx_reads_the_first_sheet_whichever_is_active(make_plan, tmp_path) -> None:
    # The design reads workbooks with pandas.read_excel, whose default is the first sheet.
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["colour"])
    workbook.active.append(["red"])
    notes = workbook.create_sheet("notes")
    notes.append(["colour"])
    notes.append(["X"])
    workbook.active = 1
    workbook.save(tmp_path / "colours.xlsx")
    rule = {"type": "choice_from_file", "file_path": "colours.xlsx"}
    plan = make_plan(one_table([{"name": "c", "type": "str", "rule": rule}], rows=50))
    from synthbeam.rules.engine.batch import generate_batch

    assert set(generate_batch(plan, "t", 0, 50).column("c").to_pylist()) == {"red"}


def test_all_errors_reported_at_once(make_plan) -> None:
    errors = errors_of(
        make_plan,
        one_table(
            [
                {"name": "a", "type": "int", "rule": {"type": "range", "min": 9, "max": 1}},
                {"name": "b", "type": "str", "rule": "no_such_method_xyz"},
                {
                    "name": "c",
                    "type": "date",
                    "rule": {"type": "date_range", "start": "2024-02-01", "end": "2024-01-01"},
                },
            ]
        ),
    )
    assert len(errors) == 3
    assert [e.split(":")[0] for e in errors] == ["t.columns[0] (a)", "t.columns[1] (b)", "t.columns[2] (c)"]


def test_corrections_are_listed(make_plan, write_config) -> None:
    from synthbeam.rules.compiler.compile import build_plan

    path = write_config(
        one_table([{"name": "qty", "type": "str", "rule": {"type": "range", "min": 1, "max": 9}}])
    )
    plan, issues = build_plan(str(path))
    assert plan.table("t").column("qty").type == "int"
    assert [str(c) for c in issues.corrections] == [
        "t.columns[0] (qty): type str -> int: a range rule with integer bounds makes an int column"
    ]


def test_default_today_warns_unless_as_of(write_config) -> None:
    from synthbeam.rules.compiler.compile import build_plan

    config = one_table([{"name": "d", "type": "date"}])
    _, issues = build_plan(str(write_config(config)))
    assert any("changes from day to day" in str(w) for w in issues.warnings)
    config["as_of"] = "2025-01-01"
    plan, issues = build_plan(str(write_config(config)))
    assert not issues.warnings and plan.settings.as_of.isoformat() == "2025-01-01"


def test_today_names_as_of_at_either_end_of_a_range(write_config) -> None:
    import datetime as dt

    from synthbeam.rules.compiler.compile import build_plan
    from synthbeam.rules.engine.batch import generate_batch

    columns = [
        {"name": "since", "type": "date", "rule": {"type": "date_range", "start": "2025-12-01", "end": "today"}},
        {"name": "on", "type": "date", "rule": {"type": "date", "start": "Today"}},
        {"name": "at", "type": "timestamp", "rule": {"type": "timestamp_range", "start": "today", "end": "today"}},
    ]
    config = {**one_table(columns, rows=300), "as_of": "2026-01-01"}
    plan, issues = build_plan(str(write_config(config)))
    assert not issues.errors and not issues.warnings
    batch = generate_batch(plan, "t", 0, 300).to_pydict()
    as_of = dt.date(2026, 1, 1)
    assert all(dt.date(2025, 12, 1) <= d <= as_of for d in batch["since"]) and as_of in batch["since"]
    assert set(batch["on"]) == {as_of}
    assert {moment.date() for moment in batch["at"]} == {as_of}
    _, unpinned = build_plan(str(write_config(one_table(columns[:1]))))
    assert any("changes from day to day" in str(w) for w in unpinned.warnings)


def test_nullable_primary_key_rejected(make_plan) -> None:
    message = single_error(make_plan, [{"name": "id", "type": "int", "constraint": ["PK"], "nullable": True}])
    assert "nullable" in message


def test_templates_validate(make_plan) -> None:
    from synthbeam.rules.compiler.compile import build_plan
    from tests.conftest import TEMPLATES

    for template in sorted(TEMPLATES.glob("*.json")):
        plan, issues = build_plan(str(template))
        assert plan.tables, template
        assert not issues.errors


def test_regex_check_that_nothing_passes_is_rejected(make_plan) -> None:
    message = single_error(make_plan, [{"name": "c", "type": "str",
                                        "rule": {"type": "choice", "value": ["a", "b"], "regex": "[0-9]+"}}])
    assert message.startswith("t.columns[0] (c): none of 64 sample values matches its regex check")


def _link_table(child_columns: list[dict], fks: list[dict], **extra) -> dict:
    parents = [
        {"table_name": "a", "rows": 20, "columns": [{"name": "a_id", "type": "int", "constraint": ["PK"]}]},
        {"table_name": "b", "rows": 30, "columns": [{"name": "b_id", "type": "int", "constraint": ["PK"]}]},
    ]
    child = {"table_name": "ab", "rows": 200, "columns": child_columns, "foreign_keys": fks, **extra}
    return {"seed": 3, "tables": [*parents, child]}


LINKS = [
    {"child_column": "a_id", "parent_table": "a", "parent_column": "a_id"},
    {"child_column": "b_id", "parent_table": "b", "parent_column": "b_id"},
]


def test_a_composite_key_makes_only_its_own_columns_not_null(make_plan) -> None:
    from synthbeam.rules.engine.batch import generate_batch

    columns = [
        {"name": "a_id", "type": "int"},
        {"name": "b_id", "type": "int"},
        {"name": "note", "type": "str", "rule": "word", "nullable": True, "null_probability": 0.5},
    ]
    plan = make_plan(_link_table(columns, LINKS, primary_key=["a_id", "b_id"]))
    batch = generate_batch(plan, "ab", 0, 200)
    assert not batch.schema.field("a_id").nullable and not batch.schema.field("b_id").nullable
    assert batch.schema.field("note").nullable and 50 < batch.column("note").null_count < 150


def test_a_not_null_foreign_key_cannot_have_null_probability(make_plan) -> None:
    columns = [{"name": "a_id", "type": "int", "constraint": ["not_null"]}, {"name": "b_id", "type": "int"}]
    fks = [{**LINKS[0], "null_probability": 0.5}, LINKS[1]]
    errors = errors_of(make_plan, _link_table(columns, fks))
    assert errors == [
        "ab.columns[0] (a_id): its foreign key has null_probability 0.5 but the column is PK/not_null; choose one"
    ]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ({"rule": None}, "its rule is null, but the column is PK/not_null"),
        ({"rule": {"type": "choice", "value": [None, "a"]}}, "(choice of 2) can give null"),
        ({"rule": {"type": "fixed", "value": None}}, "(fixed null) can give null"),
        (
            {
                "rule": "word",
                "conditional_rules": [{"when": [{"column": "id", "operator": ">", "value": 2}], "rule": None}],
            },
            "conditional_rules[0] is null",
        ),
        (
            {"rule": {"type": "choice", "value": ["ok", "bad"], "probabilities": {"bad": 0.9}, "regex": "^ok$"}},
            "a PK/not_null column cannot leave them null",
        ),
    ],
)
def test_not_null_columns_whose_rules_give_null_are_rejected(make_plan, column, expected) -> None:
    columns = [
        {"name": "id", "type": "int", "constraint": ["PK"]},
        {"name": "c", "type": "str", "constraint": ["not_null"], **column},
    ]
    message = single_error(make_plan, columns)
    assert message.startswith("t.columns[1] (c): ") and expected in message, message


def test_not_null_foreign_keys_of_nullable_parents_and_hierarchies_are_rejected(make_plan) -> None:
    parent = {
        "table_name": "p",
        "rows": 5,
        "columns": [
            {"name": "id", "type": "int", "constraint": ["PK"]},
            {"name": "code", "type": "str", "nullable": True},
        ],
    }
    child = {
        "table_name": "c",
        "rows": 9,
        "columns": [
            {"name": "id", "type": "int", "constraint": ["PK"]},
            {"name": "code", "type": "str", "constraint": ["not_null"]},
            {"name": "boss", "type": "int", "constraint": ["not_null"]},
        ],
        "foreign_keys": [
            {"child_column": "code", "parent_table": "p", "parent_column": "code"},
            {"child_column": "boss", "parent_table": "c", "parent_column": "id"},
        ],
    }
    errors = errors_of(make_plan, {"seed": 1, "tables": [parent, child]})
    assert any("c.columns[1] (code): is PK/not_null but its parent p.code can be null" in e for e in errors), errors
    assert any("c.columns[2] (boss): is PK/not_null but references its own table" in e for e in errors), errors


def test_a_null_in_a_not_null_column_stops_the_batch() -> None:
    # The last line of defence: Avro and CSV would otherwise write 0 or '' where the null is.
    import pyarrow as pa

    from synthbeam.rules.core.errors import GenerationError
    from synthbeam.rules.core.model import ColumnPlan, Plan, TablePlan
    from synthbeam.rules.engine import batch as engine

    column = ColumnPlan(name="c", type="int", place="t.columns[0] (c)", rule=None, constraints=frozenset({"not_null"}))
    plan = Plan(tables={"t": TablePlan(name="t", rows=3, place="t", columns=[column])}, settings=None)
    original = engine.generate_columns
    try:
        engine.generate_columns = lambda *args, **kwargs: {"c": pa.array([1, None, 3])}
        with pytest.raises(GenerationError, match=r"t.columns\[0\] \(c\): 1 null values in a PK/not_null column"):
            engine.generate_batch(plan, "t", 0, 3)
    finally:
        engine.generate_columns = original


def test_unique_numbers_made_as_text_are_deduplicated_not_trusted(make_plan) -> None:
    # The permutation keeps the *texts* distinct; "05" and "5" are still one int once stored.
    text_rule = {"type": "regex", "regex": "0?[0-9]{2}"}
    plan = make_plan(one_table([{"name": "id", "type": "int", "rule": text_rule, "constraint": ["PK"]}], rows=50))
    assert plan.table("t").column("id").key_strategy == "dedup"
    same_type = {"type": "range", "min": 1, "max": 99}
    plan = make_plan(one_table([{"name": "id", "type": "int", "rule": same_type, "constraint": ["PK"]}], rows=50))
    assert plan.table("t").column("id").key_strategy == "permutation"


def test_foreign_key_weights_must_leave_a_parent_and_name_real_ones(write_config) -> None:
    from synthbeam.rules.compiler.compile import build_plan

    def config(weights: dict[str, float]) -> dict:
        parent = {"table_name": "p", "rows": 3, "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}]}
        child = {
            "table_name": "c",
            "rows": 7,
            "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}, {"name": "pid", "type": "int"}],
            "foreign_keys": [
                {"child_column": "pid", "parent_table": "p", "parent_column": "id", "distribution": "weighted",
                 "weights": weights}
            ],
        }
        return {"seed": 1, "tables": [parent, child]}

    with pytest.raises(ConfigError) as caught:
        build_plan(str(write_config(config({"1": 0, "2": 0, "3": 0}))))
    assert [str(i) for i in caught.value.issues] == [
        "c.foreign_keys[0]: weights give every p row weight 0: no child can have a parent"
    ]
    _, issues = build_plan(str(write_config(config({"1": 0, "2": 0, "99": 5}))))
    assert [str(w) for w in issues.warnings] == [
        "c.foreign_keys[0]: 1 of 3 weights name no p.id value (keys are the parent values as text) and are ignored"
    ]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ({"type": "int", "rule": {"type": "range", "min": 2**63, "max": 2**63 + 1}}, "does not fit a 64-bit integer"),
        ({"type": "float", "rule": {"type": "range", "min": -1.7e308, "max": 1.7e308}}, "wider than a 64-bit float"),
        ({"type": "int", "rule": {"type": "choice", "value": [1, 10**20]}}, "values do not fit a 64-bit int"),
        ({"type": "int", "rule": {"type": "fixed", "value": 10**20}}, "values do not fit a 64-bit int"),
    ],
)
def test_numbers_beyond_64_bits_are_config_errors(make_plan, column, expected) -> None:
    errors = errors_of(make_plan, one_table([{"name": "c", **column}]))
    assert errors and all(e.startswith("t.columns[0] (c): ") and expected in e for e in errors), errors


def test_an_infinite_range_bound_is_a_config_error(write_config) -> None:
    from synthbeam.rules.compiler.compile import build_plan

    path = write_config(one_table([{"name": "c", "type": "float", "rule": {"type": "range", "min": 0, "max": 1}}]))
    path.write_text(path.read_text().replace('"max": 1', '"max": 1e999'))  # JSON reads 1e999 as inf
    with pytest.raises(ConfigError) as caught:
        build_plan(str(path))
    assert [str(i) for i in caught.value.issues] == ["t.columns[0] (c): range max inf is not a finite number"]


def test_choice_capacity_counts_values_as_stored(make_plan) -> None:
    # 1 and 1.0 are one float: four listed choices, three distinct values.
    rule = {"type": "choice", "value": [1, 2, 3, 1.0]}
    column = {"name": "c", "type": "float", "constraint": ["unique"], "rule": rule}
    message = single_error(make_plan, [column], rows=4)
    assert "has only 3 distinct values for 4 rows" in message
    zero_weight = {"type": "choice", "value": ["a", "b", "c"], "probabilities": {"a": 0.5, "b": 0.5, "c": 0}}
    plan = make_plan(one_table([{"name": "c", "type": "str", "constraint": ["unique"], "rule": zero_weight}], rows=2))
    from synthbeam.rules.engine.batch import generate_batch

    assert sorted(generate_batch(plan, "t", 0, 2).column("c").to_pylist()) == ["a", "b"]  # never the 0-weight "c"


def test_choice_from_file_weights_that_add_up_to_nothing(make_plan, tmp_path) -> None:
    (tmp_path / "w.csv").write_text("city,w\nOslo,0\nRome,0\n")
    rule = {"type": "choice_from_file", "file_path": "w.csv", "weight_column": "w"}
    message = single_error(make_plan, [{"name": "c", "type": "str", "rule": rule}])
    assert message == "t.columns[0] (c): choice_from_file w.csv: weight_column 'w' weighs every value 0"


def test_rows_beyond_the_row_index_space_are_a_config_error(make_plan) -> None:
    errors = errors_of(make_plan, one_table([{"name": "c", "type": "int"}], rows=4), overrides={"scale": 1e30})
    assert errors == ["t: 4e+30 rows (rows x scale) is more than the 4,611,686,018,427,387,904 rows a table can have"]


def test_rows_no_condition_picks_get_the_columns_rule_or_its_types_default(make_plan) -> None:
    from synthbeam.rules.engine.batch import generate_batch

    branch = [{"when": [{"column": "id", "operator": "<=", "value": 5}], "rule": {"type": "fixed", "value": -1}}]
    columns = [
        {"name": "id", "type": "int", "constraint": ["PK"]},
        {"name": "absent", "type": "int", "conditional_rules": branch},
        {"name": "null", "type": "int", "rule": None, "conditional_rules": branch},
    ]
    batch = generate_batch(make_plan(one_table(columns, rows=20)), "t", 0, 20).to_pydict()
    picked = [i <= 5 for i in batch["id"]]
    assert all(v == -1 for v, p in zip(batch["absent"], picked) if p)
    assert all(v is not None and 0 <= v <= 10_000 for v, p in zip(batch["absent"], picked) if not p)  # int default
    assert all(v is None for v, p in zip(batch["null"], picked) if not p)  # an explicit null rule gives null


def test_length_on_a_column_that_is_not_text_is_reported(write_config) -> None:
    from synthbeam.rules.compiler.compile import build_plan

    _, issues = build_plan(str(write_config(one_table([{"name": "n", "type": "int", "length": 2}]))))
    assert [str(w) for w in issues.warnings] == [
        "t.columns[0] (n): length limits apply to text; this int column ignores them"
    ]


def test_validation_samples_a_table_in_one_pass(write_config, monkeypatch) -> None:
    # Sampling column by column recomputed a chain of references for every link: 120 s for 1,200 dates.
    from synthbeam.rules.compiler import compile as compiler
    from synthbeam.rules.compiler.compile import build_plan

    columns = [{"name": "d0", "type": "date", "rule": {"type": "date_range", "start": "2020-01-01"}}]
    columns += [
        {"name": f"d{n}", "type": "date", "rule": {"type": "date_range", "start": {"column": f"d{n - 1}"}}}
        for n in range(1, 60)
    ]
    calls = []
    original = compiler.generate_columns
    monkeypatch.setattr(compiler, "generate_columns", lambda *a, **k: calls.append(a[3:4]) or original(*a, **k))
    config = {**one_table(columns, rows=10), "as_of": "2026-01-01"}
    build_plan(str(write_config(config)))
    assert len(calls) == 1, f"{len(calls)} passes over the sample rows"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"type": "timestamp_range", "start": "2020-01-01 00:00:00.5"}, "start '2020-01-01 00:00:00.5' is not a valid"),
        ({"type": "timestamp_range", "start": "2020-01-01T00:00:00+05:00"}, "is not a valid timestamp"),
        ({"type": "date_range", "start": {"column": "n"}}, "start refers to n, a int column; a date_range bound"),
    ],
)
def test_temporal_bounds_that_would_be_silently_changed_are_refused(make_plan, rule, expected) -> None:
    columns = [{"name": "n", "type": "int"}, {"name": "c", "type": "timestamp", "rule": rule}]
    message = single_error(make_plan, columns)
    assert message.startswith("t.columns[1] (c): ") and expected in message, message


def test_a_parent_reference_through_one_of_several_foreign_keys_says_which(write_config) -> None:
    from synthbeam.rules.compiler.compile import build_plan

    parent = {"table_name": "p", "rows": 5, "columns": [
        {"name": "id", "type": "int", "constraint": ["PK"]},
        {"name": "d", "type": "date", "rule": {"type": "date_range", "start": "2020-01-01", "end": "2020-12-31"}}]}
    child = {"table_name": "c", "rows": 9, "columns": [
        {"name": "a", "type": "int"}, {"name": "b", "type": "int"},
        {"name": "after", "type": "date", "rule": {"type": "date_range", "start": {"column": "p.d"}}}],
        "foreign_keys": [{"child_column": "a", "parent_table": "p", "parent_column": "id"},
                         {"child_column": "b", "parent_table": "p", "parent_column": "id"}]}
    _, issues = build_plan(str(write_config({"seed": 1, "as_of": "2026-01-01", "tables": [parent, child]})))
    assert [str(w) for w in issues.warnings] == [
        "c.columns[2] (after): refers to p.d, and c has 2 foreign keys to p (a, b): the row of the first, a, is used"
    ]


def test_topological_order_handles_long_chains_and_names_cycles() -> None:
    from synthbeam.rules.compiler.compile import topological

    names = [f"c{n}" for n in range(5000)]
    chain = {f"c{n}": {f"c{n - 1}"} for n in range(1, 5000)}  # deeper than Python's recursion limit
    order, cycle = topological(list(reversed(names)), chain)
    assert order == names and cycle == []
    assert topological(["a", "b", "c"], {"a": {"c"}, "b": set(), "c": set()}) == (["c", "a", "b"], [])
    _, cycle = topological(["a", "b", "c"], {"a": {"b"}, "b": {"c"}, "c": {"a"}})
    assert cycle == ["a", "b", "c", "a"]
