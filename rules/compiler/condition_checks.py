"""Static checks of ``conditional_rules`` conditions against the columns they read.

Two mistakes used to pass validation and silently change the branch rows take:

* a constant of another type than the column stores. ``50`` against a ``str``
  column of digits compared text with text, so ``"6" > "50"`` held and
  ``"285" > "50"`` did not. Now a config error at the condition's place, with
  the spelling that fits (conditions compare in the column's stored type, and
  the constant must be of that type: a number for int/float, true/false for
  bool, text for text, ``YYYY-MM-DD``-style text for dates and times);
* a constant the column never holds (``"cancelled"`` where the choice is
  ``canceled``): the branch is dead, or for ``!=``/``not_in`` taken by every
  row. A warning listing what the column holds, when its rules pin that down
  (choices, fixed values, booleans, ranges with constant bounds).

Runs once every column of the table is compiled and corrected, so a condition
on a column declared later sees that column's final type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.model import ColumnPlan, Condition, TablePlan
from synthbeam.rules.core.registry import Domain
from synthbeam.rules.core.types import arrow_type
from synthbeam.rules.core.values import coerce
from synthbeam.rules.engine.conditions import LIST_OPERATORS, OPERATORS, UNARY_OPERATORS, typed_operand

TEXT_TYPES = frozenset({"str", "uuid", "email", "phone"})
NUMBER_TYPES = frozenset({"int", "float"})
TEMPORAL_EXAMPLES = {"date": "2024-01-31", "time": "13:45:00", "timestamp": "2024-01-31 13:45:00"}


def check_table_conditions(table: TablePlan, issues: Issues, tables: Mapping[str, TablePlan] | None = None) -> None:
    """Every condition of every column of ``table``: operand types (errors), unreachable values (warnings).

    ``tables`` (all of the plan's) lets a foreign-key column's values be its parent column's.
    """
    columns = {column.name: column for column in table.columns}
    for column in table.columns:
        for number, branch in enumerate(column.branches):
            for position, condition in enumerate(branch.conditions):
                read = _read_column(condition.column, columns, table, tables or {})
                if read is None or condition.operator not in OPERATORS:
                    continue  # reported where the condition was compiled
                where = f"{column.place}.conditional_rules[{number}].when[{position}]"
                if _check_operand(condition, read, where, issues):
                    _check_reachable(condition, read, where, issues, tables or {})


def _read_column(
    name: Any, columns: Mapping[str, ColumnPlan], table: TablePlan, tables: Mapping[str, TablePlan]
) -> ColumnPlan | None:
    """The column a condition reads: same-table, or ``parent.column`` through one of the table's foreign keys."""
    if not isinstance(name, str):
        return None
    if name in columns or "." not in name:
        return columns.get(name)
    parent, column = name.split(".", 1)
    if parent not in tables or not any(fk.parent_table == parent for fk in table.foreign_keys):
        return None  # reported with the table's foreign keys
    return next((c for c in tables[parent].columns if c.name == column), None)


def _check_operand(condition: Condition, read: ColumnPlan, where: str, issues: Issues) -> bool:
    """Whether the constant fits the column's stored type; reports an error when it does not."""
    operator, value = condition.operator, condition.value
    if operator in UNARY_OPERATORS:
        return False
    if operator in LIST_OPERATORS and not isinstance(value, list):
        issues.error(where, f"operator {operator} needs a list value")
        return False
    if operator not in LIST_OPERATORS and value is None:
        issues.error(where, f"operator {operator} needs a value")
        return False
    items = value if operator in LIST_OPERATORS else [value]
    for item in items:
        if item is None and operator in LIST_OPERATORS:
            continue  # a null in a list matches nothing, as in SQL
        problem = operand_mismatch(item, read)
        if problem is not None:
            what = f"{operator} list item {_json(item)}" if operator in LIST_OPERATORS else f"value {_json(item)}"
            issues.error(where, f"{what} {problem}")
            return False
    try:
        typed_operand(value, operator, read.arrow_type)
    except Exception as exc:  # pyarrow raises several types for impossible casts
        issues.error(where, f"value {_json(value)} cannot be compared with {_article(read.type)} column: {exc}")
        return False
    return True


def operand_mismatch(value: Any, read: ColumnPlan) -> str | None:
    """Why ``value`` cannot be compared with column ``read`` in its stored type, with the fix; None if it can."""
    kind = read.type
    name = read.name
    if kind in TEXT_TYPES:
        if isinstance(value, str):
            return None
        text = json.dumps(str(value))
        return (
            f"is {_a(value)} but {name} is {_article(kind)} column, and text compares as text "
            f'("6" > "50"): write {text} to compare with that text, or give {name} a type that holds {_plural(value)}'
        )
    if kind in NUMBER_TYPES:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return None
        hint = f"write {value}" if isinstance(value, str) and _is_number(value) else "compare with a number"
        return f"is {_a(value)} but {name} is {_article(kind)} column: {hint}"
    if kind == "bool":
        if isinstance(value, bool):
            return None
        return f"is {_a(value)} but {name} is a bool column: compare with true or false"
    if kind in TEMPORAL_EXAMPLES:
        if isinstance(value, str):
            return None
        example = TEMPORAL_EXAMPLES[kind]
        return f'is {_a(value)} but {name} is {_article(kind)} column: write it as text, e.g. "{example}"'
    return None


def _check_reachable(
    condition: Condition, read: ColumnPlan, where: str, issues: Issues, tables: Mapping[str, TablePlan]
) -> None:
    domains = column_domains(read, tables)
    if not domains:
        return
    operator = condition.operator
    operand = typed_operand(condition.value, operator, read.arrow_type)
    items = [v for v in operand.to_pylist() if v is not None] if operator in LIST_OPERATORS else [operand.as_py()]
    held = " or ".join(d.describe() for d in domains)
    if operator in ("==", "!=", "in", "not_in"):
        never = [item for item in items if not any(_contains(d, item, read) for d in domains)]
        if not never:
            return
        shown = ", ".join(_json(item) for item in never)
        every = len(never) == len(items)
        if operator in ("==", "in"):
            outcome = "this condition never holds" if every else "it never matches"
        else:
            outcome = "this condition holds for every row with a value" if every else "it excludes nothing"
        what = "value" if len(never) == 1 else "values"
        verb = "occurs" if len(never) == 1 else "occur"
        issues.warning(
            where, f"{what} {shown} never {verb} in {read.name} (its values: {held}): {outcome}; check the value"
        )
        return
    if not any(_can_order(d, operator, items[0], read) for d in domains):
        issues.warning(where, f"{read.name} {operator} {_json(items[0])} never holds (its values: {held})")


def column_domains(column: ColumnPlan, tables: Mapping[str, TablePlan] | None = None, depth: int = 0) -> list[Domain]:
    """What ``column`` can hold, one domain per rule it uses (empty: not known). Nulls are left out.

    A foreign key holds its parent column's values (when ``tables`` is given).
    """
    if column.max_length is not None or column.min_length is not None or column.key_strategy == "sequence":
        return []  # cut or padded values, or a key 1..N whatever its (default) rule says
    fk = column.foreign_key
    if fk is not None:
        parent = (tables or {}).get(fk.parent_table)
        if parent is None or depth > len(tables or {}):
            return []
        try:
            parent_column = parent.column(fk.parent_column)
        except KeyError:
            return []
        domains = column_domains(parent_column, tables, depth + 1)
        return domains if parent_column.type == column.type else []
    rules = [branch.rule for branch in column.branches]
    rules.append(column.rule)  # rows no condition picks (and every row without branches)
    domains = []
    for rule in rules:
        if rule is None:
            continue  # a null rule adds no value
        domain = rule.domain()
        if domain is None:
            return []
        if domain.values is not None:
            try:
                domain = Domain(values=coerce(domain.values, column.type))
            except Exception:  # stored some other way than a cast tells; then the set is not known
                return []
        elif arrow_type(rule.output_type) != column.arrow_type:
            return []  # an interval of another type (dates as text) does not order like the stored values
        domains.append(domain)
    return domains


def _contains(domain: Domain, item: Any, read: ColumnPlan) -> bool:
    if domain.values is not None:
        return bool(pc.any(pc.equal(domain.values, pa.scalar(item, read.arrow_type))).as_py())
    return domain.low <= item <= domain.high


def _can_order(domain: Domain, operator: str, item: Any, read: ColumnPlan) -> bool:
    """Whether some value of ``domain`` satisfies ``value <operator> item``."""
    if domain.values is not None:
        result = OPERATORS[operator](domain.values, pa.scalar(item, read.arrow_type))
        return bool(pc.any(result).as_py())
    if operator in (">", ">="):
        return domain.high > item or (operator == ">=" and domain.high == item)
    return domain.low < item or (operator == "<=" and domain.low == item)


def _json(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _a(value: Any) -> str:
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Sequence):
        return "a list"
    return f"a {type(value).__name__}"


def _article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _plural(value: Any) -> str:
    return "booleans" if isinstance(value, bool) else "numbers" if isinstance(value, (int, float)) else "them"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
