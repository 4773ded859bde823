"""The output directory: staging, the switch from the previous output to the new one, recovery.

Layout of a finished run::

    OUT/<table>/<table>-00000-of-00004.parquet   (shard files)
    OUT/_profile.json, OUT/_report.html          (the column profile and the page; not with --no-profile)
    OUT/_report.json                             (moved in last)

While a run is in flight its whole new output is built under
``OUT/.synthbeam-tmp-<run id>/`` (each sink adds its own ``beam-temp-*``
directory below that), its report and audit included. Only when that is
complete does :class:`CommitOutput`, the pipeline's last step, *switch*:

1. a journal (``_COMMITTING``, the names about to move in) is written in staging;
2. every entry of the previous output is renamed into ``OUT/.synthbeam-old-<run id>/``
   (only with ``--overwrite``; the launcher has checked it is a synthbeam output);
3. every new entry is renamed from staging into ``OUT``, ``_report.json`` last;
4. the old directory and staging are removed.

A failure anywhere before the last rename undoes the renames made so far, so
the previous output is back as it was; a process killed during 2-3 leaves the
journal and the old directory, from which :func:`recover` (run by the next
launcher that claims ``OUT``) restores it. Locally every rename is one atomic
``rename(2)`` of a whole directory; on object stores a rename is a copy and a
delete per object (docs/architecture.md says what that means).

Because the commit is a pipeline step, a run submitted to a remote runner
completes its output even if the launching process does not wait. All file
operations go through :mod:`synthbeam.transforms.tree` (literal paths, links
never followed), so ``OUT`` may be local or ``gs://``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from . import tree
from .names import AUDIT_FILE, HTML_REPORT_NAME, INTERNAL_PREFIX, OLD_PREFIX, PROFILE_NAME, REPORT_NAME, STAGING_PREFIX
from .write import TableWritten

__all__ = [
    "REPORT_NAME",
    "STAGING_PREFIX",
    "CommitOutput",
    "OutputLayout",
    "commit_output",
    "output_entries",
    "recover",
    "remove_tree",
    "write_json",
]

_COMMITTING = "_COMMITTING"


@dataclass(frozen=True)
class OutputLayout:
    """Where one run writes: the output directory, its staging directory and where the old output waits."""

    out: str
    run_id: str

    @property
    def staging(self) -> str:
        return tree.join(self.out, STAGING_PREFIX + self.run_id)

    @property
    def old(self) -> str:
        return tree.join(self.out, OLD_PREFIX + self.run_id)

    def staged_prefix(self, table: str) -> str:
        """The sink's ``file_path_prefix`` for ``table``: files become ``<table>-SSSSS-of-NNNNN.ext``."""
        return tree.join(self.staging, table, table)

    def table_dir(self, table: str) -> str:
        return tree.join(self.out, table)

    @property
    def report(self) -> str:
        return tree.join(self.out, REPORT_NAME)

    @property
    def journal(self) -> str:
        return tree.join(self.staging, _COMMITTING)


def output_entries(directory: str) -> set[str]:
    """Top-level names in ``directory`` that belong to an output, not to a run at work (``.synthbeam-*``)."""
    return {name for name in tree.entries(directory) if not name.startswith(INTERNAL_PREFIX)}


def remove_tree(path: str) -> None:
    """Delete a file or directory tree (links unlinked, never followed); missing paths are fine."""
    tree.remove(path)


def write_json(path: str, data: Any) -> None:
    """Write ``data`` as indented JSON (via a temporary name, then a rename)."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def write_text(path: str, text: str) -> None:
    """Write UTF-8 ``text`` via a temporary name, then a rename, so readers never see half a file."""
    tree.write_text(path, text)


def _committed(layout: OutputLayout) -> bool:
    """Whether this run's report already made it into ``OUT`` (the switch's last rename)."""
    if tree.exists(tree.join(layout.staging, REPORT_NAME)) or not tree.is_regular_file(layout.report):
        return False
    try:
        return json.loads(tree.read_text(layout.report)).get("run_id") == layout.run_id
    except (OSError, ValueError, AttributeError):
        return False


def recover(layout: OutputLayout, keep_staging: bool = False) -> str:
    """Finish or undo run ``layout.run_id``'s interrupted switch; returns what was done, in words.

    If its report made it into ``OUT`` the switch was complete and only the
    leftovers go. Otherwise every entry the journal names that has left staging
    goes back there, the previous output comes back from the old directory, and
    staging goes (unless ``keep_staging``: a retried commit switches it again).
    Entries still in staging were never moved, so what ``OUT``
    holds under their names is the previous output's (it may not have moved yet).
    """
    if _committed(layout):
        tree.remove(layout.old)
        tree.remove(layout.staging)
        return "finished"
    try:
        moving_in = json.loads(tree.read_text(layout.journal)).get("new", [])
    except (OSError, ValueError, AttributeError):
        moving_in = []
    for name in moving_in:
        staged = tree.join(layout.staging, name)
        placed = tree.join(layout.out, name)
        if not tree.exists(staged) and tree.exists(placed):
            tree.move(placed, staged)
    for name in sorted(tree.entries(layout.old)):
        tree.move(tree.join(layout.old, name), tree.join(layout.out, name))
    tree.remove(layout.old)
    if not keep_staging:
        tree.remove(layout.staging)
    return "restored"


def _switch(layout: OutputLayout, moving_in: list[str], overwrite: bool) -> None:
    """Rename the previous output aside and the staged entries in; on any failure undo every rename."""
    previous = sorted(output_entries(layout.out))
    if previous and not overwrite:
        raise FileExistsError(
            f"{layout.out} gained {', '.join(previous[:3])} while this run worked; not replacing it without --overwrite"
        )
    tree.write_text(layout.journal, json.dumps({"new": moving_in, "previous": previous}) + "\n")
    done: list[tuple[str, str]] = []
    try:
        if previous:
            tree.make_dir(layout.old)
            for name in previous:
                done.append((tree.join(layout.out, name), tree.join(layout.old, name)))
                tree.move(*done[-1])
        for name in moving_in:
            done.append((tree.join(layout.staging, name), tree.join(layout.out, name)))
            tree.move(*done[-1])
    except BaseException:
        _undo(done)
        if not tree.entries(layout.old):  # else an undo failed: recover() finds the old output there
            tree.remove(layout.old)
        raise
    tree.remove(layout.old)


def _undo(done: list[tuple[str, str]]) -> None:
    """Reverse the renames in ``done``, last first; a rename that fails is left for :func:`recover`."""
    for source, target in reversed(done):
        try:
            if tree.exists(target) and not tree.exists(source):
                tree.move(target, source)
        except Exception:  # the original failure is the one to report
            return


def commit_output(
    layout: OutputLayout,
    tables: Iterable[TableWritten],
    overwrite: bool,
    report: dict[str, Any],
    audit: Sequence[str] = (),
    profile: dict[str, Any] | None = None,
    render_html: Callable[[dict[str, Any], dict[str, Any] | None], str] | None = None,
) -> dict[str, Any]:
    """Complete the new output in staging, switch it with the previous one, drop staging.

    All or nothing: until the new report's rename, ``OUT`` holds the previous
    output (or gets it back). Safe to retry: an attempt that died during the
    switch is undone first, and one that completed it is only tidied.

    With ``profile``, ``_profile.json`` is written too; with ``render_html`` (the
    pipeline layer's page renderer), ``_report.html``. Both are completed in
    staging and switched in with the tables, before ``_report.json``.
    """
    written = {t.table: t for t in tables}
    report = dict(report)
    report["tables"] = _report_tables(report.get("tables", {}), written, layout)
    report["total_rows"] = sum(t.rows for t in written.values())
    collisions = _dedup_collisions(written)
    if collisions:
        report["dedup_collisions"] = collisions
    if _committed(layout):
        tree.remove(layout.old)
        tree.remove(layout.staging)
        return report
    if tree.exists(layout.old):
        recover(layout, keep_staging=True)
    moving_in = [name for name in written if tree.exists(tree.join(layout.staging, name))]
    if audit:
        write_text(tree.join(layout.staging, AUDIT_FILE), "".join(line + "\n" for line in audit))
        moving_in.append(AUDIT_FILE)
    if profile is not None:
        write_json(tree.join(layout.staging, PROFILE_NAME), profile)
        moving_in.append(PROFILE_NAME)
    if render_html is not None:
        write_text(tree.join(layout.staging, HTML_REPORT_NAME), render_html(report, profile))
        moving_in.append(HTML_REPORT_NAME)
    write_json(tree.join(layout.staging, REPORT_NAME), report)
    _switch(layout, [*moving_in, REPORT_NAME], overwrite)
    tree.remove(layout.staging)
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
                files=table.file_count,
                file_pattern=tree.join(layout.table_dir(name), table.file_pattern),
                events=table.events,
                peak_worker_rss_mb=round(table.peak_worker_rss / 2**20, 1),
                workers=table.workers,
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
