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
            copy.write(TRAILER)
        rows = connection.execute("SELECT * FROM t").fetchall()
    expected = [tuple(row.values()) for row in batch.to_pylist()]
    assert rows == expected + expected[1:3]
