"""A config given as a URL is read through Beam's FileSystems (how Dataflow templates take gs:// configs)."""

from __future__ import annotations

import io
import json

import pytest

from synthbeam.pipeline.config import load_plan
from synthbeam.rules.errors import ConfigError
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
