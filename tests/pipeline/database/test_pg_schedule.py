"""The PostgreSQL load's schedule: every task runs, in an order the keys need, never two whose locks conflict.

Simulated without a database: two connections, each task taking its estimated cost.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from synthbeam.pipeline.config import load_plan
from synthbeam.pipeline.database import postgres as pg
from synthbeam.pipeline.database.keys import FOREIGN, keys_of
from synthbeam.pipeline.ddl import table_set
from tests.db_fixtures import SCHEMA10

RETAIL2 = Path(__file__).resolve().parents[3] / "benchmarks" / "retail2.json"


def _simulate(config: Path, rows: int, workers: int = 2) -> tuple[list[pg._Task], dict[int, tuple[float, float]]]:
    plan, _ = load_plan(str(config))
    tables = table_set(plan, "postgres")
    counts = {name: rows * (4 if name == "orders" else 1) for name in plan.tables}
    pieces = [(name, f"{name}-{i}.parquet", [0], count // 2) for name, count in counts.items() for i in range(2)]
    columns = {t.name: [c.name for c in t.columns] for t in tables.tables}
    tasks = pg._tasks(pieces, keys_of(tables), counts, columns, lambda name: f'"{name}"')
    pending, active, finished = list(tasks), [], set()
    spans: dict[int, tuple[float, float]] = {}
    clock = 0.0
    while pending or active:
        while len(active) < workers and (task := pg._pick(pending, active, finished)) is not None:
            pending.remove(task)
            active.append(task)
            spans[id(task)] = (clock, clock + max(task.cost, 1e-9))
        assert active, "tasks wait for each other"
        done = min(active, key=lambda task: spans[id(task)][1])
        clock = spans[id(done)][1]
        active.remove(done)
        finished.add(id(done))
    return tasks, spans


def _what(task: pg._Task) -> tuple[str, str]:
    key = task.run.keywords.get("key")  # type: ignore[attr-defined]
    return task.run.func.__name__, key.name if key else task.run.keywords["relation"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("config", [SCHEMA10, RETAIL2], ids=["schema10", "retail2"])
def test_every_task_runs_after_what_it_needs_and_no_locks_conflict(config: Path) -> None:
    tasks, spans = _simulate(config, 100_000)
    assert len(spans) == len(tasks)
    for task in tasks:
        start, _ = spans[id(task)]
        assert all(spans[id(before)][1] <= start for before in task.after), _what(task)
        for other in tasks:
            if other is not task and task.conflicts(other):
                (a, b), (c, d) = spans[id(task)], spans[id(other)]
                assert b <= c or d <= a, (_what(task), _what(other))
    by_name = {_what(task): task for task in tasks}
    plan, _ = load_plan(str(config))
    keys = keys_of(table_set(plan, "postgres"))
    unique = [key for key in keys if key.kind != FOREIGN]
    for key in unique:
        assert spans[id(by_name["_build_index", key.name])][1] <= spans[id(by_name["_attach", key.name])][0]
    for key in (key for key in keys if key.kind == FOREIGN):
        add = spans[id(by_name["_add_foreign_key", key.name])]
        assert add[1] <= spans[id(by_name["_validate", key.name])][0]
        # Constraints before the foreign key: the parent's key it references, and all the child's own.
        for other in unique:
            if other.table == key.table or (
                other.table == key.parent and set(other.columns) == set(key.parent_columns)
            ):
                assert spans[id(by_name["_attach", other.name])][1] <= add[0], (other.name, key.name)


def test_retail2_builds_the_parents_other_key_while_the_child_is_validated() -> None:
    tasks, spans = _simulate(RETAIL2, 1_000_000)
    by_name = {_what(task): task for task in tasks}
    email = spans[id(by_name["_build_index", "customers_email_key"])]
    validate = spans[id(by_name["_validate", "orders_customer_id_fkey"])]
    assert email[0] == validate[0]
    assert by_name["_validate", "orders_customer_id_fkey"].run.keywords["merge_join"]  # type: ignore[attr-defined]
