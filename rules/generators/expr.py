"""The ``expr`` rule: a SQL expression over the row's columns and its parent rows', run by DuckDB.

``{"type": "expr", "expr": "issued_on + INTERVAL 30 DAY"}``, ``"quantity * unit_price"``,
``"CASE WHEN organizations.tier = 'enterprise' THEN 100 ELSE 10 END"``. DuckDB parses
the expression (its own parser: SQL people know, not a dialect of ours) and evaluates it
over the block of rows as an Arrow table, column-wise: ``SELECT (expr) FROM _row``.
Parent columns arrive as one struct column per parent table, so ``organizations.domain``
reads as it is written.

Pure in the row's values: at plan time the parsed statement is checked to be one
expression of one row (no subquery, aggregate, window, FROM of another table), every
function is one DuckDB itself marks deterministic (``random()``, ``now()``, ``uuid()``,
``current_date`` are refused), every column it names exists, and its result type fits the
column's type, all before a row is written. Evaluation runs on one DuckDB thread per
Python thread, so rows keep their order and no worker's cores are taken.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, ClassVar

import pyarrow as pa

from synthbeam.rules.core.registry import ColumnRef, Param, Rows, Rule, RuleContext, register_rule
from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.core.types import arrow_type

__all__ = ["Expr"]

ROW_TABLE = "_row"
# Deterministic by DuckDB's own marking, and still not a function of the row: they read the session.
_SESSION_FUNCTIONS = frozenset(
    {
        "getenv",
        "current_setting",
        "current_schema",
        "current_schemas",
        "current_database",
        "current_catalog",
        "current_query",
        "current_user",
        "session_user",
        "user",
        "version",
        "getvariable",
        "pg_backend_pid",
        "txid_current",
        "current_role",
        "current_localtime",
        "current_localtimestamp",
    }
)
_ONE_ROW_CLASSES = frozenset(
    {"FUNCTION", "COLUMN_REF", "CONSTANT", "CASE", "COMPARISON", "CONJUNCTION", "OPERATOR", "CAST", "BETWEEN", "TYPE"}
)
_INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
_FLOATING = ("FLOAT", "DOUBLE", "REAL")
# column type -> DuckDB result types it stores as they are (anything fits a text column, as text)
_FITS = {
    "int": _INTEGER,
    "float": (*_INTEGER, *_FLOATING, "DECIMAL"),
    "bool": ("BOOLEAN",),
    "date": ("DATE", "TIMESTAMP"),  # date + INTERVAL gives a TIMESTAMP in SQL: its date is kept
    "timestamp": ("TIMESTAMP", "DATE"),
    "time": ("TIME",),
}
_TEXT_COLUMNS = frozenset({"str", "email", "phone", "uuid"})

_local = threading.local()


def _connection() -> Any:
    """This thread's DuckDB connection: one thread each, so row order is kept and cores are not taken.

    Keyed by process too: a worker forked from a process that compiled the plan must not use the
    connection it inherited (DuckDB's state does not survive a fork).
    """
    connection = getattr(_local, "connection", None)
    if connection is None or getattr(_local, "pid", None) != os.getpid():
        import duckdb

        connection = duckdb.connect(config={"threads": 1})
        _local.connection, _local.pid = connection, os.getpid()
    return connection


def _to_arrow(relation: Any) -> pa.Table:
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):  # the spelling moved between releases
        method = getattr(relation, name, None)
        if method is not None:
            result = method()
            return result.read_all() if isinstance(result, pa.RecordBatchReader) else result
    raise RuntimeError("this duckdb cannot return Arrow tables")


@lru_cache(maxsize=1)
def _function_kinds() -> dict[str, tuple[str, str]]:
    """DuckDB function name -> (kind, stability); a name's least deterministic overload wins."""
    rank = {"CONSISTENT": 0, None: 0, "CONSISTENT_WITHIN_QUERY": 1, "VOLATILE": 2}
    kinds: dict[str, tuple[str, str]] = {}
    rows = _connection().execute("SELECT function_name, function_type, stability FROM duckdb_functions()").fetchall()
    for name, kind, stability in rows:
        known = kinds.get(name.lower())
        if known is None or rank.get(stability, 2) > rank.get(known[1], 2) or kind != "scalar":
            kinds[name.lower()] = (kind, stability or "CONSISTENT")
    return kinds


def _walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if "class" in node:
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _query(expression: str) -> str:
    return f"SELECT ({expression}) AS v FROM {ROW_TABLE}"


def analyse(expression: str) -> tuple[set[str], list[str]]:
    """(column names the expression reads, problems with their fix), from DuckDB's parse of it."""
    text = _connection().execute("SELECT json_serialize_sql(?)", [_query(expression)]).fetchall()[0][0]
    parsed = json.loads(text)
    if parsed.get("error"):
        message = parsed.get("error_message", "cannot be parsed")
        return set(), [f"expr {expression!r} is not a SQL expression: {message}"]
    statements = parsed.get("statements") or []
    node = statements[0].get("node", {}) if len(statements) == 1 else {}
    from_table = node.get("from_table") or {}
    one_expression = (
        node.get("type") == "SELECT_NODE"
        and len(node.get("select_list") or []) == 1
        and from_table.get("type") == "BASE_TABLE"
        and from_table.get("table_name") == ROW_TABLE
        and not from_table.get("alias")
        and not any(node.get(key) for key in ("where_clause", "group_expressions", "having", "qualify", "modifiers"))
        and not (node.get("cte_map") or {}).get("map")
    )
    if not one_expression:
        return set(), [f"expr {expression!r} must be one expression of the row, not a statement or a query"]
    problems: list[str] = []
    columns: set[str] = set()
    kinds = _function_kinds()
    for item in _walk(node["select_list"][0]):
        kind = item["class"]
        if kind not in _ONE_ROW_CLASSES:
            what = {"SUBQUERY": "a subquery", "WINDOW": "a window function", "STAR": "*"}.get(kind, kind.lower())
            problems.append(f"expr {expression!r}: {what} is not a value of one row")
        elif kind == "COLUMN_REF":
            columns.add(".".join(item["column_names"]))
        elif kind == "FUNCTION" and not item.get("is_operator"):
            name = str(item.get("function_name", "")).lower()
            function_kind, stability = kinds.get(name, ("scalar", "CONSISTENT"))
            if function_kind in ("aggregate", "window", "table", "table_macro", "pragma"):
                problems.append(
                    f"expr {expression!r}: {name}() is an {function_kind} function; an expression computes one "
                    "row from that row's values"
                )
            elif stability != "CONSISTENT" or name in _SESSION_FUNCTIONS:
                problems.append(
                    f"expr {expression!r}: {name}() is not deterministic (it gives other values on another run); "
                    "use a column or a rule (uuid, date_range, choice...) for such values"
                )
    return columns, problems


def _duckdb_type(expression: str, inputs: pa.Schema) -> str:
    """The SQL type DuckDB gives the expression over inputs of this schema (raises on a type error)."""
    connection = _connection()
    connection.register(ROW_TABLE, inputs.empty_table())
    try:
        return str(connection.execute(f"DESCRIBE {_query(expression)}").fetchall()[0][1])
    finally:
        connection.unregister(ROW_TABLE)


def type_problem(result: str, column_type: str) -> str | None:
    """Why a result of SQL type ``result`` does not fit a ``column_type`` column (with the fix), or None."""
    base = result.split("(")[0].strip().strip('"').upper()
    if base == "NULL" or column_type in _TEXT_COLUMNS:
        return None
    if base == "DECIMAL" and column_type == "int" and result.replace(" ", "").endswith(",0)"):
        return None
    if base in _FITS.get(column_type, ()):
        return None
    if column_type == "int" and base in (*_FLOATING, "DECIMAL"):
        return f"gives {result} values, and an int column holds whole numbers: wrap it in CAST(... AS BIGINT)"
    return f"gives {result} values, which a {column_type} column does not hold: change the column's type or CAST"


@register_rule("expr", "expression")
class Expr(Rule):
    """A SQL expression of the row (and its parents' columns), evaluated column-wise by DuckDB."""

    parameters = (
        Param(
            "expr",
            "SQL expression",
            "a DuckDB expression of the row's columns and its parents' (parent.column)",
            required=True,
            aliases=("expression",),
            json_types=("string",),
        ),
    )
    example = ("int", {"type": "expr", "expr": "id * 2 + 1"})
    derived_from_row = True
    handles_nulls: ClassVar[bool] = True  # null inputs follow SQL; coalesce or CASE give them a value

    def __init__(self, spec: Mapping[str, Any], ctx: RuleContext) -> None:
        super().__init__(spec, ctx)
        self.output_type = ctx.column_type
        text = spec.get("expr", spec.get("expression"))
        self.expression = text.strip() if isinstance(text, str) else ""
        self.inputs: tuple[ColumnRef, ...] = ()
        if not self.expression:
            ctx.error('expr needs "expr": a SQL expression such as "quantity * unit_price"')
            return
        columns, problems = analyse(self.expression)
        for problem in problems:
            ctx.error(problem)
        if problems:
            return
        known = dict(ctx.columns)
        known.update(ctx.parent_columns)
        missing = sorted(name for name in columns if name not in known)
        for name in missing:
            if "." in name and name.split(".", 1)[0] not in {n.split(".", 1)[0] for n in known if "." in n}:
                ctx.error(
                    f"expr {self.expression!r} reads {name}, but this table has no foreign key to "
                    f"{name.split('.', 1)[0]}"
                )
            else:
                ctx.error(
                    f"expr {self.expression!r} reads {name!r}, which is not a column of this table "
                    'or of a parent table (quote names with spaces: "my column")'
                )
        if ctx.column in columns:
            ctx.error(f"expr {self.expression!r} reads the column itself")
        if missing or ctx.column in columns:
            return
        self.inputs = tuple(ColumnRef(name, None, "expr") for name in sorted(columns))
        try:
            result = _duckdb_type(self.expression, self._schema({name: known[name] for name in columns}))
        except Exception as exc:  # DuckDB's binder: wrong argument types, unknown functions
            ctx.error(f"expr {self.expression!r}: {str(exc).splitlines()[0]}")
            return
        wrong_type = type_problem(result, ctx.column_type)
        if wrong_type:
            ctx.error(f"expr {self.expression!r} {wrong_type}")
        self.result_type = result

    @staticmethod
    def _schema(types: Mapping[str, str]) -> pa.Schema:
        fields: list[pa.Field] = []
        parents: dict[str, list[pa.Field]] = {}
        for name, column_type in sorted(types.items()):
            if "." in name:
                parent, column = name.split(".", 1)
                parents.setdefault(parent, []).append(pa.field(column, arrow_type(column_type)))
            else:
                fields.append(pa.field(name, arrow_type(column_type)))
        fields += [pa.field(parent, pa.struct(members)) for parent, members in parents.items()]
        return pa.schema(fields)

    def references(self) -> set[str]:
        return {ref.name for ref in self.inputs}

    def column_refs(self) -> list[ColumnRef]:
        return list(self.inputs)

    def generate(self, rows: Rows, stream: Stream) -> pa.Array:
        target = arrow_type(self.output_type)
        if not len(rows):
            return pa.array([], target)
        names: list[str] = []
        arrays: list[pa.Array] = []
        parents: dict[str, tuple[list[str], list[pa.Array]]] = {}
        for ref in self.inputs:
            values = rows.ref(ref.name)
            if "." in ref.name:
                parent, column = ref.name.split(".", 1)
                members = parents.setdefault(parent, ([], []))
                members[0].append(column)
                members[1].append(values)
            else:
                names.append(ref.name)
                arrays.append(values)
        for parent, (columns, values) in parents.items():
            names.append(parent)
            arrays.append(pa.StructArray.from_arrays(values, names=columns))
        if not arrays:  # constant expression: DuckDB still needs the rows to count
            names, arrays = ["_n"], [pa.nulls(len(rows), pa.int8())]
        connection = _connection()
        connection.register(ROW_TABLE, pa.table(arrays, names=names))
        try:
            result = _to_arrow(connection.sql(_query(self.expression))).column(0).combine_chunks()
        finally:
            connection.unregister(ROW_TABLE)
        return _stored(result, target)

    def describe(self) -> str:
        return f"expr {self.expression!r}"


def _stored(values: pa.Array, target: pa.DataType) -> pa.Array:
    """DuckDB's result in the column's Arrow type (a date's timestamp keeps its date, as CAST does)."""
    if values.type == target:
        return values
    if pa.types.is_timestamp(values.type) and pa.types.is_date(target):
        return values.cast(target, safe=False)
    if pa.types.is_decimal(values.type) and pa.types.is_floating(target):
        return values.cast(target, safe=False)
    if pa.types.is_string(target) or pa.types.is_large_string(target):
        from synthbeam.rules.core.values import coerce

        return coerce(values, "str")
    return values.cast(target)
