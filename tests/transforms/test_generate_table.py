"""GenerateTable on the pinned FnApiRunner: every chunk once, equal to the engine's rows, counted."""

from __future__ import annotations

import apache_beam as beam
import pyarrow as pa
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from synthbeam.rules.engine.batch import generate_batch, generate_batch_counted
from synthbeam.transforms.chunks import table_chunks
from synthbeam.transforms.coders import RecordBatchCoder
from synthbeam.transforms.generate import STATS, ChunkGenerator, ChunkStats, GenerateTable
from synthbeam.transforms.metrics import LOCAL_PROGRESS, table_counters


def _summary(element: tuple[str, int, pa.RecordBatch]) -> tuple[str, int, int, int]:
    table, chunk_id, batch = element
    return table, chunk_id, batch.num_rows, int(batch.column("order_id")[0].as_py())


def test_every_chunk_is_generated_once_with_the_engines_rows(all_types_plan, runner) -> None:
    chunks = list(table_chunks("orders", 2500, 700))
    pipeline = BeamTestPipeline(runner=runner)
    generated = pipeline | GenerateTable(all_types_plan, chunks, run_id="test-generate")
    assert_that(
        generated.batches | beam.Map(_summary),
        equal_to(
            [
                ("orders", 0, 700, 1),
                ("orders", 1, 700, 701),
                ("orders", 2, 700, 1401),
                ("orders", 3, 400, 2101),
            ]
        ),
        label="one batch per chunk",
    )
    expected = {c.chunk_id: generate_batch(all_types_plan, "orders", c.start, c.stop) for c in chunks}
    assert_that(
        generated.batches | beam.Map(lambda e: (e[1], e[2].equals(expected[e[1]]))),
        equal_to([(0, True), (1, True), (2, True), (3, True)]),
        label="batches equal the engine's rows",
    )
    assert_that(
        generated[STATS] | beam.Map(lambda s: (s.table, s.chunk_id, s.rows)),
        equal_to([("orders", c.chunk_id, c.rows) for c in chunks]),
        label="stats per chunk",
    )
    result = pipeline.run()
    result.wait_until_finish()
    counters = table_counters(result)
    assert counters["orders"]["rows"] == 2500
    assert counters["orders"]["chunks"] == 4


def test_batches_keep_every_stored_type(all_types_plan, runner) -> None:
    schema = all_types_plan.table("customers").schema
    pipeline = BeamTestPipeline(runner=runner)
    generated = pipeline | GenerateTable(all_types_plan, table_chunks("customers", 1000, 300))
    assert_that(
        generated.batches | beam.Map(lambda e: str(e[2].schema)) | beam.Distinct(),
        equal_to([str(schema)]),
    )
    pipeline.run().wait_until_finish()
    assert [str(f.type) for f in schema] == [
        "int64",
        "string",
        "string",
        "string",
        "string",
        "bool",
        "date32[day]",
        "time64[us]",
        "timestamp[us]",
        "double",
    ]


def test_chunk_generator_counts_events_and_local_progress(make_plan) -> None:
    config = {
        "tables": [
            {
                "table_name": "t",
                "rows": 500,
                "columns": [
                    # a final-value check most values fail even after retries: each is a reportable event
                    {
                        "name": "checked",
                        "type": "str",
                        "nullable": True,
                        "rule": {
                            "type": "choice",
                            "value": ["ok", "bad"],
                            "probabilities": {"bad": 0.95},
                            "regex": "^ok$",
                        },
                    },
                ],
            }
        ]
    }
    plan = make_plan(config)
    generator = ChunkGenerator(plan, run_id="progress-test")
    try:
        batch, stats = generator(next(iter(table_chunks("t", 500, 500))))
        assert isinstance(stats, ChunkStats)
        assert (stats.table, stats.rows, batch.num_rows) == ("t", 500, 500)
        assert LOCAL_PROGRESS.snapshot("progress-test") == {"t": 500}
        _, expected_events = generate_batch_counted(plan, "t", 0, 500)
        assert stats.events == expected_events
        assert stats.events["checked:regex_unmatched"] > 100
    finally:
        LOCAL_PROGRESS.forget("progress-test")


def test_batches_travel_as_arrow_ipc_not_pickle(all_types_plan, runner) -> None:
    """Between steps (and in Beam's size sampling) a batch is Arrow IPC, measured without encoding it."""
    pipeline = BeamTestPipeline(runner=runner)
    generated = pipeline | GenerateTable(all_types_plan, list(table_chunks("orders", 300, 300)))
    coder = beam.coders.registry.get_coder(generated.batches.element_type)
    assert isinstance(coder, beam.coders.TupleCoder)
    batch_coder = coder.coders()[2]
    assert isinstance(batch_coder, RecordBatchCoder)

    batch = generate_batch(all_types_plan, "orders", 0, 300)
    encoded = batch_coder.encode(batch)
    assert pa.ipc.open_stream(encoded).read_all().to_batches()[0].equals(batch)
    assert batch_coder.decode(encoded).equals(batch)
    assert batch_coder.estimate_size(batch) == batch.nbytes
    assert coder.decode(coder.encode(("orders", 0, batch)))[2].equals(batch)
    # Decoding a slice gives the slice's rows, not its parent's buffers.
    assert batch_coder.decode(batch_coder.encode(batch.slice(100, 50))).equals(batch.slice(100, 50))
