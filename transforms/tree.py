"""Literal file operations on an output directory, local or remote (``gs://`` and other URLs).

The contract: a path is a name, never a pattern, and nothing below the output
directory is followed through a symbolic link.

- Local paths go through ``os`` and ``shutil`` directly. Beam's
  ``FileSystems.delete``/``match`` would read ``*``, ``?`` and ``[`` in a local
  path as wildcards (``--out 'G/o*'`` once deleted ``G/other``). Moving or
  removing a link moves or removes the link itself, never what it points to.
- URLs go through Beam's ``FileSystems`` (object stores have neither links nor
  real directories: a "directory" is every object under a prefix). Their
  match and delete read wildcards too, so callers refuse URLs that hold them
  (:func:`synthbeam.transforms.names.has_glob`) before they get here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import uuid

from apache_beam.io.filesystems import FileSystems

from .names import INTERNAL_PREFIX

__all__ = [
    "entries",
    "exists",
    "is_regular_file",
    "is_remote",
    "join",
    "make_dir",
    "move",
    "read_text",
    "remove",
    "write_text",
]


def is_remote(path: str) -> bool:
    """Whether ``path`` is a URL (handled by Beam's FileSystems) rather than a local path."""
    return "://" in path


def join(base: str, *names: str) -> str:
    return FileSystems.join(base, *names) if is_remote(base) else os.path.join(base, *names)


def _remote_files(prefix: str) -> list[str]:
    """Every object at ``prefix`` or below ``prefix/`` (a remote "directory" is a prefix)."""
    prefix = prefix.rstrip("/")
    found = [m.path for m in FileSystems.match([prefix + "/**"])[0].metadata_list]
    if FileSystems.exists(prefix):
        found.append(prefix)
    return found


def entries(directory: str) -> set[str]:
    """Top-level names in ``directory`` (files, directories, links; empty if it does not exist).

    Local: one ``scandir``, never a walk, so ``/`` answers at once. Remote: the
    first path component of every object under the prefix.
    """
    if not is_remote(directory):
        try:
            with os.scandir(directory) as found:
                return {entry.name for entry in found}
        except (FileNotFoundError, NotADirectoryError):
            return set()
    root = directory.rstrip("/") + "/"
    names = set()
    for path in _remote_files(directory):
        if path.startswith(root):
            names.add(path[len(root) :].split("/", 1)[0])
    names.discard("")
    return names


def exists(path: str) -> bool:
    """Whether anything (a file, a directory, a link, even a dangling one) is at ``path``."""
    if not is_remote(path):
        return os.path.lexists(path)
    return bool(_remote_files(path))


def is_regular_file(path: str) -> bool:
    """Local: a regular file, not a link; remote: an object."""
    if not is_remote(path):
        try:
            return stat.S_ISREG(os.lstat(path).st_mode)
        except OSError:
            return False
    return FileSystems.exists(path)


def make_dir(path: str) -> None:
    """Create the directory ``path``, which must not exist yet (object stores need none)."""
    if not is_remote(path):
        os.mkdir(path)


def move(source: str, target: str) -> None:
    """Rename the entry ``source`` (a file, a whole directory or a link) to ``target``, which must not exist.

    Local: one ``rename``, atomic within a file system. Remote: every object
    under the prefix is renamed (copied, then deleted) one by one.
    """
    if not is_remote(source):
        if os.path.lexists(target):
            raise FileExistsError(f"cannot move {source} to {target}: it exists")
        os.rename(source, target)
        return
    sources = _remote_files(source)
    if not sources:
        raise FileNotFoundError(f"cannot move {source}: nothing there")
    root = source.rstrip("/")
    targets = [target.rstrip("/") + path[len(root) :] for path in sources]
    FileSystems.rename(sources, targets)


def remove(path: str) -> None:
    """Delete the entry ``path`` and, for a real directory, everything below it; missing is fine.

    Local links are unlinked, never followed (``shutil.rmtree`` does not follow
    the links it meets below the top either).
    """
    if not is_remote(path):
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISDIR(mode):
            shutil.rmtree(path)
        else:
            os.unlink(path)
        return
    files = _remote_files(path)
    if files:
        FileSystems.delete(files)


def read_text(path: str) -> str:
    """The UTF-8 text of the file ``path`` (local: refusing to follow a link)."""
    if not is_remote(path):
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read().decode("utf-8")
    with FileSystems.open(path) as handle:
        return handle.read().decode("utf-8")


def write_text(path: str, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` under a temporary name, then rename, so readers never see half a file.

    The temporary name starts with synthbeam's internal prefix, so it can clash
    with no table, and a run killed in between leaves litter later runs
    recognise and remove. Locally the rename replaces ``path`` atomically
    (a link at ``path`` is replaced, not written through).
    """
    directory, name = os.path.split(path) if not is_remote(path) else FileSystems.split(path)
    temp = join(directory, f"{INTERNAL_PREFIX}write-{uuid.uuid4().hex[:12]}-{name[:100]}")
    data = text.encode("utf-8")
    if not is_remote(path):
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            descriptor = os.open(temp, flags, 0o644)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return
    with FileSystems.create(temp) as handle:
        handle.write(data)
    FileSystems.rename([temp], [path])  # an object store's copy replaces an existing object
