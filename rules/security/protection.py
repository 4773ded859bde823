"""The security plan as data: what protects each column, the keys, and what the run records of it.

A :class:`SecurityPlan` is made once at plan time (:mod:`.policy`) and applied to every
generated chunk (:mod:`.apply`). It is picklable and small: it travels to Beam workers with the
plan, *including the key* (workers must encrypt). It holds key material only inside
:class:`Secret` wrappers, whose ``repr`` and ``str`` never show it; neither
:func:`report_section` nor :func:`audit_record` contain anything but the key's fingerprint.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from synthbeam.rules.security import crypto, masking

__all__ = [
    "ENCRYPTED_SENSITIVITIES",
    "ColumnProtection",
    "Secret",
    "SecurityPlan",
    "audit_lines",
    "audit_record",
    "report_section",
]

ENCRYPTED_SENSITIVITIES = frozenset({"PII", "SENSITIVE"})
REPORT_SECTION_VERSION = 1
FIELD_METADATA_PROTECTION = b"synthbeam.protection"
FIELD_METADATA_ORIGINAL_TYPE = b"synthbeam.original_type"


class Secret:
    """Key bytes that never print: ``repr``/``str`` show only the fingerprint.

    A key read from an environment variable or a local file pickles with its
    value (Beam workers need it), so that pickled plan is as sensitive as the
    key: never log or store it. A key read from a URL (``security.key_file:
    gs://...``) pickles as the URL and the key's fingerprint only: each worker
    reads the key itself on first use and checks the fingerprint, so the key
    never travels inside a submitted job. ``derivation`` names a subkey
    (``crypto.derive_subkey``) derived again from the key read.
    """

    __slots__ = ("_derivation", "_fingerprint", "_url", "_value")

    def __init__(self, value: bytes, url: str | None = None, derivation: str | None = None) -> None:
        self._value: bytes | None = bytes(value)
        self._url = url
        self._derivation = derivation
        self._fingerprint = crypto.key_fingerprint(self._value)

    @property
    def travels_with_job(self) -> bool:
        """Whether pickling carries the key itself (not just where to read it)."""
        return self._url is None

    def reveal(self) -> bytes:
        if self._value is None:
            self._value = self._fetch()
        return self._value

    def _fetch(self) -> bytes:
        assert self._url is not None
        key = crypto.read_key_url(self._url, "security.key_file")
        if self._derivation:
            key = crypto.derive_subkey(key, self._derivation)
        found = crypto.key_fingerprint(key)
        if not hmac.compare_digest(found, self._fingerprint):
            raise crypto.KeyLoadError(
                "security.key_file",
                f"the key at {self._url} is not the one this run was planned with "
                f"(fingerprint {found}, expected {self._fingerprint})",
            )
        return key

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def __repr__(self) -> str:
        return f"Secret(<hidden>, fingerprint={self.fingerprint})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self.fingerprint, other.fingerprint)

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __getstate__(self) -> tuple[Any, ...]:
        if self._url is None:
            return ("value", self._value)
        return ("url", self._url, self._derivation, self._fingerprint)

    def __setstate__(self, state: Any) -> None:
        if state[0] == "value":
            self._value, self._url, self._derivation = state[1], None, None
            self._fingerprint = crypto.key_fingerprint(self._value)
        else:
            _, self._url, self._derivation, self._fingerprint = state
            self._value = None


@dataclass(frozen=True)
class ColumnProtection:
    """What happens to one column: masked (strategy or None), then encrypted or not."""

    column: str
    masking: str | None
    encrypt: bool
    original_type: str  # the synthbeam column type (int, date, email, ...)
    sensitivity: str = "PUBLIC"
    partial_kind: str = "text"  # how 'partial' reads the values: text, email or phone
    masking_source: str = ""  # "column" (explicit), "sensitivity" (the default), "foreign key" (its parent's); ""

    @property
    def plaintext_type(self) -> str:
        """The type of the values as masked: ``str`` after partial/redact/hash (``h:...`` is no uuid)."""
        return "str" if self.masking in masking.TEXT_STRATEGIES else self.original_type


@dataclass(frozen=True, repr=False)
class SecurityPlan:
    """Per table, the protected columns (in table order), plus the keys that protect them."""

    tables: dict[str, tuple[ColumnProtection, ...]] = field(default_factory=dict)
    masking_enabled: bool = False
    encryption_enabled: bool = False
    audit_enabled: bool = False
    key: Secret | None = None
    hash_key: Secret | None = None
    hash_key_source: str | None = None  # "encryption key" | "seed" | None (no column is hashed)
    pad_to: int = 0  # encrypted plaintexts padded to a multiple of this many bytes (0: not padded)

    @property
    def active(self) -> bool:
        """True when some column of some table is masked or encrypted."""
        return any(self.tables.values())

    @property
    def key_fingerprint(self) -> str | None:
        return self.key.fingerprint if self.key is not None else None

    def columns(self, table: str) -> tuple[ColumnProtection, ...]:
        return self.tables.get(table, ())

    def masked(self) -> dict[str, dict[str, str]]:
        """``{table: {column: strategy}}`` of masked columns."""
        return _nonempty({t: {p.column: p.masking for p in cols if p.masking} for t, cols in self.tables.items()})

    def encrypted(self) -> dict[str, dict[str, str]]:
        """``{table: {column: type}}`` of encrypted columns: the type ``decrypt`` restores.

        That is the column's type, or ``str`` when a text masking came first
        (a hashed uuid or a partial email is plain text).
        """
        return _nonempty(
            {t: {p.column: p.plaintext_type for p in cols if p.encrypt} for t, cols in self.tables.items()}
        )

    def __repr__(self) -> str:
        counts = ", ".join(f"{t}: {len(cols)}" for t, cols in self.tables.items() if cols) or "none"
        return (
            f"SecurityPlan(masking={self.masking_enabled}, encryption={self.encryption_enabled}, "
            f"audit={self.audit_enabled}, protected columns={{{counts}}}, "
            f"key fingerprint={self.key_fingerprint}, hash key={self.hash_key_source})"
        )

    __str__ = __repr__


def _nonempty(mapping: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {name: entry for name, entry in mapping.items() if entry}


def report_section(security_plan: SecurityPlan) -> dict[str, Any]:
    """The ``"security"`` section of ``_report.json`` (no key material, only the fingerprint).

    ``encrypted`` (``{table: {column: original type}}``) is what ``synthbeam
    decrypt`` relies on; the rest is for people.
    """
    return {
        "version": REPORT_SECTION_VERSION,
        "masking_enabled": security_plan.masking_enabled,
        "encryption_enabled": security_plan.encryption_enabled,
        "audit_enabled": security_plan.audit_enabled,
        "masked": security_plan.masked(),
        "encrypted": security_plan.encrypted(),
        "encryption": _scheme(security_plan),
        "key_fingerprint": security_plan.key_fingerprint,
        "hash_key": security_plan.hash_key_source,
    }


def _scheme(security_plan: SecurityPlan) -> str | None:
    if security_plan.key is None:
        return None
    scheme = f"{crypto.CIPHER_NAME} per cell; text '{crypto.ENCRYPTED_PREFIX}' + base64url(nonce + ciphertext)"
    if security_plan.pad_to:
        scheme += f"; plaintexts padded to a multiple of {security_plan.pad_to} bytes"
    return scheme


def audit_record(security_plan: SecurityPlan, table: str, rows: int | None = None) -> dict[str, Any]:
    """One ``_audit.jsonl`` entry: what was done to ``table``'s columns, and under which key fingerprint.

    Holds no values, no key and no time (the pipeline may add a run id or
    time; without them the audit file is as reproducible as the data).
    """
    protections = security_plan.columns(table)
    record: dict[str, Any] = {
        "event": "protect",
        "table": table,
        "columns": [
            {
                "column": p.column,
                "sensitivity": p.sensitivity,
                "masking": p.masking,
                "masking_from": p.masking_source or None,
                "encrypted": p.encrypt,
                "original_type": p.original_type,
            }
            for p in protections
        ],
        "masked": {p.column: p.masking for p in protections if p.masking},
        "encrypted": [p.column for p in protections if p.encrypt],
        "key_fingerprint": security_plan.key_fingerprint,
        "hash_key": security_plan.hash_key_source if any(p.masking == "hash" for p in protections) else None,
    }
    if rows is not None:
        record["rows"] = int(rows)
    return record


def audit_lines(security_plan: SecurityPlan, rows_by_table: Mapping[str, int] | None = None) -> list[str]:
    """The lines of ``_audit.jsonl``: one JSON object per table with a protected column, in plan order."""
    rows_by_table = rows_by_table or {}
    return [
        json.dumps(audit_record(security_plan, table, rows_by_table.get(table)), sort_keys=True)
        for table, protections in security_plan.tables.items()
        if protections
    ]
