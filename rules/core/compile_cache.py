"""What compiling Faker rules learns from Faker, kept on disk between runs.

Compiling a Faker rule reads the locale's provider data through Faker:
importing Faker alone takes about 0.12 s (it lists every locale of every
provider), and building the generator and a column's nodes as much again, in
every process that compiles a plan. Those results are pure functions of the
Faker release, this package's code, the locale, the method and its parameters,
so they are kept in one pickle file per (Faker release, code digest), and a run
that finds everything there never imports Faker.

Where: ``SYNTHBEAM_CACHE_DIR``, else ``$XDG_CACHE_HOME/synthbeam``, else
``~/.cache/synthbeam``; an empty ``SYNTHBEAM_CACHE_DIR`` turns the cache off.
The file is a pickle, so it is read only when it and its directory belong to
this user and nobody else may write them. A file that cannot be read is
ignored (and replaced on the next write); a directory that cannot be written
leaves the cache in memory. Either way results are computed, never guessed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import pickle
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["cache_file", "cached", "flush", "reset"]

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ENTRIES = 512  # the oldest entries go first beyond this many...
MAX_BYTES = 64 << 20  # ...or this size (a phone-number node pickles to ~1 MB; every run reads the file)
STALE_SECONDS = 30 * 24 * 3600  # other builds' files untouched this long are removed on a write

_lock = threading.RLock()
_entries: dict[Hashable, Any] | None = None  # None: not loaded yet
_new: dict[Hashable, Any] = {}
_file: Path | None = None
_file_known = False


RULES_ROOT = Path(__file__).resolve().parent.parent  # rules/: every subpackage's code can change a result


def rules_sources() -> list[Path]:
    """Every module of the rules package, subfolders included, in a stable order."""
    return sorted(RULES_ROOT.rglob("*.py"))


def _code_digest() -> str:
    """Digest of everything a cached result depends on besides its key."""
    import numpy
    import pyarrow

    digest = hashlib.blake2b(digest_size=10)
    for path in rules_sources():
        digest.update(path.relative_to(RULES_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    spec = importlib.util.find_spec("faker")
    if spec is not None and spec.origin:
        digest.update(Path(spec.origin).read_bytes())  # holds Faker's VERSION
    digest.update(f"{sys.version_info[:2]} {numpy.__version__} {pyarrow.__version__}".encode())
    return digest.hexdigest()


def cache_file() -> Path | None:
    """The cache file of this code and Faker release, or None when the cache is off."""
    global _file, _file_known
    with _lock:
        if not _file_known:
            directory = _directory()
            _file = directory / f"faker-compile-{_code_digest()}.pickle" if directory is not None else None
            _file_known = True
        return _file


def _directory() -> Path | None:
    setting = os.environ.get("SYNTHBEAM_CACHE_DIR")
    if setting is not None:
        return Path(setting) if setting else None
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "synthbeam"
    try:
        return Path.home() / ".cache" / "synthbeam"
    except RuntimeError:  # no home directory (some containers): no cache
        return None


def _private(path: Path) -> bool:
    """Whether ``path`` belongs to this user and no one else may write it."""
    info = path.stat()
    owner_ok = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return owner_ok and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _load() -> dict[Hashable, Any]:
    path = cache_file()
    if path is None or not path.exists():
        return {}
    try:
        if not (_private(path) and _private(path.parent)):
            _LOGGER.warning("ignoring the compile cache %s: other users may write it", path)
            return {}
        with path.open("rb") as handle:
            entries = pickle.load(handle)
        return entries if isinstance(entries, dict) else {}
    except Exception as exc:  # unreadable or from an incompatible build: computed again, then replaced
        _LOGGER.debug("ignoring the compile cache %s: %s", path, exc)
        return {}


def cached(kind: str, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, or its result from an earlier run with the same ``kind`` and ``key``.

    ``key`` must hold only values whose ``repr`` is stable (strings, numbers,
    dates, tuples of them). Exceptions from ``compute`` propagate and are not kept.
    """
    global _entries
    full_key = (kind, *key)
    with _lock:
        if _entries is None:
            _entries = _load()
        if full_key in _entries:
            return _entries[full_key]
    value = compute()
    with _lock:
        _entries[full_key] = value
        if cache_file() is not None:
            _new[full_key] = value
    return value


def flush() -> None:
    """Write the entries computed since the last flush (with the file's others), atomically."""
    global _new
    with _lock:
        path = cache_file()
        if path is None or not _new:
            return
        merged = {**_load(), **_new}
        for stale in list(merged)[: max(0, len(merged) - MAX_ENTRIES)]:
            del merged[stale]
        payload = pickle.dumps(merged, protocol=pickle.HIGHEST_PROTOCOL)
        while len(payload) > MAX_BYTES and len(merged) > 1:
            for stale in list(merged)[: len(merged) // 2]:
                del merged[stale]
            payload = pickle.dumps(merged, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not _private(path.parent):  # it would never be read back
                _LOGGER.debug("not writing the compile cache into %s: other users may write there", path.parent)
                return
            _remove_stale(path)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".faker-compile-", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(payload)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except Exception as exc:  # read-only home, full disk: the next run computes again
            _LOGGER.debug("could not write the compile cache %s: %s", path, exc)
            return
        _new = {}


def _remove_stale(current: Path) -> None:
    """Remove cache files of other synthbeam builds or Faker releases nobody used for a month."""
    now = time.time()
    for other in current.parent.glob("faker-compile-*.pickle"):
        if other != current and now - other.stat().st_mtime > STALE_SECONDS:
            other.unlink(missing_ok=True)


def reset() -> None:
    """Forget what this process loaded and where the file is (tests, changed environment)."""
    global _entries, _new, _file, _file_known
    with _lock:
        _entries, _new, _file, _file_known = None, {}, None, False
