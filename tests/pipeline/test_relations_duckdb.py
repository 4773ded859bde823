"""Keys and relations on disk: every template and a 1M-row child, checked with DuckDB."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from tests.conftest import TEMPLATES


def _glob(out, table: str) -> str:
    return f"read_parquet('{out}/{table}/*.parquet')"


def _assert_keys_and_links(plan, out) -> None:
    connection = duckdb.connect()
    for table in plan.tables.values():
        source = _glob(out, table.name)
        for column in table.columns:
            if column.is_unique and column.key_strategy != "group":
                rows, distinct = connection.execute(
                    f'select count("{column.name}"), count(distinct "{column.name}") from {source}'
                ).fetchone()
                assert rows == distinct, f"{table.name}.{column.name} has duplicates"
        for group in [table.primary_key] if len(table.primary_key) > 1 else []:
            columns = ", ".join(f'"{c}"' for c in group)
            duplicates = connection.execute(
                f"select count(*) from (select {columns} from {source} group by {columns} having count(*) > 1)"
            ).fetchone()[0]
            assert duplicates == 0
        for fk in table.foreign_keys:
            orphans = connection.execute(
                f'select count(*) from {source} c where c."{fk.child_column}" is not null and not exists '
                f'(select 1 from {_glob(out, fk.parent_table)} p where p."{fk.parent_column}" = c."{fk.child_column}")'
            ).fetchone()[0]
            assert orphans == 0, f"{table.name}.{fk.child_column} has {orphans} orphans"


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.json")))
def test_templates_have_no_orphans_or_duplicates(template, cli, tmp_path) -> None:
    from synthbeam.pipeline.config import load_plan

    out = tmp_path / "out"
    run = cli("generate", TEMPLATES / template, "--out", out)
    assert run.code == 0, run.err
    plan, _ = load_plan(str(TEMPLATES / template))
    _assert_keys_and_links(plan, out)


def test_retail_cross_table_references_hold_in_every_row(cli, tmp_path) -> None:
    out = tmp_path / "out"
    assert cli("generate", TEMPLATES / "retail.json", "--out", out).code == 0
    connection = duckdb.connect()
    early = connection.execute(
        f"select count(*) from {_glob(out, 'orders')} o join {_glob(out, 'customers')} c using (customer_id) "
        "where o.order_date < c.signup_date"
    ).fetchone()[0]
    unshipped = connection.execute(
        f"select count(*) from {_glob(out, 'orders')} "
        "where (shipped_on is null) <> (status not in ('shipped', 'delivered'))"
    ).fetchone()[0]
    assert early == 0 and unshipped == 0


def test_hr_hierarchy_is_acyclic(cli, tmp_path) -> None:
    out = tmp_path / "out"
    assert cli("generate", TEMPLATES / "hr.json", "--out", out).code == 0
    rows = duckdb.connect().execute(f"select employee_id, manager_id from {_glob(out, 'employees')}").fetchall()
    manager = dict(rows)
    for employee in manager:
        seen = set()
        while employee is not None:
            assert employee not in seen, "cycle"
            seen.add(employee)
            employee = manager[employee]


@pytest.mark.slow
def test_million_row_child_distributions(cli, write_config, tmp_path) -> None:
    config = {
        "seed": 8,
        "as_of": "2026-01-01",
        "tables": [
            {"table_name": "parents", "rows": 2000, "columns": [{"name": "id", "type": "int", "constraint": ["PK"]}]},
            {
                "table_name": "kids",
                "rows": 1_000_000,
                "columns": [
                    {"name": "id", "type": "int", "constraint": ["PK"]},
                    {"name": "even_parent", "type": "int"},
                    {"name": "zipf_parent", "type": "int"},
                    {"name": "weighted_parent", "type": "int"},
                ],
                "foreign_keys": [
                    {
                        "child_column": "even_parent",
                        "parent_table": "parents",
                        "parent_column": "id",
                        "distribution": "even",
                    },
                    {
                        "child_column": "zipf_parent",
                        "parent_table": "parents",
                        "parent_column": "id",
                        "distribution": "zipf",
                        "s": 1.3,
                    },
                    {
                        "child_column": "weighted_parent",
                        "parent_table": "parents",
                        "parent_column": "id",
                        "distribution": "weighted",
                        "weights": {"1": 500, "2": 250},
                    },
                ],
            },
        ],
    }
    out = tmp_path / "out"
    run = cli("generate", write_config(config, "million.json"), "--out", out)
    assert run.code == 0, run.err
    connection = duckdb.connect()
    kids = _glob(out, "kids")
    rows, distinct = connection.execute(f"select count(*), count(distinct id) from {kids}").fetchone()
    assert rows == distinct == 1_000_000
    for column in ("even_parent", "zipf_parent", "weighted_parent"):
        orphans = connection.execute(
            f"select count(*) from {kids} k anti join {_glob(out, 'parents')} p on p.id = k.{column}"
        ).fetchone()[0]
        assert orphans == 0, column
    low, high = connection.execute(
        f"select min(n), max(n) from (select count(*) n from {kids} group by even_parent)"
    ).fetchone()
    assert high - low <= 1
    counts = np.array(
        sorted(
            (n for (n,) in connection.execute(f"select count(*) from {kids} group by zipf_parent").fetchall()),
            reverse=True,
        ),
        dtype=float,
    )
    ranks = np.arange(1, len(counts) + 1)
    slope = np.polyfit(np.log(ranks[:100]), np.log(counts[:100]), 1)[0]
    assert -1.55 < slope < -1.05, slope
    weighted = dict(connection.execute(f"select weighted_parent, count(*) from {kids} group by 1").fetchall())
    total_weight = 500 + 250 + 1998
    expected = {1: 500 / total_weight, 2: 250 / total_weight}
    others = np.array([weighted.get(p, 0) for p in range(3, 2001)], dtype=float)
    chi = sum((weighted[p] - 1e6 * w) ** 2 / (1e6 * w) for p, w in expected.items())
    expected_other = 1e6 / total_weight
    chi += (((others - expected_other) ** 2) / expected_other).sum()
    assert chi < 2200, chi  # 1999 dof: mean 1999, sd ~63
