"""A foreign key the database rejects: the error names the table, the constraint and the orphan row.

synthbeam's own runs cannot produce an orphan (a child's value is computed from a parent row), so
these tests put one in the tables the loaders check, and let the real database find it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from synthbeam.pipeline.database.keys import FOREIGN, ConstraintRejected, Key
from synthbeam.pipeline.database.postgres import _add_foreign_key, _validate
from synthbeam.pipeline.database.sqlite import _check_foreign_keys
from synthbeam.pipeline.ddl import NAMING_CONVENTION, TableSet
from tests.db_fixtures import PostgresCluster

ORPHAN = Key("child", "child_parent_id_fkey", FOREIGN, ("parent_id",), "parent", ("id",))
MESSAGE = (
    "child: the database rejected foreign key child_parent_id_fkey (parent_id) -> parent (id); "
    "offending row: {id: 3, parent_id: 99}"
)


@pytest.mark.parametrize("merge_join", [False, True])
def test_postgres_names_the_orphan(postgres_cluster: PostgresCluster, merge_join: bool) -> None:
    dbname = postgres_cluster.create_database().rsplit("/", 1)[1]
    with postgres_cluster.connect(dbname) as connection:
        connection.execute("CREATE TABLE parent (id bigint PRIMARY KEY)")
        connection.execute("CREATE TABLE child (id bigint, parent_id bigint)")
        connection.execute("INSERT INTO parent VALUES (1), (2)")
        connection.execute("INSERT INTO child VALUES (1, 1), (2, NULL), (3, 99)")
        _add_foreign_key(connection, ORPHAN, lambda name: f'"{name}"')  # NOT VALID: not checked yet
        with pytest.raises(ConstraintRejected) as raised:
            _validate(connection, ORPHAN, lambda name: f'"{name}"', merge_join=merge_join)
        assert str(raised.value) == MESSAGE
        # The database refused to mark it valid (the load then drops the whole staging schema).
        assert connection.execute("SELECT convalidated FROM pg_constraint WHERE contype = 'f'").fetchall() == [(False,)]


def test_sqlite_names_the_orphan(tmp_path: Path) -> None:
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    parent = sa.Table("parent", metadata, sa.Column("id", sa.BigInteger, primary_key=True))
    child = sa.Table(
        "child",
        metadata,
        sa.Column("id", sa.BigInteger),
        sa.Column("parent_id", sa.BigInteger, sa.ForeignKey("parent.id")),
    )
    connection = sqlite3.connect(tmp_path / "t.db")
    connection.executescript(
        "CREATE TABLE parent (id BIGINT PRIMARY KEY);"
        "CREATE TABLE child (id BIGINT, parent_id BIGINT, CONSTRAINT child_parent_id_fkey "
        "FOREIGN KEY (parent_id) REFERENCES parent (id));"
        "INSERT INTO parent VALUES (1), (2); INSERT INTO child VALUES (1, 1), (2, NULL), (3, 99);"
    )
    with pytest.raises(ConstraintRejected) as raised:
        _check_foreign_keys(connection, TableSet(metadata, [parent, child]))
    connection.close()
    assert str(raised.value) == MESSAGE


def test_duckdb_names_the_orphan_from_the_staged_files(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthbeam.pipeline.database.duckdb import _rejected

    for name, table in {
        "parent": pa.table({"id": [1, 2]}),
        "child": pa.table({"id": [1, 2, 3], "parent_id": [1, None, 99]}),
    }.items():
        (tmp_path / name).mkdir()
        pq.write_table(table, tmp_path / name / f"{name}-00000-of-00001.parquet")
    error = _rejected(tmp_path, "child", "Constraint Error: ...", [ORPHAN])
    assert isinstance(error, ConstraintRejected)
    assert str(error) == MESSAGE
