"""Composite primary keys and unique groups: unique together by construction, FKs intact."""

from __future__ import annotations

from synthbeam.rules.engine.batch import generate_batch
from tests.conftest import errors_of


def bridge(rows: int) -> dict:
    return {
        "seed": 3,
        "tables": [
            {
                "table_name": "playlists",
                "rows": 100,
                "columns": [{"name": "playlist_id", "type": "int", "constraint": ["PK"]}],
            },
            {
                "table_name": "tracks",
                "rows": 80,
                "columns": [
                    {
                        "name": "track_id",
                        "type": "str",
                        "rule": {"type": "regex", "regex": "T[0-9]{5}"},
                        "constraint": ["PK"],
                    }
                ],
            },
            {
                "table_name": "playlist_tracks",
                "rows": rows,
                "primary_key": ["playlist_id", "track_id"],
                "columns": [
                    {"name": "playlist_id", "type": "int"},
                    {"name": "track_id", "type": "str"},
                    {"name": "position", "type": "int", "rule": {"type": "range", "min": 1, "max": 50}},
                ],
                "foreign_keys": [
                    {"child_column": "playlist_id", "parent_table": "playlists", "parent_column": "playlist_id"},
                    {"child_column": "track_id", "parent_table": "tracks", "parent_column": "track_id"},
                ],
            },
        ],
    }


def test_bridge_table_pairs_are_unique_and_joinable(make_plan) -> None:
    plan = make_plan(bridge(7000))
    assert {c.key_strategy for c in plan.table("playlist_tracks").columns[:2]} == {"group"}
    pairs = generate_batch(plan, "playlist_tracks", 0, 7000).to_pydict()
    tuples = list(zip(pairs["playlist_id"], pairs["track_id"]))
    assert len(set(tuples)) == 7000
    assert set(pairs["playlist_id"]) <= set(range(1, 101))
    assert set(pairs["track_id"]) <= set(generate_batch(plan, "tracks", 0, 80).column("track_id").to_pylist())
    split = generate_batch(plan, "playlist_tracks", 0, 3000).to_pydict()
    assert split["track_id"] == pairs["track_id"][:3000]


def test_more_rows_than_pairs_is_rejected(make_plan) -> None:
    errors = errors_of(make_plan, bridge(8001))
    assert errors == [
        "playlist_tracks.(playlist_id, track_id): unique together, but the columns' values "
        "combine in only 8,000 ways for 8,001 rows"
    ]


def test_unique_group_of_rule_columns(make_plan) -> None:
    plan = make_plan(
        {
            "seed": 1,
            "tables": [
                {
                    "table_name": "t",
                    "rows": 900,
                    "unique": [["region", "n"]],
                    "columns": [
                        {
                            "name": "region",
                            "type": "str",
                            "rule": {"type": "choice", "value": ["north", "south", "east"]},
                        },
                        {"name": "n", "type": "int", "rule": {"type": "range", "min": 1, "max": 300}},
                    ],
                }
            ],
        }
    )
    rows = generate_batch(plan, "t", 0, 900).to_pydict()
    assert len(set(zip(rows["region"], rows["n"]))) == 900


def test_group_with_unenumerable_column_is_rejected(make_plan) -> None:
    errors = errors_of(
        make_plan,
        {
            "seed": 1,
            "tables": [
                {
                    "table_name": "t",
                    "rows": 10,
                    "unique": [["a", "b"]],
                    "columns": [{"name": "a", "type": "str", "rule": "catch_phrase"}, {"name": "b", "type": "int"}],
                }
            ],
        },
    )
    assert any("t.columns[0] (a): in t.(a, b): its values cannot be enumerated" in e for e in errors), errors
