"""Real databases for the database tests: one throwaway PostgreSQL cluster per session, a fresh
database per test; SQLite and DuckDB files in the test's temporary folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.db_fixtures import PostgresCluster, PostgresUnavailable, start_postgres


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    try:
        cluster = start_postgres()
    except PostgresUnavailable as exc:
        pytest.fail(f"cannot start a test PostgreSQL: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(postgres_cluster: PostgresCluster) -> str:
    """The URL of a new, empty database on the session's cluster."""
    return postgres_cluster.create_database()
