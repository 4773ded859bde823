"""File sinks: whole Arrow record batches into Parquet, Avro or CSV shard files.

Each sink is a small :class:`apache_beam.io.filebasedsink.FileBasedSink`
subclass whose records are ``pyarrow.RecordBatch`` objects, so it works with
``beam.io.Write(sink)`` as well as with :mod:`synthbeam.transforms.write`,
which drives the same sink API (``initialize_write`` -> ``open_writer`` ->
``finalize_write``). Writers only ever write into the sink's temporary
directory; ``finalize_write`` renames the shards of *committed* bundles into
place and deletes the temporary directory, so a failed or retried bundle never
leaves a partial or duplicate file. All paths go through Beam's FileSystems
(local paths or ``gs://``).

The encoding of one file (:class:`BatchEncoder`) is separate from the sink so
size estimates (``synthbeam plan``) use exactly the bytes a run would write.

Types on disk: int64, float64, boolean, string, date, time (microseconds) and
timestamp (microseconds, no zone). Avro uses the logical types ``date``,
``time-micros``, ``local-timestamp-micros`` (a wall-clock time, no zone: ``timestamp-micros``
would make it a UTC instant) and ``uuid`` (for uuid-typed columns);
nullable columns are ``["null", type]`` unions. CSV is UTF-8 with a header in
every shard, RFC 4180 quoting (strings are always quoted, so an empty string
``""`` differs from a null, which is an empty field).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO, ClassVar

import fastavro
import numpy as np
import pyarrow as pa
from apache_beam.io.filebasedsink import FileBasedSink
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from . import tree
from .avro_container import AvroContainerWriter
from .avro_schema import avro_schema
from .names import check_avro_names

__all__ = [
    "FORMATS",
    "AvroSink",
    "BatchEncoder",
    "BatchSink",
    "CsvSink",
    "ParquetSink",
    "avro_schema",
    "check_avro_names",
    "compression_by_column",
    "sink_class",
]



class BatchEncoder:
    """Writes record batches of one schema into an open binary file object."""

    def write(self, batch: pa.RecordBatch) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flush trailers (footer, last block); the file object stays open."""


class _OpenShard:
    """What ``BatchSink.open`` hands to ``write_record``/``close``: the raw handle and its encoder."""

    __slots__ = ("encoder", "raw")

    def __init__(self, raw: BinaryIO, encoder: BatchEncoder) -> None:
        self.raw = raw
        self.encoder = encoder


class BatchSink(FileBasedSink):
    """A FileBasedSink whose records are record batches of ``schema``.

    ``column_types`` maps column name -> synthbeam column type (``uuid``,
    ``email``, ...) for formats that record more than the Arrow type.
    """

    format_name: ClassVar[str] = ""
    extension: ClassVar[str] = ""

    def __init__(
        self,
        file_path_prefix: str,
        schema: pa.Schema,
        column_types: Mapping[str, str] | None = None,
        table_name: str = "table",
        num_shards: int = 0,
    ) -> None:
        super().__init__(
            file_path_prefix,
            coder=None,
            file_name_suffix=self.extension,
            num_shards=num_shards,
            mime_type="application/octet-stream",
            compression_type=CompressionTypes.UNCOMPRESSED,
        )
        self.schema = schema
        self.column_types = dict(column_types or {})
        self.table_name = table_name

    def encoder(self, file_obj: BinaryIO) -> BatchEncoder:
        raise NotImplementedError

    def open(self, temp_path: str) -> _OpenShard:
        raw = super().open(temp_path)
        return _OpenShard(raw, self.encoder(raw))

    def write_record(self, file_handle: _OpenShard, value: pa.RecordBatch) -> None:
        if value.schema != self.schema:
            value = pa.RecordBatch.from_arrays(value.columns, schema=self.schema)
        file_handle.encoder.write(value)

    def close(self, file_handle: _OpenShard) -> None:
        file_handle.encoder.close()
        file_handle.raw.close()

    def display_data(self) -> dict[str, Any]:
        return {**super().display_data(), "format": self.format_name}

    def finalize_write(
        self, init_result: str, writer_results: Iterable[str], unused_pre_finalize_results: Any
    ) -> list[str]:
        """Rename each writer's temporary file to its shard name, then drop the temporary directory.

        Beam's own finalize matches ``<temp dir>/*`` and ``<prefix>*-of-N``: with
        ``*``, ``?`` or ``[`` in the output path those patterns miss the files
        (or match others). Here every name is used literally. Safe to retry: a
        shard whose temporary file is gone and whose final file exists was
        renamed by an earlier attempt.
        """
        temp_paths = sorted(writer_results)
        finals = [self._get_final_name(number, len(temp_paths)) for number in range(len(temp_paths))]
        sources, targets = [], []
        for temp_path, final in zip(temp_paths, finals):
            if FileSystems.exists(temp_path):
                sources.append(temp_path)
                targets.append(final)
            elif not FileSystems.exists(final):
                raise OSError(f"{self.table_name}: neither the shard {temp_path} nor {final} exists")
        if sources:
            FileSystems.rename(sources, targets)
        tree.remove(init_result)
        return finals


# --- Parquet -----------------------------------------------------------------


# Dictionary-encode a column only if its first batch repeats values this much: for
# high-cardinality text (emails, uuids, codes) the dictionary attempt doubles the write time.
DICTIONARY_MAX_DISTINCT_SHARE = 0.5
# Rows of the first batch the encoding and compression decisions look at: counting the distinct
# values of a whole 100k-row batch costs more than writing it (hash tables outgrow the cache).
SAMPLE_ROWS = 8192


def dictionary_columns(batch: pa.RecordBatch) -> list[str]:
    """Columns of ``batch`` worth dictionary encoding: few distinct values among the non-null ones of a sample."""
    import pyarrow.compute as pc

    sample = batch.slice(0, SAMPLE_ROWS)
    chosen = []
    for name, column in zip(sample.schema.names, sample.columns):
        present = len(column) - column.null_count
        if present and pc.count_distinct(column).as_py() < DICTIONARY_MAX_DISTINCT_SHARE * present:
            chosen.append(name)
    return chosen


# Leave a column uncompressed if snappy saves less than this share of a sample of its bytes:
# random text (uuids, hashes, timestamps spread over years) barely compresses, and trying
# cost the uuid column of retail-2 three times its plain write.
COMPRESSION_MIN_SAVING = 0.1


def _plain_bytes(column: pa.Array) -> pa.Buffer | None:
    """The value bytes of ``column`` as Parquet's plain encoding would hold them (None: not measured)."""
    kind = column.type
    buffers = column.buffers()
    if pa.types.is_string(kind) or pa.types.is_binary(kind):
        if buffers[2] is None:
            return None
        offsets = np.frombuffer(buffers[1], dtype=np.int32)[column.offset : column.offset + len(column) + 1]
        return buffers[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    width = getattr(kind, "bit_width", 0)
    if width >= 8 and buffers[1] is not None:
        size = width // 8
        return buffers[1].slice(column.offset * size, len(column) * size)
    return None


def compression_by_column(batch: pa.RecordBatch, dictionary: Iterable[str] = ()) -> dict[str, str]:
    """Per column, ``snappy`` or ``none``: whether snappy shrinks a sample of the column's plain bytes enough.

    Dictionary-encoded columns keep snappy (their pages are small).
    """
    sample = batch.slice(0, SAMPLE_ROWS)
    encoded = set(dictionary)
    codecs = {}
    for name, column in zip(sample.schema.names, sample.columns):
        raw = None if name in encoded else _plain_bytes(column)
        if raw is None or raw.size == 0:
            codecs[name] = "snappy"
            continue
        packed = pa.compress(raw, codec="snappy", asbytes=False)
        codecs[name] = "snappy" if packed.size <= (1 - COMPRESSION_MIN_SAVING) * raw.size else "none"
    return codecs


class _ParquetEncoder(BatchEncoder):
    """The writer opens on the first batch, which decides each column's encoding and compression."""

    def __init__(self, file_obj: BinaryIO, schema: pa.Schema) -> None:
        self.file_obj = file_obj
        self.schema = schema
        self.writer: Any = None

    def _open(self, use_dictionary: bool | list[str], compression: str | dict[str, str] = "snappy") -> None:
        import pyarrow.parquet as pq

        self.writer = pq.ParquetWriter(
            self.file_obj, self.schema, compression=compression, use_dictionary=use_dictionary
        )

    def write(self, batch: pa.RecordBatch) -> None:
        if self.writer is None:
            dictionary = dictionary_columns(batch)
            self._open(dictionary, compression_by_column(batch, dictionary))
        # One row group per batch: memory stays at one batch however large the shard grows.
        self.writer.write_batch(batch)

    def close(self) -> None:
        if self.writer is None:
            self._open(True)
        self.writer.close()


class ParquetSink(BatchSink):
    """Parquet shards (snappy where it pays), one row group per generated batch."""

    format_name = "parquet"
    extension = ".parquet"

    def encoder(self, file_obj: BinaryIO) -> BatchEncoder:
        return _ParquetEncoder(file_obj, self.schema)


# --- CSV ---------------------------------------------------------------------


class _CsvEncoder(BatchEncoder):
    def __init__(self, file_obj: BinaryIO, schema: pa.Schema) -> None:
        import pyarrow.csv as pcsv

        # "needed" quotes every string (pyarrow cannot know a string is safe), which is
        # RFC 4180-conform and keeps "" (empty string) apart from an empty field (null).
        options = pcsv.WriteOptions(include_header=True, quoting_style="needed")
        self.writer = pcsv.CSVWriter(file_obj, schema, write_options=options)

    def write(self, batch: pa.RecordBatch) -> None:
        self.writer.write_batch(batch)

    def close(self) -> None:
        self.writer.close()


class CsvSink(BatchSink):
    """UTF-8 CSV shards with a header row in every shard."""

    format_name = "csv"
    extension = ".csv"

    def encoder(self, file_obj: BinaryIO) -> BatchEncoder:
        return _CsvEncoder(file_obj, self.schema)


# --- Avro --------------------------------------------------------------------


class _AvroEncoder(BatchEncoder):
    def __init__(self, file_obj: BinaryIO, schema: pa.Schema, avro: Mapping[str, Any]) -> None:
        self.writer = AvroContainerWriter(file_obj, avro, [field.nullable for field in schema])

    def write(self, batch: pa.RecordBatch) -> None:
        self.writer.write(batch)


class AvroSink(BatchSink):
    """Avro object container shards (deflate) with logical types."""

    format_name = "avro"
    extension = ".avro"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bad = check_avro_names(self.table_name, self.schema.names)
        if bad:
            raise ValueError(f"{self.table_name}: column names not allowed in Avro: {', '.join(bad)}")
        self.avro = avro_schema(self.table_name, self.schema, self.column_types)
        fastavro.parse_schema(dict(self.avro))  # a schema Avro readers reject fails here, not in a worker

    def encoder(self, file_obj: BinaryIO) -> BatchEncoder:
        return _AvroEncoder(file_obj, self.schema, self.avro)


FORMATS: dict[str, type[BatchSink]] = {"parquet": ParquetSink, "avro": AvroSink, "csv": CsvSink}


def sink_class(format_name: str) -> type[BatchSink]:
    try:
        return FORMATS[format_name.lower()]
    except KeyError:
        raise ValueError(f"unknown output format {format_name!r}: use one of {', '.join(FORMATS)}") from None
