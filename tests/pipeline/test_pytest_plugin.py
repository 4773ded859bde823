"""The pytest plugin: ``synthbeam_tables`` gives a test its tables, generated once per session."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest


def test_the_plugin_is_installed_through_its_entry_point(request: pytest.FixtureRequest) -> None:
    plugin = request.config.pluginmanager.get_plugin("synthbeam")
    assert plugin is not None and plugin.__name__ == "synthbeam.pytest_plugin"


@pytest.mark.synthbeam("data/shop_small.json", rows=100)
def test_marked_config_gives_joinable_tables(synthbeam_tables) -> None:
    tables = synthbeam_tables()
    customers, orders = tables["customers"], tables["orders"]
    assert customers.num_rows == 100 and orders.num_rows == 100
    # Every order's customer exists in the full customers table (FKs point into all 300 rows).
    everyone = synthbeam_tables("data/shop_small.json")["customers"]
    assert pc.all(pc.is_in(orders.column("customer_id"), everyone.column("customer_id"))).as_py()
    assert customers.equals(everyone.slice(0, 100))


def test_tables_are_cached_for_the_session(synthbeam_tables) -> None:
    first = synthbeam_tables("data/shop_small.json", seed=11)
    assert synthbeam_tables("data/shop_small.json", seed=11) is first
    assert synthbeam_tables("data/shop_small.json", seed=12) is not first
    assert len(set(first["customers"].column("full_name").to_pylist())) == 300  # deduplicated like generate


def test_a_dict_config_works_too(synthbeam_tables) -> None:
    column = {"name": "id", "type": "int", "constraint": ["PK"]}
    config = {"tables": [{"table_name": "t", "rows": 5, "columns": [column]}]}
    assert synthbeam_tables(config)["t"].column("id").to_pylist() == [1, 2, 3, 4, 5]


def test_without_a_config_or_marker_the_fixture_says_what_to_do(synthbeam_tables) -> None:
    with pytest.raises(pytest.UsageError, match="needs a config"):
        synthbeam_tables()


def test_a_loaded_database_holds_the_tables_with_their_keys(synthbeam_database, synthbeam_tables) -> None:
    import sqlite3

    url = synthbeam_database("data/shop_small.json", seed=11)
    assert url.startswith("sqlite:///") and synthbeam_database("data/shop_small.json", seed=11) == url  # cached
    expected = synthbeam_tables("data/shop_small.json", seed=11)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        for name, table in expected.items():
            assert db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == table.num_rows
        ids = [row[0] for row in db.execute("SELECT customer_id FROM customers ORDER BY customer_id")]
        assert ids == sorted(expected["customers"].column("customer_id").to_pylist())
        foreign = db.execute("PRAGMA foreign_key_list(orders)").fetchall()
        assert [(row[2], row[3], row[4]) for row in foreign] == [("customers", "customer_id", "customer_id")]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
