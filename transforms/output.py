"""The output directory: staging, the all-or-nothing commit, cleanup. FileSystems only.

Layout of a finished run::

    OUT/<table>/<table>-00000-of-00004.parquet   (shard files)
    OUT/_profile.json, OUT/_report.html          (the column profile and the page; not with --no-profile)
    OUT/_report.json                             (written last)

While a run is in flight its files live under ``OUT/.synthbeam-tmp-<run id>/``
(each sink adds its own ``beam-temp-*`` directory below that). Only when every
table is finalized does :class:`CommitOutput`, the pipeline's last step, move
them into place, replacing the previous content when ``--overwrite`` was
given, and write ``_report.json``. Because the commit is a pipeline step, a
run submitted to a remote runner completes its output even if the launching
process does not wait. Nothing here touches the disk except through Beam's
``FileSystems``, so ``OUT`` may be local or ``gs://``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io.filesystems import FileSystems

from .names import AUDIT_FILE, HTML_REPORT_NAME, PROFILE_NAME, REPORT_NAME, STAGING_PREFIX
from .write import TableWritten

__all__ = [
    "REPORT_NAME",
    "STAGING_PREFIX",
    "CommitOutput",
    "OutputLayout",
    "commit_output",
    "existing_entries",
    "remove_tree",
    "write_json",
]

_COMMITTING = "_COMMITTING"


@dataclass(frozen=True)
class OutputLayout:
    """Where one run writes: the output directory and its staging directory."""

    out: str
    run_id: str

    @property
    def staging(self) -> str:
        return FileSystems.join(self.out, STAGING_PREFIX + self.run_id)

    def staged_prefix(self, table: str) -> str:
        """The sink's ``file_path_prefix`` for ``table``: files become ``<table>-SSSSS-of-NNNNN.ext``."""
        return FileSystems.join(self.staging, table, table)

    def table_dir(self, table: str) -> str:
        return FileSystems.join(self.out, table)

    @property
    def report(self) -> str:
        return FileSystems.join(self.out, REPORT_NAME)


def _relative(root: str, path: str) -> str:
    root = root.rstrip("/\\")
    return path[len(root) :].lstrip("/\\") if path.startswith(root) else path


def existing_entries(directory: str) -> set[str]:
    """Top-level names under ``directory`` that hold at least one file (empty if absent)."""
    pattern = FileSystems.join(directory, "**")
    matches = FileSystems.match([pattern])[0].metadata_list
    names = set()
    for metadata in matches:
        relative = _relative(directory, metadata.path).replace("\\", "/")
        if relative:
            names.add(relative.split("/", 1)[0])
    return names


def _directory_path(path: str) -> str:
    # Object stores delete "directories" recursively only when the path ends in a slash.
    return path if "://" not in path or path.endswith("/") else path + "/"


def remove_tree(path: str) -> None:
    """Delete a file or directory tree; missing paths are fine."""
    with contextlib.suppress(Exception):
        if FileSystems.exists(path):
            FileSystems.delete([path])
            return
    if "://" in path:
        with contextlib.suppress(Exception):  # nothing there: nothing to remove
            FileSystems.delete([_directory_path(path)])


def _mkdirs(path: str) -> None:
    with contextlib.suppress(OSError):  # exists already (local); object stores have no directories
        FileSystems.mkdirs(path)


def write_json(path: str, data: Any) -> None:
    """Write ``data`` as indented JSON (via a temporary name, then a rename)."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def write_text(path: str, text: str) -> None:
    """Write UTF-8 ``text`` via a temporary name, then a rename, so readers never see half a file."""
    temp = path + ".tmp"
    with FileSystems.create(temp) as handle:
        handle.write(text.encode("utf-8"))
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([temp], [path])


def commit_output(
    layout: OutputLayout,
    tables: Iterable[TableWritten],
    overwrite: bool,
    report: dict[str, Any],
    audit: Sequence[str] = (),
    profile: dict[str, Any] | None = None,
    render_html: Callable[[dict[str, Any], dict[str, Any] | None], str] | None = None,
) -> dict[str, Any]:
    """Move every staged table into ``OUT``, write the report, drop the staging directory.

    With ``profile``, ``_profile.json`` is written too; with ``render_html`` (the
    pipeline layer's page renderer), ``_report.html``. Both before ``_report.json``,
    which stays the last file of a finished run.

    Safe to retry: the old content is removed only before the first file has
    moved (a marker in the staging directory records that), and files already
    moved are skipped.
    """
    written = {t.table: t for t in tables}
    marker = FileSystems.join(layout.staging, _COMMITTING)
    staging_name = STAGING_PREFIX + layout.run_id
    if not FileSystems.exists(marker):
        if overwrite:
            for name in existing_entries(layout.out) - {staging_name}:
                remove_tree(FileSystems.join(layout.out, name))
        with FileSystems.create(marker) as handle:
            handle.write(b"commit in progress\n")
    for name, table in written.items():
        target_dir = layout.table_dir(name)
        _mkdirs(target_dir)
        sources, targets = [], []
        for staged in table.files:
            target = FileSystems.join(target_dir, FileSystems.split(staged)[1])
            if FileSystems.exists(staged):
                sources.append(staged)
                targets.append(target)
        if sources:
            FileSystems.rename(sources, targets)
    report = dict(report)
    report["tables"] = _report_tables(report.get("tables", {}), written, layout)
    report["total_rows"] = sum(t.rows for t in written.values())
    collisions = _dedup_collisions(written)
    if collisions:
        report["dedup_collisions"] = collisions
    if audit:
        write_text(FileSystems.join(layout.out, AUDIT_FILE), "".join(line + "\n" for line in audit))
    if profile is not None:
        write_json(FileSystems.join(layout.out, PROFILE_NAME), profile)
    if render_html is not None:
        write_text(FileSystems.join(layout.out, HTML_REPORT_NAME), render_html(report, profile))
    write_json(layout.report, report)
    remove_tree(layout.staging)
    return report


def _dedup_collisions(written: dict[str, TableWritten]) -> dict[str, int]:
    """Rows the dedup pass re-drew, per ``table.column`` (from the generation events)."""
    suffix = ":dedup_replaced"
    return {
        f"{name}.{event[: -len(suffix)]}": count
        for name, table in written.items()
        for event, count in table.events.items()
        if event.endswith(suffix)
    }


def _report_tables(planned: dict[str, Any], written: dict[str, TableWritten], layout: OutputLayout) -> dict[str, Any]:
    tables = {}
    for name in list(planned) + [n for n in written if n not in planned]:
        entry = dict(planned.get(name, {}))
        table = written.get(name)
        if table is not None:
            entry.update(
                rows_written=table.rows,
                chunks=table.chunks,
                seconds=table.seconds,
                busy_seconds=table.busy_seconds,
                files=[FileSystems.join(layout.table_dir(name), FileSystems.split(f)[1]) for f in table.files],
                events=table.events,
                peak_worker_rss_mb=round(table.peak_worker_rss / 2**20, 1),
            )
        tables[name] = entry
    return tables


def _commit(
    tables: list[TableWritten],
    layout: OutputLayout,
    overwrite: bool,
    report: dict[str, Any],
    audit: Sequence[str],
    render_html: Callable[[dict[str, Any], dict[str, Any] | None], str] | None = None,
    profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return commit_output(layout, tables, overwrite, report, audit, profile, render_html)


class CommitOutput(beam.PTransform):
    """The one ``[TableWritten, ...]`` of every table (once all are final) -> the written report.

    A main input, not a side input, so the commit runs in the step that
    finalized the tables instead of a stage of its own.
    """

    def __init__(
        self,
        layout: OutputLayout,
        overwrite: bool,
        report: dict[str, Any],
        audit: Sequence[str] = (),
        profile: beam.PCollection | None = None,
        render_html: Callable[[dict[str, Any], dict[str, Any] | None], str] | None = None,
    ) -> None:
        super().__init__()
        self.layout = layout
        self.overwrite = overwrite
        self.report = report
        self.audit = list(audit)
        self.profile = profile  # the one-element _profile.json PCollection, read as a side input
        self.render_html = render_html

    def expand(self, tables: beam.PCollection) -> beam.PCollection:
        extra = [pvalue.AsSingleton(self.profile)] if self.profile is not None else []
        return tables | "Commit" >> beam.Map(
            _commit, self.layout, self.overwrite, self.report, self.audit, self.render_html, *extra
        )
