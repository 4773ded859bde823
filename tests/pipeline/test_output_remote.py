"""The output directory on an object store: the same switch, through Beam's FileSystems.

``memstore://`` is a flat in-memory object store registered with Beam for these
tests (no directories, rename = copy + delete, as on ``gs://``). The real CLI
writes into it with the in-process runner.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import ClassVar

import pyarrow.parquet as pq
import pytest
from apache_beam.io.filesystem import BeamIOError, CompressionTypes, FileMetadata, FileSystem

FIXTURES = Path(__file__).parent / "fixtures" / "output_safety"

# What every run writes at the top of OUT besides its tables, in sorted order.
RUN_FILES = ("_profile.json", "_report.html", "_report.json")


class _Upload(io.BytesIO):
    def __init__(self, store: dict[str, bytes], path: str) -> None:
        super().__init__()
        self.store, self.path = store, path

    def close(self) -> None:
        if not self.closed:
            self.store[self.path] = self.getvalue()
        super().close()


class MemStore(FileSystem):
    """A flat object store in a dict: what gs:// looks like to Beam, without a network."""

    objects: ClassVar[dict[str, bytes]] = {}

    @classmethod
    def scheme(cls) -> str:
        return "memstore"

    def join(self, basepath: str, *paths: str) -> str:
        return "/".join([basepath.rstrip("/"), *(p.strip("/") for p in paths)])

    def split(self, path: str) -> tuple[str, str]:
        head, _, tail = path.rstrip("/").rpartition("/")
        return head, tail

    def mkdirs(self, path: str) -> None:
        pass

    def has_dirs(self) -> bool:
        return False

    def _list(self, dir_or_prefix: str):
        for path, data in list(self.objects.items()):
            if path.startswith(dir_or_prefix):
                yield FileMetadata(path, len(data), 0.0)

    def create(self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO):
        return _Upload(self.objects, path)

    def open(self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO):
        return io.BytesIO(self.objects[path])

    def copy(self, source_file_names, destination_file_names) -> None:
        for source, target in zip(source_file_names, destination_file_names):
            self.objects[target] = self.objects[source]

    def rename(self, source_file_names, destination_file_names) -> None:
        pairs = zip(source_file_names, destination_file_names)
        missing = {(s, d): FileNotFoundError(s) for s, d in pairs if s not in self.objects}
        if missing:
            raise BeamIOError("Rename operation failed", missing)
        self.copy(source_file_names, destination_file_names)
        for source in source_file_names:
            del self.objects[source]

    def exists(self, path: str) -> bool:
        return path in self.objects

    def size(self, path: str) -> int:
        return len(self.objects[path])

    def last_updated(self, path: str) -> float:
        return 0.0

    def checksum(self, path: str) -> str:
        return str(hash(self.objects[path]))

    def metadata(self, path: str) -> FileMetadata:
        return FileMetadata(path, len(self.objects[path]), 0.0)

    def delete(self, paths) -> None:
        for path in paths:
            if path.endswith("/"):
                for key in [k for k in self.objects if k.startswith(path)]:
                    del self.objects[key]
            else:
                self.objects.pop(path, None)


@pytest.fixture
def store():
    MemStore.objects.clear()
    yield MemStore.objects
    MemStore.objects.clear()


def _names(store: dict[str, bytes], out: str) -> list[str]:
    return sorted(path[len(out) + 1 :] for path in store)


def _rows(store: dict[str, bytes], out: str) -> int:
    return sum(pq.read_metadata(io.BytesIO(data)).num_rows for path, data in store.items() if path.endswith(".parquet"))


def test_generate_and_overwrite_on_an_object_store(cli, store, tmp_path) -> None:
    config = FIXTURES / "ok.json"
    out = "memstore://bucket/out"
    run = cli("generate", config, "--rows", 5, "--out", out, "--num-shards", 2)
    assert run.code == 0, run.err
    assert _names(store, out) == [*RUN_FILES, "t/t-00000-of-00002.parquet", "t/t-00001-of-00002.parquet"]
    assert _rows(store, out) == 5
    assert cli("generate", config, "--rows", 5, "--out", out).code == 1  # not empty
    run = cli("generate", config, "--rows", 7, "--out", out, "--overwrite")
    assert run.code == 0, run.err
    assert _names(store, out) == [*RUN_FILES, "t/t-00000-of-00001.parquet"]
    assert _rows(store, out) == 7 and json.loads(store[out + "/_report.json"])["total_rows"] == 7


def test_a_failed_switch_on_an_object_store_keeps_the_previous_output(cli, store, monkeypatch) -> None:
    config = FIXTURES / "ok.json"
    out = "memstore://bucket/out"
    assert cli("generate", config, "--rows", 5, "--out", out).code == 0
    before = dict(store)
    real_rename = MemStore.rename

    def failing(self, sources, targets):
        if any(s.endswith("/_report.json") and ".synthbeam-tmp-" in s for s in sources):  # the last rename
            raise BeamIOError("Rename operation failed (injected)", {})
        real_rename(self, sources, targets)

    monkeypatch.setattr(MemStore, "rename", failing)
    run = cli("generate", config, "--rows", 9, "--out", out, "--overwrite")
    assert run.code == 1 and "injected" in run.err, run.err
    assert store == before


def test_another_runs_staging_on_an_object_store_is_left_alone(cli, store) -> None:
    out = "memstore://bucket/out"
    store[out + "/.synthbeam-tmp-other/t/t-00000-of-00001.parquet"] = b"in flight"
    run = cli("generate", FIXTURES / "ok.json", "--rows", 5, "--out", out)
    assert run.code == 0, run.err
    assert store[out + "/.synthbeam-tmp-other/t/t-00000-of-00001.parquet"] == b"in flight"
