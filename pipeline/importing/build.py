"""A ``Schema`` (from DDL, a database or Parquet files) to a synthbeam config that validates as is.

The config must generate rows the source schema accepts, so keys come first: a single integer
primary key is 1..N; every other unique or key column gets a rule whose values can be counted
(ranges, choices, regex codes, or a Faker method that is unique by construction), and a table
whose unique values cannot fill its rows is given fewer rows. Foreign keys are settled first
(``relations``); rules come from the source's constraints and profile, then from names (``infer``).
Everything guessed or changed is said in ``Schema.notes``, per column.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from .infer import SENSITIVE, earlier_column, guess_name, is_birth_date, looks_personal
from .model import Bound, Column, ForeignKey, Schema, Table
from .relations import resolve_foreign_keys
from .values import (
    CODE_PATTERN,
    EMAIL_PATTERN,
    as_date,
    choice_key,
    coerce,
    format_day,
    regex_space,
    regex_width,
    years_before,
)

DEFAULT_ROWS = 1000
DEFAULT_NULL_SHARE = 0.1
# Faker methods whose values are unique by construction or from a space far larger than any table.
_UNIQUE_FAKER = {
    "email",
    "user_name",
    "iban",
    "bban",
    "ssn",
    "credit_card_number",
    "sha256",
    "md5",
    "phone_number",
    "ipv4",
    "isbn13",
    "ean13",
}
_MIN_UNIQUE_LENGTH = {"email": 24, "user_name": 14, "phone_number": 20}


class Builder:
    """Holds the options every table's conversion shares."""

    def __init__(self, schema: Schema, rows: int, as_of: dt.date, locale: str, seed: int) -> None:
        self.schema = schema
        self.rows = rows
        self.as_of = as_of
        self.locale = locale
        self.seed = seed
        self.fk_columns: dict[tuple[str, str], ForeignKey] = {}
        self.forced_non_null: set[tuple[str, str]] = set()
        self.null_columns: set[tuple[str, str]] = set()
        self.group_span: dict[tuple[str, str], int] = {}
        self.fanned_out: set[str] = set()

    def note(self, table: Table, column: Column | None, text: str) -> None:
        where = f"{table.name}.{column.name}" if column is not None else table.name
        self.schema.notes.append(f"{where}: {text}")

    def resolve_foreign_keys(self) -> None:
        self.fk_columns, self.null_columns = resolve_foreign_keys(self.schema, self.note)

    # --- columns --------------------------------------------------------------------------

    def table_config(self, table: Table) -> dict[str, Any]:
        groups = [list(table.primary_key)] if len(table.primary_key) > 1 else []
        groups += [group for group in table.unique if len(group) > 1]
        in_group = {name for group in groups for name in group}
        self._plan_group_spans(table, groups)
        # A NOT NULL column whose range starts at another column needs that column to have a value.
        for column in table.columns.values():
            if column.after is not None and not column.nullable:
                self.forced_non_null.add((table.name, column.after.column))
        columns = [self.column_config(table, column, column.name in in_group) for column in table.columns.values()]
        config: dict[str, Any] = {"table_name": table.name}
        rows = self._rows(table, columns, groups)
        if rows is not None:
            config["rows"] = rows
        config["columns"] = columns
        if len(table.primary_key) > 1:
            config["primary_key"] = list(table.primary_key)
        unique = [group for group in table.unique if len(group) > 1 and set(group) <= set(table.columns)]
        if unique:
            config["unique"] = unique
        fks = [self.fk_config(table, fk, in_group) for fk in table.foreign_keys]
        if fks:
            config["foreign_keys"] = fks
        return config

    def _plan_group_spans(self, table: Table, groups: list[list[str]]) -> None:
        """Integers in a composite key count from 1 just far enough to make every row's tuple distinct."""
        target = table.rows or self.rows
        for group in groups:
            fk_space = 1
            for name in group:
                fk = self.fk_columns.get((table.name, name))
                if fk is not None:
                    fk_space *= self.schema.tables[fk.parent_table].rows or self.rows
            free = [n for n in group if (table.name, n) not in self.fk_columns and table.columns[n].kind == "int"]
            if free:
                need = math.ceil((target / fk_space) ** (1 / len(free)))
                for name in free:
                    self.group_span[(table.name, name)] = max(20, 2 * need)

    def fk_config(self, table: Table, fk: ForeignKey, in_group: set[str]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "child_column": fk.columns[0],
            "parent_table": fk.parent_table,
            "parent_column": fk.parent_columns[0],
        }
        self_reference = fk.parent_table == table.name
        grouped = fk.columns[0] in in_group
        column = table.columns[fk.columns[0]]
        if fk.children_min is not None and fk.children_max is not None and not self_reference and not grouped:
            parent_rows = self.schema.tables[fk.parent_table].rows or 1
            mean = (table.rows or 0) * (1 - (fk.null_share or 0)) / parent_rows
            if fk.children_min >= 1 and table.name not in self.fanned_out:
                # every parent has children: their count per parent is the table's shape
                self.fanned_out.add(table.name)
                entry["children_per_parent"] = {"min": fk.children_min, "max": fk.children_max}
                if mean < (fk.children_min + fk.children_max) / 2:
                    entry.update(distribution="zipf", s=1.2)
                self.note(
                    table,
                    column,
                    f"{fk.children_min} to {fk.children_max} children per {fk.parent_table} row (observed)",
                )
            elif fk.children_max > mean + 6 * math.sqrt(mean) + 3:  # far past a uniform spread's (Poisson) tail
                entry.update(distribution="zipf", s=1.2)
                self.note(table, column, f"skewed: up to {fk.children_max} per parent against {mean:.1f} on average")
        if fk.null_share and not grouped and not self_reference:
            entry["null_probability"] = round(fk.null_share, 4)
        return entry

    def column_config(self, table: Table, column: Column, grouped: bool) -> dict[str, Any]:
        config: dict[str, Any] = {"name": column.name, "type": column.kind}
        column.reasons = list(column.source_notes)
        key = (table.name, column.name)
        single_pk = table.primary_key == [column.name]
        fk = self.fk_columns.get(key)
        constraint = []
        if single_pk:
            constraint.append("PK")
        elif column.unique:
            constraint.append("unique")
        if not column.nullable and not single_pk:
            constraint.append("not_null")
        if constraint:
            config["constraint"] = constraint
        if key in self.null_columns:
            config["rule"] = None
            config["nullable"] = True
            return config
        if fk is None:
            rule = self.rule_for(table, column, unique=single_pk or column.unique, grouped=grouped)
            if rule is not _NO_RULE:
                config["rule"] = rule
        elif column.reasons:
            column.reasons.clear()
        self._nulls(table, column, config, fk, single_pk)
        fits = (
            isinstance(config.get("rule"), dict)
            and config["rule"].get("type") == "regex"
            and ((column.min_length or 0) <= regex_width(config["rule"]["regex"]) <= (column.length or 0))
        )  # a cut would make a unique code's values uncountable; this one never needs it
        if column.kind == "str" and not fits:
            if column.length is not None:
                config["length"] = column.length
            if column.min_length:
                config["min_length"] = column.min_length
        sensitivity = self._sensitivity(table, column)
        if sensitivity:
            config["sensitivity"] = sensitivity
        if column.reasons:
            self.note(table, column, "; ".join(column.reasons))
        return config

    def _nulls(self, table: Table, column: Column, config: dict[str, Any], fk: ForeignKey | None, pk: bool) -> None:
        if not column.nullable or pk or (table.name, column.name) in self.forced_non_null:
            return
        if fk is not None:
            if fk.parent_table == table.name:
                config["nullable"] = True
                config["null_probability"] = round(column.profile.null_share, 4) if column.profile else 0.0
            return
        share = column.profile.null_share if column.profile else DEFAULT_NULL_SHARE
        if share > 0:
            config["nullable"] = True
            config["null_probability"] = round(share, 4)

    def _sensitivity(self, table: Table, column: Column) -> str | None:
        if (table.name, column.name) in self.fk_columns:
            return None
        guess, _ = guess_name(table, column)
        if guess is not None and guess.sensitivity:
            column.reasons.append(f"sensitivity {guess.sensitivity} (name)")
            return guess.sensitivity
        if is_birth_date(column):
            column.reasons.append("sensitivity PII (a birth date)")
            return "PII"
        return None

    # --- rules ----------------------------------------------------------------------------

    def rule_for(self, table: Table, column: Column, unique: bool, grouped: bool) -> Any:
        """The column's rule; ``_NO_RULE`` when the type's default is right (an int PK's 1..N)."""
        reasons = column.reasons
        if column.has_rule and not (unique or grouped):
            return column.rule
        if column.choices is not None:
            return self._choice(column, list(column.choices), "enum/CHECK values")
        profile = column.profile
        if profile is not None and profile.frequencies and column.kind != "bool":
            return self._choice(column, list(profile.frequencies), "observed values")
        kind = column.kind
        if kind == "int" and table.primary_key == [column.name] and not grouped:
            reasons.append("primary key 1..N")
            return _NO_RULE
        if kind == "uuid":
            return _NO_RULE
        if kind == "bool":
            probability = 0.5
            if profile is not None and profile.frequencies:
                probability = profile.frequencies.get(True, 0.0) / (sum(profile.frequencies.values()) or 1.0)
                reasons.append("observed share of true")
            elif isinstance(column.default, bool):
                probability = 0.8 if column.default else 0.2
                reasons.append(f"mostly {column.default} (the default)")
            return {"type": "bool", "probability": round(probability, 4)}
        if kind in ("int", "float"):
            return self._numeric(table, column, unique or grouped)
        if kind in ("date", "timestamp"):
            return self._temporal(table, column)
        if kind == "time":
            return _NO_RULE
        return self._text(table, column, unique or grouped, grouped)

    def _choice(self, column: Column, values: list[Any], why: str) -> dict[str, Any]:
        values = [coerce(value, column.kind) for value in values]
        rule: dict[str, Any] = {"type": "choice", "value": values}
        profile = column.profile
        if profile is not None and profile.frequencies:
            known = {str(coerce(k, column.kind)): v for k, v in profile.frequencies.items()}
            total = sum(known.get(choice_key(v), 0.0) for v in values)
            if total > 0:
                rule["probabilities"] = {choice_key(v): round(known.get(choice_key(v), 0.0) / total, 6) for v in values}
                column.reasons.append(f"choice of {why} with their observed shares")
                return rule
        if column.default is not None and column.default in values and len(values) > 1:
            rule["probabilities"] = {choice_key(column.default): 0.5}
            column.reasons.append(f"choice of {why}; the default {column.default!r} gets half the rows")
        else:
            column.reasons.append(f"choice of {why}")
        return rule

    def _numeric(self, table: Table, column: Column, unique: bool) -> dict[str, Any]:
        guess, why = guess_name(table, column)
        low: Any = 0
        high: Any = 10_000
        sources = []
        if guess is not None and isinstance(guess.rule, dict):
            low, high = guess.rule["min"], guess.rule["max"]
            sources.append(why)
        span = self.group_span.get((table.name, column.name))
        if span is not None:
            low, high = 1, span
            sources.append("part of a composite key")
        profile = column.profile
        if profile is not None and profile.low is not None and profile.high is not None:
            low, high = profile.low, profile.high
            sources.append("observed min/max")
        integral = column.kind == "int"
        scale = (
            column.scale
            if column.scale is not None
            else (guess.rule.get("precision", 2) if guess is not None and isinstance(guess.rule, dict) else 2)
        )
        step = 1 if integral else 10 ** (-scale)
        checked_low = column.low is not None and column.low.value is not None
        checked_high = column.high is not None and column.high.value is not None
        # A CHECK narrows the guess; where they do not overlap, the CHECK wins.
        check_low = column.low.value + (step if column.low.strict else 0) if checked_low else None
        check_high = column.high.value - (step if column.high.strict else 0) if checked_high else None
        if check_low is not None:
            low = max(low, check_low)
        if check_high is not None:
            high = min(high, check_high)
        if checked_low or checked_high:
            sources.append("CHECK")
        if low > high:
            low = check_low if check_low is not None else check_high - 10_000
            high = check_high if check_high is not None else check_low + 10_000
        if column.type_low is not None:
            low = max(low, column.type_low)
            high = max(high, column.type_low)
        if column.type_high is not None:
            high = min(high, column.type_high)
            low = min(low, column.type_high)
        if integral:
            low, high = math.ceil(low), math.floor(high)
        else:
            low, high = round(float(low), scale), round(float(high), scale)
        if unique and integral and span is None and high - low + 1 < self.rows:
            widened = low + 10 * self.rows
            high = min(widened, column.type_high) if column.type_high is not None else widened
            sources.append("wide enough to be unique")
        if column.type_high is not None and column.type_high < 10**9 and not sources:
            sources.append(column.source_type)
        column.reasons.append(f"range {low}..{high}" + (f" ({', '.join(sources)})" if sources else ""))
        rule: dict[str, Any] = {"type": "range", "min": low, "max": high}
        if not integral:
            rule["precision"] = scale
        if column.after is not None:
            rule["min"] = {"column": column.after.column}
            self._ref_reason(column, column.after)
        return rule

    def _ref_reason(self, column: Column, bound: Bound) -> None:
        if bound.strict and column.kind in ("int", "date"):
            column.reasons.append(
                f"starts at {bound.column} (CHECK asks for strictly after: rows where they are equal break it)"
            )
        else:
            column.reasons.append(f"starts at {bound.column}")

    def _temporal(self, table: Table, column: Column) -> dict[str, Any]:
        kind = column.kind
        name = "date_range" if kind == "date" else "timestamp_range"
        rule: dict[str, Any] = {"type": name}
        years_back = 5
        start, end = years_before(self.as_of, years_back), None
        if is_birth_date(column):
            start, end = years_before(self.as_of, 90), years_before(self.as_of, 18)
            column.reasons.append("a birth date: 18 to 90 years before as_of")
        profile = column.profile
        if profile is not None and profile.low is not None and profile.high is not None:
            start, end = as_date(profile.low), as_date(profile.high)
            column.reasons.append("range from the observed min/max")
        for bound, attr in ((column.low, "start"), (column.high, "end")):
            if bound is not None and bound.value is not None:
                value = as_date(bound.value)
                if value is not None:  # a CHECK narrows the range
                    if attr == "start":
                        start = max(start, value + dt.timedelta(days=1) if bound.strict else value)
                    else:
                        value = value - dt.timedelta(days=1) if bound.strict else value
                        end = min(end, value) if end is not None else min(value, self.as_of)
                    column.reasons.append(f"{attr} from CHECK")
        if end is not None and end < start:
            start = end - dt.timedelta(days=365 * years_back)
        rule["start"] = format_day(start, kind, end=False)
        if end is not None:
            rule["end"] = format_day(end, kind, end=True)
        reference = column.after
        if reference is None and column.low is None:
            earlier = earlier_column(table, column)
            if earlier is not None:
                reference = Bound(column=earlier.name)
                if not column.nullable:
                    self.forced_non_null.add((table.name, earlier.name))
                    # the forced column's config may already be built: tables list columns in order,
                    # so the earlier column is usually before; rebuild it in that case (see build_config)
        if reference is not None:
            rule["start"] = {"column": reference.column}
            self._ref_reason(column, reference)
        elif end is None:
            column.reasons.append(f"{'dates' if kind == 'date' else 'timestamps'} from {rule['start'][:10]} to as_of")
        return rule

    def _text(self, table: Table, column: Column, unique: bool, grouped: bool = False) -> Any:
        guess, why = guess_name(table, column)
        method = guess.rule if guess is not None and isinstance(guess.rule, str) else None
        if guess is not None and isinstance(guess.rule, dict) and not unique:
            column.reasons.append(f"codes {guess.rule['regex']} ({why})")
            return dict(guess.rule)
        if unique:
            length = column.length
            if method == "email" and grouped and (length is None or length >= regex_width(EMAIL_PATTERN)):
                column.reasons.append(f"emails from {EMAIL_PATTERN} ({why}; countable, as its unique group needs)")
                return {"type": "regex", "regex": EMAIL_PATTERN}
            if (
                method in _UNIQUE_FAKER
                and not grouped
                and (length is None or length >= _MIN_UNIQUE_LENGTH.get(method, 16))
            ):
                column.reasons.append(f"{method} ({why}), unique")
                return method
            if length is None or length >= 10:
                pattern = CODE_PATTERN
            else:
                pattern = f"^[A-Z0-9]{{{max(length, column.min_length or 1)}}}$"
            column.reasons.append(f"unique codes {pattern}")
            return {"type": "regex", "regex": pattern}
        if column.has_rule:
            return column.rule
        if method is not None:
            column.reasons.append(f"{method} ({why})")
            if column.default is not None and isinstance(column.default, str):
                column.reasons.append(f"default {column.default!r} not used")
            return method
        if isinstance(column.default, str):
            column.reasons.append(f"always the default {column.default!r}")
            return {"type": "fixed", "value": column.default}
        if column.length is None or column.length > 200:
            column.reasons.append("a sentence (unbounded text)")
            return "sentence"
        return _NO_RULE

    def _rows(self, table: Table, columns: list[dict[str, Any]], groups: list[list[str]]) -> int | None:
        """The table's row count: the profile's, else capped so unique values can fill it."""
        rows = table.rows
        target = rows if rows is not None else self.rows
        by_name = {c["name"]: c for c in columns}
        capacity = math.inf
        for column in columns:
            constraint = column.get("constraint") or []
            if "unique" in constraint or "PK" in constraint:
                capacity = min(capacity, self._space(table, by_name[column["name"]]))
        for group in groups:
            space = 1.0
            for name in group:
                space *= self._space(table, by_name[name])
            capacity = min(capacity, space)
        if capacity < target:
            self.note(table, None, f"its unique values allow only {int(capacity)} rows, so it gets that many")
            return int(capacity)
        return rows

    def _space(self, table: Table, column: dict[str, Any]) -> float:
        fk = self.fk_columns.get((table.name, column["name"]))
        if fk is not None:
            parent = self.schema.tables[fk.parent_table]
            return float(parent.rows or self.rows)
        rule = column.get("rule", _NO_RULE)
        if isinstance(rule, dict):
            kind = rule.get("type")
            if kind == "choice":
                return float(len(rule["value"]))
            if kind == "bool":
                return 2.0
            if kind == "range" and not isinstance(rule.get("min"), dict):
                if column["type"] == "int":
                    return float(rule["max"] - rule["min"] + 1)
                return (rule["max"] - rule["min"]) * 10 ** rule.get("precision", 2) + 1
            if kind == "regex":
                return regex_space(rule["regex"])
            if kind == "date_range" and isinstance(rule.get("start"), str):
                end = dt.date.fromisoformat(rule["end"]) if "end" in rule else self.as_of
                return float((end - dt.date.fromisoformat(rule["start"])).days + 1)
        return math.inf


_NO_RULE = object()


def build_config(
    schema: Schema,
    rows: int = DEFAULT_ROWS,
    as_of: dt.date | None = None,
    locale: str = "en_US",
    seed: int = 42,
) -> dict[str, Any]:
    """The config for every table of ``schema``; ``schema.notes`` gains what was guessed."""
    as_of = as_of or dt.date.today()
    builder = Builder(schema, rows, as_of, locale, seed)
    builder.resolve_foreign_keys()
    tables = []
    for table in schema.tables.values():
        notes_before = len(schema.notes)
        config = builder.table_config(table)
        # A column made non-null by a later column's reference: build the table again with it known.
        if any((table.name, c["name"]) in builder.forced_non_null and c.get("nullable") for c in config["columns"]):
            del schema.notes[notes_before:]
            config = builder.table_config(table)
        tables.append(config)
    for config in tables:
        _drop_sensitive_defaults(config)
    return {"seed": seed, "locale": locale, "rows": rows, "as_of": as_of.isoformat(), "tables": tables}


def _drop_sensitive_defaults(config: dict[str, Any]) -> None:
    """SENSITIVE columns hash under masking, which needs text: keep sensitivity off non-text ones."""
    for column in config["columns"]:
        if column.get("sensitivity") == SENSITIVE and column["type"] not in ("str",):
            column.pop("sensitivity")


__all__ = ["DEFAULT_ROWS", "build_config", "looks_personal"]
