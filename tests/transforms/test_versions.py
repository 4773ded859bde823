"""A worker whose value-deciding packages differ from the launcher's refuses to generate, naming them."""

from __future__ import annotations

from importlib import metadata

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline

from synthbeam.pipeline.errors import failure_line
from synthbeam.transforms.chunks import table_chunks
from synthbeam.transforms.generate import ChunkGenerator, GenerateChunks
from synthbeam.transforms.versions import VALUE_PACKAGES, WorkerVersionError, launcher_versions, verify_worker


def _with_pyarrow(version: str) -> tuple[tuple[str, str], ...]:
    return tuple((package, version if package == "pyarrow" else found) for package, found in launcher_versions())


def test_the_launcher_records_every_value_deciding_package_as_installed() -> None:
    versions = dict(launcher_versions())
    assert tuple(versions) == VALUE_PACKAGES
    assert versions["pyarrow"] == metadata.version("pyarrow")
    assert versions["apache-beam"] == metadata.version("apache-beam")
    verify_worker(launcher_versions())  # the same process: nothing to refuse


def test_a_generator_built_for_other_versions_refuses_before_any_value(all_types_plan) -> None:
    generator = ChunkGenerator(all_types_plan)
    generator.versions = _with_pyarrow("0.0.1")
    chunk = next(iter(table_chunks("orders", 10, 10)))
    with pytest.raises(WorkerVersionError, match=r"pyarrow .* \(launcher 0\.0\.1\)"):
        generator(chunk)


def test_a_pipeline_worker_with_other_versions_fails_with_one_line_naming_the_package(all_types_plan, runner) -> None:
    generate = GenerateChunks(all_types_plan)
    generate.generator.versions = _with_pyarrow("0.0.1")
    pipeline = BeamTestPipeline(runner=runner)
    _ = pipeline | beam.Create(list(table_chunks("orders", 20, 10))) | beam.ParDo(generate)
    with pytest.raises(Exception) as failed:
        pipeline.run().wait_until_finish()
    line = failure_line(failed.value)
    assert line.startswith("WorkerVersionError: this worker runs pyarrow ")
    assert "(launcher 0.0.1)" in line and "\n" not in line
