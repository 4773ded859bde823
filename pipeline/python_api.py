"""The Python API behind ``import synthbeam``: load a config, get tables in process, run the pipeline.

Contract:

* :func:`load` accepts what a user has at hand -- a path (local or ``gs://``),
  JSON text, or a dict -- plus the command line's overrides as keywords, and
  returns the compiled :class:`~synthbeam.rules.core.model.Plan`. Every validation
  problem is raised together in one :class:`~synthbeam.rules.core.errors.ConfigError`
  (``.issues``: each with its ``place`` and ``message``); warnings become
  :class:`ConfigWarning` Python warnings.
* :func:`tables` generates in this process, without Beam, and keeps every
  guarantee ``generate`` gives: the dedup pass of unique columns runs first
  (in-process, the same rounds as ``transforms/dedup.py``), then masking and
  encryption per batch. Row ``i`` of a table is row ``i`` of a full run.
  The caller's plan is never modified.
* :func:`generate` runs the same pipeline as ``synthbeam generate`` and returns
  its :class:`Report`.

Beam is imported only by :func:`generate`, so notebooks and test suites that
only call :func:`tables` start fast.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthbeam.rules.core.errors import Issues

if TYPE_CHECKING:
    import pyarrow as pa

    from synthbeam.rules.core.model import Plan

__all__ = ["ConfigWarning", "Report", "generate", "load", "tables"]

DICT_SOURCE = "<config dict>"
TEXT_SOURCE = "<config text>"
BATCH_ROWS = 65_536  # rows per generated batch: memory stays bounded, values do not depend on it


class ConfigWarning(UserWarning):
    """A config that works but probably not as meant (the warnings ``synthbeam validate`` lists)."""


def load(
    config: str | os.PathLike[str] | Mapping[str, Any],
    /,
    *,
    environment: str | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> Plan:
    """Compile a config into a plan.

    ``config`` is a path or URL of a JSON file, JSON text, or a dict shaped like
    the file. ``overrides`` are the command line's options: ``seed=``, ``rows=``,
    ``scale=``, ``locale=``, ``as_of=``, or nested blocks such as
    ``output={"format": "csv"}``. ``environment`` picks ``environments[NAME]``.
    ``base_dir`` is where a dict's or text's relative paths (``choice_from_file``,
    ``security.key_file``) resolve; the current directory by default.

    Raises :class:`ConfigError` carrying every problem found, each with its place.
    """
    from synthbeam.rules.compiler.compile import compile_plan
    from synthbeam.rules.config.loader import load_config_text

    from .config import _with_security, load_plan

    given = {key: value for key, value in overrides.items() if value is not None}
    if isinstance(config, Mapping) or (isinstance(config, str) and config.lstrip().startswith("{")):
        text = config if isinstance(config, str) else json.dumps(config)
        source = TEXT_SOURCE if isinstance(config, str) else DICT_SOURCE
        folder = Path(base_dir) if base_dir is not None else Path.cwd()
        loaded = load_config_text(text, source, folder, environment, given)
        plan, issues = _with_security(*compile_plan(loaded))
    elif isinstance(config, (str, os.PathLike)):
        plan, issues = load_plan(os.fspath(config), environment=environment, overrides=given)
    else:
        raise TypeError(f"synthbeam.load: expected a path, JSON text or a dict, got {type(config).__name__}")
    _warn(issues)
    return plan


def _warn(issues: Issues) -> None:
    for issue in issues.warnings:
        warnings.warn(str(issue), ConfigWarning, stacklevel=3)


def tables(plan: Plan, rows: int | None = None, *, names: Iterable[str] | None = None) -> dict[str, pa.Table]:
    """Every table of ``plan`` (or those in ``names``) as a ``pyarrow.Table``, generated in this process.

    ``rows`` limits each table to its first ``rows`` rows (``None``: all of them);
    they are exactly the first rows a full ``generate`` run writes, unique
    columns deduplicated over the whole table, masking and encryption applied.
    Meant for small data (tests, notebooks): everything is held in memory.
    """
    import pyarrow as pa

    from synthbeam.rules.engine.batch import generate_batch
    from synthbeam.rules.engine.dedup import apply_dedup
    from synthbeam.rules.security.apply import output_schema, protect

    if rows is not None and rows < 0:
        raise ValueError(f"rows must be >= 0 or None, got {rows}")
    wanted = list(plan.tables) if names is None else list(names)
    unknown = [name for name in wanted if name not in plan.tables]
    if unknown:
        raise KeyError(f"no table {unknown[0]!r} in {plan.source}; tables: {', '.join(plan.tables)}")
    # A copy with its own replacement map: the caller's plan stays as it was, ready for generate().
    work = dataclasses.replace(plan, replacements={})
    apply_dedup(work)
    result: dict[str, pa.Table] = {}
    for name in wanted:
        total = plan.table(name).rows
        count = total if rows is None else min(rows, total)
        batches = [protect(work, name, start, generate_batch(work, name, start, stop)) for start, stop in _spans(count)]
        result[name] = pa.Table.from_batches(batches, schema=output_schema(work, name))
    return result


def _spans(rows: int) -> Iterator[tuple[int, int]]:
    for start in range(0, rows, BATCH_ROWS):
        yield start, min(rows, start + BATCH_ROWS)


@dataclasses.dataclass(frozen=True)
class Report(Mapping[str, Any]):
    """What a run wrote: ``OUT/_report.json`` as a read-only mapping, plus shortcuts."""

    path: str
    data: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def out(self) -> str:
        """The output directory."""
        return str(self.data.get("output_dir", ""))

    @property
    def rows(self) -> dict[str, int]:
        """Rows written per table."""
        return {name: int(entry.get("rows_written", 0)) for name, entry in self.data.get("tables", {}).items()}

    def files(self, table: str) -> list[str]:
        """The shard files of ``table``, from the report's pattern and count (the report does not list them)."""
        entry = self.data["tables"][table]
        pattern, count = entry.get("file_pattern"), int(entry.get("files") or 0)
        if not pattern:
            return []
        return [pattern.replace("*", f"{number:05d}", 1) for number in range(count)]


def generate(
    plan: Plan,
    out: str | os.PathLike[str] | None = None,
    *,
    format: str | None = None,
    num_shards: int | None = None,
    overwrite: bool = False,
    beam_args: Sequence[str] = (),
    progress: bool = False,
    debug: bool = False,
    to: str | None = None,
) -> Report:
    """Run the pipeline for ``plan``, as ``synthbeam generate`` does, and return its report.

    With ``to`` (``sqlite:///path.db``, ``duckdb:///path.duckdb``, ``postgresql://...``) the
    tables are loaded into that database as ``generate --to`` does, all or nothing, keys
    checked by the database; ``out`` then keeps the Parquet files and report, if given.

    ``out``, ``format`` and ``num_shards`` default to the plan's ``output``
    block (then ``./output``, parquet, the runner's choice). ``beam_args`` are
    Beam pipeline options (``["--direct_num_workers=2"]``). Beam's logs are
    quiet unless ``debug``. Raises :class:`~synthbeam.pipeline.errors.UserError`
    (bad options, an existing output without ``overwrite``) or its subclass
    ``RunFailed``; a failed run leaves no partial output.
    """
    from .cli import DEFAULT_FORMAT, _runtime
    from .run import DEFAULT_OUT, GenerateRequest
    from .run import generate as run_pipeline

    output = plan.output or {}
    source = plan.source if plan.source not in (DICT_SOURCE, TEXT_SOURCE) else None
    if to is not None:
        return _generate_to(plan, to, out, overwrite, beam_args, source, debug)
    request = GenerateRequest(
        out=os.fspath(out) if out is not None else str(output.get("directory") or DEFAULT_OUT),
        output_format=str(format or output.get("format") or DEFAULT_FORMAT),
        num_shards=int(num_shards if num_shards is not None else output.get("num_shards") or 0),
        overwrite=overwrite,
        beam_args=list(beam_args),
        live=progress,
        config_location=source,
        command=["synthbeam.generate()"],
    )
    with _runtime(debug):
        result = run_pipeline(plan, request)
    return Report(result.report_path, result.report)


def _generate_to(
    plan: Plan,
    url: str,
    out: str | os.PathLike[str] | None,
    overwrite: bool,
    beam_args: Sequence[str],
    source: str | None,
    debug: bool,
) -> Report:
    """``generate(plan, to=URL)``: the pipeline, then the database loader of ``generate --to``."""
    from .cli import _runtime
    from .database import resolve_target
    from .database.generate import generate_into_database
    from .run import GenerateRequest

    database = dict((plan.output or {}).get("database") or {})
    target = resolve_target(url, database)
    request = GenerateRequest(
        overwrite=overwrite,
        beam_args=list(beam_args),
        live=False,
        config_location=source,
        command=["synthbeam.generate()", f"to={target.redact(url)}"],
    )
    kept = os.fspath(out) if out is not None else None
    with _runtime(debug):
        report = generate_into_database(plan, request, target, keep_out=kept)
    return Report(os.path.join(kept, "_report.json") if kept else "", report)
