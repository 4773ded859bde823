"""Foreign keys an imported config can hold: single-column, to known tables, and without cycles.

synthbeam generates parents before children, so a cycle between tables (departments.manager_id ->
employees, employees.department_id -> departments) cannot be generated; it is cut at a nullable
column, which the config then leaves null, so every loaded row still satisfies the constraint.
"""

from __future__ import annotations

from collections.abc import Callable

from .model import Column, ForeignKey, Schema, Table

Note = Callable[[Table, Column | None, str], None]


def resolve_foreign_keys(schema: Schema, note: Note) -> tuple[dict[tuple[str, str], ForeignKey], set[tuple[str, str]]]:
    """Keep the foreign keys a config can express, cut cycles, align child types.

    Returns the kept foreign key of each (table, child column), and the columns left null to cut a cycle.
    """
    fk_columns: dict[tuple[str, str], ForeignKey] = {}
    null_columns: set[tuple[str, str]] = set()
    for table in schema.tables.values():
        kept: list[ForeignKey] = []
        for fk in table.foreign_keys:
            parent = schema.table(fk.parent_table)
            if parent is None:
                note(table, None, f"foreign key {fk.columns} -> {fk.parent_table}: no such table; ignored")
                continue
            if len(fk.columns) != len(fk.parent_columns) or not fk.columns:
                note(table, None, f"foreign key {fk.columns} -> {parent.name}: columns do not pair; ignored")
                continue
            if len(fk.columns) > 1:
                note(
                    table,
                    None,
                    f"composite foreign key ({', '.join(fk.columns)}) -> {parent.name}: only "
                    f"{fk.columns[0]} -> {fk.parent_columns[0]} is generated, so the pairs may not exist in "
                    f"{parent.name}",
                )
                fk = ForeignKey(
                    fk.columns[:1], parent.name, fk.parent_columns[:1], fk.children_min, fk.children_max, fk.null_share
                )
            child, parent_column = fk.columns[0], fk.parent_columns[0]
            if child not in table.columns or parent_column not in parent.columns:
                note(table, None, f"foreign key {child} -> {parent.name}.{parent_column}: unknown column")
                continue
            if (table.name, child) in fk_columns:
                note(table, table.columns[child], "a second foreign key on this column is ignored")
                continue
            fk.parent_table = parent.name
            fk_columns[(table.name, child)] = fk
            kept.append(fk)
        table.foreign_keys = kept
    _cut_cycles(schema, note, fk_columns, null_columns)

    for table in schema.tables.values():
        for fk in table.foreign_keys:
            parent = schema.tables[fk.parent_table]
            child, parent_column = table.columns[fk.columns[0]], parent.columns[fk.parent_columns[0]]
            child.kind = parent_column.kind
            if fk.parent_table == table.name and not child.nullable:
                child.nullable = True
                note(
                    table,
                    child,
                    "NOT NULL self-reference: the hierarchy's first row has no parent, "
                    "so the config lets it be null (loading it needs the constraint deferred)",
                )
    return fk_columns, null_columns


def _cut_cycles(
    schema: Schema, note: Note, fk_columns: dict[tuple[str, str], ForeignKey], null_columns: set[tuple[str, str]]
) -> None:
    """Drop foreign keys until the table graph (self-references aside) has no cycle."""
    while True:
        cycle = find_cycle(schema)
        if cycle is None:
            return
        edges = [(table, fk) for table, fk in cycle]
        edges.sort(key=lambda edge: (not edge[0].columns[edge[1].columns[0]].nullable, edge[0].name))
        table, fk = edges[0]
        column = table.columns[fk.columns[0]]
        table.foreign_keys.remove(fk)
        del fk_columns[(table.name, column.name)]
        path = " -> ".join(t.name for t, _ in cycle) + f" -> {cycle[0][0].name}"
        if column.nullable:
            null_columns.add((table.name, column.name))
            note(table, column, f"foreign keys form a cycle ({path}): this one is left null to break it")
        else:
            note(
                table,
                column,
                f"foreign keys form a cycle ({path}) and no column of it is nullable: this "
                "one is generated without its parent, so loading it breaks the constraint",
            )


def find_cycle(schema: Schema) -> list[tuple[Table, ForeignKey]] | None:
    """One cycle of foreign keys between tables (self-references aside) as (child table, key) edges."""
    state: dict[str, int] = {}
    stack: list[tuple[Table, ForeignKey]] = []

    def visit(table: Table) -> list[tuple[Table, ForeignKey]] | None:
        state[table.name] = 1
        for fk in table.foreign_keys:
            if fk.parent_table == table.name:
                continue
            stack.append((table, fk))
            if state.get(fk.parent_table) == 1:
                start = next(i for i, (t, _) in enumerate(stack) if t.name == fk.parent_table)
                return stack[start:]
            if fk.parent_table not in state:
                found = visit(schema.tables[fk.parent_table])
                if found:
                    return found
            stack.pop()
        state[table.name] = 2
        return None

    for table in schema.tables.values():
        if table.name not in state:
            found = visit(table)
            if found:
                return found
    return None
