"""Protecting generated chunks with the security plan: mask, then encrypt, column by column.

Per batch, on the workers. Values depend only on (config, seed, key, table, column, row index),
like every other value synthbeam writes; the result has :func:`protected_schema`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from synthbeam.rules.core.model import Plan, TablePlan
from synthbeam.rules.security import crypto, masking
from synthbeam.rules.security.protection import (
    FIELD_METADATA_ORIGINAL_TYPE,
    FIELD_METADATA_PROTECTION,
    ColumnProtection,
    SecurityPlan,
)

__all__ = [
    "output_column_types",
    "output_schema",
    "protect",
    "protect_batch",
    "protected_column_types",
    "protected_schema",
]


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
