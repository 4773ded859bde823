"""Warnings a run owes its user: said once on stderr and kept in ``_report.json``'s ``notes``.

``validate`` lists a plan's warnings; ``generate`` must not lose them, nor the
ones only a run can find (memory over ``performance.max_memory_mb``, a key that
travels with the job). Both go through :func:`warn`, so a warning reaches the
terminal exactly once and the report holds the same text (without the
``warning:`` prefix the terminal line has).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO

__all__ = ["warn", "warn_all"]

_LOG = logging.getLogger(__name__)


def warn(report: dict[str, Any], message: str, stream: TextIO | None = None) -> None:
    """Print ``warning: message`` and add ``message`` to the report's notes, unless it is there already."""
    notes = report.setdefault("notes", [])
    if message in notes:
        return
    notes.append(message)
    (stream or sys.stderr).write(f"warning: {message}\n")
    _LOG.warning("%s", message)  # for a config's logging.file (silent otherwise, unless --debug)


def warn_all(report: dict[str, Any], messages: Iterable[str], stream: TextIO | None = None) -> None:
    for message in messages:
        warn(report, message, stream)
