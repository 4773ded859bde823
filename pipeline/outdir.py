"""May this run write ``--out``? The refusals, the claim, and the tidying of interrupted runs.

:func:`claim_output` is called once by the launcher before anything is written:

1. refusals that need no listing: a URL holding ``*``, ``?`` or ``[`` (Beam's
   FileSystems would read it as a pattern; local paths are used literally and
   may hold them), a file where the directory should be, and with
   ``--overwrite`` the file system root, home, the working directory or a
   parent of it, or a folder holding the config;
2. one top-level listing (never a walk, so ``--out /`` answers at once), and
   the rule: an output directory must be new or empty, or, with
   ``--overwrite``, recognisably a previous synthbeam output (a ``_report.json``
   file that reads as a report). Anything else is refused, and nothing is
   created in it;
3. the claim (:class:`OutputClaim`: one run at a time per local directory);
4. holding it, every ``.synthbeam-*`` leftover in ``OUT`` belongs to a dead run:
   an interrupted switch is finished or undone (:func:`recover`), staging
   folders and temporary files are removed, and each is reported as a note;
5. the rule of 2 again, on what is there now.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from apache_beam.io.filesystems import FileSystems

from synthbeam.transforms import tree
from synthbeam.transforms.names import INTERNAL_PREFIX, LOCK_NAME, OLD_PREFIX, REPORT_NAME, has_glob
from synthbeam.transforms.output import OutputLayout, output_entries, recover

from .claim import OutputClaim
from .errors import UserError

__all__ = ["ClaimedOutput", "claim_output"]


@dataclass
class ClaimedOutput:
    """An output directory this run may write, held until :meth:`release`."""

    out: str
    created: bool  # this run made the directory: a failed run removes it whole
    existed_with_output: bool
    claim: OutputClaim
    notes: list[str] = field(default_factory=list)

    def release(self) -> None:
        self.claim.release()


def claim_output(out: str, overwrite: bool, config_location: str | None = None) -> ClaimedOutput:
    """Check ``out`` and claim it for this run; raise UserError (nothing written) when it may not be used."""
    _refuse_by_name(out, overwrite, config_location)
    names = _listing(out)
    if not any(name.startswith(OLD_PREFIX) for name in names):  # else wait for the recovery to judge
        _judge(out, _user_entries(names), overwrite)
    created = False
    if not tree.is_remote(out) and not os.path.lexists(out):
        try:
            os.makedirs(out)
        except OSError as exc:
            raise UserError(f"cannot create output directory {out}: {exc.strerror or exc}") from None
        created = True
    claim = OutputClaim(out)
    try:
        claim.acquire()
        notes = _tidy(out) if claim.enforced else []
        present = output_entries(out)
        _judge(out, present, overwrite)
    except BaseException:
        claim.release()
        if created:
            tree.remove(out)
        raise
    return ClaimedOutput(out, created, bool(present), claim, notes)


def _refuse_by_name(out: str, overwrite: bool, config_location: str | None) -> None:
    if tree.is_remote(out):
        if has_glob(out):
            raise UserError(
                f"output URL {out} holds '*', '?' or '[', which Beam's file systems read as wildcards; "
                "choose a name without them"
            )
        try:
            FileSystems.get_filesystem(out)
        except Exception as exc:  # no filesystem for the scheme, missing extras
            raise UserError(f"cannot use output {out}: {_first_line(exc)}") from None
        return
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UserError(f"output {out} exists and is not a directory")
    if not overwrite:
        return
    target = path.resolve()
    cwd = Path.cwd().resolve()
    if target in (Path(target.anchor), Path.home().resolve()) or cwd == target or target in cwd.parents:
        raise UserError(f"refusing to --overwrite {out}: it is the current directory, a parent of it, home or /")
    if config_location and "://" not in config_location and target in Path(config_location).resolve().parents:
        raise UserError(f"refusing to --overwrite {out}: it contains the config file {config_location}")


def _listing(out: str) -> set[str]:
    try:
        return tree.entries(out)
    except Exception as exc:  # permissions, credentials, a bucket that does not exist
        raise UserError(f"cannot use output {out}: {_first_line(exc)}") from None


def _user_entries(names: set[str]) -> set[str]:
    return {name for name in names if not name.startswith(INTERNAL_PREFIX)}


def _judge(out: str, present: set[str], overwrite: bool) -> None:
    """Refuse unless ``out`` is empty, or replaceable with ``--overwrite``."""
    if not present:
        return
    shown = ", ".join(sorted(present)[:3]) + (", ..." if len(present) > 3 else "")
    if not overwrite:
        raise UserError(f"output directory {out} is not empty ({shown}); pass --overwrite to replace it")
    if not _is_synthbeam_output(out):
        raise UserError(
            f"refusing to --overwrite {out}: it is not a synthbeam output (no readable {REPORT_NAME}; "
            f"it holds {shown}); --overwrite replaces only a previous output or an empty directory"
        )


def _is_synthbeam_output(out: str) -> bool:
    report = tree.join(out, REPORT_NAME)
    if not tree.is_regular_file(report):
        return False
    try:
        content = json.loads(tree.read_text(report))
    except (OSError, ValueError):
        return False
    return isinstance(content, dict) and isinstance(content.get("tables"), dict)


def _tidy(out: str) -> list[str]:
    """Under the claim, finish or undo interrupted switches and remove dead runs' leftovers; the notes."""
    notes = []
    names = sorted(tree.entries(out))
    for name in names:
        if name.startswith(OLD_PREFIX):
            run_id = name[len(OLD_PREFIX) :]
            done = recover(OutputLayout(out, run_id))
            what = "restored the previous output" if done == "restored" else "completed the new output"
            notes.append(f"{out}: run {run_id} was interrupted while switching outputs; {what}")
    leftovers = [n for n in sorted(tree.entries(out)) if n.startswith(INTERNAL_PREFIX) and n != LOCK_NAME]
    for name in leftovers:
        tree.remove(tree.join(out, name))
    if leftovers:
        shown = ", ".join(leftovers[:3]) + (", ..." if len(leftovers) > 3 else "")
        notes.append(f"{out}: removed {len(leftovers)} leftover(s) of interrupted runs ({shown})")
    return notes


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
