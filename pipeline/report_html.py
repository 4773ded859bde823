"""``OUT/_report.html``: the run report for people, from ``_report.json`` and ``_profile.json`` alone.

One self-contained page (inline CSS and SVG, no script, no network: it opens
from disk and prints) with the run summary, the ER diagram
(:mod:`synthbeam.pipeline.erd`) and every column's profile: null share,
distinct count, min/max, a histogram or the top values with their shares,
and for foreign keys the children-per-parent distribution. Because it reads
only the two JSON files, ``synthbeam report OUT`` rebuilds it at any time.
Pure function of its inputs; every value is HTML-escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .erd import render as render_erd

__all__ = ["rebuild_html", "refresh_html", "render_html"]

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2933;
       background: #f5f7fa; }
header { background: #243b53; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .sub { color: #bcccdc; font-size: 13px; }
main { padding: 10px 28px 40px; }
section { background: #fff; border: 1px solid #d9e2ec; border-radius: 6px; padding: 14px 18px; margin: 16px 0; }
h2 { font-size: 18px; margin: 0 0 10px; }
h2 small { color: #627d98; font-weight: normal; font-size: 13px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e4e7eb; vertical-align: top; }
th { color: #486581; font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 12px ui-monospace, Menlo, Consolas, monospace; }
.facts { display: flex; flex-wrap: wrap; gap: 10px 28px; margin-bottom: 12px; }
.fact b { display: block; font-size: 20px; }
.fact span { color: #627d98; font-size: 12px; }
.erd { overflow-x: auto; }
.bar { background: #d9e2ec; height: 8px; border-radius: 4px; width: 90px; display: inline-block;
       vertical-align: middle; }
.bar i { background: #e12d39; height: 8px; border-radius: 4px; display: block; }
.top { list-style: none; margin: 0; padding: 0; width: 340px; }
.top li { display: grid; grid-template-columns: minmax(60px, 160px) 1fr 52px; gap: 6px; align-items: center;
          font-size: 12px; }
.top li span.v { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.top li span.b { background: #9fb3c8; height: 8px; border-radius: 3px; }
.top li span.s { text-align: right; color: #486581; }
.note { color: #627d98; font-size: 12px; }
.mark { color: #b03a2e; font-size: 11px; margin-left: 4px; }
"""



def _file_count(files: object) -> int:
    """A table's file count: a number in reports since issue 15, a list before."""
    if isinstance(files, list):
        return len(files)
    return int(files) if isinstance(files, int) else 0

def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _seconds(value: Any) -> str:
    return f"{float(value):,.2f} s" if isinstance(value, (int, float)) else "-"


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else _e(value if value is not None else "-")


def _fact(value: str, label: str) -> str:
    return f'<div class="fact"><b>{value}</b><span>{_e(label)}</span></div>'


def _summary(report: Mapping[str, Any]) -> str:
    tables = report.get("tables") or {}
    facts = [
        _fact(_count(report.get("total_rows", sum(t.get("rows_written", 0) for t in tables.values()))), "rows written"),
        _fact(str(len(tables)), "tables"),
    ]
    if report.get("wall_seconds") is not None:
        facts.append(_fact(_seconds(report["wall_seconds"]), "wall time, start to finish"))
    if report.get("rows_per_second"):
        facts.append(_fact(f"{report['rows_per_second']:,.0f}", "rows per second (wall time)"))
    if report.get("peak_rss_mb") is not None:
        facts.append(_fact(f"{report['peak_rss_mb']:,.0f} MB", "peak memory"))
    rows = "".join(
        f"<tr><td><a href=\"#table-{_e(name)}\">{_e(name)}</a></td>"
        f'<td class="num">{_count(entry.get("rows_written", entry.get("rows")))}</td>'
        f'<td class="num">{_file_count(entry.get("files"))}</td>'
        f'<td class="num">{_seconds(entry.get("busy_seconds"))}</td>'
        f'<td class="num">{_seconds(entry.get("seconds"))}</td></tr>'
        for name, entry in tables.items()
    )
    settings = ", ".join(
        f"{label} <code>{_e(report[key])}</code>"
        for key, label in (
            ("seed", "seed"),
            ("format", "format"),
            ("runner", "runner"),
            ("locale", "locale"),
            ("as_of", "as of"),
            ("config_sha256", "config sha256"),
        )
        if report.get(key) is not None
    )
    return (
        '<section id="summary"><h2>Run</h2>'
        f'<div class="facts">{"".join(facts)}</div>'
        f'<p class="note">{settings}</p>'
        "<table><thead><tr><th>table</th><th>rows</th><th>files</th>"
        "<th>own generation time</th><th>finished after</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        '<p class="note">Own generation time: generating and writing the table, summed over workers. '
        "Finished after: from the run's first chunk to the table's last file.</p></section>"
    )


def _bar(share: float) -> str:
    width = max(0.0, min(1.0, share)) * 100
    return f'<span class="bar" title="{share:.2%}"><i style="width:{width:.1f}%"></i></span>'


def _histogram_svg(counts: Sequence[int], labels: tuple[str, str], title: str) -> str:
    width, height = 200, 44
    peak = max(counts) if counts and max(counts) > 0 else 1
    step = width / max(1, len(counts))
    bars = "".join(
        f'<rect x="{i * step + 0.5:.1f}" y="{height - 12 - (c / peak) * (height - 14):.1f}" '
        f'width="{max(1.0, step - 1):.1f}" height="{(c / peak) * (height - 14):.1f}" fill="#627d98">'
        f"<title>{_e(c)}</title></rect>"
        for i, c in enumerate(counts)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
        f"<title>{_e(title)}</title>{bars}"
        f'<text x="0" y="{height - 1}" font-size="9" fill="#486581">{_e(labels[0])}</text>'
        f'<text x="{width}" y="{height - 1}" font-size="9" fill="#486581" text-anchor="end">{_e(labels[1])}</text>'
        "</svg>"
    )


def _distribution(column: Mapping[str, Any]) -> str:
    if column.get("top") and column["top"][0]["count"] == 1 and not column.get("top_is_all"):
        return '<p class="note">no value repeats (in the sample)</p>'
    if column.get("top"):
        items = "".join(
            f'<li><span class="v" title="{_e(t["value"])}">{_e("NULL" if t["value"] is None else t["value"])}</span>'
            f'<span class="b" style="width:{max(1.0, t["share"] * 100):.1f}%"></span>'
            f'<span class="s">{t["share"]:.1%}</span></li>'
            for t in column["top"]
        )
        more = "" if column.get("top_is_all") else '<p class="note">top values</p>'
        return f'<ul class="top">{items}</ul>{more}'
    histogram = column.get("histogram")
    if histogram:
        edges = histogram["edges"]
        return _histogram_svg(histogram["counts"], (str(edges[0]), str(edges[-1])), "histogram")
    return ""


def _children(column: Mapping[str, Any]) -> str:
    spread = column.get("children_per_parent")
    if not spread:
        return ""
    pairs = spread["histogram"]
    counts = [0] * (max((c for c, _ in pairs), default=0) + 1)
    for children, parents in pairs:
        counts[children] = parents
    approx = "" if spread.get("exact") else " (from a sample of parents)"
    return (
        f'<div class="note">children per parent of {_e(column.get("foreign_key", ""))}{approx}: mean '
        f'{spread["mean"]:.2f}, {spread["min"]}..{spread["max"]}, {spread["childless"]:,} without children</div>'
        + _histogram_svg(counts, ("0", str(len(counts) - 1)), "children per parent")
    )


def _table_section(name: str, entry: Mapping[str, Any], planned: Mapping[str, Any]) -> str:
    marks = {}
    for column in planned.get("columns") or []:
        constraints = set(column.get("constraints") or [])
        found = [m for m, c in (("PK", "PK"), ("UK", "unique")) if c in constraints]
        if column.get("name") in {fk["column"] for fk in planned.get("foreign_keys") or []}:
            found.append("FK")
        marks[column["name"]] = found
    sampled = entry.get("sampled_rows", 0) < entry.get("rows", 0)
    note = (
        f'<p class="note">Distinct counts, top values, histograms and string min/max from a sample of '
        f"{entry['sampled_rows']:,} rows; null shares and other min/max from every row.</p>"
        if sampled
        else ""
    )
    rows = []
    for column_name, column in (entry.get("columns") or {}).items():
        distinct = ("" if column.get("distinct_exact") else "≈ ") + _count(column.get("distinct"))
        mark = "".join(f'<span class="mark">{m}</span>' for m in marks.get(column_name, []))
        rows.append(
            f"<tr><td><code>{_e(column_name)}</code>{mark}</td><td><code>{_e(column.get('type'))}</code></td>"
            f'<td class="num">{column.get("null_share", 0):.1%} {_bar(column.get("null_share", 0))}</td>'
            f'<td class="num">{distinct}</td><td>{_e(_short(column.get("min")))}</td>'
            f"<td>{_e(_short(column.get('max')))}</td><td>{_distribution(column)}{_children(column)}</td></tr>"
        )
    return (
        f'<section class="profile" id="table-{_e(name)}" data-table="{_e(name)}">'
        f"<h2>{_e(name)} <small>{_count(entry.get('rows'))} rows</small></h2>{note}"
        "<table><thead><tr><th>column</th><th>type</th><th>nulls</th><th>distinct</th><th>min</th><th>max</th>"
        f"<th>distribution</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _short(value: Any, width: int = 40) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def render_html(report: Mapping[str, Any], profile: Mapping[str, Any] | None) -> str:
    """The whole page, from a run's report and (optional) profile."""
    tables = report.get("tables") or {}
    title = f"synthbeam report: {report.get('source') or report.get('output_dir') or ''}"
    diagram = render_erd(tables, "svg") if tables else ""
    profiles = (profile or {}).get("tables") or {}
    sections = "".join(_table_section(name, profiles[name], tables.get(name, {})) for name in profiles)
    if not profiles:
        sections = (
            '<section><h2>Profile</h2><p class="note">This run was made without a profile (--no-profile).</p></section>'
        )
    sub = " · ".join(
        _e(part)
        for part in (
            report.get("output_dir"),
            report.get("started_at"),
            f"run {report.get('run_id')}" if report.get("run_id") else None,
            f"synthbeam {report.get('synthbeam_version')}" if report.get("synthbeam_version") else None,
        )
        if part
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{_e(title)}</h1><div class="sub">{sub}</div></header><main>'
        f"{_summary(report)}"
        f'<section id="erd"><h2>Tables and keys</h2><div class="erd">{diagram}</div></section>'
        f"{sections}</main></body></html>\n"
    )


def refresh_html(out: str, report: Mapping[str, Any]) -> None:
    """Rewrite ``OUT/_report.html`` with the launcher's final report (any filesystem Beam knows)."""
    from apache_beam.io.filesystems import FileSystems

    from synthbeam.transforms.names import HTML_REPORT_NAME, PROFILE_NAME
    from synthbeam.transforms.output import write_text

    profile_path = FileSystems.join(out, PROFILE_NAME)
    profile = None
    if FileSystems.exists(profile_path):
        with FileSystems.open(profile_path) as handle:
            profile = json.loads(handle.read().decode("utf-8"))
    write_text(FileSystems.join(out, HTML_REPORT_NAME), render_html(report, profile))


def rebuild_html(out_dir: str | Path) -> Path:
    """``synthbeam report OUT``: write ``OUT/_report.html`` again from ``OUT/_report.json`` and ``_profile.json``."""
    from synthbeam.transforms.names import HTML_REPORT_NAME, PROFILE_NAME, REPORT_NAME

    from .errors import UserError

    folder = Path(out_dir)
    report_path = folder / REPORT_NAME
    if not report_path.is_file():
        raise UserError(f"{folder} is not a synthbeam output: it has no {REPORT_NAME}")
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        profile_path = folder / PROFILE_NAME
        profile = json.loads(profile_path.read_text(encoding="utf-8")) if profile_path.is_file() else None
    except (OSError, ValueError) as exc:
        raise UserError(f"{folder}: cannot read the run's JSON: {exc}") from None
    target = folder / HTML_REPORT_NAME
    target.write_text(render_html(report, profile), encoding="utf-8")
    return target
