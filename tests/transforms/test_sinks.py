"""Each sink under Beam's own ``beam.io.Write``, read back with pyarrow, fastavro and the csv module."""

from __future__ import annotations

import csv
import datetime as dt
import glob
import hashlib
import io
import os
import uuid

import apache_beam as beam
import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline

from synthbeam.rules.engine.batch import generate_batch
from synthbeam.transforms.sinks import (
    AvroSink,
    CsvSink,
    ParquetSink,
    avro_schema,
    check_avro_names,
    compression_by_column,
    dictionary_columns,
    sink_class,
)

UTC = dt.timezone.utc


def _write(runner, sink, batches: list[pa.RecordBatch]) -> list[str]:
    pipeline = BeamTestPipeline(runner=runner)
    _ = pipeline | beam.Create(batches, reshuffle=False) | beam.io.Write(sink)
    pipeline.run().wait_until_finish()
    directory = os.path.dirname(sink.file_path_prefix.get())
    leftovers = [p for p in os.listdir(directory) if p.startswith("beam-temp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    return sorted(glob.glob(sink.file_path_prefix.get() + "*" + sink.extension))


def _sink(kind, plan, table, tmp_path, num_shards=0):
    table_plan = plan.table(table)
    return kind(
        str(tmp_path / table / table),
        table_plan.schema,
        {c.name: c.type for c in table_plan.columns},
        table_name=table,
        num_shards=num_shards,
    )


def _batches(plan, table, size):
    rows = plan.table(table).rows
    return [generate_batch(plan, table, start, min(rows, start + size)) for start in range(0, rows, size)]


def test_parquet_round_trip_keeps_types_and_values(all_types_plan, runner, tmp_path) -> None:
    sink = _sink(ParquetSink, all_types_plan, "customers", tmp_path, num_shards=2)
    files = _write(runner, sink, _batches(all_types_plan, "customers", 300))
    assert [os.path.basename(f) for f in files] == [
        "customers-00000-of-00002.parquet",
        "customers-00001-of-00002.parquet",
    ]
    table = pq.read_table(files).sort_by("customer_id")
    expected = pa.Table.from_batches([generate_batch(all_types_plan, "customers", 0, 1000)])
    assert table.schema.equals(expected.schema)
    assert table.equals(expected)
    assert table.column("tier").null_count > 0


def test_avro_round_trip_uses_logical_types(all_types_plan, runner, tmp_path) -> None:
    sink = _sink(AvroSink, all_types_plan, "customers", tmp_path)
    files = _write(runner, sink, _batches(all_types_plan, "customers", 400))
    assert files and all(f.endswith(".avro") for f in files)
    records = []
    for path in files:
        with open(path, "rb") as handle:
            reader = fastavro.reader(handle)
            schema = {f["name"]: f["type"] for f in reader.writer_schema["fields"]}
            records.extend(reader)
    assert schema["customer_id"] == "long"  # PK: not nullable
    assert schema["signup"] == ["null", {"type": "int", "logicalType": "date"}]
    assert schema["wake"] == ["null", {"type": "long", "logicalType": "time-micros"}]
    assert schema["seen"] == ["null", {"type": "long", "logicalType": "local-timestamp-micros"}]
    assert schema["token"] == ["null", {"type": "string", "logicalType": "uuid"}]
    assert schema["code"] == ["null", "string"]  # a str column holding uuids would stay a plain string
    assert len(records) == 1000
    records.sort(key=lambda r: r["customer_id"])
    expected = generate_batch(all_types_plan, "customers", 0, 1000).to_pylist()
    for got, want in zip(records, expected):
        assert got["signup"] == want["signup"] and isinstance(got["signup"], dt.date)
        assert got["wake"] == want["wake"]
        assert got["seen"] == want["seen"] and got["seen"].tzinfo is None
        assert got["token"] == uuid.UUID(want["token"])
        assert got["tier"] == want["tier"]  # nulls included
        assert got["remark"] == want["remark"]
        assert got["score"] == want["score"]
        assert got["active"] is want["active"]


def test_csv_has_a_header_per_shard_and_rfc4180_quoting(all_types_plan, runner, tmp_path) -> None:
    sink = _sink(CsvSink, all_types_plan, "customers", tmp_path, num_shards=3)
    files = _write(runner, sink, _batches(all_types_plan, "customers", 250))
    assert len(files) == 3
    names = all_types_plan.table("customers").schema.names
    rows = []
    texts = []
    for path in files:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
        texts.append(text)
        reader = csv.reader(io.StringIO(text, newline=""))
        assert next(reader) == names, f"{path} lacks the header"
        rows.extend(reader)
    # RFC 4180: fields with a comma, quote or line break are quoted; quotes inside are doubled
    everything = "".join(texts)
    for field in ('"with, comma"', '"say ""hi"""', '"two\nlines"', ',"",'):
        assert field in everything
    assert len(rows) == 1000
    expected = {r["customer_id"]: r for r in generate_batch(all_types_plan, "customers", 0, 1000).to_pylist()}
    remarks = set()
    for row in rows:
        record = dict(zip(names, row))
        want = expected[int(record["customer_id"])]
        assert record["remark"] == (want["remark"] if want["remark"] is not None else "")
        assert record["signup"] == want["signup"].isoformat()
        assert dt.datetime.fromisoformat(record["seen"]) == want["seen"]
        assert record["active"] == ("true" if want["active"] else "false")
        remarks.add(want["remark"])
    assert {"with, comma", 'say "hi"', "two\nlines", "", None} <= remarks


def test_csv_keeps_empty_string_and_null_apart(tmp_path) -> None:
    schema = pa.schema([("s", pa.string()), ("n", pa.int64())])
    sink = CsvSink(str(tmp_path / "t" / "t"), schema)
    buffer = io.BytesIO()
    encoder = sink.encoder(buffer)
    encoder.write(pa.record_batch([pa.array(["", None, "x"]), pa.array([1, None, 3])], schema=schema))
    encoder.close()
    assert buffer.getvalue().decode("utf-8").splitlines() == ['"s","n"', '"",1', ",", '"x",3']


def test_empty_file_still_has_header_or_schema(tmp_path) -> None:
    schema = pa.schema([("a", pa.int64()), ("d", pa.date32())])
    for kind in (ParquetSink, AvroSink, CsvSink):
        buffer = io.BytesIO()
        kind(str(tmp_path / "x" / "x"), schema).encoder(buffer).close()
        data = buffer.getvalue()
        assert data, kind.__name__
    buffer = io.BytesIO()
    ParquetSink(str(tmp_path / "x" / "x"), schema).encoder(buffer).close()
    assert pq.read_table(io.BytesIO(buffer.getvalue())).schema.equals(schema)


def test_parquet_dictionary_encodes_only_repetitive_columns(tmp_path) -> None:
    rows = 20_000
    codes = [f"code-{i:06d}" for i in range(rows)]
    schema = pa.schema([("country", pa.string()), ("code", pa.string()), ("sparse_unique", pa.string())])
    batch = pa.record_batch(
        [
            pa.array(["US", "GB", "DE"][i % 3] for i in range(rows)),
            pa.array(codes),
            pa.array(code if i % 10 == 0 else None for i, code in enumerate(codes)),
        ],
        schema=schema,
    )
    assert dictionary_columns(batch) == ["country"]
    buffer = io.BytesIO()
    encoder = ParquetSink(str(tmp_path / "t" / "t"), schema).encoder(buffer)
    encoder.write(batch)
    encoder.close()
    metadata = pq.ParquetFile(io.BytesIO(buffer.getvalue())).metadata.row_group(0)
    encodings = {metadata.column(i).path_in_schema: metadata.column(i).encodings for i in range(3)}
    assert "RLE_DICTIONARY" in encodings["country"]
    assert "RLE_DICTIONARY" not in encodings["code"]
    assert "RLE_DICTIONARY" not in encodings["sparse_unique"]
    assert pq.read_table(io.BytesIO(buffer.getvalue())).to_batches()[0].equals(batch)


def test_avro_names_are_checked() -> None:
    assert check_avro_names("t", ["ok", "_ok2", "first name", "1st", "ümlaut"]) == [
        "first name",
        "1st",
        "ümlaut",
    ]
    with pytest.raises(ValueError, match="first name"):
        AvroSink("/tmp/never/t", pa.schema([("first name", pa.string())]), table_name="t")


def test_avro_schema_record_name_is_sanitised() -> None:
    schema = avro_schema("order-items", pa.schema([("id", pa.int64())]), {})
    assert schema["name"] == "order_items"
    fastavro.parse_schema(schema)


def test_sink_class_lookup() -> None:
    assert sink_class("Parquet") is ParquetSink
    with pytest.raises(ValueError, match="parquet, avro, csv"):
        sink_class("xlsx")


def test_parquet_compresses_only_columns_snappy_shrinks(tmp_path) -> None:
    rows = 20_000
    schema = pa.schema([("uid", pa.string()), ("word", pa.string()), ("n", pa.int64())])
    batch = pa.record_batch(
        [
            pa.array(
                str(uuid.UUID(bytes=hashlib.blake2b(i.to_bytes(8, "little"), digest_size=16).digest()))
                for i in range(rows)
            ),
            pa.array(f"repeated-text-{i % 7}-and-more-repeated-text" for i in range(rows)),
            pa.array(range(rows)),
        ],
        schema=schema,
    )
    assert compression_by_column(batch) == {"uid": "none", "word": "snappy", "n": "snappy"}
    buffer = io.BytesIO()
    encoder = ParquetSink(str(tmp_path / "t" / "t"), schema).encoder(buffer)
    encoder.write(batch)
    encoder.close()
    parquet = pq.ParquetFile(io.BytesIO(buffer.getvalue()))
    codecs = {
        parquet.metadata.row_group(0).column(i).path_in_schema: parquet.metadata.row_group(0).column(i).compression
        for i in range(3)
    }
    assert codecs["uid"] == "UNCOMPRESSED"
    assert codecs["n"] == "SNAPPY"
    assert parquet.read().to_batches()[0].equals(batch)
