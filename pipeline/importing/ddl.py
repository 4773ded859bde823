"""``import ddl``: CREATE TABLE / CREATE TYPE / ALTER TABLE statements to a ``Schema``, with sqlglot.

What is read: every column with its type, NOT NULL, DEFAULT, PRIMARY KEY, UNIQUE, REFERENCES and
CHECK (inline or as table constraints), table-level PRIMARY KEY / UNIQUE / FOREIGN KEY / CHECK,
``ALTER TABLE ... ADD [CONSTRAINT]`` of those, and PostgreSQL's ``CREATE TYPE ... AS ENUM``.
CHECKs become ranges, choices and lengths where they have one of these shapes:
``x IN (...)``, ``x BETWEEN a AND b``, ``x op constant``, ``x op y`` (another column),
``LENGTH(x) op n``, and ANDs of them; any other CHECK is noted as not enforced by the config.
Every other statement (views, functions, indexes, grants, inserts) is skipped and listed.
A syntax error is a ``UserError`` naming the line.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from ..errors import UserError
from .model import Bound, Column, ForeignKey, Schema, Table
from .types import sql_type

# synthbeam's dialect names -> sqlglot's.
DIALECTS = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "duckdb": "duckdb",
}


def resolve_dialect(name: str) -> str:
    try:
        return DIALECTS[name.lower()]
    except KeyError:
        raise UserError(
            f"unknown dialect {name!r}: use one of postgres, mysql, sqlite, bigquery, snowflake, duckdb"
        ) from None


def _name(node: Any) -> str:
    """The bare name of an identifier, a column or a (possibly schema-qualified) table."""
    if isinstance(node, exp.Schema):
        node = node.this
    if isinstance(node, (exp.Table, exp.Column, exp.Identifier)):
        return node.name
    return str(node)


def _names(nodes: list[Any]) -> list[str]:
    return [_name(node) for node in nodes]


def _literal(node: exp.Expression | None) -> Any:
    """A constant's Python value, or None when the node is not a constant."""
    if node is None:
        return None
    if isinstance(node, exp.Paren):
        return _literal(node.this)
    if isinstance(node, exp.Neg):
        inner = _literal(node.this)
        return -inner if isinstance(inner, (int, float)) else None
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Cast):
        return _literal(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = node.this
        try:
            return int(text)
        except ValueError:
            return float(text)
    return None


_NOW = (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentDatetime, exp.CurrentTime)


def parse_ddl(text: str, dialect: str, source: str = "DDL") -> Schema:
    """Every table the statements declare; syntax errors raise a UserError naming the line."""
    sqlglot_logger = logging.getLogger("sqlglot")
    saved = sqlglot_logger.level
    sqlglot_logger.setLevel(logging.ERROR)  # "falling back to Command" is our skipped list's job
    try:
        statements = sqlglot.parse(text, read=dialect)
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f"line {first.get('line')}, column {first.get('col')}" if first.get("line") else "somewhere"
        highlight = f" near {first['highlight']!r}" if first.get("highlight") else ""
        raise UserError(f"{source}: SQL syntax error at {where}{highlight}: {first.get('description', exc)}") from None
    except TokenError as exc:
        raise UserError(f"{source}: SQL syntax error: {exc}") from None
    finally:
        sqlglot_logger.setLevel(saved)
    reader = _Reader(dialect)
    for statement in statements:
        if statement is not None:
            reader.statement(statement)
    reader.finish()
    return reader.schema


def _parse_quietly(text: str, dialect: str) -> exp.Expression | None:
    try:
        return sqlglot.parse_one(text, read=dialect)
    except (ParseError, TokenError):
        return None


def read_ddl_file(path: str, dialect: str) -> Schema:
    file = Path(path)
    if not file.is_file():
        raise UserError(f"DDL file not found: {path}")
    return parse_ddl(file.read_text(encoding="utf-8"), dialect, source=path)


class _Reader:
    """Folds statements into a Schema in order, so ALTER TABLE sees the tables before it."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.schema = Schema()
        self.enums: dict[str, list[str]] = {}
        self.checks: list[tuple[Table, exp.Expression]] = []

    def skip(self, statement: exp.Expression, what: str) -> None:
        text = " ".join(statement.sql(dialect=self.dialect, comments=False).split())
        self.schema.skipped.append(f"{what}: {text[:70]}{'...' if len(text) > 70 else ''}")

    def statement(self, statement: exp.Expression) -> None:
        if isinstance(statement, exp.Create):
            kind = str(statement.args.get("kind") or "").upper()
            if kind == "TABLE" and isinstance(statement.this, exp.Schema):
                self.create_table(statement.this)
                return
            if (
                kind == "TYPE"
                and isinstance(statement.expression, exp.DataType)
                and statement.expression.this in (exp.DataType.Type.ENUM,)
            ):
                values = [e.this for e in statement.expression.expressions if isinstance(e, exp.Literal)]
                self.enums[_name(statement.this).lower()] = values
                return
            self.skip(statement, f"CREATE {kind or 'statement'}")
            return
        if isinstance(statement, exp.Alter) and str(statement.args.get("kind") or "TABLE").upper() == "TABLE":
            table = self.schema.table(_name(statement.this))
            if table is None:
                self.skip(statement, "ALTER TABLE of an unknown table")
                return
            used = False
            for action in statement.args.get("actions") or []:
                if isinstance(action, exp.AddConstraint):
                    for node in action.expressions:
                        used |= self.table_constraint(table, node)
                elif isinstance(action, exp.ColumnDef):
                    self.column(table, action)
                    used = True
            if not used:
                self.skip(statement, "ALTER TABLE")
            return
        kind = type(statement).__name__.upper()
        if isinstance(statement, exp.Command):
            kind = str(statement.this).upper()
            rest = statement.expression
            rest = (rest.name if isinstance(rest, exp.Expression) else str(rest or "")).strip()
            if kind == "CREATE" and rest.upper().startswith("TYPE "):
                # DuckDB and others spell enums as PostgreSQL does, but sqlglot reads them only there.
                retry = _parse_quietly(f"CREATE {rest}", "postgres")
                if isinstance(retry, exp.Create) and str(retry.args.get("kind") or "").upper() == "TYPE":
                    self.statement(retry)
                    return
            kind = f"{kind} {rest.split()[0].upper()}" if rest.split() else kind
        self.skip(statement, kind)

    def create_table(self, schema_node: exp.Schema) -> None:
        name = _name(schema_node.this)
        table = Table(name)
        if self.schema.table(name) is not None:
            raise UserError(f"table {name} is created twice")
        self.schema.tables[name] = table
        for node in schema_node.expressions:
            if isinstance(node, exp.ColumnDef):
                self.column(table, node)
            elif isinstance(node, exp.IndexColumnConstraint):
                self.skip(node, f"INDEX in CREATE TABLE {name}")
            elif not self.table_constraint(table, node):
                self.schema.notes.append(f"{name}: ignored {node.sql(dialect=self.dialect)[:60]}")

    def column(self, table: Table, node: exp.ColumnDef) -> None:
        dtype = node.args.get("kind")
        if not isinstance(dtype, exp.DataType):
            dtype = exp.DataType.build("TEXT")
        typed = sql_type(dtype, self.dialect, self.enums)
        column = Column(
            name=node.name,
            kind=typed.kind,
            source_type=typed.text,
            length=typed.length,
            precision=typed.precision,
            scale=typed.scale,
            type_low=typed.low,
            type_high=typed.high,
            choices=typed.choices,
        )
        if typed.rule is not None:
            column.rule, column.has_rule = typed.rule, True
            column.source_notes.append(typed.note or "from the type")
        elif typed.note:
            column.source_notes.append(typed.note)
        table.columns[column.name] = column
        for constraint in node.args.get("constraints") or []:
            kind = constraint.args.get("kind") if isinstance(constraint, exp.ColumnConstraint) else constraint
            if isinstance(kind, exp.NotNullColumnConstraint):
                column.nullable = bool(kind.args.get("allow_null"))
            elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
                table.primary_key = [column.name]
                column.nullable = False
            elif isinstance(kind, exp.UniqueColumnConstraint):
                column.unique = True
            elif isinstance(kind, exp.DefaultColumnConstraint):
                value = kind.this
                if isinstance(value, _NOW) or (
                    isinstance(value, exp.Anonymous | exp.Func)
                    and value.name.lower()
                    in ("now", "current_timestamp", "getdate", "sysdate", "localtimestamp", "datetime", "date")
                ):
                    column.default_now = True
                else:
                    column.default = _literal(value)
            elif isinstance(kind, exp.CheckColumnConstraint):
                self.checks.append((table, kind.this))
            elif isinstance(kind, exp.Reference):
                parent, parent_columns = self.reference(kind)
                table.foreign_keys.append(ForeignKey([column.name], parent, parent_columns))
            elif isinstance(kind, (exp.AutoIncrementColumnConstraint, exp.GeneratedAsIdentityColumnConstraint)):
                column.source_notes.append("auto-increment")
        if dtype.this in (exp.DataType.Type.SERIAL, exp.DataType.Type.BIGSERIAL, exp.DataType.Type.SMALLSERIAL):
            column.nullable = False

    def reference(self, node: exp.Reference) -> tuple[str, list[str]]:
        target = node.this
        if isinstance(target, exp.Schema):
            return _name(target.this), _names(target.expressions)
        return _name(target), []

    def table_constraint(self, table: Table, node: exp.Expression) -> bool:
        """Apply one table-level constraint; False when it is not one synthbeam can use."""
        if isinstance(node, exp.Constraint):
            return any([self.table_constraint(table, inner) for inner in node.expressions])
        if isinstance(node, exp.PrimaryKey):
            table.primary_key = _names(node.expressions)
            for name in table.primary_key:
                if name in table.columns:
                    table.columns[name].nullable = False
            return True
        if isinstance(node, exp.UniqueColumnConstraint):
            target = node.this
            columns = _names(target.expressions) if isinstance(target, exp.Schema) else []
            if len(columns) == 1 and columns[0] in table.columns:
                table.columns[columns[0]].unique = True
            elif columns:
                table.unique.append(columns)
            return bool(columns)
        if isinstance(node, exp.ForeignKey):
            reference = node.args.get("reference")
            if not isinstance(reference, exp.Reference):
                return False
            parent, parent_columns = self.reference(reference)
            table.foreign_keys.append(ForeignKey(_names(node.expressions), parent, parent_columns))
            return True
        if isinstance(node, exp.CheckColumnConstraint):
            self.checks.append((table, node.this))
            return True
        return False

    def finish(self) -> None:
        """Checks last: a CHECK may name a column declared after it."""
        for table, condition in self.checks:
            for part in _conjuncts(condition):
                if not _apply_check(table, part):
                    self.schema.notes.append(
                        f"{table.name}: CHECK ({part.sql(dialect=self.dialect)}) is not something the config can "
                        "express: generated rows may break it"
                    )
        for table in self.schema.tables.values():
            for fk in table.foreign_keys:
                parent = self.schema.table(fk.parent_table)
                if parent is not None:
                    fk.parent_table = parent.name
                    if not fk.parent_columns:
                        fk.parent_columns = list(parent.primary_key)


def _conjuncts(condition: exp.Expression) -> list[exp.Expression]:
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    if isinstance(condition, exp.And):
        return _conjuncts(condition.this) + _conjuncts(condition.expression)
    return [condition]


_FLIP = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ}


def _column_of(table: Table, node: exp.Expression) -> Column | None:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column):
        return table.columns.get(node.name) or next(
            (c for c in table.columns.values() if c.name.lower() == node.name.lower()), None
        )
    return None


def _length_of(table: Table, node: exp.Expression) -> Column | None:
    named = isinstance(node, exp.Anonymous) and node.name.lower() in ("char_length", "len")
    if isinstance(node, exp.Length) or named:
        inner = node.this if isinstance(node, exp.Length) else (node.expressions[0] if node.expressions else None)
        return _column_of(table, inner) if inner is not None else None
    return None


def _tighten(column: Column, low: Bound | None = None, high: Bound | None = None) -> None:
    if low is not None:
        column.low = low
    if high is not None:
        column.high = high


def _apply_check(table: Table, condition: exp.Expression) -> bool:
    """Fold one CHECK conjunct into its column; False when its shape is not understood."""
    if isinstance(condition, exp.In) and not condition.args.get("query"):
        column = _column_of(table, condition.this)
        values = [_literal(e) for e in condition.expressions]
        if column is None or any(v is None for v in values):
            return False
        column.choices = values
        return True
    if isinstance(condition, exp.Between):
        column = _column_of(table, condition.this)
        low, high = _literal(condition.args.get("low")), _literal(condition.args.get("high"))
        if column is None or low is None or high is None:
            return False
        _tighten(column, Bound(low), Bound(high))
        return True
    if isinstance(condition, exp.Is) or (
        isinstance(condition, exp.Not) and isinstance(condition.this, exp.Is)
    ):  # x IS NOT NULL
        inner = condition.this if isinstance(condition, exp.Not) else condition
        column = _column_of(table, inner.this)
        if column is not None and isinstance(condition, exp.Not):
            column.nullable = False
            return True
        return False
    if type(condition) in _FLIP or isinstance(condition, exp.NEQ):
        left, right = condition.this, condition.expression
        operator = type(condition)
        if _column_of(table, left) is None and _length_of(table, left) is None:
            left, right = right, left
            operator = _FLIP.get(operator, operator)
        return _compare(table, left, operator, right)
    return False


def _compare(table: Table, left: exp.Expression, operator: type, right: exp.Expression) -> bool:
    value = _literal(right)
    measured = _length_of(table, left)
    if measured is not None and isinstance(value, int):
        if operator in (exp.GT, exp.GTE):
            measured.min_length = value + (operator is exp.GT)
        elif operator in (exp.LT, exp.LTE):
            measured.length = min(measured.length or value, value - (operator is exp.LT))
        elif operator is exp.EQ:
            measured.min_length = measured.length = value
        else:
            return False
        return True
    column = _column_of(table, left)
    if column is None:
        return False
    if operator is exp.NEQ:
        return value == "" and setattr(column, "min_length", max(column.min_length or 0, 1)) is None
    other = _column_of(table, right)
    strict = operator in (exp.GT, exp.LT)
    if other is not None:
        if operator in (exp.GT, exp.GTE):
            column.after = Bound(column=other.name, strict=strict)
        elif operator in (exp.LT, exp.LTE):
            other.after = Bound(column=column.name, strict=strict)
        else:
            return False
        return True
    if value is None:
        return False
    if operator in (exp.GT, exp.GTE):
        column.low = Bound(value, strict=strict)
    elif operator in (exp.LT, exp.LTE):
        column.high = Bound(value, strict=strict)
    else:  # x = constant
        column.choices = [value]
    return True
