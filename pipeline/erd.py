"""Entity-relationship diagrams of a config's tables: Mermaid, Graphviz DOT, or a self-made SVG.

The diagram is built from the report's table entries (``_report.json``
"tables", or :func:`synthbeam.pipeline.report.table_entries` of a plan), so
``synthbeam plan --erd`` and the HTML report (rebuilt from JSON alone by
``synthbeam report``) draw the same picture. Every table shows its columns
with types and PK/FK/UK marks; every foreign key is an edge from the child
column to the parent column, a self-reference a loop.

The SVG needs no Graphviz: tables stand in columns by depth (a table one
step right of its deepest parent), each column of boxes stacked in
generation order, and edges are curves between the two key rows. Text width
is estimated for a monospace font, which the SVG asks for. Pure functions,
no I/O, no Beam.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["ERD_FORMATS", "Diagram", "diagram", "render", "to_dot", "to_mermaid", "to_svg"]

ERD_FORMATS = ("mermaid", "dot", "svg")


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str
    marks: tuple[str, ...]  # "PK", "FK", "UK"


@dataclass(frozen=True)
class Relation:
    child: str
    child_column: str
    parent: str
    parent_column: str
    optional: bool  # the child column may be null

    @property
    def self_reference(self) -> bool:
        return self.child == self.parent


@dataclass
class Entity:
    name: str
    rows: int | None
    attributes: list[Attribute] = field(default_factory=list)


@dataclass
class Diagram:
    entities: list[Entity]
    relations: list[Relation]


def diagram(tables: Mapping[str, Mapping[str, Any]]) -> Diagram:
    """The diagram of report-shaped table entries (``_report.json`` "tables"), in their order."""
    entities, relations = [], []
    for name, entry in tables.items():
        primary = set(entry.get("primary_key") or [])
        foreign = {fk["column"]: fk for fk in entry.get("foreign_keys") or []}
        grouped = {c for group in entry.get("unique") or [] for c in group}
        entity = Entity(name, entry.get("rows"))
        for column in entry.get("columns") or []:
            constraints = set(column.get("constraints") or [])
            marks = []
            if column["name"] in primary or "PK" in constraints:
                marks.append("PK")
            if column["name"] in foreign:
                marks.append("FK")
            if "unique" in constraints or (column["name"] in grouped and "PK" not in marks):
                marks.append("UK")
            entity.attributes.append(Attribute(column["name"], str(column.get("type", "")), tuple(marks)))
        entities.append(entity)
        for column_name, fk in foreign.items():
            parent, _, parent_column = str(fk["parent"]).rpartition(".")
            optional = float(fk.get("null_probability") or 0) > 0
            relations.append(Relation(name, column_name, parent, parent_column, optional))
    return Diagram(entities, relations)


def render(tables: Mapping[str, Mapping[str, Any]], erd_format: str) -> str:
    """``tables`` drawn as ``mermaid``, ``dot`` or ``svg`` text."""
    drawn = diagram(tables)
    renderers = {"mermaid": to_mermaid, "dot": to_dot, "svg": to_svg}
    if erd_format not in renderers:
        raise ValueError(f"unknown diagram format {erd_format!r}: use one of {', '.join(ERD_FORMATS)}")
    return renderers[erd_format](drawn)


# --- Mermaid ---------------------------------------------------------------------


def _mermaid_id(name: str) -> str:
    return re.sub(r"\W", "_", name) or "_"


def _mermaid_type(type_name: str) -> str:
    return re.sub(r"\W", "_", type_name) or "value"


def to_mermaid(drawn: Diagram) -> str:
    """A Mermaid ``erDiagram``; names Mermaid cannot take bare are aliased (``id["shown name"]``)."""
    lines = ["erDiagram"]
    for entity in drawn.entities:
        ident = _mermaid_id(entity.name)
        label = f'{ident}["{entity.name}"]' if ident != entity.name else ident
        lines.append(f"    {label} {{")
        for attribute in entity.attributes:
            marks = f" {','.join(attribute.marks)}" if attribute.marks else ""
            name = _mermaid_id(attribute.name)
            comment = f' "{attribute.name}"' if name != attribute.name else ""
            lines.append(f"        {_mermaid_type(attribute.type)} {name}{marks}{comment}")
        lines.append("    }")
    for relation in drawn.relations:
        parent_end = "|o" if relation.optional else "||"
        lines.append(
            f"    {_mermaid_id(relation.parent)} {parent_end}--o{{ {_mermaid_id(relation.child)} : "
            f'"{relation.child_column} -> {relation.parent_column}"'
        )
    return "\n".join(lines) + "\n"


# --- Graphviz DOT ----------------------------------------------------------------


def _dot_text(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _dot_port(name: str) -> str:
    return "c_" + re.sub(r"\W", "_", name)


def to_dot(drawn: Diagram) -> str:
    """A Graphviz digraph: one HTML-label table per entity, edges between column ports."""
    lines = [
        "digraph erd {",
        "    graph [rankdir=LR];",
        '    node [shape=plaintext, fontname="monospace"];',
        "    edge [arrowhead=crow, arrowtail=tee, dir=both];",
    ]
    for entity in drawn.entities:
        rows = [
            f'<tr><td bgcolor="#dbe7f5" colspan="3"><b>{_dot_text(entity.name)}</b>'
            + (f" ({entity.rows:,} rows)" if entity.rows is not None else "")
            + "</td></tr>"
        ]
        for attribute in entity.attributes:
            rows.append(
                f'<tr><td align="left" port="{_dot_port(attribute.name)}">{_dot_text(attribute.name)}</td>'
                f'<td align="left">{_dot_text(attribute.type)}</td>'
                f'<td align="left">{",".join(attribute.marks)}</td></tr>'
            )
        table = '<table border="0" cellborder="1" cellspacing="0">' + "".join(rows) + "</table>"
        lines.append(f'    "{_dot_text(entity.name)}" [label=<{table}>];')
    for relation in drawn.relations:
        lines.append(
            f'    "{_dot_text(relation.child)}":{_dot_port(relation.child_column)} -> '
            f'"{_dot_text(relation.parent)}":{_dot_port(relation.parent_column)}'
            f' [label="{_dot_text(relation.child_column)}"{", style=dashed" if relation.optional else ""}];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- SVG -----------------------------------------------------------------------

CHAR_WIDTH = 7.3  # 12px monospace
ROW_HEIGHT = 20
HEADER_HEIGHT = 26
PAD = 10
GAP_X = 90
GAP_Y = 30


@dataclass
class _Box:
    entity: Entity
    x: float
    y: float
    width: float
    name_width: float
    type_width: float

    @property
    def height(self) -> float:
        return HEADER_HEIGHT + ROW_HEIGHT * len(self.entity.attributes) + 4

    def row_y(self, column: str) -> float:
        for position, attribute in enumerate(self.entity.attributes):
            if attribute.name == column:
                return self.y + HEADER_HEIGHT + ROW_HEIGHT * position + ROW_HEIGHT / 2
        return self.y + HEADER_HEIGHT / 2


def _depths(drawn: Diagram) -> dict[str, int]:
    """Each table's column in the layout: one right of its deepest parent (self-references ignored)."""
    parents: dict[str, set[str]] = {e.name: set() for e in drawn.entities}
    for relation in drawn.relations:
        if not relation.self_reference and relation.child in parents and relation.parent in parents:
            parents[relation.child].add(relation.parent)
    depth: dict[str, int] = {}

    def visit(name: str, seen: frozenset[str]) -> int:
        if name not in depth:
            depth[name] = 1 + max((visit(p, seen | {name}) for p in parents[name] if p not in seen), default=-1)
        return depth[name]

    for entity in drawn.entities:
        visit(entity.name, frozenset())
    return depth


def _layout(drawn: Diagram) -> tuple[dict[str, _Box], float, float]:
    depths = _depths(drawn)
    columns: dict[int, list[Entity]] = {}
    for entity in drawn.entities:
        columns.setdefault(depths[entity.name], []).append(entity)
    boxes: dict[str, _Box] = {}
    x = PAD + 20.0
    height = 0.0
    for level in sorted(columns):
        widths = []
        for entity in columns[level]:
            title = entity.name + (f" ({entity.rows:,} rows)" if entity.rows is not None else "")
            name_width = max([len(a.name) + len(",".join(a.marks)) + 1 for a in entity.attributes] or [0])
            type_width = max([len(a.type) for a in entity.attributes] or [0])
            widths.append((max(len(title), name_width + type_width + 3) * CHAR_WIDTH + 2 * PAD, name_width, type_width))
        column_width = max(w for w, _, _ in widths)
        y = PAD + 10.0
        for entity, (_, name_width, type_width) in zip(columns[level], widths):
            box = _Box(entity, x, y, column_width, name_width * CHAR_WIDTH, type_width * CHAR_WIDTH)
            boxes[entity.name] = box
            y += box.height + GAP_Y
        height = max(height, y)
        x += column_width + GAP_X
    return boxes, x - GAP_X + PAD + 40, height + PAD


def _edge(relation: Relation, boxes: Mapping[str, _Box]) -> str:
    child, parent = boxes.get(relation.child), boxes.get(relation.parent)
    if child is None or parent is None:
        return ""
    y1, y2 = child.row_y(relation.child_column), parent.row_y(relation.parent_column)
    dash = ' stroke-dasharray="5,3"' if relation.optional else ""
    if relation.self_reference:
        right = child.x + child.width
        path = f"M{right:.1f},{y1:.1f} C{right + 45:.1f},{y1:.1f} {right + 45:.1f},{y2:.1f} {right:.1f},{y2:.1f}"
    elif parent.x + parent.width <= child.x:  # parent to the left (the usual case)
        x1, x2 = child.x, parent.x + parent.width
        bend = max(30.0, (x1 - x2) / 2)
        path = f"M{x1:.1f},{y1:.1f} C{x1 - bend:.1f},{y1:.1f} {x2 + bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    else:  # same column: a loop on the left side
        x1, x2 = child.x, parent.x
        path = f"M{x1:.1f},{y1:.1f} C{x1 - 60:.1f},{y1:.1f} {x2 - 60:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    title = escape(f"{relation.child}.{relation.child_column} -> {relation.parent}.{relation.parent_column}")
    return (
        f'<path class="fk" d="{path}" fill="none" stroke="#5b7aa6" stroke-width="1.4"{dash} '
        f'marker-end="url(#erd-arrow)"><title>{title}</title></path>'
    )


def to_svg(drawn: Diagram) -> str:
    """A standalone SVG document (valid XML, no external references)."""
    boxes, width, height = _layout(drawn)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="erd" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="12" role="img">',
        "<title>Entity-relationship diagram</title>",
        '<defs><marker id="erd-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5b7aa6"/></marker></defs>',
    ]
    for box in boxes.values():
        entity = box.entity
        title = entity.name + (f" ({entity.rows:,} rows)" if entity.rows is not None else "")
        parts.append(f'<g class="table" data-table={quoteattr(entity.name)}>')
        parts.append(
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" rx="4" '
            'fill="#ffffff" stroke="#34495e"/>'
        )
        parts.append(
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{HEADER_HEIGHT}" rx="4" '
            'fill="#dbe7f5" stroke="#34495e"/>'
        )
        parts.append(
            f'<text x="{box.x + PAD:.1f}" y="{box.y + 17:.1f}" font-weight="bold">{escape(title)}</text>'
        )
        for position, attribute in enumerate(entity.attributes):
            y = box.y + HEADER_HEIGHT + ROW_HEIGHT * position + 14
            marks = ",".join(attribute.marks)
            weight = ' font-weight="bold"' if "PK" in attribute.marks else ""
            parts.append(f'<text x="{box.x + PAD:.1f}" y="{y:.1f}"{weight}>{escape(attribute.name)}</text>')
            if marks:
                mark_x = box.x + PAD + (len(attribute.name) + 1) * CHAR_WIDTH
                parts.append(f'<text x="{mark_x:.1f}" y="{y:.1f}" fill="#b03a2e" font-size="10">{marks}</text>')
            type_x = box.x + box.width - PAD - box.type_width
            parts.append(f'<text x="{type_x:.1f}" y="{y:.1f}" fill="#666666">{escape(attribute.type)}</text>')
        parts.append("</g>")
    parts.extend(edge for edge in (_edge(r, boxes) for r in drawn.relations) if edge)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
