"""Keys and per-cell encryption: deterministic, authenticated, bound to table and column.

Contract
--------
* **Keys** are 32 random bytes, stored as base64url text (``synthbeam keygen``
  writes one, mode 0600). They come only from an environment variable
  (``security.key_env`` names it) or a key file (``security.key_file``), never
  from the config itself. No message this module produces contains a key or
  any part of one: errors name the variable or file, and the only thing ever
  shown about a key is its :func:`key_fingerprint` (first 8 hex digits of its
  SHA-256, which reveals nothing usable about a 256-bit random key).
* **Sub-keys.** The key is never used directly: HMAC-SHA256 under it derives
  one sub-key per purpose (cell encryption, nonces, keyed hashes for masking),
  so no two mechanisms share key material.
* **Cells** are encrypted one by one with AES-256-GCM-SIV. The 12-byte nonce of
  a cell is HMAC-SHA256(nonce sub-key, table, column, row index) truncated:
  distinct for every cell of a run, and the same on every rerun, so the same
  config + seed + key gives byte-identical files (the determinism contract).
  GCM-SIV is nonce-misuse resistant, so even a (2**-96-unlikely) nonce
  collision would only reveal that two cells are equal, never the key stream.
* **Associated data** binds a ciphertext to its ``table`` and ``column``
  (length-prefixed, so names containing dots cannot collide): a value moved
  to another column, or another table's column of the same name, fails to
  decrypt. The row index is *not* bound (it is not recoverable from a written
  file), so cells may be reordered within their column, as shards are.
* **Encoding** of an encrypted cell: ``enc:v1:`` + base64url(nonce +
  ciphertext + 16-byte tag), a string. Nulls stay null (so which cells are
  null remains visible). Non-string values are encrypted as canonical text,
  see :func:`to_text` / :func:`from_text`: int as decimal, float as the
  shortest text that round-trips exactly (``nan``, ``inf``), bool as
  ``true``/``false``, date ``YYYY-MM-DD``, time ``HH:MM:SS.ffffff``,
  timestamp ``YYYY-MM-DD HH:MM:SS.ffffff`` (no zone). The column's original
  type travels in ``_report.json`` so ``synthbeam decrypt`` restores it.

Pure Python + pyarrow + ``cryptography``; never imports apache_beam.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import stat
import struct
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.types import STRING_TYPES, arrow_type

__all__ = [
    "CIPHER_NAME",
    "ENCRYPTED_PREFIX",
    "KEY_BYTES",
    "DecryptionError",
    "KeyFileExists",
    "KeyLoadError",
    "associated_data",
    "decode_key",
    "decrypt_column",
    "derive_subkey",
    "encode_key",
    "encrypt_column",
    "from_text",
    "is_key_url",
    "key_file_too_open",
    "key_fingerprint",
    "load_key",
    "read_key_file",
    "read_key_url",
    "resolve_key_path",
    "set_key_url_reader",
    "to_text",
    "write_key_file",
]

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
ENCRYPTED_PREFIX = "enc:v1:"
CIPHER_NAME = "AES-256-GCM-SIV"

MAX_KEY_FILE_BYTES = 4096  # a key file is 45 bytes of text; anything far larger is not one
_KEY_TEXT = re.compile(r"^[A-Za-z0-9_\-+/]+={0,2}$")
_KEY_HINT = "expected the base64url text of 32 bytes, as 'synthbeam keygen' writes"
_TIME_TEXT = r"^\d{2}:\d{2}:\d{2}(\.\d{1,6})?$"


class KeyLoadError(ValueError):
    """A key that cannot be loaded. ``place`` is the config key or file; never holds key material."""

    def __init__(self, place: str, detail: str) -> None:
        self.place = place
        self.detail = detail
        super().__init__(f"{place}: {detail}" if place else detail)


class KeyFileExists(KeyLoadError):
    """``write_key_file`` refuses to replace an existing file (it may be the only copy of a key)."""


class DecryptionError(ValueError):
    """A cell that does not decrypt: wrong key, tampered or truncated text, or moved from another column."""


# --- keys ----------------------------------------------------------------------------------------


def key_fingerprint(key: bytes) -> str:
    """First 8 hex digits of SHA-256 of the key: enough to tell keys apart, useless to an attacker."""
    return hashlib.sha256(key).hexdigest()[:8]


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str, place: str, source: str) -> bytes:
    """Key bytes from base64url text (standard base64 is accepted too: ``openssl rand -base64 32``).

    ``source`` names where the text came from, for the error message; the text itself is never shown.
    """
    cleaned = "".join(str(text).split())
    if not cleaned:
        raise KeyLoadError(place, f"{source} is empty ({_KEY_HINT})")
    if not _KEY_TEXT.match(cleaned):
        raise KeyLoadError(place, f"{source} does not hold a key ({_KEY_HINT})")
    cleaned = cleaned.rstrip("=").replace("+", "-").replace("/", "_")
    try:
        key = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        raise KeyLoadError(place, f"{source} does not hold a key ({_KEY_HINT})") from None
    if len(key) != KEY_BYTES:
        raise KeyLoadError(place, f"{source} holds {len(key)} bytes, not {KEY_BYTES} ({_KEY_HINT})")
    return key


def read_key_file(path: str | os.PathLike[str], place: str = "") -> bytes:
    """The key stored in ``path``; errors name the file, never its content."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a FIFO would block, /dev/zero never end
        raise KeyLoadError(place, f"key file {path} is not a regular file")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_KEY_FILE_BYTES + 1)
        if len(raw) > MAX_KEY_FILE_BYTES:
            raise KeyLoadError(place, f"key file {path} does not hold a key: it is too large ({_KEY_HINT})")
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise KeyLoadError(place, f"key file {path} does not hold a key ({_KEY_HINT})") from None
    except OSError as exc:
        raise KeyLoadError(place, f"cannot read key file {path}: {exc.strerror or type(exc).__name__}") from None
    return decode_key(text, place, f"key file {path}")


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_url_reader: Callable[[str], bytes] | None = None


def is_key_url(key_file: object) -> bool:
    """Whether ``key_file`` is a URL (``gs://...``): a key the workers can read themselves."""
    return isinstance(key_file, str) and bool(_URL.match(key_file))


def set_key_url_reader(reader: Callable[[str], bytes] | None) -> None:
    """How key URLs are read (the Beam layer installs its FileSystems; this package never imports Beam)."""
    global _url_reader
    _url_reader = reader


def read_key_url(url: str, place: str = "") -> bytes:
    """The key stored at ``url``; errors name the URL, never the content."""
    if _url_reader is None:
        raise KeyLoadError(place, f"cannot read key file {url}: no reader for URLs in this process")
    try:
        data = _url_reader(url)
    except Exception as exc:  # missing object, no credentials, unknown scheme: one line either way
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise KeyLoadError(place, f"cannot read key file {url}: {detail}") from None
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise KeyLoadError(place, f"key file {url} does not hold a key ({_KEY_HINT})") from None
    return decode_key(text, place, f"key file {url}")


def key_file_too_open(path: str | os.PathLike[str]) -> bool:
    """True when group or others may read the key file (POSIX permissions)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def resolve_key_path(key_file: str, base_dir: str | os.PathLike[str] | None = None) -> Path:
    """``key_file`` with ``~`` expanded; a relative path is relative to ``base_dir`` (the config's folder)."""
    path = Path(key_file).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


def load_key(
    security: Mapping[str, object],
    env: Mapping[str, str] = os.environ,
    base_dir: str | os.PathLike[str] | None = None,
) -> bytes | None:
    """The key the ``security`` block points at, or None when it names none.

    ``key_env`` names an environment variable holding the key; ``key_file`` a
    file holding it (relative paths resolve against ``base_dir``, the config
    file's folder). Naming both is an error: which one wins would be a guess.
    Raises :class:`KeyLoadError` (one line, naming the variable or file).
    """
    key_env = security.get("key_env")
    key_file = security.get("key_file")
    if key_env and key_file:
        raise KeyLoadError("security", "set key_env or key_file, not both")
    if key_env:
        name = str(key_env)
        text = env.get(name)
        if text is None or not text.strip():
            raise KeyLoadError("security.key_env", f"environment variable {name} is not set")
        return decode_key(text, "security.key_env", f"environment variable {name}")
    if key_file and is_key_url(key_file):
        return read_key_url(str(key_file), "security.key_file")
    if key_file:
        return read_key_file(resolve_key_path(str(key_file), base_dir), "security.key_file")
    return None


def write_key_file(path: str | os.PathLike[str]) -> str:
    """Write a new random key to ``path`` (mode 0600); returns its fingerprint.

    The file is created with ``O_CREAT | O_EXCL``: an existing file (or
    symlink) is never replaced, since it may hold the only copy of the key
    that decrypts some output. Nothing is left behind if writing fails.
    """
    path = Path(path)
    key = os.urandom(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileExists("", f"{path} exists; refusing to overwrite a key file (choose a new name)") from None
    except OSError as exc:
        raise KeyLoadError("", f"cannot create key file {path}: {exc.strerror or type(exc).__name__}") from None
    try:
        os.fchmod(fd, 0o600)  # exactly 0600 whatever the umask
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(encode_key(key) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise KeyLoadError("", f"cannot write key file {path}: {exc.strerror or type(exc).__name__}") from None
    return key_fingerprint(key)


def derive_subkey(key: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose (``"aead"``, ``"nonce"``, ``"hash"``): HMAC-SHA256(key, label)."""
    return hmac.new(key, b"synthbeam/v1/" + purpose.encode("ascii"), hashlib.sha256).digest()


# --- canonical text of typed values ----------------------------------------------------------------


def to_text(values: pa.Array) -> pa.Array:
    """Values as canonical strings (nulls stay null); strings pass through unchanged."""
    kind = values.type
    if pa.types.is_string(kind):
        return values
    if pa.types.is_large_string(kind):
        return values.cast(pa.string())
    if (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_date32(kind)
        or pa.types.is_time64(kind)
        or pa.types.is_timestamp(kind)
    ):
        # Arrow renders floats with the shortest text that parses back to the same double,
        # temporal values in ISO form with microseconds: exactly what from_text reverses.
        return values.cast(pa.string())
    raise TypeError(f"cannot encrypt values of Arrow type {kind}")


def from_text(texts: pa.Array, column_type: str) -> pa.Array:
    """Canonical strings back to the Arrow type of synthbeam column type ``column_type``.

    Raises ValueError when a text is not the canonical form of that type.
    """
    if pa.types.is_large_string(texts.type):
        texts = texts.cast(pa.string())
    if column_type in STRING_TYPES:
        return texts
    target = arrow_type(column_type)
    try:
        if column_type == "time":
            return _parse_times(texts)
        return texts.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"not a {column_type} value: {str(exc).splitlines()[0]}") from None


def _parse_times(texts: pa.Array) -> pa.Array:
    # Arrow can print time64 but not parse it back from a string.
    well_formed = pc.fill_null(pc.match_substring_regex(texts, _TIME_TEXT), True)
    if not pc.all(well_formed).as_py():
        raise ValueError("not a time value (expected HH:MM:SS.ffffff)")

    def part(start: int, stop: int) -> pa.Array:
        return pc.utf8_slice_codeunits(texts, start, stop).cast(pa.int64())

    fraction = pc.utf8_rpad(pc.utf8_slice_codeunits(texts, 9, 15), 6, "0").cast(pa.int64())
    seconds = pc.add(pc.multiply(pc.add(pc.multiply(part(0, 2), 60), part(3, 5)), 60), part(6, 8))
    micros = pc.add(pc.multiply(seconds, 1_000_000), fraction)
    if pc.any(pc.greater_equal(micros, 86_400 * 1_000_000)).as_py():
        raise ValueError("not a time value (past 23:59:59.999999)")
    return micros.cast(pa.time64("us"))


# --- cells -----------------------------------------------------------------------------------------


def _names(table: str, column: str) -> bytes:
    encoded = [table.encode("utf-8"), column.encode("utf-8")]
    return b"".join(struct.pack("<I", len(part)) + part for part in encoded)


def associated_data(table: str, column: str) -> bytes:
    """What a ciphertext is bound to: its table and column (length-prefixed, unambiguous)."""
    return b"synthbeam/v1/cell" + _names(table, column)


PADDED_MARKER = b"\xff"  # never the first byte of UTF-8 text: a padded plaintext says so itself


def pad(text: bytes, pad_to: int) -> bytes:
    """``text`` padded to a multiple of ``pad_to`` bytes (ISO/IEC 7816-4: 0x80 then zeros), marked as padded.

    The marker byte (0xFF, which UTF-8 never uses) lets :func:`unpad` tell a
    padded plaintext from an unpadded one without any outside record, so
    ``decrypt`` needs no setting and old outputs still decrypt.
    """
    body = PADDED_MARKER + text + b"\x80"
    return body + b"\x00" * (-len(body) % pad_to)


def unpad(plain: bytes) -> bytes:
    if not plain.startswith(PADDED_MARKER):
        return plain
    end = plain.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        raise ValueError("bad padding")
    return end[len(PADDED_MARKER) : -1]


def encrypt_column(
    values: pa.Array, key: bytes, table: str, column: str, row_index: np.ndarray, pad_to: int = 0
) -> pa.Array:
    """Encrypt every non-null value; ``row_index[i]`` is the table row of ``values[i]``.

    Returns a string array of ``enc:v1:...`` texts, identical on every rerun
    with the same key, table, column, row indices and values. With ``pad_to``
    the plaintext is padded first (:func:`pad`), so cell lengths show only
    ``ceil((len + 2) / pad_to)``.
    """
    row_index = np.asarray(row_index, dtype=np.uint64)
    if len(row_index) != len(values):
        raise ValueError(f"{table}.{column}: {len(values)} values but {len(row_index)} row indices")
    from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV  # only runs that encrypt load OpenSSL

    aead = AESGCMSIV(derive_subkey(key, "aead"))
    nonces = hmac.new(derive_subkey(key, "nonce"), b"synthbeam/v1/nonce" + _names(table, column), hashlib.sha256)
    aad = associated_data(table, column)
    encrypted: list[str | None] = []
    for text, row in zip(to_text(values).to_pylist(), row_index.tolist()):
        if text is None:
            encrypted.append(None)
            continue
        mac = nonces.copy()
        mac.update(struct.pack("<Q", row))
        nonce = mac.digest()[:NONCE_BYTES]
        plain = text.encode("utf-8")
        sealed = nonce + aead.encrypt(nonce, pad(plain, pad_to) if pad_to else plain, aad)
        encrypted.append(ENCRYPTED_PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii"))
    return pa.array(encrypted, pa.string())


def decrypt_column(values: pa.Array, key: bytes, table: str, column: str) -> pa.Array:
    """The canonical texts behind ``enc:v1:`` cells (nulls stay null); see :func:`from_text`.

    Raises :class:`DecryptionError` ("decryption failed: wrong key or corrupted
    data in table.column") on the first cell that does not authenticate.
    """
    failure = f"decryption failed: wrong key or corrupted data in {table}.{column}"
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        if values.null_count == len(values):
            return pa.nulls(len(values), pa.string())
        raise DecryptionError(f"{failure} (the column holds {values.type} values, not encrypted text)")
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

    aead = AESGCMSIV(derive_subkey(key, "aead"))
    aad = associated_data(table, column)
    plain: list[str | None] = []
    for cell in values.to_pylist():
        if cell is None:
            plain.append(None)
            continue
        if not cell.startswith(ENCRYPTED_PREFIX):
            raise DecryptionError(failure)
        try:
            sealed = base64.urlsafe_b64decode(cell[len(ENCRYPTED_PREFIX) :].encode("ascii"))
            if len(sealed) < NONCE_BYTES + TAG_BYTES:
                raise DecryptionError(failure)
            text = unpad(aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError, UnicodeError):
            raise DecryptionError(failure) from None
        plain.append(text)
    return pa.array(plain, pa.string())
