"""synthbeam: deterministic synthetic relational test data.

The Python API (see ``docs/python.md``)::

    import synthbeam

    plan = synthbeam.load("templates/retail.json", rows=100, seed=7)
    customers = synthbeam.tables(plan, rows=10)["customers"]      # a pyarrow.Table
    report = synthbeam.generate(plan, out="out", format="csv")    # the Beam pipeline

``load`` raises :class:`ConfigError` with every problem found (``.issues``,
each with ``place`` and ``message``). The subpackages are the implementation:
``synthbeam.rules`` (values, no Beam), ``synthbeam.transforms`` (Beam steps),
``synthbeam.pipeline`` (the CLI and this API's code, ``pipeline/python_api.py``).

This folder (``pipeline/api/``) is installed as the package ``synthbeam``
itself (``setup.py`` maps it). Its names are imported on first use, so
``import synthbeam.pipeline`` -- the console script -- pays nothing for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if __name__ != "synthbeam":  # pragma: no cover - an editable checkout also sees this folder as a subpackage
    raise ImportError(f"this folder is the package 'synthbeam'; import synthbeam, not {__name__}")

if TYPE_CHECKING:
    from synthbeam.pipeline.errors import RunFailed, UserError
    from synthbeam.pipeline.python_api import ConfigWarning, Report, generate, load, tables
    from synthbeam.rules.core.errors import ConfigError, GenerationError, Issue
    from synthbeam.rules.core.model import Plan

__all__ = [
    "ConfigError",
    "ConfigWarning",
    "GenerationError",
    "Issue",
    "Plan",
    "Report",
    "RunFailed",
    "UserError",
    "__version__",
    "generate",
    "load",
    "tables",
]

_HOMES = {
    "ConfigWarning": "synthbeam.pipeline.python_api",
    "Report": "synthbeam.pipeline.python_api",
    "generate": "synthbeam.pipeline.python_api",
    "load": "synthbeam.pipeline.python_api",
    "tables": "synthbeam.pipeline.python_api",
    "ConfigError": "synthbeam.rules.core.errors",
    "GenerationError": "synthbeam.rules.core.errors",
    "Issue": "synthbeam.rules.core.errors",
    "Plan": "synthbeam.rules.core.model",
    "RunFailed": "synthbeam.pipeline.errors",
    "UserError": "synthbeam.pipeline.errors",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562) and keep it."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version("synthbeam")
        except PackageNotFoundError:  # a checkout that was never installed
            value = "unknown"
    elif name in _HOMES:
        import importlib

        value = getattr(importlib.import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module 'synthbeam' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
