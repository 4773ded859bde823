"""Plain-text rendering for the terminal: aligned tables and readable cell values.

Used by ``preview`` (rows), ``validate`` and ``plan`` (summaries). Pure
functions of their inputs; no Beam, no I/O.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["NEWLINE_MARK", "format_bytes", "format_cell", "render_table", "truncate", "visible"]

NULL = "NULL"


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, marking the cut with an ellipsis."""
    if width <= 0 or len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


def format_cell(value: Any) -> str:
    """One value as it should read in a terminal (no quotes, ISO dates, NULL for null)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.time):
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return visible(str(value))


NEWLINE_MARK = "⏎"
# Line breaks and other control characters would break a table's alignment. They are shown as
# marks, one per character, and the rest of the text stays as it is: escaping the whole cell
# (unicode_escape) turned "Waldmünchen" into "Waldm\xfcnchen" as soon as it held a newline.
_MARKS = {
    **{code: chr(0x2400 + code) for code in range(0x20)},  # control pictures: ␉ for tab, ␀ for NUL...
    0x7F: "␡",
    **dict.fromkeys((0x0A, 0x0B, 0x0C, 0x85, 0x2028, 0x2029), NEWLINE_MARK),
}
_CRLF = "\r\n"


def visible(text: str) -> str:
    """``text`` on one line: line breaks become ⏎ (``\\r\\n`` one mark), other control characters their symbols."""
    if not any(ord(ch) in _MARKS for ch in text):
        return text
    return text.replace(_CRLF, "\n").translate(_MARKS)


def _is_numeric(values: Sequence[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    max_cell: int = 32,
    max_width: int | None = None,
    indent: str = "",
    raw: bool = False,
    repeat: Sequence[int] = (),
    wrap: int | None = None,
) -> list[str]:
    """Aligned text lines; numeric columns right-aligned, long cells truncated.

    When the table is wider than ``max_width`` the columns are split into
    several blocks, each with its own headers; the columns at the positions in
    ``repeat`` (a key) lead every block, so each row can be told apart. Column
    ``wrap`` (a position) is not truncated but wrapped at spaces onto
    continuation lines to fit ``max_width``, so no word or number is ever cut.
    """
    if wrap is not None and max_width:
        return _render_wrapped(headers, rows, wrap, max_cell=max_cell, max_width=max_width, indent=indent, raw=raw)
    cells = [[str(v) if raw else format_cell(v) for v in row] for row in rows]
    cells = [[truncate(c, max_cell) for c in row] for row in cells]
    heads = [truncate(h, max_cell) for h in headers]
    numeric = [_is_numeric([row[i] for row in rows]) if not raw else False for i in range(len(headers))]
    widths = [max([len(heads[i])] + [len(row[i]) for row in cells]) for i in range(len(headers))]
    lead = [i for i in dict.fromkeys(repeat) if 0 <= i < len(headers)]
    lead_used = len(indent) + sum(widths[i] for i in lead) + 2 * max(0, len(lead) - 1)
    blocks: list[list[int]] = []
    block, used = list(lead), lead_used
    for i in (i for i in range(len(headers)) if i not in lead):
        need = widths[i] + (2 if block else 0)
        if max_width and len(block) > len(lead) and used + need > max_width:
            blocks.append(block)
            block, used = list(lead), lead_used
            need = widths[i] + (2 if block else 0)
        block.append(i)
        used += need
    blocks.append(block)
    lines: list[str] = []
    for number, block in enumerate(blocks):
        if number:
            lines.append("")

        def line(values: Sequence[str], block: list[int] = block) -> str:
            parts = [values[i].rjust(widths[i]) if numeric[i] else values[i].ljust(widths[i]) for i in block]
            return (indent + "  ".join(parts)).rstrip()

        lines.append(line(heads))
        lines.append(indent + "  ".join("-" * widths[i] for i in block))
        lines.extend(line(row) for row in cells)
    return lines


def _render_wrapped(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    wrap: int,
    *,
    max_cell: int,
    max_width: int,
    indent: str,
    raw: bool,
) -> list[str]:
    """One block; column ``wrap`` (the last one shown) takes what width is left and wraps at spaces."""
    import textwrap

    cells = [[str(v) if raw else format_cell(v) for v in row] for row in rows]
    fixed = [i for i in range(len(headers)) if i != wrap]
    widths = {i: max([len(headers[i])] + [len(truncate(row[i], max_cell)) for row in cells]) for i in fixed}
    room = max_width - len(indent) - sum(widths[i] + 2 for i in fixed)
    room = max(room, 24, len(headers[wrap]))  # a narrow terminal: wrap anyway, at a readable width
    room = min(room, max([len(headers[wrap])] + [len(row[wrap]) for row in cells]))
    order = [*fixed, wrap]

    def line(values: dict[int, str]) -> str:
        return (indent + "  ".join(values[i].ljust(widths.get(i, 0)) for i in order)).rstrip()

    lines = [line({i: headers[i] for i in order}), indent + "  ".join("-" * widths.get(i, room) for i in order)]
    widths[wrap] = 0
    for row in cells:
        pieces = textwrap.wrap(row[wrap], room, break_long_words=False, break_on_hyphens=False) or [""]
        lines.append(line({**{i: truncate(row[i], max_cell) for i in fixed}, wrap: pieces[0]}))
        lines.extend(line({**{i: "" for i in fixed}, wrap: piece}) for piece in pieces[1:])
    return lines


def format_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
