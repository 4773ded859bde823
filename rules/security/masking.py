"""Masking strategies: pure, vectorised functions of a column's values.

Every function here maps a pyarrow array to an array of the same length; the
output depends only on the input values (and, for ``hash``, a key), never on
the row index or on other rows, so masking keeps the determinism contract and
a value is masked the same way wherever it appears. Nulls stay null under
every strategy.

* ``partial``: keep a little, star the rest. Text keeps its last 4
  characters (``"Johnathan"`` -> ``"*****than"``); text of 4 characters or
  fewer is starred entirely, so ``partial`` never reveals a whole value.
  Emails keep the first character of the local part and the domain, with a
  fixed run of stars that hides the local part's length
  (``"john.doe@example.com"`` -> ``"j*****@example.com"``); values of an email
  column that are not email-shaped are masked as text. Phones keep their last
  4 digits and every non-digit (the format): ``"+1 (555) 123-4567"`` ->
  ``"+* (***) ***-4567"``; numbers of 4 digits or fewer lose every digit.
* ``redact``: the fixed text ``[REDACTED]``.
* ``hash``: ``h:`` + the first 16 hex digits of HMAC-SHA256(key, UTF-8 value).
  Equal values give equal hashes in every column of a run (joins and
  group-bys on hashed columns still work), and without the key a value cannot
  be tested against a guess. When the run has no encryption key, the key is
  derived from the config's seed: such hashes are *pseudonyms*, not secrets,
  since anyone holding the config can recompute them.
* ``null``: every value null (any column type; the type is kept).

``partial``, ``redact`` and ``hash`` produce text and apply to string columns
only; :mod:`synthbeam.rules.security.policy` rejects them on other types at plan time.
"""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DEFAULT_STRATEGIES",
    "PARTIAL_KINDS",
    "REDACTED",
    "STRATEGIES",
    "TEXT_STRATEGIES",
    "apply_masking",
    "mask_hash",
    "mask_null",
    "mask_partial",
    "mask_redact",
]

STRATEGIES = ("partial", "redact", "hash", "null")
TEXT_STRATEGIES = frozenset({"partial", "redact", "hash"})  # produce strings: string columns only
PARTIAL_KINDS = ("text", "email", "phone")
DEFAULT_STRATEGIES = {"PII": "partial", "SENSITIVE": "hash"}  # when masking is on and a column names none
REDACTED = "[REDACTED]"
HASH_PREFIX = "h:"
HASH_HEX_DIGITS = 16
VISIBLE_CHARACTERS = 4
EMAIL_STARS = "*****"

_EMAIL = r"^(?P<first>[^@\s])[^@\s]*@(?P<domain>[^@\s]+)$"
# Matched on the *reversed* number: the first four digits read backwards are the last four.
_LAST_FOUR_DIGITS = r"(?s)^(?P<kept>\D*\d\D*\d\D*\d\D*\d)(?P<rest>.*\d.*)$"


def _require_text(values: pa.Array, strategy: str) -> pa.Array:
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values
    raise TypeError(f"masking {strategy!r} applies to string values, not {values.type}")


def mask_partial(values: pa.Array, kind: str = "text") -> pa.Array:
    """Keep a little of each value (see the module docstring); ``kind`` is text, email or phone."""
    original = _require_text(values, "partial").type
    texts = values.cast(pa.string())  # the kernels below mix in string literals: one string type
    if kind == "email":
        masked = _partial_email(texts)
    elif kind == "phone":
        masked = _partial_phone(texts)
    elif kind == "text":
        masked = _partial_text(texts)
    else:
        raise ValueError(f"unknown partial masking kind {kind!r}: use one of {', '.join(PARTIAL_KINDS)}")
    return masked.cast(original)


def _partial_text(values: pa.Array) -> pa.Array:
    length = pc.utf8_length(values)
    shows_tail = pc.greater(length, VISIBLE_CHARACTERS)
    stars = pc.if_else(shows_tail, pc.subtract(length, VISIBLE_CHARACTERS), length)
    tail = pc.if_else(shows_tail, pc.utf8_slice_codeunits(values, start=-VISIBLE_CHARACTERS), "")
    return pc.binary_join_element_wise(pc.binary_repeat("*", stars), tail, "")


def _partial_email(values: pa.Array) -> pa.Array:
    parts = pc.extract_regex(values, _EMAIL)  # null where the value is not email-shaped
    masked = pc.binary_join_element_wise(
        pc.struct_field(parts, "first"), EMAIL_STARS + "@", pc.struct_field(parts, "domain"), ""
    )
    masked = pc.if_else(parts.is_valid(), masked, pa.nulls(len(values), masked.type))
    return pc.coalesce(masked, _partial_text(values))


def _partial_phone(values: pa.Array) -> pa.Array:
    reversed_values = pc.utf8_reverse(values)
    parts = pc.extract_regex(reversed_values, _LAST_FOUR_DIGITS)  # null: 4 digits or fewer
    rest = pc.replace_substring_regex(pc.struct_field(parts, "rest"), r"\d", "*")
    kept = pc.utf8_reverse(pc.binary_join_element_wise(pc.struct_field(parts, "kept"), rest, ""))
    kept = pc.if_else(parts.is_valid(), kept, pa.nulls(len(values), kept.type))
    every_digit = pc.replace_substring_regex(values, r"\d", "*")
    return pc.coalesce(kept, every_digit)


def mask_redact(values: pa.Array) -> pa.Array:
    """``[REDACTED]`` for every non-null value."""
    values = _require_text(values, "redact")
    return pc.if_else(values.is_valid(), pa.scalar(REDACTED, values.type), pa.nulls(len(values), values.type))


def mask_hash(values: pa.Array, key: bytes) -> pa.Array:
    """``h:`` + 16 hex digits of HMAC-SHA256(key, value) per non-null value.

    HMAC is computed once per distinct value (columns of names, cities or
    choices repeat a lot), then spread back over the rows.
    """
    values = _require_text(values, "hash")
    if not key:
        raise ValueError("masking 'hash' needs a key")
    encoded = pc.dictionary_encode(values)
    hashed = [None if text is None else HASH_PREFIX + _hex_hmac(key, text) for text in encoded.dictionary.to_pylist()]
    return pa.array(hashed, values.type).take(encoded.indices)


def _hex_hmac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:HASH_HEX_DIGITS]


def mask_null(values: pa.Array) -> pa.Array:
    """All nulls, of the same type."""
    return pa.nulls(len(values), values.type)


def apply_masking(
    values: pa.Array, strategy: str, *, hash_key: bytes | None = None, partial_kind: str = "text"
) -> pa.Array:
    """Mask ``values`` with ``strategy`` (partial, redact, hash or null)."""
    if strategy == "partial":
        return mask_partial(values, partial_kind)
    if strategy == "redact":
        return mask_redact(values)
    if strategy == "hash":
        if hash_key is None:
            raise ValueError("masking 'hash' needs a key")
        return mask_hash(values, hash_key)
    if strategy == "null":
        return mask_null(values)
    raise ValueError(f"unknown masking strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
