"""The plan-level security decision: what to mask and encrypt, and with which key.

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
  :mod:`synthbeam.rules.security.crypto`); their original types are listed in
  ``_report.json`` (:func:`~.protection.report_section`) so ``synthbeam decrypt`` restores
  them. Encryption without a key is a config error.
* **inheritance** (:mod:`synthbeam.rules.security.inheritance`): foreign keys and
  columns computed from a protected column through a reference get that
  column's protection, or the config is refused.
* **the key**: from ``security.key_env`` (an environment variable) or
  ``security.key_file`` (relative to the config's folder), loaded only when
  encryption or ``hash`` masking needs it. ``hash`` uses a sub-key of the
  encryption key when one is configured, else a key derived from the config
  seed (pseudonyms, not secrets: see :mod:`synthbeam.rules.security.masking`).

The result is a :class:`~.protection.SecurityPlan` (what it holds and what the run records of
it: :mod:`.protection`); :mod:`.apply` applies it to every generated chunk.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

from synthbeam.rules.core.errors import Issues
from synthbeam.rules.core.model import ColumnPlan, Plan, TablePlan
from synthbeam.rules.core.types import storage_kind
from synthbeam.rules.security import crypto, masking
from synthbeam.rules.security.inheritance import inherit_protection
from synthbeam.rules.security.protection import ENCRYPTED_SENSITIVITIES, ColumnProtection, Secret, SecurityPlan

__all__ = ["plan_security", "seed_hash_key"]

NO_KEY_MESSAGE = (
    "security.enable_encryption is true but no key: set the environment variable named by "
    "security.key_env or security.key_file"
)
SEED_HASH_KEY_WARNING = (
    "hash masking without an encryption key uses a key derived from the seed, and the seed is in "
    "_report.json: the hashes are pseudonyms anyone with the output can recompute, not secrets "
    "(set security.key_env or security.key_file)"
)


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
