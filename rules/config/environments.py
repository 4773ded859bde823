"""Layered run settings: the file, then the chosen environment, then the command line.

``environments: {name: {performance: {...}, output: {...}, seed: 7, ...}}`` names sets of
overrides of the generation settings (``seed``, ``locale``, ``rows``, ``scale``, ``as_of``
and the ``performance``, ``security``, ``openai`` and ``output`` blocks). The chosen one is
deep-merged over the file's settings: a block merges key by key, a plain value replaces.
Command-line overrides come last; their keys are dotted (``output.format``) and None values
mean "not given". An unknown environment is an error naming the known ones (the seed only
logged a warning and carried on with the wrong settings).

Each layer sets only values that pass the schema; a bad value is reported once (the file's
environments are validated with the rest of the file, command-line values here) and the
value below it stays. Each layer returns a note saying what it changed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from synthbeam.rules.config.validator import validate_setting
from synthbeam.rules.core.errors import Issues


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """A new mapping: ``overlay`` over ``base``, merging nested mappings key by key."""
    merged = {key: value for key, value in base.items()}
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = _copy(value)
    return merged


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) for every leaf: ``{"output": {"format": "csv"}}`` -> ``output.format``.

    An empty mapping has no leaves: ``"output": {}`` in an environment changes nothing.
    """
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, dotted + ".")
        else:
            yield dotted, value


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for ``"a.b"``, creating (or replacing non-object) holders."""
    *holders, last = dotted.split(".")
    target = data
    for key in holders:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[last] = _copy(value)


def show_setting(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _plain(value: Any) -> Any:
    """Command-line values as JSON would hold them (dates as ISO text, paths as strings)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def apply_environment(data: dict[str, Any], name: str | None, issues: Issues) -> tuple[str | None, str | None]:
    """Merge environment ``name`` into ``data``; (the name applied or None, a note or None)."""
    if name is None:
        return None, None
    environments = data.get("environments")
    known = sorted(environments) if isinstance(environments, Mapping) else []
    if name not in known:
        if known:
            issues.error("environments", f"unknown environment {name!r}; known: {', '.join(known)}")
        else:
            issues.error("environments", f"unknown environment {name!r}: the config defines no environments")
        return None, None
    block = environments[name]
    if not isinstance(block, Mapping):
        return None, None  # reported by validation at environments.<name>
    # Problems inside the block were reported when the file was validated; skip those values.
    applied = _apply(data, flatten(block), Issues(), origin=f"environment {name!r}")
    if not applied:
        return name, f"environment {name!r} applied: no changes"
    return name, f"environment {name!r} applied: " + ", ".join(applied)


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any] | None, issues: Issues) -> str | None:
    """Apply command-line settings (dotted keys; None = not given); a note of what was set."""
    if not overrides:
        return None
    pairs = [(key.replace("-", "_"), _plain(value)) for key, value in flatten(overrides) if value is not None]
    applied = _apply(data, pairs, issues, origin="command line")
    return "command line: " + ", ".join(applied) if applied else None


def _apply(data: dict[str, Any], pairs: Any, issues: Issues, origin: str) -> list[str]:
    applied = []
    for dotted, value in pairs:
        if validate_setting(dotted, value, issues, origin=origin):
            set_dotted(data, dotted, value)
            applied.append(f"{dotted}={show_setting(value)}")
    return applied
