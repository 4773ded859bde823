"""``synthbeam plan --erd``: Mermaid, DOT and SVG diagrams of tables, keys and foreign keys."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from synthbeam.pipeline.erd import diagram, to_mermaid, to_svg
from tests.conftest import TEMPLATES

SVG = "{http://www.w3.org/2000/svg}"


def test_mermaid_shows_types_keys_and_the_self_reference(cli) -> None:
    run = cli("plan", TEMPLATES / "hr.json", "--erd", "mermaid")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "erDiagram"
    assert "        int employee_id PK" in lines
    assert "        int manager_id FK" in lines
    assert "        email work_email UK" in lines
    assert '    employees ||--o{ employees : "manager_id -> employee_id"' in lines
    assert '    departments ||--o{ employees : "department_id -> department_id"' in lines
    assert "nothing was written" not in run.out  # the diagram alone, ready for a .mmd file


def test_dot_labels_are_well_formed_and_edges_join_column_ports(cli) -> None:
    run = cli("plan", TEMPLATES / "retail.json", "--erd", "dot")
    assert run.code == 0, run.err
    assert run.out.startswith("digraph erd {") and run.out.rstrip().endswith("}")
    labels = re.findall(r"\[label=<(.*)>\];", run.out)
    assert len(labels) == 4
    ports = set()
    for label in labels:
        table = ET.fromstring(label)  # Graphviz HTML labels must be XML
        ports |= {cell.get("port") for cell in table.iter("td") if cell.get("port")}
    edges = re.findall(r'"(\w+)":(\w+) -> "(\w+)":(\w+)', run.out)
    assert ("orders", "c_customer_id", "customers", "c_customer_id") in edges
    assert len(edges) == 3 and all(child in ports and parent in ports for _, child, _, parent in edges)


def test_svg_is_valid_xml_with_a_box_per_table_and_a_curve_per_foreign_key(cli) -> None:
    run = cli("plan", TEMPLATES / "hr.json", "--erd", "svg")
    assert run.code == 0, run.err
    root = ET.fromstring(run.out)
    assert root.tag == SVG + "svg"
    groups = {g.get("data-table"): g for g in root.iter(SVG + "g")}
    assert set(groups) == {"departments", "employees"}
    texts = [t.text for t in groups["employees"].iter(SVG + "text")]
    assert "manager_id" in texts and "FK" in texts and "timestamp" in texts
    edges = [p.find(SVG + "title").text for p in root.iter(SVG + "path") if p.get("class") == "fk"]
    assert sorted(edges) == [
        "employees.department_id -> departments.department_id",
        "employees.manager_id -> employees.employee_id",
    ]


def _boxes(svg: str) -> dict[str, tuple[float, float, float, float]]:
    root = ET.fromstring(svg)
    boxes = {}
    for group in root.iter(SVG + "g"):
        rect = group.find(SVG + "rect")
        boxes[group.get("data-table")] = tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))
    return boxes


def test_svg_layout_puts_parents_left_of_children_and_never_overlaps() -> None:
    from synthbeam.pipeline.python_api import load
    from synthbeam.pipeline.report import table_entries

    boxes = _boxes(to_svg(diagram(table_entries(load(TEMPLATES / "retail.json")))))
    assert boxes["customers"][0] < boxes["orders"][0] < boxes["order_items"][0]
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ax, ay, aw, ah = boxes[a]
            bx, by, bw, bh = boxes[b]
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, (a, b)


@pytest.mark.parametrize("name", ["a&b", "x<y>", 'quote"d', "space name"])
def test_odd_names_are_escaped(name: str) -> None:
    entries = {
        name: {
            "rows": 3,
            "primary_key": ["id"],
            "foreign_keys": [{"column": "up", "parent": f"{name}.id", "null_probability": 0.5}],
            "columns": [{"name": "id", "type": "int"}, {"name": "up", "type": "int"}],
        }
    }
    drawn = diagram(entries)
    root = ET.fromstring(to_svg(drawn))
    assert [g.get("data-table") for g in root.iter(SVG + "g")] == [name]
    assert any(p.get("stroke-dasharray") for p in root.iter(SVG + "path"))  # a nullable FK is dashed
    mermaid = to_mermaid(drawn)
    ident = re.sub(r"\W", "_", name)
    assert f'{ident}["{name}"] {{' in mermaid and f"{ident} |o--o{{ {ident}" in mermaid


def test_unknown_erd_format_is_a_usage_error(cli) -> None:
    run = cli("plan", TEMPLATES / "hr.json", "--erd", "png")
    assert run.code == 1 and "invalid choice" in run.err and run.err.count("\n") == 1
