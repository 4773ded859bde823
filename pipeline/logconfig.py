"""The config's ``logging`` block (the older generator's): synthbeam's own messages, by level, to a file.

``{"logging": {"level": "INFO", "file": "generation.log", "format": "..."}}`` configures
the ``synthbeam`` logger (every synthbeam module logs under it): messages at ``level`` and
above go to ``file`` (appended; relative to the config's folder) or, without a file, to
stderr. Beam's and other libraries' loggers are left alone (``--debug`` shows them). The
setting applies to the launching process, where the config is compiled and the run
reported: workers of a multi-process or remote runner log as their runner sets up.

Applied before the config is compiled, so what compiling logs (LLM pools fetched, the
Faker compile cache) is included; removed when the command ends, so a second command in
one process starts clean.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_FORMAT", "LOGGER_NAME", "configure_logging", "reset_logging"]

LOGGER_NAME = "synthbeam"
DEFAULT_LEVEL = "INFO"
DEFAULT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_installed: list[logging.Handler] = []
_saved: dict[str, Any] = {}


def configure_logging(block: Mapping[str, Any] | None, config_dir: Path) -> None:
    """Apply a validated ``logging`` block (the schema checked its keys and level); None or {} does nothing."""
    reset_logging()
    if not block:
        return
    logger = logging.getLogger(LOGGER_NAME)
    _saved.update(level=logger.level, propagate=logger.propagate)
    level = getattr(logging, str(block.get("level") or DEFAULT_LEVEL).upper())
    file = block.get("file")
    if file:
        path = Path(str(file)).expanduser()
        path = path if path.is_absolute() else config_dir / path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
        except OSError as exc:
            from .errors import UserError

            raise UserError(f"logging.file {file}: cannot open {path}: {exc.strerror or exc}") from None
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(str(block.get("format") or DEFAULT_FORMAT)))
    handler.setLevel(level)
    logger.addHandler(handler)
    logger.setLevel(level)
    # The root handler the CLI installs is silent unless --debug; this block's handler speaks for synthbeam.
    logger.propagate = False
    _installed.append(handler)


def reset_logging() -> None:
    """Remove what :func:`configure_logging` installed and restore the ``synthbeam`` logger."""
    logger = logging.getLogger(LOGGER_NAME)
    while _installed:
        handler = _installed.pop()
        logger.removeHandler(handler)
        handler.close()
    if _saved:
        logger.setLevel(_saved.pop("level"))
        logger.propagate = _saved.pop("propagate")
