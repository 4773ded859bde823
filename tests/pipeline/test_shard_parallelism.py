"""``--num-shards`` bounds the files, not the parallelism (issue 15, item 5)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from synthbeam.rules.engine.batch import generate_batch
from tests.pipeline.test_workers import _generate

CONFIG = {
    "seed": 5,
    "as_of": "2026-01-01",
    "tables": [
        {
            "table_name": "t",
            "rows": 60_000,
            "columns": [
                {"name": "id", "type": "int", "constraint": ["PK"]},
                {"name": "who", "type": "str", "rule": {"type": "name"}},
                {"name": "amount", "type": "float", "rule": {"type": "range", "min": 0, "max": 99}},
            ],
        }
    ],
}


@pytest.mark.slow
def test_one_shard_is_generated_by_every_worker_and_holds_the_rows_in_order(write_config, make_plan, tmp_path) -> None:
    config = write_config(CONFIG)
    multi = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    report = _generate(config, tmp_path / "out", "--num-shards", "1", *multi)
    table = report["tables"]["t"]
    assert table["files"] == 1 and table["chunks"] >= 8
    # Both worker processes generated chunks of the one shard: before, a shard was one call on one worker.
    assert table["workers"] == 2, table
    written = pq.read_table(tmp_path / "out" / "t" / "t-00000-of-00001.parquet")
    expected = generate_batch(make_plan(CONFIG), "t", 0, 60_000)
    assert written.combine_chunks().to_batches()[0].equals(expected)  # every chunk, in chunk order
