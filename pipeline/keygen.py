"""``synthbeam keygen KEY_FILE``: write a new encryption key file (the command's core, no argparse).

The key is 32 bytes from ``os.urandom``, stored as base64url text in a file
created with mode 0600; an existing file is never replaced (it may hold the
only key that decrypts some output). Point a config at it with
``"security": {"key_file": "..."}``, or put its content in the environment
variable named by ``security.key_env``.
"""

from __future__ import annotations

import os

from synthbeam.rules.security.crypto import KeyLoadError, write_key_file

from .errors import UserError

__all__ = ["keygen"]


def keygen(path: str | os.PathLike[str]) -> str:
    """Write a new key to ``path``; returns the key's fingerprint (safe to print), never the key.

    Raises :class:`UserError` (one line) when ``path`` exists or cannot be written.
    """
    try:
        return write_key_file(path)
    except KeyLoadError as exc:
        raise UserError(f"keygen: {exc.detail}") from None
