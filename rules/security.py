"""The plan-level security decision, and protecting generated chunks with it.

:func:`plan_security` reads the config's ``security`` block and every
column's ``sensitivity`` / ``masking`` and decides, once, before any row is
generated:

* **masking** (``security.enable_data_masking``): a column's explicit
  ``masking`` strategy applies whatever its sensitivity; without one, ``PII``
  columns get ``partial`` and ``SENSITIVE`` columns ``hash``;
  ``PUBLIC``/``INTERNAL``/``CONFIDENTIAL`` columns are left alone.
  ``partial``/``redact``/``hash`` make text, so on a non-string column
  (int, float, bool, date, time, timestamp) they are config errors; ``null``
  works on any column. When the *default* cannot apply (a PII date, a
  SENSITIVE float) the column is only encrypted if encryption is on, and is
  a config error otherwise (the fix: an explicit ``null``, encryption, or
  another sensitivity), never silently left in clear.
* **encryption** (``security.enable_encryption``): every ``PII`` and
  ``SENSITIVE`` column, *after* masking, so a masked and encrypted column
  decrypts to the masked value, never to the original. A column masked with
  ``null`` is not encrypted (there is nothing left to protect) and keeps its
  type. Encrypted columns become strings in the output (``enc:v1:...``, see
  :mod:`synthbeam.rules.crypto`); their original types are listed in
  ``_report.json`` (:func:`report_section`) so ``synthbeam decrypt`` restores
  them. Encryption without a key is a config error.
* **inheritance** (:mod:`synthbeam.rules.inheritance`): foreign keys and
  columns computed from a protected column through a reference get that
  column's protection, or the config is refused.
* **the key**: from ``security.key_env`` (an environment variable) or
  ``security.key_file`` (relative to the config's folder), loaded only when
  encryption or ``hash`` masking needs it. ``hash`` uses a sub-key of the
  encryption key when one is configured, else a key derived from the config
  seed (pseudonyms, not secrets: see :mod:`synthbeam.rules.masking`).

The result, a :class:`SecurityPlan`, is picklable and small: it travels to
Beam workers with the plan, *including the key* (workers must encrypt). It
holds key material only inside :class:`Secret` wrappers, whose ``repr`` and
``str`` never show it; neither :func:`report_section` nor
:func:`audit_record` contain anything but the key's fingerprint.

:func:`protect_batch` applies the plan to a generated chunk: masking then
encryption, columnwise; the result has :func:`protected_schema`. Values
depend only on (config, seed, key, table, column, row index), like every
other value synthbeam writes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from . import crypto, masking
from .errors import Issues
from .model import ColumnPlan, Plan, TablePlan
from .types import storage_kind

__all__ = [
    "ENCRYPTED_SENSITIVITIES",
    "ColumnProtection",
    "Secret",
    "SecurityPlan",
    "audit_lines",
    "audit_record",
    "plan_security",
    "protect_batch",
    "protected_column_types",
    "protected_schema",
    "report_section",
]

ENCRYPTED_SENSITIVITIES = frozenset({"PII", "SENSITIVE"})
NO_KEY_MESSAGE = (
    "security.enable_encryption is true but no key: set the environment variable named by "
    "security.key_env or security.key_file"
)
SEED_HASH_KEY_WARNING = (
    "hash masking without an encryption key uses a key derived from the seed, and the seed is in "
    "_report.json: the hashes are pseudonyms anyone with the output can recompute, not secrets "
    "(set security.key_env or security.key_file)"
)
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


# --- the plan-time decision -------------------------------------------------------------------------


def plan_security(plan: Plan, env: Mapping[str, str] = os.environ) -> tuple[SecurityPlan, Issues]:
    """Decide what to mask and encrypt in every table; errors go into the returned Issues.

    When ``Issues`` holds errors the returned plan must not be used (raise
    ``ConfigError(issues.errors, plan.source)``).
    """
    issues = Issues()
    security = dict(plan.security or {})
    masking_enabled = bool(security.get("enable_data_masking"))
    encryption_enabled = bool(security.get("enable_encryption"))
    referenced = _referenced_columns(plan)

    tables: dict[str, tuple[ColumnProtection, ...]] = {}
    for table in plan.tables.values():
        protections = []
        for column in table.columns:
            protection = _column_protection(column, masking_enabled, encryption_enabled, issues)
            if protection is not None:
                _warn_about_keys(table, column, protection, referenced, issues)
                protections.append(protection)
        tables[table.name] = tuple(protections)

    from .inheritance import inherit_protection  # it builds ColumnProtection entries: imported late

    inherit_protection(plan, tables, issues)
    hashing = any(p.masking == "hash" for cols in tables.values() for p in cols)
    encrypting = any(p.encrypt for cols in tables.values() for p in cols)
    key: bytes | None = None
    key_url = str(security["key_file"]) if crypto.is_key_url(security.get("key_file")) else None
    if encryption_enabled or hashing:
        try:
            key = crypto.load_key(security, env, plan.settings.config_dir)
        except crypto.KeyLoadError as exc:
            issues.error(exc.place, exc.detail)
        else:
            _warn_about_key_file(security, plan, issues)
            if key is None and encryption_enabled:
                issues.error("", NO_KEY_MESSAGE)
    if encryption_enabled and not encrypting and not issues.errors:
        issues.warning(
            "security.enable_encryption",
            "no column is encrypted: encryption applies to PII and SENSITIVE columns (set their sensitivity)",
        )

    hash_key: Secret | None = None
    hash_key_source: str | None = None
    if hashing:
        if key is not None:
            hash_key = Secret(crypto.derive_subkey(key, "hash"), key_url, "hash" if key_url else None)
            hash_key_source = "encryption key"
        else:
            hash_key, hash_key_source = Secret(seed_hash_key(plan.seed)), "seed"
            if plan.environment is not None and masking_enabled:
                issues.error(
                    "security",
                    f"environment {plan.environment!r} enables masking and a column is hashed, but there is no "
                    "key: the hashes would use a key derived from the seed, which _report.json records. Set "
                    "security.key_env or security.key_file in that environment",
                )
            else:
                issues.warning("security", SEED_HASH_KEY_WARNING)
    security_plan = SecurityPlan(
        tables=tables,
        masking_enabled=masking_enabled,
        encryption_enabled=encryption_enabled,
        audit_enabled=bool(security.get("audit_enabled")),
        key=Secret(key, key_url) if key is not None and encrypting else None,
        hash_key=hash_key,
        hash_key_source=hash_key_source,
        pad_to=int(security.get("pad_to") or 0),
    )
    return security_plan, issues


def seed_hash_key(seed: int) -> bytes:
    """The ``hash`` masking key of a run without an encryption key: public knowledge, by design."""
    return hashlib.sha256(b"synthbeam/v1/pseudonym/" + str(int(seed)).encode("ascii")).digest()


def _column_protection(
    column: ColumnPlan, masking_enabled: bool, encryption_enabled: bool, issues: Issues
) -> ColumnProtection | None:
    sensitivity = str(column.sensitivity or "PUBLIC").upper()
    strategy, source = _masking_strategy(column, sensitivity, masking_enabled, encryption_enabled, issues)
    encrypt = encryption_enabled and sensitivity in ENCRYPTED_SENSITIVITIES and strategy != "null"
    if strategy is None and not encrypt:
        return None
    return ColumnProtection(
        column=column.name,
        masking=strategy,
        encrypt=encrypt,
        original_type=column.type,
        sensitivity=sensitivity,
        partial_kind=_partial_kind(column),
        masking_source=source,
    )


def _masking_strategy(
    column: ColumnPlan, sensitivity: str, masking_enabled: bool, encryption_enabled: bool, issues: Issues
) -> tuple[str | None, str]:
    """(strategy or None, "column" | "sensitivity" | ""); reports strategies the column cannot take."""
    explicit = _explicit_strategy(column, issues)
    makes_text_of_non_text = storage_kind(column.type) != "str"
    if explicit is not None:
        if explicit in masking.TEXT_STRATEGIES and makes_text_of_non_text:
            message = (
                f"masking '{explicit}' makes text and cannot apply to a column of type {column.type}: "
                'use {"strategy": "null"} or remove "masking"'
            )
            if masking_enabled:
                issues.error(column.place, message)
            else:  # inert now, but an environment that turns masking on would fail
                issues.warning(column.place, message + " (rejected once security.enable_data_masking is on)")
            return None, ""
        return (explicit, "column") if masking_enabled else (None, "")
    default = masking.DEFAULT_STRATEGIES.get(sensitivity)
    if default is None or not masking_enabled:
        return None, ""
    if makes_text_of_non_text:
        if encryption_enabled:
            return None, ""  # the default cannot mask it, but encryption protects it: encrypt only
        issues.error(
            column.place,
            f"sensitivity {sensitivity} is masked with '{default}' by default, which makes text and cannot "
            f'apply to a column of type {column.type}: add "masking": {{"strategy": "null"}}, enable encryption '
            "or change the sensitivity",
        )
        return None, ""
    return default, "sensitivity"


def _explicit_strategy(column: ColumnPlan, issues: Issues) -> str | None:
    if not column.masking:
        return None
    raw = column.masking.get("strategy") if isinstance(column.masking, Mapping) else None
    strategy = str(raw).strip().lower() if raw is not None else ""
    if strategy not in masking.STRATEGIES:
        issues.error(
            column.place,
            f"masking strategy {raw!r} is not one of {', '.join(masking.STRATEGIES)}",
        )
        return None
    return strategy


def _partial_kind(column: ColumnPlan) -> str:
    """How partial masking keeps a little of each value: the column type's, else what its rule says."""
    kind = column.rule.masking_kind if column.rule is not None else "text"
    if column.type == "email" or kind == "email":
        return "email"
    if column.type == "phone" or kind == "phone":
        return "phone"
    return "text"


def _referenced_columns(plan: Plan) -> set[tuple[str, str]]:
    """(table, column) pairs some foreign key points at."""
    return {(fk.parent_table, fk.parent_column) for table in plan.tables.values() for fk in table.foreign_keys}


def _warn_about_keys(
    table: TablePlan,
    column: ColumnPlan,
    protection: ColumnProtection,
    referenced: set[tuple[str, str]],
    issues: Issues,
) -> None:
    """Masking or encrypting a key column breaks what the key promised; say so, once."""
    is_parent_key = (table.name, column.name) in referenced
    is_child_key = column.foreign_key is not None
    is_unique = column.is_unique or column.name in table.primary_key
    if not (is_parent_key or is_child_key or is_unique):
        return
    if is_parent_key:
        what = "referenced by a foreign key"
    else:
        what = "a primary or unique key" if is_unique else "a foreign key"
    if protection.masking in {"partial", "redact", "null"}:
        issues.warning(
            column.place,
            f"column is {what}: masking '{protection.masking}' makes its values repeat or vanish, "
            "so joins and uniqueness on it no longer hold",
        )
    elif protection.encrypt:
        issues.warning(
            column.place,
            f"column is {what}: encryption gives equal values different ciphertexts, "
            "so joins and uniqueness on it hold only after 'synthbeam decrypt'",
        )


def _warn_about_key_file(security: Mapping[str, Any], plan: Plan, issues: Issues) -> None:
    key_file = security.get("key_file")
    if not key_file or crypto.is_key_url(key_file):
        return
    path = crypto.resolve_key_path(str(key_file), plan.settings.config_dir)
    if crypto.key_file_too_open(path):
        issues.warning("security.key_file", f"{path} is readable by other users: chmod 600 it")


# --- protecting chunks ------------------------------------------------------------------------------


def _protect_field(field_: pa.Field, protection: ColumnProtection) -> pa.Field:
    if protection.encrypt:
        metadata = dict(field_.metadata or {})
        metadata[FIELD_METADATA_PROTECTION] = crypto.ENCRYPTED_PREFIX.rstrip(":").encode("ascii")
        metadata[FIELD_METADATA_ORIGINAL_TYPE] = protection.plaintext_type.encode("ascii")
        return pa.field(field_.name, pa.string(), nullable=field_.nullable, metadata=metadata)
    if protection.masking == "null":
        return field_.with_nullable(True)
    return field_


def _protect_schema(schema: pa.Schema, protections: Iterable[ColumnProtection]) -> pa.Schema:
    by_name = {p.column: p for p in protections}
    if not by_name:
        return schema
    fields = [_protect_field(f, by_name[f.name]) if f.name in by_name else f for f in schema]
    return pa.schema(fields, metadata=schema.metadata)


def protected_schema(table_plan: TablePlan, security_plan: SecurityPlan) -> pa.Schema:
    """The schema of ``table_plan``'s files: encrypted columns are strings, ``null``-masked nullable.

    Encrypted fields carry metadata ``synthbeam.protection = enc:v1`` and
    ``synthbeam.original_type`` (kept by Parquet; informative only, ``decrypt``
    reads ``_report.json``).
    """
    return _protect_schema(table_plan.schema, security_plan.columns(table_plan.name))


def protected_column_types(table_plan: TablePlan, security_plan: SecurityPlan) -> dict[str, str]:
    """Column name -> synthbeam type *as written*: encrypted or text-masked columns are ``str``.

    What the sinks' ``column_types`` must be: a ``uuid`` column holding
    ``enc:v1:`` or ``h:`` text must not be declared with Avro's ``uuid``
    logical type.
    """
    written = {p.column: "str" if p.encrypt else p.plaintext_type for p in security_plan.columns(table_plan.name)}
    return {c.name: written.get(c.name, c.type) for c in table_plan.columns}


def protect_batch(batch: pa.RecordBatch, table: str, start_index: int, security_plan: SecurityPlan) -> pa.RecordBatch:
    """Mask, then encrypt, the protected columns of rows ``[start_index, start_index + len(batch))``."""
    protections = security_plan.columns(table)
    if not protections:
        return batch
    row_index = np.arange(start_index, start_index + batch.num_rows, dtype=np.uint64)
    hash_key = security_plan.hash_key.reveal() if security_plan.hash_key is not None else None
    columns = dict(zip(batch.schema.names, batch.columns))
    for protection in protections:
        if protection.column not in columns:
            raise KeyError(f"{table} has no column {protection.column!r} to protect")
        values = columns[protection.column]
        if protection.masking is not None:
            values = masking.apply_masking(
                values, protection.masking, hash_key=hash_key, partial_kind=protection.partial_kind
            )
        if protection.encrypt:
            if security_plan.key is None:
                raise ValueError(f"{table}.{protection.column} is to be encrypted but the plan holds no key")
            values = crypto.encrypt_column(
                values, security_plan.key.reveal(), table, protection.column, row_index, security_plan.pad_to
            )
        columns[protection.column] = values
    schema = _protect_schema(batch.schema, protections)
    return pa.RecordBatch.from_arrays([columns[name] for name in schema.names], schema=schema)


# --- what the run records -----------------------------------------------------------------------------


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


# --- what the writers call --------------------------------------------------------------------------


def output_schema(plan: Plan, table: str) -> pa.Schema:
    """The schema ``table`` is written with: its own, or the protected one."""
    table_plan = plan.table(table)
    return protected_schema(table_plan, plan.protection) if plan.protection else table_plan.schema


def output_column_types(plan: Plan, table: str) -> dict[str, str]:
    """Column name -> contract type as written (encrypted and text-masked columns are ``str``)."""
    table_plan = plan.table(table)
    if plan.protection:
        return protected_column_types(table_plan, plan.protection)
    return {column.name: column.type for column in table_plan.columns}


def protect(plan: Plan, table: str, start_index: int, batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` (rows from ``start_index``) as it is written: masked and encrypted if the plan says so."""
    return protect_batch(batch, table, start_index, plan.protection) if plan.protection else batch
