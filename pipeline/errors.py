"""Errors the CLI reports as one line on stderr with exit status 1 (a traceback only with --debug)."""

from __future__ import annotations

import re

__all__ = ["RunFailed", "UserError", "failure_line"]


class UserError(Exception):
    """A problem the user can fix: bad option, existing output, unusable name."""


class RunFailed(UserError):
    """The pipeline failed; the message is the underlying error in one line."""


_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)):\s?(.*)$")


def failure_line(exc: BaseException) -> str:
    """The most telling single line of a (possibly remote, traceback-laden) failure.

    Runners re-raise worker failures with the worker's traceback in the
    message; its last ``SomeError: message`` line names the real problem.
    Beam's ``[while running '...']`` suffix is kept: it names the step.
    """
    text = str(exc).strip()
    candidates = [m for m in (_EXCEPTION_LINE.match(line.strip()) for line in text.splitlines()) if m]
    if candidates:
        name, message = candidates[-1].groups()
        return f"{name.rsplit('.', 1)[-1]}: {message}".strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
