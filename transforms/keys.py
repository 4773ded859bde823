"""Key files given as URLs (``security.key_file: gs://...``), read through Beam's FileSystems.

Importing this module installs the reader :mod:`synthbeam.rules.security.crypto` uses for
key URLs (the rules never import Beam). The module whose steps encrypt and hash
(:mod:`.generate`) imports it, so a worker that unpickles those steps reads the
key itself: the submitted job carries only the URL and the key's fingerprint.
"""

from __future__ import annotations

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from synthbeam.rules.security import crypto

__all__ = ["read_url"]


def read_url(url: str) -> bytes:
    with FileSystems.open(url, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return handle.read()


crypto.set_key_url_reader(read_url)
