"""Binary COPY encoding: PostgreSQL reads back exactly the Arrow values, nulls and edge values included."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from synthbeam.pipeline.database.pgbinary import HEADER, TRAILER, encode_batch
from tests.db_fixtures import PostgresCluster


def test_every_stored_type_round_trips(postgres_cluster: PostgresCluster) -> None:
    batch = pa.record_batch(
        {
            "i": pa.array([0, -1, 2**63 - 1, None], pa.int64()),
            "f": pa.array([0.1, -2.5e300, None, float("inf")], pa.float64()),
            "b": pa.array([True, False, None, True]),
            "s": pa.array(["", "héllo ✓", None, "x" * 1000]),
            "d": pa.array([dt.date(1999, 12, 31), dt.date(2000, 1, 1), dt.date(1, 1, 1), None], pa.date32()),
            "t": pa.array([dt.time(0, 0), None, dt.time(23, 59, 59, 999999), dt.time(12, 0, 0, 1)], pa.time64("us")),
            "ts": pa.array(
                [dt.datetime(1950, 1, 1), dt.datetime(2000, 1, 1), None, dt.datetime(2026, 12, 7, 10, 0, 0, 5)],
                pa.timestamp("us"),
            ),
        }
    )
    full = pa.record_batch(
        {
            "i": pa.array([7, -(2**63)], pa.int64()),
            "f": pa.array([-0.0, 1e-300], pa.float64()),
            "b": pa.array([False, True]),
            "s": pa.array(["a", "ünï"]),
            "d": pa.array([dt.date(9999, 12, 31), dt.date(1970, 1, 1)], pa.date32()),
            "t": pa.array([dt.time(1, 2, 3), dt.time(0, 0, 0, 1)], pa.time64("us")),
            "ts": pa.array([dt.datetime(1, 1, 1), dt.datetime(2000, 1, 1, 0, 0, 0, 1)], pa.timestamp("us")),
        }
    )
    dbname = postgres_cluster.create_database().rsplit("/", 1)[1]
    with postgres_cluster.connect(dbname) as connection:
        connection.execute(
            "CREATE TABLE t (i bigint, f double precision, b boolean, s text, d date, "
            "t time without time zone, ts timestamp without time zone)"
        )
        with connection.cursor() as cursor, cursor.copy("COPY t FROM STDIN (FORMAT binary)") as copy:
            copy.write(HEADER)
            copy.write(encode_batch(batch))
            copy.write(encode_batch(batch.slice(1, 2)))  # a slice: offsets that do not start at 0
            copy.write(encode_batch(batch.slice(3, 0)))  # no rows
            copy.write(encode_batch(full))  # no nulls: fixed-width columns share blocks between the texts
            copy.write(TRAILER)
        no_text = "COPY t (i, f, b, d, t, ts) FROM STDIN (FORMAT binary)"
        with connection.cursor() as cursor, cursor.copy(no_text) as copy:
            copy.write(HEADER)
            copy.write(encode_batch(full.drop_columns(["s"])))  # no text at all: one block, nothing to join
            copy.write(TRAILER)
        rows = connection.execute("SELECT * FROM t").fetchall()
    expected = [tuple(row.values()) for row in batch.to_pylist()]
    no_nulls = [tuple(row.values()) for row in full.to_pylist()]
    without_text = [(*row[:3], None, *row[4:]) for row in no_nulls]
    assert rows == expected + expected[1:3] + no_nulls + without_text
