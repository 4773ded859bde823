"""DDL -> ``synthbeam import ddl`` -> ``generate`` -> load into the same DDL on a real PostgreSQL
(``generate --to`` builds its own tables from the config, so the original DDL is loaded by COPY).

The 39-table commerce schema (enums, CHECKs, composite keys, self-references, a foreign-key
cycle, ALTER TABLE keys) must accept every generated row: PostgreSQL enforces each constraint.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.db_fixtures import PostgresCluster
from tests.pipeline.conftest import read_report
from tests.pipeline.importing.roundtrip import load_postgres

SCHEMAS = Path(__file__).resolve().parents[1] / "importing" / "schemas"


def test_postgres_schema_round_trip_accepts_every_row(cli, tmp_path: Path, postgres_cluster: PostgresCluster) -> None:
    ddl = (SCHEMAS / "commerce_postgres.sql").read_text(encoding="utf-8")
    config_path = tmp_path / "commerce.json"
    run = cli("import", "ddl", SCHEMAS / "commerce_postgres.sql", "--dialect", "postgres", "--as-of", "2026-01-01",
              "--rows", "300", "--out", config_path)  # fmt: skip
    assert run.code == 0, run.err
    assert cli("validate", config_path).code == 0
    out = tmp_path / "out"
    generated = cli("generate", config_path, "--out", out, "--no-progress")
    assert generated.code == 0, generated.err
    config = json.loads(config_path.read_text(encoding="utf-8"))
    dbname = postgres_cluster.create_database().rsplit("/", 1)[1]
    with postgres_cluster.connect() as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'reporting'").fetchone():
            admin.execute("CREATE ROLE reporting")
    with postgres_cluster.connect(dbname, autocommit=False) as connection:
        counts = load_postgres(connection, ddl, out, config)
        connection.commit()
    written = {name: entry["rows_written"] for name, entry in read_report(out)["tables"].items()}
    assert counts == written
    # and through generate --to (#17), whose loader creates the imported config's own keys and checks them
    loaded = cli("generate", config_path, "--to", postgres_cluster.create_database(), "--no-progress")
    assert loaded.code == 0, loaded.err
    assert len(counts) == 39 and min(counts.values()) > 0
    assert counts["roles"] == 4  # CHECK (name IN 4 values) + UNIQUE: the table cannot hold more
    with postgres_cluster.connect(dbname) as connection:
        # the self-reference and the cut cycle, as PostgreSQL stored them
        referred = connection.execute("SELECT count(referred_by) FROM customers").fetchone()[0]
        managers = connection.execute("SELECT count(manager_id) FROM departments").fetchone()[0]
    assert referred > 0 and managers == 0

    # import db on the loaded database: the catalog gives the same tables and keys as the DDL did
    url = postgres_cluster.url(dbname)
    from_db = cli("import", "db", url, "--profile", "--as-of", "2026-01-01", "--out", tmp_path / "from_db.json")
    assert from_db.code == 0, from_db.err
    assert cli("validate", tmp_path / "from_db.json").code == 0
    profiled = {t["table_name"]: t for t in json.loads((tmp_path / "from_db.json").read_text())["tables"]}
    imported = {t["table_name"]: t for t in config["tables"]}
    assert set(profiled) == set(imported)
    for name, table in imported.items():
        assert profiled[name].get("primary_key") == table.get("primary_key"), name
        keys = {(f["child_column"], f["parent_table"]) for f in table.get("foreign_keys", [])}
        assert keys <= {(f["child_column"], f["parent_table"]) for f in profiled[name].get("foreign_keys", [])}, name
        assert profiled[name]["rows"] == counts[name]
    status = {c["name"]: c for c in profiled["orders"]["columns"]}["status"]["rule"]
    assert status["type"] == "choice" and abs(sum(status["probabilities"].values()) - 1) < 1e-6
    emails = {c["name"]: c for c in profiled["users"]["columns"]}["email"]
    assert emails["rule"] == "email" and emails["sensitivity"] == "PII"
