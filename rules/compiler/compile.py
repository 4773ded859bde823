"""Config -> Plan: compile rules, apply corrections, order work, reject the impossible.

Everything that can be known before a row is written is checked here, and all
problems are reported together: unknown rules, bad parameters, min > max,
unique columns whose rule has too few distinct values, references to missing
columns or tables, dependency cycles between columns or between tables, rules
whose values the column's type would bend. A sample of every table is then
generated, so a rule that fails at run time fails here first, naming its column.
Checks with a module of their own run on the compiled tables: conditions
(``condition_checks``), bounds that read a column which can be null
(``nullable``), length cuts of formatted values (``length_checks``) and the
dedup pass itself (``dedup.check_dedup_feasible``), so ``validate`` passing
means ``generate`` does what the config says.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

from synthbeam.rules.compiler.condition_checks import check_table_conditions
from synthbeam.rules.compiler.length_checks import check_length_cuts
from synthbeam.rules.compiler.nullable import check_nullable_references
from synthbeam.rules.config import catalog  # noqa: F401  (registers every rule family)
from synthbeam.rules.config.loader import LoadedConfig, load_config
from synthbeam.rules.core import compile_cache
from synthbeam.rules.core.declared import check_keys
from synthbeam.rules.core.errors import ConfigError, GenerationError, Issues
from synthbeam.rules.core.model import (
    Branch,
    ColumnPlan,
    Condition,
    Distribution,
    ForeignKey,
    KeyGroup,
    KeyStrategy,
    Plan,
    Sensitivity,
    TablePlan,
)
from synthbeam.rules.core.registry import Rule, RuleContext, Settings, lookup_rule, registered_names
from synthbeam.rules.core.types import DEFAULT_RULES, NUMERIC_TYPES, arrow_type, cannot_store, canonical_type
from synthbeam.rules.engine.batch import column_dependencies, generate_columns
from synthbeam.rules.engine.conditions import OPERATORS
from synthbeam.rules.engine.dedup import check_dedup_feasible
from synthbeam.rules.generators.compose import Finished
from synthbeam.rules.relations.foreign_keys import children_layout, weighted_parents
from synthbeam.rules.relations.parent_lookup import SCAN_ROWS, invertible

DEFAULT_SEED = 42
DEFAULT_ROWS = 1000
DEFAULT_LOCALE = "en_US"
DEFAULT_NULL_PROBABILITY = 0.1
SAMPLE_ROWS = 64
MAX_ROWS = 2**62  # row indices are 64-bit; key and uuid rules use the low 62 bits of a row's ordinal
UUID_TEXT_LENGTH = 36
DEFAULT_MAX_TOTAL_ROWS = 10**12  # see _check_total_rows

AFFIX_KEYS = ("prefix", "suffix", "regex")


def build_plan(
    path: str, environment: str | None = None, overrides: Mapping[str, Any] | None = None
) -> tuple[Plan, Issues]:
    """Load, merge and compile a config file; raises ConfigError listing every problem."""
    return compile_plan(load_config(path, environment=environment, overrides=overrides))


def compile_plan(loaded: LoadedConfig) -> tuple[Plan, Issues]:
    issues = Issues()
    issues.extend(loaded.issues)
    if issues.errors:
        raise ConfigError(issues.errors, loaded.source)
    data = loaded.data
    settings = _settings(data, loaded)
    default_rows = int(data.get("rows", DEFAULT_ROWS))
    scale = float(data.get("scale", 1.0))
    tables: dict[str, TablePlan] = {}
    raw_tables = {t.get("table_name", f"tables[{i}]"): t for i, t in enumerate(data.get("tables", []))}
    for name, raw in raw_tables.items():
        tables[name] = _compile_table(raw, raw_tables, settings, default_rows, scale, issues)
    _check_foreign_keys(tables, issues)
    if not issues.errors:
        _correct_uuid_columns(tables, issues)
    for table in tables.values():  # once every column's type is final (a condition may read a later column)
        check_table_conditions(table, issues, tables)
    if not issues.errors:
        check_nullable_references(tables, issues)
    order = _table_order(tables, issues)
    plan = Plan(
        tables={name: tables[name] for name in order} if order else tables,
        settings=settings,
        performance=dict(data.get("performance") or {}),
        security=dict(data.get("security") or {}),
        openai=dict(data.get("openai") or {}),
        output=dict(data.get("output") or {}),
        environment=loaded.environment,
        source=loaded.source,
        config_sha256=loaded.text_sha256,
        notes=list(loaded.notes),
        default_rows=default_rows,
        scale=scale,
    )
    if not issues.errors:
        _size_children(plan, issues)
        _check_rows_used(plan, raw_tables, loaded.rows_from, issues)
    if not issues.errors:
        _check_total_rows(plan, issues)
    if not issues.errors:
        _assign_key_groups(plan, issues)
    if not issues.errors:
        _sample(plan, issues)
    if not issues.errors:
        _check_parent_weights(plan, issues)
    if not issues.errors:
        check_length_cuts(plan, issues)
    if not issues.errors:  # last: it runs the dedup pass of every unique column that needs one
        check_dedup_feasible(plan, issues)
    compile_cache.flush()  # what Faker taught this compile, for the next process (errors or not)
    if issues.errors:
        raise ConfigError(issues.errors, loaded.source)
    return plan, issues


def _settings(data: Mapping[str, Any], loaded: LoadedConfig) -> Settings:
    as_of = data.get("as_of")
    return Settings(
        seed=int(data.get("seed", DEFAULT_SEED)),
        locale=str(data.get("locale", DEFAULT_LOCALE)),
        as_of=dt.date.fromisoformat(str(as_of)) if as_of else dt.date.today(),
        as_of_explicit=bool(as_of),
        config_dir=loaded.config_dir,
        openai=dict(data.get("openai") or {}),
        data_dir=loaded.data_dir,
    )


def column_place(table: str, position: int, name: str) -> str:
    return f"{table}.columns[{position}] ({name})"


def _compile_table(
    raw: Mapping[str, Any],
    raw_tables: Mapping[str, Mapping[str, Any]],
    settings: Settings,
    default_rows: int,
    scale: float,
    issues: Issues,
) -> TablePlan:
    name = raw["table_name"]
    wanted = int(raw.get("rows", default_rows)) * scale
    if not 0 <= wanted <= MAX_ROWS:
        issues.error(name, f"{wanted:g} rows (rows x scale) is more than the {MAX_ROWS:,} rows a table can have")
        wanted = 0
    rows = round(wanted)
    fks = [_foreign_key(name, i, fk) for i, fk in enumerate(raw.get("foreign_keys") or [])]
    fk_by_column: dict[str, ForeignKey] = {}
    for fk in fks:
        if fk.child_column in fk_by_column:  # only one can fill the column: never drop the other silently
            issues.error(
                fk.place,
                f"child_column {fk.child_column!r} already has a foreign key ({fk_by_column[fk.child_column].place}); "
                "a column references one parent: remove one, or give it its own column",
            )
            continue
        fk_by_column[fk.child_column] = fk
    raw_columns = list(raw.get("columns") or [])
    types = {c["name"]: canonical_type(c.get("type", "str")) or "str" for c in raw_columns}
    parent_types = _parent_types(fks, raw_tables)
    primary_key = list(raw.get("primary_key") or [])
    columns = []
    for position, raw_column in enumerate(raw_columns):
        column_fk = fk_by_column.get(raw_column["name"])
        if column_fk is not None:
            types[raw_column["name"]] = _fk_type(column_fk, raw_tables, types.get(raw_column["name"]), issues)
        in_composite_key = len(primary_key) > 1 and raw_column["name"] in primary_key
        column = _compile_column(
            name, position, raw_column, types, settings, issues, column_fk, rows, composite=in_composite_key,
            parent_types=parent_types,
        )
        columns.append(column)
    table = TablePlan(
        name=name,
        rows=rows,
        place=name,
        columns=columns,
        primary_key=primary_key or [c.name for c in columns if "PK" in c.constraints],
        unique=[list(group) for group in raw.get("unique") or []],
        foreign_keys=fks,
    )
    for fk in fks:
        if fk.child_column not in types:
            issues.error(fk.place, f"child_column {fk.child_column!r} is not a column of {name}")
    known = set(types)
    for group_name, group in [("primary_key", table.primary_key), *(("unique", g) for g in table.unique)]:
        for column_name in group:
            if column_name not in known:
                issues.error(f"{name}.{group_name}", f"names column {column_name!r}, which {name} does not have")
    table.order = _column_order(table, issues)
    return table


def _parent_types(fks: Sequence[ForeignKey], raw_tables: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``parent.column`` -> its declared type, for the tables ``fks`` point at (what expressions may read)."""
    found: dict[str, str] = {}
    for fk in fks:
        for column in (raw_tables.get(fk.parent_table) or {}).get("columns") or []:
            if isinstance(column, Mapping) and isinstance(column.get("name"), str):
                kind = canonical_type(column.get("type", "str")) or "str"
                found.setdefault(f"{fk.parent_table}.{column['name']}", kind)
    return found


def _children_per_parent(raw: Any, parent_table: str) -> tuple[tuple[int, int | None] | None, str | None, float]:
    """(min, max), the parent column counts come from (or None), its scale; the config's shape is checked later."""
    if not isinstance(raw, Mapping):
        return None, None, 1.0
    column = raw.get("column")
    if isinstance(column, str) and column.startswith(f"{parent_table}."):
        column = column[len(parent_table) + 1 :]
    low = int(raw.get("min", 0))
    high = raw.get("max")
    if column is None and high is None:
        high = low  # the schema asks for max without column
    return (low, int(high) if high is not None else None), column, float(raw.get("scale", 1.0))


def _foreign_key(table: str, position: int, raw: Mapping[str, Any]) -> ForeignKey:
    per_parent = raw.get("children_per_parent")
    bounds, children_column, children_scale = _children_per_parent(per_parent, raw["parent_table"])
    return ForeignKey(
        child_column=raw["child_column"],
        parent_table=raw["parent_table"],
        parent_column=raw["parent_column"],
        distribution=cast(Distribution, raw.get("distribution", "random")),  # the schema admits only these
        weights={str(k): float(v) for k, v in (raw.get("weights") or {}).items()},
        s=float(raw.get("s", 1.2)),
        null_probability=float(raw.get("null_probability", 0.0)),
        children_per_parent=bounds if per_parent else None,
        children_column=children_column,
        children_scale=children_scale,
        place=f"{table}.foreign_keys[{position}]",
    )


def _fk_type(fk: ForeignKey, raw_tables: Mapping[str, Mapping[str, Any]], own_type: str | None, issues: Issues) -> str:
    parent = raw_tables.get(fk.parent_table)
    if parent is None:
        return own_type or "int"
    for column in parent.get("columns") or []:
        if column["name"] == fk.parent_column:
            parent_type = canonical_type(column.get("type", "str")) or "str"
            if own_type and own_type != parent_type:
                issues.correction(
                    f"{fk.place}",
                    f"{fk.child_column} takes the type of {fk.parent_table}.{fk.parent_column}: "
                    f"{own_type} -> {parent_type}",
                )
            return parent_type
    return own_type or "int"


def _compile_column(
    table: str,
    position: int,
    raw: Mapping[str, Any],
    types: dict[str, str],
    settings: Settings,
    issues: Issues,
    fk: ForeignKey | None,
    rows: int,
    composite: bool,
    parent_types: Mapping[str, str] | None = None,
) -> ColumnPlan:
    name = raw["name"]
    place = column_place(table, position, name)
    column_type = types[name]
    constraints = frozenset(raw.get("constraint") or [])
    if composite:
        constraints -= {"PK"}
        constraints |= {"not_null"}
    rule_spec = _rule_spec(raw, column_type, fk)
    column_type = _auto_correct(rule_spec, column_type, place, issues, settings.locale)
    types[name] = column_type
    context = RuleContext(place, table, name, column_type, settings, issues, types, parent_types or {})
    rule = None if fk is not None else compile_rule(rule_spec, context, constraints)
    branches = [
        _compile_branch(raw_branch, number, context, types, constraints)
        for number, raw_branch in enumerate(raw.get("conditional_rules") or [])
    ]
    _check_storable(rule, branches, column_type, place, issues)
    nullable = bool(raw.get("nullable", "null_probability" in raw))
    null_probability = float(raw.get("null_probability", DEFAULT_NULL_PROBABILITY if nullable else 0.0))
    if not nullable and null_probability > 0:
        issues.error(place, f"null_probability {null_probability} but nullable is false")
    if nullable and constraints & {"PK", "not_null"}:
        issues.error(place, "is nullable but also PK/not_null; choose one")
    if fk is not None and fk.null_probability > 0 and constraints & {"PK", "not_null"} and not composite:
        issues.error(
            place,
            f"its foreign key has null_probability {fk.null_probability:g} but the column is PK/not_null; choose one",
        )
    length = raw.get("length", raw.get("max_length"))
    min_length = raw.get("min_length")
    if length is not None and min_length is not None and int(min_length) > int(length):
        issues.error(place, f"min_length {min_length} > max_length {length}")
    if (length is not None or min_length is not None) and arrow_type(column_type) != arrow_type("str"):
        issues.warning(place, f"length limits apply to text; this {column_type} column ignores them")
    column = ColumnPlan(
        name=name,
        type=column_type,
        place=place,
        rule=rule,
        branches=branches,
        nullable=nullable,
        null_probability=null_probability if nullable else 0.0,
        constraints=constraints,
        max_length=int(length) if length is not None else None,
        min_length=int(min_length) if min_length is not None else None,
        sensitivity=cast(Sensitivity, str(raw.get("sensitivity", "PUBLIC")).upper()),  # checked by the schema
        masking=dict(raw["masking"]) if raw.get("masking") else None,
        foreign_key=fk,
    )
    column.key_strategy = _key_strategy(column, rule_spec, rows, issues)
    if column.not_null and fk is None:
        _check_never_null(column, issues)
    return column


def _may_be_null(column: ColumnPlan) -> bool:
    if column.not_null:
        return False
    if column.null_probability > 0 or column.branches:
        return True
    if column.foreign_key is not None:
        return column.foreign_key.null_probability > 0
    return column.rule is None or column.rule.makes_nulls()


def _check_never_null(column: ColumnPlan, issues: Issues) -> None:
    """A PK/not_null column whose rules themselves give null is rejected before any row is written."""
    rules = [("its rule", column.rule)] if not column.branches else []
    rules += [(f"conditional_rules[{n}]", branch.rule) for n, branch in enumerate(column.branches)]
    if column.branches:
        rules.append(("its rule (when no condition holds)", column.rule))
    for where, rule in rules:
        if rule is None or rule.makes_nulls():
            what = "is null" if rule is None else f"({rule.describe()}) can give null"
            issues.error(column.place, f"{where} {what}, but the column is PK/not_null")


def _rule_spec(raw: Mapping[str, Any], column_type: str, fk: ForeignKey | None) -> dict[str, Any] | None:
    if fk is not None:
        return None
    if "rule" not in raw:  # with conditional_rules too: the type's default fills rows no condition picks
        return dict(DEFAULT_RULES[column_type], _default=True)
    rule = raw["rule"]
    if rule is None:
        return None
    if isinstance(rule, str):
        return {"type": rule}
    return dict(rule)


def _check_storable(
    rule: Rule | None, branches: Sequence[Branch], column_type: str, place: str, issues: Issues
) -> None:
    """Reject a rule whose values the column's type would bend (numbers as true, times as microseconds)."""
    for where, each in [("", rule), *((f".conditional_rules[{n}]", b.rule) for n, b in enumerate(branches))]:
        if each is None:
            continue
        reason = cannot_store(each.output_type, column_type)
        if reason is not None:
            hint = (
                'use {"type": "bool", "probability": p} or a choice of true and false, or'
                if column_type == "bool"
                else f"use a rule that makes {column_type} values, or"
            )
            issues.error(
                place + where,
                f"{each.describe()} makes {each.output_type} values, but {reason}: "
                f"{hint} give the column type {each.output_type}",
            )


def _auto_correct(spec: Mapping[str, Any] | None, column_type: str, place: str, issues: Issues, locale: str) -> str:
    """The seed's type corrections, applied and reported (never silently): the rule class says which.

    (A text column with a range rule takes the type the range makes: ``Range.corrected_type``.)
    """
    if not spec or not isinstance(spec.get("type"), str):
        return column_type
    rule_class = lookup_rule(spec["type"], locale)
    corrected = rule_class.corrected_type(column_type, spec) if rule_class is not None else None
    if corrected is None:
        return column_type
    new_type, why = corrected
    issues.correction(place, f"type {column_type} -> {new_type}: {why}")
    return new_type


def compile_rule(
    spec: Mapping[str, Any] | None, ctx: RuleContext, constraints: frozenset[str] = frozenset()
) -> Rule | None:
    """A rule object for one rule spec (None for a null rule); problems go to ``ctx``."""
    if spec is None:
        return None
    rule_type = spec.get("type")
    if not isinstance(rule_type, str) or not rule_type:
        ctx.error("rule object needs a 'type'")
        return None
    rule_class = lookup_rule(rule_type, ctx.settings.locale)
    if rule_class is None:
        ctx.error(_unknown_rule_message(rule_type, ctx.settings.locale))
        return None
    params = check_keys(rule_class, spec, ctx)
    inner = rule_class(params, ctx)
    if rule_class.regex_is_pattern:
        affixes = {k: v for k, v in params.items() if k in ("prefix", "suffix")}
        return Finished(inner, affixes, ctx, check=False) if affixes else inner
    if any(params.get(key) is not None for key in AFFIX_KEYS):
        return Finished(inner, params, ctx)
    return inner


def _unknown_rule_message(rule_type: str, locale: str) -> str:
    candidates = list(registered_names())
    try:
        from synthbeam.rules.generators.faker.rules import suggest_faker_methods

        suggestions = suggest_faker_methods(rule_type, locale)
    except ImportError:
        suggestions = []
    suggestions += difflib.get_close_matches(rule_type, candidates, n=3)
    hint = f"; did you mean {', '.join(dict.fromkeys(suggestions))}?" if suggestions else ""
    return f"unknown rule {rule_type!r}: not a rule type nor a Faker method for this locale{hint}"


def _compile_branch(
    raw: Mapping[str, Any],
    number: int,
    ctx: RuleContext,
    types: Mapping[str, str],
    constraints: frozenset[str],
) -> Branch:
    place = f"{ctx.place}.conditional_rules[{number}]"
    branch_ctx = RuleContext(
        place, ctx.table, ctx.column, ctx.column_type, ctx.settings, ctx.issues, types, ctx.parent_columns
    )
    conditions = []
    for index, raw_condition in enumerate(raw.get("when") or []):
        condition = Condition(
            raw_condition.get("column"), raw_condition.get("operator", "=="), raw_condition.get("value")
        )
        where = f"{place}.when[{index}]"
        if isinstance(condition.column, str) and "." in condition.column and condition.column not in types:
            pass  # a parent column: checked with the table's foreign keys (_check_parent_ref)
        elif condition.column not in types:
            ctx.issues.error(where, f"condition on column {condition.column!r}, which this table does not have")
        elif condition.operator not in OPERATORS:
            ctx.issues.error(where, f"operator {condition.operator!r} is not one of {', '.join(OPERATORS)}")
        conditions.append(condition)
    spec = raw.get("rule")
    spec = {"type": spec} if isinstance(spec, str) else spec
    return Branch(conditions, compile_rule(spec, branch_ctx, constraints))


def _key_strategy(
    column: ColumnPlan, spec: Mapping[str, Any] | None, rows: int, issues: Issues
) -> KeyStrategy | None:
    """How a unique column stays unique: a sequence, a permutation, or a dedup pass."""
    if not column.is_unique or column.foreign_key is not None:
        return None
    if column.branches:
        issues.error(column.place, "a PK/unique column cannot use conditional_rules")
        return None
    if spec is not None and spec.get("_default") and column.type == "int":
        return "sequence"
    rule = column.rule
    if rule is None:
        if spec is None:
            issues.error(column.place, "a PK/unique column needs a rule that produces values")
        return None
    space = rule.cardinality()
    bound = rule.max_cardinality()
    if bound is not None and bound < rows:
        counted = f"only {bound:,}" if space is not None else (
            f"at most {bound:,} (counted from its word lists and formats)"
        )
        issues.error(
            column.place,
            f"is unique but its rule ({rule.describe()}) has {counted} distinct values for {rows:,} rows",
        )
        return None
    stored_as_made = arrow_type(rule.output_type) == arrow_type(column.type)
    if space is not None and rule.enumerable() and column.max_length is None and stored_as_made:
        return "permutation"
    if column.max_length is None and stored_as_made and rule.unique_values(rows) is not None:
        return "permutation"
    # Values cut to ``length`` may collide even when the rule's values are distinct, and so may
    # values cast to the column's type (the texts "05" and "5" are one int).
    return "dedup"


def _column_order(table: TablePlan, issues: Issues) -> list[str]:
    names = [c.name for c in table.columns]
    dependencies = {}
    for column in table.columns:
        # Missing names were already reported where they were written (rule parameter or condition).
        local = {ref for ref in column_dependencies(column) if "." not in ref}
        dependencies[column.name] = (local & set(names)) - {column.name}
        if column.name in column_dependencies(column):
            issues.error(column.place, "refers to itself")
    order, cycle = topological(names, dependencies)
    if cycle:
        issues.error(table.name, f"columns depend on each other in a cycle: {' -> '.join(cycle)}")
    return order


def topological(names: Sequence[str], dependencies: Mapping[str, set[str]]) -> tuple[list[str], list[str]]:
    """Names ordered dependencies-first (stable), and a cycle if there is one.

    Iterative, so a chain of thousands of columns (each referring to the last) needs no deep recursion.
    """
    position = {name: number for number, name in enumerate(names)}
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: ordered

    def pending(name: str) -> Iterator[str]:
        return iter(sorted(dependencies.get(name, ()), key=lambda d: position.get(d, len(position))))

    for root in names:
        if state.get(root) == 2:
            continue
        state[root] = 1
        path, work = [root], [(root, pending(root))]
        while work:
            name, waiting = work[-1]
            for dependency in waiting:
                seen = state.get(dependency)
                if seen == 2:
                    continue
                if seen == 1:
                    return list(names), [*path[path.index(dependency) :], dependency]
                state[dependency] = 1
                path.append(dependency)
                work.append((dependency, pending(dependency)))
                break
            else:
                work.pop()
                path.pop()
                state[name] = 2
                order.append(name)
    return order, []


def _check_foreign_keys(tables: Mapping[str, TablePlan], issues: Issues) -> None:
    for table in tables.values():
        for fk in table.foreign_keys:
            parent = tables.get(fk.parent_table)
            if parent is None:
                hint = difflib.get_close_matches(fk.parent_table, list(tables), n=1)
                issues.error(
                    fk.place,
                    f"parent_table {fk.parent_table!r} does not exist"
                    + (f"; did you mean {hint[0]!r}?" if hint else ""),
                )
                continue
            try:
                parent_column = parent.column(fk.parent_column)
            except KeyError:
                issues.error(fk.place, f"parent_column {fk.parent_column!r} is not a column of {parent.name}")
                continue
            child_column = next((c for c in table.columns if c.name == fk.child_column), None)
            if child_column is not None and child_column.not_null and fk.parent_table == table.name:
                issues.error(
                    child_column.place,
                    "is PK/not_null but references its own table: the hierarchy's first row has no parent",
                )
            elif child_column is not None and child_column.not_null and _may_be_null(parent_column):
                issues.error(
                    child_column.place,
                    f"is PK/not_null but its parent {parent.name}.{fk.parent_column} can be null, and a child "
                    "copies its parent's value",
                )
            if fk.distribution == "weighted" and not (
                parent_column.is_unique or parent.primary_key == [fk.parent_column]
            ):
                # weights are keyed by parent value; a repeated value would weight only its first row
                issues.error(
                    fk.place,
                    f"a weighted foreign key needs a PK or unique parent column, as in SQL, and "
                    f"{parent.name}.{fk.parent_column} is neither: its weights name values that several "
                    f"{parent.name} rows share; point it at a unique column, or give {fk.child_column} a choice "
                    "rule with probabilities",
                )
            elif not parent_column.is_unique and fk.parent_column not in parent.primary_key:
                issues.warning(
                    fk.place,
                    f"{parent.name}.{fk.parent_column} is not a PK or unique column; "
                    "children may match several parents",
                )
            _check_distribution(fk, table, parent, issues)
        for column in table.columns:
            for ref in _parent_refs(column):
                _check_parent_ref(table, column, ref, tables, issues)


def _makes_uuids(column: ColumnPlan, tables: Mapping[str, TablePlan]) -> bool:
    """Whether every value of a ``uuid`` column is a canonical UUID (what Avro's ``uuid`` type promises)."""
    if column.max_length is not None and column.max_length < UUID_TEXT_LENGTH:
        return False
    if column.min_length is not None and column.min_length > UUID_TEXT_LENGTH:
        return False
    if column.foreign_key is not None:
        fk = column.foreign_key
        return tables[fk.parent_table].column(fk.parent_column).type == "uuid"
    return not column.branches and column.rule is not None and column.rule.makes_uuids()


def _correct_uuid_columns(tables: Mapping[str, TablePlan], issues: Issues) -> None:
    """Type ``uuid`` -> ``str`` where the values are not certainly UUIDs (a prefix, another rule), reported.

    Avro readers reject a ``uuid``-typed field holding any other text, so such a
    column is stored as the text it is. Repeated until stable: a child's foreign
    key follows its parent's corrected type.
    """
    changed = True
    while changed:
        changed = False
        for table in tables.values():
            for column in table.columns:
                if column.type == "uuid" and not _makes_uuids(column, tables):
                    source = (
                        "its parent column"
                        if column.foreign_key
                        else (column.rule.describe() if column.rule and not column.branches else "its rules")
                    )
                    issues.correction(column.place, f"type uuid -> str: {source} does not make only canonical UUIDs")
                    column.type = "str"
                    changed = True


def _check_distribution(fk: ForeignKey, table: TablePlan, parent: TablePlan, issues: Issues) -> None:
    if fk.distribution not in ("random", "uniform", "even", "weighted", "zipf"):
        issues.error(fk.place, f"distribution {fk.distribution!r} is not one of random, even, weighted, zipf")
    if fk.distribution == "zipf" and fk.s <= 0:
        issues.error(fk.place, f"zipf s must be > 0, got {fk.s}")
    if fk.distribution == "weighted":
        if not fk.weights:
            issues.error(fk.place, "weighted distribution needs 'weights' {parent value: weight}")
        for key, weight in fk.weights.items():
            if weight < 0:
                issues.error(fk.place, f"weight of {key!r} is negative ({weight})")
    if not 0.0 <= fk.null_probability <= 1.0:
        issues.error(fk.place, f"null_probability {fk.null_probability} must be between 0 and 1")
    if fk.children_per_parent is not None:
        low, high = fk.children_per_parent
        if low < 0 or (high is not None and low > high):
            issues.error(fk.place, f"children_per_parent min {low} must be >= 0 and <= max {high}")
        if fk.children_column is not None:
            _check_children_column(fk, parent, issues)
        if fk.parent_table == table.name:
            issues.error(fk.place, "children_per_parent cannot be used on a self-reference")
    if fk.parent_table != table.name and parent.rows == 0 and table.rows > 0 and fk.null_probability < 1:
        issues.error(fk.place, f"parent table {parent.name} has 0 rows, so {table.name} rows have no parent")


def _check_children_column(fk: ForeignKey, parent: TablePlan, issues: Issues) -> None:
    """``children_per_parent.column`` must be a number column of the parent table itself."""
    name = fk.children_column
    found = next((c for c in parent.columns if c.name == name), None)
    if "." in str(name) or found is None:
        issues.error(
            fk.place,
            f"children_per_parent column {name!r} is not a column of {parent.name}: counts come from the parent row, "
            f'so write {{"column": "{parent.name}.<number column>"}}',
        )
    elif found.type not in NUMERIC_TYPES or found.type == "bool":
        issues.error(
            fk.place,
            f"children_per_parent column {parent.name}.{name} is a {found.type} column; a count needs an int or "
            "float column (scale multiplies it)",
        )
    if not fk.children_scale >= 0:
        issues.error(fk.place, f"children_per_parent scale must be >= 0, got {fk.children_scale:g}")


def _check_parent_weights(plan: Plan, issues: Issues) -> None:
    """``weights`` must name parent values that exist and leave some parent a chance."""
    for table in plan.tables.values():
        for fk in table.foreign_keys:
            if fk.distribution != "weighted" or not fk.weights:
                continue
            listed, weights = weighted_parents(plan, fk, generate_columns)
            parent = plan.table(fk.parent_table)
            missing = len(fk.weights) - len(listed)
            searched = not invertible(parent.column(fk.parent_column)) and parent.rows > SCAN_ROWS
            if missing and searched:
                issues.warning(
                    fk.place,
                    f"{missing} of {len(fk.weights)} weights name no value among the first {SCAN_ROWS:,} rows of "
                    f"{fk.parent_table}.{fk.parent_column}, the rows searched for them (its values cannot be "
                    "turned back into rows, and searching all would take time in the rows); those weights are "
                    "ignored: name values of its first rows, or weight an integer key",
                )
            elif missing:
                issues.warning(
                    fk.place,
                    f"{missing} of {len(fk.weights)} weights name no {fk.parent_table}.{fk.parent_column} value "
                    "(keys are the parent values as text) and are ignored",
                )
            if float(weights.sum()) <= 0 and len(listed) >= parent.rows:
                issues.error(fk.place, f"weights give every {fk.parent_table} row weight 0: no child can have a parent")


def _parent_refs(column: ColumnPlan) -> set[str]:
    return {ref for ref in column_dependencies(column) if "." in ref}


def _check_parent_ref(
    table: TablePlan, column: ColumnPlan, ref: str, tables: Mapping[str, TablePlan], issues: Issues
) -> None:
    parent_name, parent_column = ref.split(".", 1)
    links = [fk.child_column for fk in table.foreign_keys if fk.parent_table == parent_name]
    if not links:
        issues.error(column.place, f"refers to {ref} but {table.name} has no foreign key to {parent_name}")
        return
    if len(links) > 1:
        issues.warning(
            column.place,
            f"refers to {ref}, and {table.name} has {len(links)} foreign keys to {parent_name} "
            f"({', '.join(links)}): the row of the first, {links[0]}, is used",
        )
    parent = tables.get(parent_name)
    if parent is not None and parent_column not in {c.name for c in parent.columns}:
        issues.error(column.place, f"refers to {ref}, but {parent_name} has no column {parent_column!r}")


def _table_order(tables: Mapping[str, TablePlan], issues: Issues) -> list[str]:
    names = list(tables)
    dependencies = {
        name: {fk.parent_table for fk in table.foreign_keys if fk.parent_table in tables} - {name}
        for name, table in tables.items()
    }
    order, cycle = topological(names, dependencies)
    if cycle:
        issues.error("foreign_keys", f"tables reference each other in a cycle: {' -> '.join(cycle)}")
    return order


def _size_children(plan: Plan, issues: Issues) -> None:
    """Tables whose FK sets ``children_per_parent`` get their row count from the parent."""
    for table in plan.tables.values():
        sized = [fk for fk in table.foreign_keys if fk.children_per_parent is not None]
        if len(sized) > 1:
            issues.error(table.name, "only one foreign key per table can set children_per_parent")
        elif sized:
            table.rows = children_layout(plan, table.name, sized[0], generate_columns).total
            plan.notes.append(f"{table.name}: {table.rows:,} rows from {sized[0].parent_table} x children_per_parent")


def _check_total_rows(plan: Plan, issues: Issues) -> None:
    """Refuse a plan no runner writes in reasonable time, before a worker starts on it.

    ``children_per_parent`` multiplies rows: 10^15 children per parent passed
    validation and then kept a run busy for minutes with nothing written. At the
    measured 1-2 million rows per second per core, 10^12 rows (the default
    ceiling) are days of a large cluster; ``performance.max_total_rows`` or
    ``--allow-huge`` lift it.
    """
    limit = plan.performance.get("max_total_rows", DEFAULT_MAX_TOTAL_ROWS)
    total = sum(table.rows for table in plan.tables.values())
    if total <= limit:
        return
    largest = max(plan.tables.values(), key=lambda table: table.rows)
    issues.error(
        "performance.max_total_rows",
        f"the plan has {total:,} rows in total ({largest.name}: {largest.rows:,}), more than the {limit:,} "
        "allowed: lower rows, scale or children_per_parent, or raise performance.max_total_rows "
        "(--allow-huge lifts the limit)",
    )


def _check_rows_used(
    plan: Plan, raw_tables: Mapping[str, Mapping[str, Any]], rows_from: str | None, issues: Issues
) -> None:
    """Warn when ``--rows`` (or an environment's rows) changes nothing: every table sets its own."""
    if rows_from is None or not plan.tables:
        return
    sized = {name for name, t in plan.tables.items() if any(fk.children_per_parent for fk in t.foreign_keys)}
    if any("rows" not in raw and name not in sized for name, raw in raw_tables.items()):
        return
    how = "its own rows" + (" or takes them from children_per_parent" if sized else "")
    issues.warning(
        "rows",
        f"{rows_from} has no effect: it is the row count of tables that set none, and every table sets {how}; "
        "use --scale F to multiply every table's rows",
    )


def _assign_key_groups(plan: Plan, issues: Issues) -> None:
    """Composite primary keys and ``unique`` groups become unique-by-construction key groups."""
    for table in plan.tables.values():
        groups = [table.primary_key] if len(table.primary_key) > 1 else []
        groups += [group for group in table.unique if len(group) > 1]
        for group in groups:
            name = f"{table.name}.({', '.join(group)})"
            found = [_group_space(plan, table, table.column(c), name, issues) for c in group]
            spaces = [space for space in found if space is not None]
            if len(spaces) < len(found):
                continue
            total = 1
            for space in spaces:
                total *= space
            if total < table.rows:
                issues.error(
                    name,
                    f"unique together, but the columns' values combine in only {total:,} ways for {table.rows:,} rows",
                )
                continue
            key_group = KeyGroup(name, tuple(group), tuple(spaces))
            for column_name in group:
                column = table.column(column_name)
                if column.key_group is not None:
                    issues.error(column.place, f"is in two composite keys ({column.key_group.name} and {name})")
                column.key_strategy, column.key_group = "group", key_group


def _group_space(plan: Plan, table: TablePlan, column: ColumnPlan, name: str, issues: Issues) -> int | None:
    """How many values ``column`` can take in a key group, or None (reported) if it cannot join one."""
    fk = column.foreign_key
    if fk is not None:
        if fk.parent_table == table.name or fk.children_per_parent is not None or fk.null_probability > 0:
            issues.error(
                column.place,
                f"in {name}: a self-reference, children_per_parent or null_probability key cannot be part of it",
            )
            return None
        return plan.table(fk.parent_table).rows
    rule = column.rule
    space = rule.cardinality() if rule is not None else None
    if rule is None or space is None or not rule.enumerable() or column.branches or column.max_length is not None:
        issues.error(
            column.place,
            f"in {name}: its values cannot be enumerated, so the group cannot be unique by construction "
            "(use foreign keys or rules with countable values: ranges, choices, regex, dates)",
        )
        return None
    return min(space, 1 << 62)


def _sample(plan: Plan, issues: Issues) -> None:
    """Generate the first rows of each table so run-time failures surface now, by column."""
    import numpy as np

    for table in plan.tables.values():
        index = np.arange(min(table.rows, SAMPLE_ROWS), dtype=np.uint64)
        counters: dict[str, int] = {}
        try:  # every column once: one column at a time recomputed a chain of references for each link
            generate_columns(plan, table.name, index, counters=counters)
        except Exception:  # found again below, column by column, to name the column
            for column in table.columns:
                _sample_column(plan, table, column, index, issues)
        else:
            for column in table.columns:
                _report_sample_events(column, counters, len(index), issues)
        for column in table.columns:
            if column.type in NUMERIC_TYPES and column.rule is not None and column.rule.output_type == "str":
                issues.warning(column.place, f"{column.rule.describe()} gives text, stored as {column.type}")


def _sample_column(plan: Plan, table: TablePlan, column: ColumnPlan, index: Any, issues: Issues) -> None:
    counters: dict[str, int] = {}
    try:
        generate_columns(plan, table.name, index, [column.name], counters=counters)
        _report_sample_events(column, counters, len(index), issues)
    except GenerationError as exc:
        issues.error(column.place, str(exc).split(": ", 1)[-1])
    except Exception as exc:  # a rule failing on real rows is a config problem to report
        issues.error(column.place, f"generating sample rows failed: {type(exc).__name__}: {exc}")


def _report_sample_events(column: ColumnPlan, counters: dict[str, int], sampled: int, issues: Issues) -> None:
    unmatched = counters.get(f"{column.name}:regex_unmatched", 0)
    if unmatched and unmatched == sampled:
        issues.error(column.place, f"none of {sampled} sample values matches its regex check, even after retries")
    elif unmatched and column.not_null:
        issues.error(
            column.place,
            f"{unmatched} of {sampled} sample values fail its regex check after retries, and a PK/not_null "
            "column cannot leave them null",
        )
    elif unmatched:
        issues.warning(
            column.place, f"{unmatched} of {sampled} sample values fail its regex check after retries and become null"
        )
