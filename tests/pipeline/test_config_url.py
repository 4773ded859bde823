"""A config given as a URL is read through Beam's FileSystems (how Dataflow templates take gs:// configs)."""

from __future__ import annotations

import io
import json

import pytest

from synthbeam.pipeline.config import load_plan
from synthbeam.rules.core.errors import ConfigError
from tests.transforms.configs import ALL_TYPES


def test_url_config_is_read_with_filesystems(monkeypatch) -> None:
    from apache_beam.io.filesystems import FileSystems

    opened = []

    def fake_open(path, *args, **kwargs):
        opened.append(path)
        return io.BytesIO(json.dumps(ALL_TYPES).encode("utf-8"))

    monkeypatch.setattr(FileSystems, "open", staticmethod(fake_open))
    plan, _ = load_plan("gs://bucket/configs/shop.json", overrides={"seed": 99})
    assert opened == ["gs://bucket/configs/shop.json"]
    assert plan.source == "gs://bucket/configs/shop.json"
    assert plan.seed == 99 and list(plan.tables) == ["customers", "orders"]


def test_unreadable_url_is_a_config_error(monkeypatch) -> None:
    from apache_beam.io.filesystems import FileSystems

    def failing(path, *args, **kwargs):
        raise OSError("404 Not Found\nmore details")

    monkeypatch.setattr(FileSystems, "open", staticmethod(failing))
    with pytest.raises(ConfigError, match=r"cannot read config gs://b/none\.json: 404 Not Found$"):
        load_plan("gs://b/none.json")


SHOP = {
    "seed": 5,
    "as_of": "2026-01-01",
    "tables": [
        {
            "table_name": "products",
            "rows": 400,
            "columns": [
                {"name": "product_id", "type": "int", "constraint": ["PK"]},
                {
                    "name": "category",
                    "type": "str",
                    "rule": {"type": "choice_from_file", "file_path": "data/categories.csv", "column": "category"},
                },
            ],
        }
    ],
}


def _serve(monkeypatch, objects: dict[str, bytes]) -> list[str]:
    """FileSystems.open serves ``objects`` by URL (a stand-in for gs://); returns the URLs opened."""
    from apache_beam.io.filesystems import FileSystems

    opened = []

    def fake_open(path, *args, **kwargs):
        opened.append(path)
        if path not in objects:
            raise OSError(f"404 Not Found: {path}")
        return io.BytesIO(objects[path])

    monkeypatch.setattr(FileSystems, "open", staticmethod(fake_open))
    return opened


def test_choice_from_file_of_a_url_config_reads_the_file_next_to_it(monkeypatch, tmp_path) -> None:
    import tempfile

    from synthbeam.rules.engine.batch import generate_batch

    (tmp_path / "cwd").mkdir()
    (tmp_path / "tmp").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # nothing in the working directory to find by accident
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    opened = _serve(
        monkeypatch,
        {
            "gs://bucket/configs/shop.json": json.dumps(SHOP).encode(),
            "gs://bucket/configs/data/categories.csv": b"category,weight\nGarden,1\nKitchen,2\nToys,3\n",
        },
    )
    plan, _ = load_plan("gs://bucket/configs/shop.json")
    assert opened == ["gs://bucket/configs/shop.json", "gs://bucket/configs/data/categories.csv"]
    values = set(generate_batch(plan, "products", 0, 400).column("category").to_pylist())
    assert values == {"Garden", "Kitchen", "Toys"}
    # The fetched copy lived in a temporary folder for the compile only.
    assert plan.settings.data_dir is None and list((tmp_path / "tmp").iterdir()) == []
    assert list((tmp_path / "cwd").iterdir()) == []


def test_a_missing_file_next_to_a_url_config_names_the_column_and_the_url(monkeypatch) -> None:
    _serve(monkeypatch, {"gs://bucket/configs/shop.json": json.dumps(SHOP).encode()})
    with pytest.raises(ConfigError) as raised:
        load_plan("gs://bucket/configs/shop.json")
    assert [str(issue) for issue in raised.value.issues] == [
        "products.columns[1] (category): choice_from_file data/categories.csv: "
        "cannot read gs://bucket/configs/data/categories.csv: 404 Not Found: gs://bucket/configs/data/categories.csv"
    ]


def test_a_url_configs_files_must_stay_below_its_folder(monkeypatch) -> None:
    escaping = json.loads(json.dumps(SHOP))
    escaping["tables"][0]["columns"][1]["rule"]["file_path"] = "../secrets/categories.csv"
    _serve(monkeypatch, {"gs://bucket/configs/shop.json": json.dumps(escaping).encode()})
    with pytest.raises(ConfigError, match=r"must be in its folder or below"):
        load_plan("gs://bucket/configs/shop.json")
