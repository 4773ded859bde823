"""One run at a time per output directory: an exclusive claim that dies with the process.

``OutputClaim(out).acquire()`` takes ``fcntl.flock`` on ``OUT/.synthbeam-lock``
(created without following a link) and writes the holder into it: pid, host and
start time. The kernel drops the lock when the process ends, however it ends,
so a killed run never blocks the next; a second live run is refused with a
one-line :class:`UserError` naming the holder. ``release()`` deletes the file
while still holding the lock; a run that opened the file just before that
notices (the path no longer names the file it locked) and tries again.

Local paths only: object stores have no such lock, and for them the claim
does nothing (docs/architecture.md). Without ``fcntl`` (Windows) likewise.
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from synthbeam.transforms.names import LOCK_NAME
from synthbeam.transforms.tree import is_remote

from .errors import UserError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["OutputClaim"]

_ATTEMPTS = 5


class OutputClaim:
    """An exclusive, process-lifetime claim on the output directory ``out`` (which must exist)."""

    def __init__(self, out: str) -> None:
        self.out = out
        self.path = os.path.join(out, LOCK_NAME)
        self.descriptor: int | None = None

    @property
    def enforced(self) -> bool:
        """Whether this file system and platform give a real lock (local paths with ``fcntl``)."""
        return fcntl is not None and not is_remote(self.out)

    def acquire(self) -> None:
        """Take the claim, or raise UserError naming the run that holds it."""
        if not self.enforced or self.descriptor is not None:
            return
        for _ in range(_ATTEMPTS):
            try:
                descriptor = os.open(
                    self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644
                )
            except OSError as exc:
                raise UserError(f"cannot claim output directory {self.out} ({LOCK_NAME}): {exc.strerror}") from None
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read(descriptor)
                os.close(descriptor)
                raise UserError(
                    f"output directory {self.out} is in use by another synthbeam run ({holder or 'holder unknown'}); "
                    "wait for it to finish or choose another --out"
                ) from None
            if _same_file(descriptor, self.path):
                self.descriptor = descriptor
                _write(descriptor, _holder())
                return
            os.close(descriptor)  # its holder released and deleted it between our open and lock
        raise UserError(f"cannot claim output directory {self.out}: its {LOCK_NAME} keeps changing")

    def release(self) -> None:
        """Give the claim up (deleting the lock file first, while it is still held)."""
        if self.descriptor is None:
            return
        try:
            if _same_file(self.descriptor, self.path):
                os.unlink(self.path)
        except OSError:
            pass
        finally:
            os.close(self.descriptor)
            self.descriptor = None

    def __enter__(self) -> OutputClaim:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _holder() -> str:
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"pid {os.getpid()} on {socket.gethostname()}, started {started}"


def _same_file(descriptor: int, path: str) -> bool:
    try:
        on_path = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    held = os.fstat(descriptor)
    return (held.st_dev, held.st_ino) == (on_path.st_dev, on_path.st_ino)


def _read(descriptor: int) -> str:
    try:
        return os.pread(descriptor, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _write(descriptor: int, text: str) -> None:
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, (text + "\n").encode("utf-8"), 0)
