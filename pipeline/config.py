"""From a config location and command-line overrides to a compiled plan.

Local paths go through :func:`synthbeam.rules.compiler.compile.build_plan`. A URL
(``gs://bucket/config.json``, or any scheme Beam's FileSystems handles) is read
with ``FileSystems.open`` and compiled from its text by the loader, so a
Dataflow template can take its config from Cloud Storage.

``choice_from_file`` paths are relative to the config file, remote or not. The
rule engine reads files without Beam, so for a remote config the files it names
are fetched (``FileSystems.open`` of the path next to the config's URL) into a
temporary folder for the compile; their values are then part of the plan, and
the folder is removed. ``security.key_file`` and ``openai.cache_dir`` of a
remote config still resolve against the working directory: a key is never
copied to local disk.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthbeam.rules.core.errors import ConfigError, Issue, Issues
from synthbeam.rules.core.model import Plan

if TYPE_CHECKING:
    from synthbeam.rules.config.loader import LoadedConfig

__all__ = ["MIGRATING_DOC", "is_url", "load_plan"]

MIGRATING_DOC = "docs/migrating.md"


def is_url(location: str) -> bool:
    return "://" in location


def load_plan(
    location: str, environment: str | None = None, overrides: Mapping[str, Any] | None = None
) -> tuple[Plan, Issues]:
    """The compiled plan and its issues (warnings, corrections); raises ConfigError."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    if not is_url(location):
        from synthbeam.rules.compiler.compile import compile_plan
        from synthbeam.rules.config.loader import load_config

        loaded = load_config(location, environment=environment, overrides=overrides)
        _configure_logging(loaded)
        _point_to_migrating(loaded)
        plan, issues = compile_plan(loaded)
    else:
        plan, issues = _load_url(location, environment, overrides)
    return _with_security(plan, issues)


def _configure_logging(loaded: LoadedConfig) -> None:
    """The config's ``logging`` block, before compiling (which logs); a broken config is refused first."""
    from .logconfig import configure_logging

    if not loaded.issues.errors:
        configure_logging(loaded.data.get("logging"), loaded.config_dir)


def _point_to_migrating(loaded: LoadedConfig) -> None:
    """A note naming docs/migrating.md when the config looks like one of the older generator's.

    Such a config runs, but some of its settings mean something else here (probabilities of
    unlisted choices, fallback_enabled, uniqueness...); the note is where validate says so.
    """
    from synthbeam.rules.config.legacy import FLAT_NOTE

    signs = []
    if "logging" in loaded.data:
        signs.append("a logging block")
    if any(note.startswith(FLAT_NOTE) for note in loaded.notes):
        signs.append("the legacy flat format")
    if signs:
        loaded.notes.append(
            f"this config looks like one of the older generator's ({' and '.join(signs)}): {MIGRATING_DOC} lists "
            "where synthbeam deliberately behaves differently and the config change that gets the old behaviour"
        )


def _with_security(plan: Plan, issues: Issues) -> tuple[Plan, Issues]:
    """Decide masking and encryption (the key comes from the environment or a key file, here)."""
    from synthbeam.rules.security.crypto import is_key_url
    from synthbeam.rules.security.policy import plan_security

    if is_key_url((plan.security or {}).get("key_file")):
        import synthbeam.transforms.keys  # noqa: F401  (installs the FileSystems reader; imports Beam)
    security_plan, security_issues = plan_security(plan, os.environ)
    if security_issues.errors:
        raise ConfigError(security_issues.errors, plan.source)
    issues.extend(security_issues)
    plan.protection = security_plan if security_plan.active else None
    # The plan carries its warnings, so every command that runs it (not only validate) can say them.
    plan.warnings = [str(issue) for issue in issues.warnings]
    return plan, issues


def _load_url(location: str, environment: str | None, overrides: Mapping[str, Any]) -> tuple[Plan, Issues]:
    from apache_beam.io.filesystems import FileSystems

    from synthbeam.rules.compiler.compile import compile_plan
    from synthbeam.rules.config import loader

    try:
        with FileSystems.open(location) as handle:
            raw = handle.read(loader.MAX_CONFIG_BYTES + 1)
    except Exception as exc:  # missing object, no credentials, unknown scheme: one line either way
        raise ConfigError([Issue("", f"cannot read config {location}: {_first_line(exc)}")]) from None
    loader.check_config_size(len(raw), location)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError([Issue("", f"{location}: the file is not UTF-8 text")]) from None
    loaded = loader.load_config_text(text, location, Path("."), environment, overrides)
    _configure_logging(loaded)
    _point_to_migrating(loaded)
    with tempfile.TemporaryDirectory(prefix="synthbeam-config-files-") as staging:
        loaded.data_dir = _fetch_data_files(loaded.data, location, Path(staging))
        plan, issues = compile_plan(loaded)
    plan.settings.data_dir = None  # the copies are gone; their values are in the plan
    return plan, issues


def _fetch_data_files(data: Mapping[str, Any], location: str, staging: Path) -> Path:
    """Copy every file a ``choice_from_file`` rule names (relative to the config's URL) below ``staging``."""
    from apache_beam.io.filesystems import FileSystems

    scheme, _, config_path = location.partition("://")
    folder = posixpath.dirname(config_path)
    problems = []
    for place, file_path in _data_files(data):
        relative = posixpath.normpath(file_path)
        if relative.startswith("../") or relative == "..":
            problems.append(
                Issue(place, f"choice_from_file {file_path}: a remote config's files must be in its folder or below")
            )
            continue
        url = f"{scheme}://{posixpath.join(folder, relative)}"
        target = staging / relative
        if target.exists():
            continue
        try:
            with FileSystems.open(url) as handle:
                content = handle.read()
        except Exception as exc:  # missing object, no credentials: one line naming the column and the URL
            problems.append(Issue(place, f"choice_from_file {file_path}: cannot read {url}: {_first_line(exc)}"))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    if problems:
        raise ConfigError(problems, location)
    return staging


def _data_files(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(column place, file_path) of every ``choice_from_file`` rule with a relative ``file_path``."""
    from synthbeam.rules.compiler.compile import column_place

    for table in data.get("tables") or []:
        if not isinstance(table, Mapping):
            continue
        for position, column in enumerate(table.get("columns") or []):
            if not isinstance(column, Mapping):
                continue
            place = column_place(str(table.get("table_name")), position, str(column.get("name")))
            for file_path in _file_parameters(column):
                if _relative_local(file_path):
                    yield place, file_path


def _relative_local(file_path: Any) -> bool:
    """A path the rule resolves against its folder (an absolute one is read as it is: rules/generators/choice.py)."""
    return (
        isinstance(file_path, str) and bool(file_path) and "://" not in file_path and not Path(file_path).is_absolute()
    )


def _file_parameters(node: Any) -> Iterator[Any]:
    """The value of every rule key declared as a file to read (``Param.file``), however deeply rules nest."""
    from synthbeam.rules.config import catalog  # noqa: F401  (registers every rule family)
    from synthbeam.rules.core.registry import lookup_registered

    if isinstance(node, Mapping):
        rule_type = node.get("type")
        rule_class = lookup_registered(rule_type) if isinstance(rule_type, str) else None
        for param in (rule_class.parameters or ()) if rule_class is not None else ():
            if param.file:
                yield from (node[key] for key in param.keys if key in node)
        for value in node.values():
            yield from _file_parameters(value)
    elif isinstance(node, list):
        for item in node:
            yield from _file_parameters(item)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


PREVIEW_DEDUP_MAX_ROWS = 2_000_000


def resolve_dedup(plan: Plan) -> list[str]:
    """Run the dedup pass in this process for ``preview``, so it shows the rows ``generate`` writes.

    ``generate`` runs the same rounds distributed. Here the pass holds a
    column's values in a set, so columns of tables over
    ``PREVIEW_DEDUP_MAX_ROWS`` rows are left out; their names are returned
    so the caller can say that those previews may differ where a row collided.
    """
    from synthbeam.rules.engine.dedup import apply_dedup, dedup_columns

    done = apply_dedup(plan, max_rows=PREVIEW_DEDUP_MAX_ROWS)
    return [f"{table}.{column}" for table, column in dedup_columns(plan) if f"{table}.{column}" not in done]
