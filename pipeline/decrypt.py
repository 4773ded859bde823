"""``synthbeam decrypt OUT_DIR --key-file K --out DIR``: a plaintext copy of an encrypted output.

The command's core, without argparse: :func:`decrypt_output`.

What it relies on is ``OUT_DIR/_report.json``'s ``security`` section, written
by ``generate`` from :func:`synthbeam.rules.security.protection.report_section`::

    "security": {
      "version": 1,
      "encrypted": {"customers": {"email": "email", "birth_date": "date"}},   <- required
      "key_fingerprint": "1a2b3c4d",                                          <- checked when present
      "masked": {...}, "masking_enabled": ..., "encryption_enabled": ..., ...  <- informative
    }

``encrypted`` maps table -> column -> the column's synthbeam type before
encryption (``int``, ``float``, ``bool``, ``str``, ``uuid``, ``email``,
``phone``, ``date``, ``time``, ``timestamp``). The report's
``tables[T].columns`` (``name``, ``type``) give the other columns' types,
which CSV needs to be read back faithfully (strings are read as strings
otherwise).

The copy has the same layout and format: every shard of a table with
encrypted columns is read (Parquet with pyarrow, one row group at a time; CSV
with pyarrow's streaming reader, encrypted columns as strings; Avro with
fastavro), its encrypted columns are decrypted back to their original types
and it is written under the same name; every other file is copied as is.
``_report.json`` is copied with the decrypted columns moved from
``security.encrypted`` to ``security.decrypted`` and a ``decrypted`` note,
so the copy is never mistaken for (or re-decrypted as) an encrypted output.
Masked values stay masked: masking happens before encryption.

The report is not trusted alone: every shard of every table is read, and a
column holding ``enc:v1:`` cells that the report does not list (an edited or
foreign report) is refused rather than copied as ciphertext; so is a listed
column whose type disagrees with the type the file itself records (Parquet
field metadata and an Avro field attribute, ``synthbeam.original_type``;
CSV has no schema, there the report is all there is). A file that cannot be
read (truncated, corrupted) is refused naming it. A key file that group or
others may read is warned about (``warnings`` in the summary).

The copy is written into a temporary sibling of DIR and renamed into place
at the end, so a failure (wrong key, corrupted shard) leaves nothing behind.
DIR must not exist or be empty, and must lie outside OUT_DIR. DIR is created
with mode 0700: it holds plaintext. Local paths only.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from synthbeam.rules.core.types import ARROW_TYPES
from synthbeam.rules.security.crypto import (
    ENCRYPTED_PREFIX,
    DecryptionError,
    KeyLoadError,
    decrypt_column,
    from_text,
    is_key_url,
    key_file_too_open,
    key_fingerprint,
    read_key_file,
    read_key_url,
)
from synthbeam.transforms.avro_schema import avro_type_for
from synthbeam.transforms.output import REPORT_NAME, STAGING_PREFIX

from .errors import UserError
from .formats import ReportError, read_report

__all__ = ["REPORT_NAME", "decrypt_output"]

AVRO_ROWS_PER_BLOCK = 8_192
_FIELD_METADATA = (b"synthbeam.protection", b"synthbeam.original_type")


def decrypt_output(out_dir: str | Path, key_file: str | Path, dest: str | Path) -> dict[str, Any]:
    """Write a copy of ``out_dir`` into ``dest`` with every encrypted column decrypted.

    Returns a summary: ``{"source", "dest", "key_fingerprint", "tables": {table:
    {"columns": [...], "files": n, "rows": n}}}``. Raises :class:`UserError`
    (one line, never key material) for a missing or foreign output, a bad key
    file, a ``dest`` that exists and is not empty, or a cell that does not
    decrypt: ``decryption failed: wrong key or corrupted data in table.column``.
    """
    out_dir, dest = Path(out_dir), Path(dest)
    report = _read_report(out_dir)
    security = report.get("security") if isinstance(report.get("security"), Mapping) else {}
    encrypted = _encrypted_columns(security, out_dir)
    _check_destination(out_dir, dest)
    try:
        if is_key_url(str(key_file)):  # the same gs:// key file a run's workers read
            import synthbeam.transforms.keys  # noqa: F401  (installs the FileSystems reader; imports Beam)

            key = read_key_url(str(key_file))
        else:
            key = read_key_file(key_file)
    except KeyLoadError as exc:
        raise UserError(f"--key-file: {exc.detail}") from None
    _check_fingerprint(key, security, encrypted)
    warnings = []
    if not is_key_url(str(key_file)) and key_file_too_open(key_file):
        warnings.append(f"--key-file {key_file} is readable by other users: chmod 600 it")

    column_types = _report_column_types(report)
    dest.resolve().parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.decrypting-", dir=dest.resolve().parent))
    summary: dict[str, Any] = {
        "source": str(out_dir),
        "dest": str(dest),
        "key_fingerprint": key_fingerprint(key),
        "warnings": warnings,
    }
    tables: dict[str, Any] = {}
    try:
        for entry in sorted(out_dir.iterdir()):
            if entry.name == REPORT_NAME or entry.name.startswith(STAGING_PREFIX):
                continue
            target = staging / entry.name
            if entry.is_dir() and entry.name in encrypted:
                tables[entry.name] = _decrypt_table(
                    entry, target, key, entry.name, encrypted[entry.name], column_types.get(entry.name, {})
                )
            elif entry.is_dir():
                _refuse_unlisted_ciphertext(entry, entry.name, column_types.get(entry.name, {}))
                shutil.copytree(entry, target)
            else:
                shutil.copy2(entry, target)
        missing = sorted(set(encrypted) - set(tables))
        if missing:
            raise UserError(
                f"{out_dir}: _report.json lists encrypted columns of {', '.join(missing)} "
                "but the output has no such table folder"
            )
        _write_report(staging / REPORT_NAME, _decrypted_report(report, out_dir, dest, encrypted))
        if dest.exists():
            dest.rmdir()  # checked empty above
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    summary["tables"] = tables
    return summary


# --- checks ------------------------------------------------------------------------------------------


def _read_report(out_dir: Path) -> dict[str, Any]:
    if not out_dir.is_dir():
        raise UserError(f"{out_dir} is not a directory")
    try:
        report = read_report(out_dir)
    except ReportError as exc:
        raise UserError(f"{exc.path} is not a synthbeam report ({exc.problem})") from None
    if report is None:
        raise UserError(f"{out_dir} is not a synthbeam output: it has no {REPORT_NAME}")
    return report


def _encrypted_columns(security: Mapping[str, Any], out_dir: Path) -> dict[str, dict[str, str]]:
    encrypted = security.get("encrypted") if isinstance(security, Mapping) else None
    if not encrypted:
        raise UserError(f"{out_dir}: nothing to decrypt (its {REPORT_NAME} lists no security.encrypted columns)")
    if not isinstance(encrypted, Mapping):
        raise UserError(f"{out_dir}/{REPORT_NAME}: security.encrypted must map table -> column -> type")
    checked: dict[str, dict[str, str]] = {}
    for table, columns in encrypted.items():
        if not isinstance(columns, Mapping):
            raise UserError(f"{out_dir}/{REPORT_NAME}: security.encrypted.{table} must map column -> type")
        for column, column_type in columns.items():
            if column_type not in ARROW_TYPES:
                raise UserError(
                    f"{out_dir}/{REPORT_NAME}: security.encrypted.{table}.{column}: unknown type {column_type!r}"
                )
        if columns:
            checked[str(table)] = {str(c): str(t) for c, t in columns.items()}
    return checked


def _check_destination(out_dir: Path, dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UserError(f"{dest} exists and is not empty: choose a new --out")
    source, target = out_dir.resolve(), dest.resolve()
    if target == source or source in target.parents:
        raise UserError(f"--out {dest} must lie outside {out_dir}")


def _check_fingerprint(key: bytes, security: Mapping[str, Any], encrypted: Mapping[str, Mapping[str, str]]) -> None:
    expected = security.get("key_fingerprint")
    if expected and key_fingerprint(key) != expected:
        table = next(iter(encrypted))
        column = next(iter(encrypted[table]))
        raise UserError(
            f"decryption failed: wrong key or corrupted data in {table}.{column} "
            f"(the key's fingerprint is {key_fingerprint(key)}, the output was encrypted with {expected})"
        )


def _report_column_types(report: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``{table: {column: synthbeam type}}`` from the report's table entries (what CSV needs)."""
    found: dict[str, dict[str, str]] = {}
    tables = report.get("tables")
    if not isinstance(tables, Mapping):
        return found
    for table, entry in tables.items():
        columns = entry.get("columns") if isinstance(entry, Mapping) else None
        for column in columns if isinstance(columns, list) else []:
            if isinstance(column, Mapping) and column.get("type") in ARROW_TYPES:
                found.setdefault(str(table), {})[str(column.get("name"))] = str(column["type"])
    return found


# --- one table ---------------------------------------------------------------------------------------


def _decrypt_table(
    source: Path,
    target: Path,
    key: bytes,
    table: str,
    encrypted: Mapping[str, str],
    column_types: Mapping[str, str],
) -> dict[str, Any]:
    target.mkdir()
    files = rows = 0
    for shard in sorted(source.iterdir()):
        destination = target / shard.name
        if shard.is_dir():
            shutil.copytree(shard, destination)
            continue
        suffix = shard.suffix.lower()
        decrypt = {".parquet": _decrypt_parquet, ".csv": _decrypt_csv, ".avro": _decrypt_avro}.get(suffix)
        if decrypt is None:
            shutil.copy2(shard, destination)
            continue
        try:
            rows += decrypt(shard, destination, key, table, encrypted, column_types)
        except DecryptionError as exc:
            raise UserError(f"{exc}, file {table}/{shard.name}") from None
        except UserError:
            raise
        except Exception as exc:  # pyarrow/fastavro on a truncated or corrupted file: name the file
            raise _unreadable(shard, table, exc) from None
        files += 1
    return {"columns": sorted(encrypted), "files": files, "rows": rows}


def _decrypt_values(
    values: pa.Array | pa.ChunkedArray, key: bytes, table: str, column: str, column_type: str
) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    texts = decrypt_column(values, key, table, column)
    try:
        return from_text(texts, column_type)
    except ValueError:
        raise UserError(
            f"{table}.{column}: the decrypted values are not {column_type} values as {REPORT_NAME} says"
        ) from None


def _unreadable(shard: Path, table: str, exc: BaseException) -> UserError:
    lines = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return UserError(f"cannot read {table}/{shard.name}: not a valid {shard.suffix.lstrip('.')} file ({detail})")


def _holds_ciphertext(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether some cell is an ``enc:v1:`` ciphertext (only text columns can hold one)."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return False
    import pyarrow.compute as pc

    return bool(pc.any(pc.starts_with(values, ENCRYPTED_PREFIX)).as_py())


def _unlisted_ciphertext(table: str, column: str, shard: Path) -> UserError:
    return UserError(
        f"{table}/{shard.name}: column {column} holds encrypted cells ({ENCRYPTED_PREFIX}...) but "
        f"{REPORT_NAME}'s security.encrypted does not list it: the report was edited or belongs to another "
        "output; refusing to leave ciphertext in the copy"
    )


def _check_recorded_type(table: str, column: str, reported: str, recorded: str | None, shard: Path) -> None:
    """The type the file itself records for an encrypted column must be the one the report gives."""
    if recorded is not None and recorded != reported:
        raise UserError(
            f"{table}/{shard.name}: {REPORT_NAME} says {table}.{column} decrypts as {reported}, but the file "
            f"records {recorded}: the report was edited or belongs to another output"
        )


def _refuse_unlisted_ciphertext(source: Path, table: str, column_types: Mapping[str, str]) -> None:
    """A table the report lists nothing encrypted in must hold no ciphertext: it is copied as is."""
    for shard in sorted(source.rglob("*")):
        reader = {".parquet": _parquet_columns, ".csv": _csv_columns, ".avro": _avro_columns}.get(
            shard.suffix.lower()
        )
        if reader is None or not shard.is_file():
            continue
        try:
            for column, values in reader(shard, column_types):
                if _holds_ciphertext(values):
                    raise _unlisted_ciphertext(table, column, shard)
        except UserError:
            raise
        except Exception as exc:
            raise _unreadable(shard, table, exc) from None


def _parquet_columns(shard: Path, _: Mapping[str, str]) -> Iterator[tuple[str, pa.Array | pa.ChunkedArray]]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(shard)
    text = [f.name for f in parquet.schema_arrow if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    for number in range(parquet.num_row_groups):
        group = parquet.read_row_group(number, columns=text)
        for name in text:
            yield name, group.column(name)


def _csv_columns(shard: Path, _: Mapping[str, str]) -> Iterator[tuple[str, pa.Array | pa.ChunkedArray]]:
    import pyarrow.csv as pcsv

    if shard.stat().st_size == 0:
        return
    header = _csv_header(shard)
    convert = pcsv.ConvertOptions(column_types={name: pa.string() for name in header})
    for batch in pcsv.open_csv(shard, convert_options=convert):
        for name in batch.schema.names:
            yield name, batch.column(name)


def _avro_columns(shard: Path, _: Mapping[str, str]) -> Iterator[tuple[str, pa.Array | pa.ChunkedArray]]:
    import fastavro

    with shard.open("rb") as handle:
        reader = fastavro.reader(handle)
        schema = json.loads(reader.metadata["avro.schema"])
        names = [f["name"] for f in schema.get("fields", [])]
        block: list[dict[str, Any]] = []
        for record in reader:
            block.append(record)
            if len(block) == AVRO_ROWS_PER_BLOCK:
                yield from _avro_text_columns(block, names)
                block = []
        if block:
            yield from _avro_text_columns(block, names)


def _avro_text_columns(block: list[dict[str, Any]], names: list[str]) -> Iterator[tuple[str, pa.Array]]:
    for name in names:
        texts = [record.get(name) for record in block]
        if all(value is None or isinstance(value, str) for value in texts):
            yield name, pa.array(texts, pa.string())


def _missing_column(table: str, column: str, shard: Path) -> UserError:
    return UserError(f"{REPORT_NAME} says {table}.{column} is encrypted, but {shard} has no such column")


def _plain_field(field: pa.Field, column_type: str) -> pa.Field:
    metadata = {k: v for k, v in (field.metadata or {}).items() if k not in _FIELD_METADATA}
    return pa.field(field.name, ARROW_TYPES[column_type], nullable=field.nullable, metadata=metadata or None)


def _decrypt_parquet(
    shard: Path, destination: Path, key: bytes, table: str, encrypted: Mapping[str, str], _: Mapping[str, str]
) -> int:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(shard)
    schema = parquet.schema_arrow
    for column in encrypted:
        if column not in schema.names:
            raise _missing_column(table, column, shard)
        metadata = schema.field(column).metadata or {}
        recorded = metadata.get(_FIELD_METADATA[1])
        _check_recorded_type(table, column, encrypted[column], recorded.decode() if recorded else None, shard)
    plain_schema = pa.schema(
        [_plain_field(f, encrypted[f.name]) if f.name in encrypted else f for f in schema], metadata=schema.metadata
    )
    from synthbeam.transforms.sinks import compression_by_column, dictionary_columns

    rows = 0
    writer = None
    try:
        for number in range(parquet.num_row_groups):  # one row group at a time: memory stays bounded
            group = parquet.read_row_group(number)
            for name in schema.names:
                if name not in encrypted and _holds_ciphertext(group.column(name)):
                    raise _unlisted_ciphertext(table, name, shard)
            columns = [
                _decrypt_values(group.column(name), key, table, name, encrypted[name])
                if name in encrypted
                else group.column(name)
                for name in schema.names
            ]
            plain = pa.Table.from_arrays(columns, schema=plain_schema)
            if writer is None:  # encoding and compression chosen from the plain values, as a run would
                first = plain.combine_chunks().to_batches()[0] if plain.num_rows else None
                dictionary = dictionary_columns(first) if first is not None else True
                codecs = compression_by_column(first, dictionary) if first is not None else "snappy"
                writer = pq.ParquetWriter(destination, plain_schema, compression=codecs, use_dictionary=dictionary)
            writer.write_table(plain, row_group_size=max(plain.num_rows, 1))
            rows += plain.num_rows
        if writer is None:
            writer = pq.ParquetWriter(destination, plain_schema, compression="snappy")
    finally:
        if writer is not None:
            writer.close()
    return rows


def _decrypt_csv(
    shard: Path,
    destination: Path,
    key: bytes,
    table: str,
    encrypted: Mapping[str, str],
    column_types: Mapping[str, str],
) -> int:
    import pyarrow.csv as pcsv

    if shard.stat().st_size == 0:
        shutil.copy2(shard, destination)
        return 0
    types = {name: ARROW_TYPES[kind] for name, kind in column_types.items()}
    # Encrypted cells are text whatever the column's type; columns the report does not type stay
    # text too (never inferred: "007" must not come back as 7).
    types.update({name: pa.string() for name in encrypted})
    header = _csv_header(shard)
    for column in encrypted:
        if column not in header:
            raise _missing_column(table, column, shard)
    convert = pcsv.ConvertOptions(
        column_types={name: types.get(name, pa.string()) for name in header},
        strings_can_be_null=True,  # an empty field is null ...
        quoted_strings_can_be_null=False,  # ... and "" an empty string, as the sinks write them
    )
    reader = pcsv.open_csv(shard, convert_options=convert)
    plain_schema = pa.schema([_plain_field(f, encrypted[f.name]) if f.name in encrypted else f for f in reader.schema])
    options = pcsv.WriteOptions(include_header=True, quoting_style="needed")
    rows = 0
    with pcsv.CSVWriter(destination, plain_schema, write_options=options) as writer:
        for batch in reader:
            for name in batch.schema.names:
                if name not in encrypted and _holds_ciphertext(batch.column(name)):
                    raise _unlisted_ciphertext(table, name, shard)
            columns = [
                _decrypt_values(batch.column(name), key, table, name, encrypted[name])
                if name in encrypted
                else batch.column(name)
                for name in batch.schema.names
            ]
            writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=plain_schema))
            rows += batch.num_rows
    return rows


def _csv_header(shard: Path) -> list[str]:
    with shard.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])


def _decrypt_avro(
    shard: Path, destination: Path, key: bytes, table: str, encrypted: Mapping[str, str], _: Mapping[str, str]
) -> int:
    import fastavro

    rows = 0
    with shard.open("rb") as handle:
        reader = fastavro.reader(handle)
        schema = json.loads(reader.metadata["avro.schema"])
        names = [f["name"] for f in schema.get("fields", [])]
        for column in encrypted:
            if column not in names:
                raise _missing_column(table, column, shard)
        for field in schema.get("fields", []):
            if field["name"] in encrypted:
                recorded = field.get(_FIELD_METADATA[1].decode())
                _check_recorded_type(table, field["name"], encrypted[field["name"]], recorded, shard)
        plain_schema = _plain_avro_schema(schema, encrypted)
        counted = [0]

        def records() -> Iterator[dict[str, Any]]:
            block: list[dict[str, Any]] = []
            for record in reader:
                block.append(record)
                if len(block) == AVRO_ROWS_PER_BLOCK:
                    yield from _decrypt_avro_block(block, key, table, encrypted, shard)
                    counted[0] += len(block)
                    block = []
            if block:
                yield from _decrypt_avro_block(block, key, table, encrypted, shard)
                counted[0] += len(block)

        # A sync marker derived from the schema, like the sinks': the same input gives the same bytes.
        sync_marker = hashlib.sha256(json.dumps(plain_schema, sort_keys=True).encode("utf-8")).digest()[:16]
        with destination.open("wb") as out:
            fastavro.writer(out, plain_schema, records(), codec=reader.codec or "null", sync_marker=sync_marker)
        rows = counted[0]
    return rows


def _plain_avro_schema(schema: Mapping[str, Any], encrypted: Mapping[str, str]) -> dict[str, Any]:
    plain = copy.deepcopy(dict(schema))
    for field in plain.get("fields", []):
        if field["name"] in encrypted:
            field.pop(_FIELD_METADATA[1].decode(), None)
            field.pop(_FIELD_METADATA[0].decode(), None)
            avro_type = avro_type_for(encrypted[field["name"]])
            nullable = isinstance(field["type"], list) and "null" in field["type"]
            field["type"] = ["null", avro_type] if nullable else avro_type
    return plain


def _decrypt_avro_block(
    block: list[dict[str, Any]], key: bytes, table: str, encrypted: Mapping[str, str], shard: Path
) -> list[dict[str, Any]]:
    for name, values in _avro_text_columns(block, list(block[0]) if block else []):
        if name not in encrypted and _holds_ciphertext(values):
            raise _unlisted_ciphertext(table, name, shard)
    for column, column_type in encrypted.items():
        texts = pa.array([record.get(column) for record in block], pa.string())
        values = _avro_encoding(_decrypt_values(texts, key, table, column, column_type))
        for record, value in zip(block, values):
            record[column] = value
    return block


def _avro_encoding(values: pa.Array) -> list[Any]:
    """Python values fastavro writes exactly: temporal values as their Avro integers.

    (fastavro would read a naive ``datetime`` as local time, shifting every timestamp.)
    """
    kind = values.type
    if pa.types.is_date32(kind):
        return values.cast(pa.int32()).to_pylist()
    if pa.types.is_time64(kind) or pa.types.is_timestamp(kind):
        return values.cast(pa.int64()).to_pylist()
    return values.to_pylist()


# --- the report ---------------------------------------------------------------------------------------


def _decrypted_report(
    report: Mapping[str, Any], out_dir: Path, dest: Path, encrypted: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    copied = copy.deepcopy(dict(report))
    security = dict(copied.get("security") or {})
    security["decrypted"] = {table: dict(columns) for table, columns in encrypted.items()}
    security["encrypted"] = {}
    copied["security"] = security
    copied["decrypted"] = {
        "from": str(out_dir),
        "note": "a copy made by 'synthbeam decrypt': the columns under security.decrypted are plaintext "
        "again (masked values stay masked); handle this folder like the data it holds",
    }
    copied["output_dir"] = str(dest)
    tables = copied.get("tables")
    if isinstance(tables, dict):
        for name, entry in tables.items():
            if isinstance(entry, dict) and isinstance(entry.get("file_pattern"), str):
                entry["file_pattern"] = str(dest / name / Path(entry["file_pattern"]).name)
    return copied


def _write_report(path: Path, report: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
