"""synthbeam's pytest plugin (entry point ``pytest11``): test data as a fixture.

``synthbeam_tables`` is a factory: ``synthbeam_tables(config, rows=None, **overrides)``
returns ``{table name: pyarrow.Table}`` from :func:`synthbeam.tables`. Results
are cached for the session under the config's content (a file's path and
modification time, or a dict's JSON), ``rows`` and the overrides, so many
tests can ask for the same data and it is generated once. The tables are
immutable Arrow tables, safe to share.

A test may name its config with the ``synthbeam`` marker instead and call
the factory without arguments::

    @pytest.mark.synthbeam("configs/shop.json", rows=100, seed=3)
    def test_orders(synthbeam_tables):
        orders = synthbeam_tables()["orders"]

``synthbeam_database`` is the same factory for a database:
``synthbeam_database(config, url=None, **overrides)`` loads the config's tables
(``synthbeam.generate(plan, to=url)``: the whole run, all or nothing, every key a
real constraint; ``overrides`` are :func:`synthbeam.load`'s, e.g. ``scale=0.01``)
and returns the URL. Without ``url`` it is a SQLite file in a session temporary
folder; one load per config and overrides per session::

    def test_orders_join(synthbeam_database):
        url = synthbeam_database("configs/shop.json", scale=0.1)   # sqlite:///.../db-0.db
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db: ...

A relative config path is looked up next to the test's file, then under
pytest's root directory. Importing this module imports nothing heavy:
synthbeam loads when a test first asks for data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["synthbeam_database", "synthbeam_tables"]

MARKER = "synthbeam"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(config, rows=None, **overrides): the config (path or dict) synthbeam_tables() uses by default",
    )


class _SessionTables:
    """Tables generated in this session, by what made them."""

    def __init__(self) -> None:
        self.cache: dict[str, dict[str, pa.Table]] = {}

    def get(self, config: str | os.PathLike[str] | Mapping[str, Any], rows: int | None, overrides: dict[str, Any]):
        import synthbeam

        key = _cache_key(config, rows, overrides)
        if key not in self.cache:
            plan = synthbeam.load(config if isinstance(config, Mapping) else os.fspath(config), **overrides)
            self.cache[key] = synthbeam.tables(plan, rows)
        return self.cache[key]


def _cache_key(config: str | os.PathLike[str] | Mapping[str, Any], *made_with: Any) -> str:
    """What the data is a function of: the config's content (a dict) or file (path, mtime), and the rest."""
    if isinstance(config, Mapping):
        identity: Any = json.dumps(config, sort_keys=True, default=str)
    else:
        path = Path(config).resolve()
        identity = [str(path), path.stat().st_mtime_ns if path.exists() else None]
    return json.dumps([identity, *made_with], sort_keys=True, default=str)


class _SessionDatabases:
    """Databases loaded in this session, by what made them: URL per config, url and overrides."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cache: dict[str, str] = {}

    def get(
        self, config: str | os.PathLike[str] | Mapping[str, Any], url: str | None, overrides: dict[str, Any]
    ) -> str:
        import synthbeam

        key = _cache_key(config, url, overrides)
        if key not in self.cache:
            target = url or f"sqlite:///{self.folder / f'db-{len(self.cache)}.db'}"
            plan = synthbeam.load(config if isinstance(config, Mapping) else os.fspath(config), **overrides)
            synthbeam.generate(plan, to=target, overwrite=url is not None)
            self.cache[key] = target
        return self.cache[key]


@pytest.fixture(scope="session")
def _synthbeam_session_tables() -> _SessionTables:
    return _SessionTables()


@pytest.fixture(scope="session")
def _synthbeam_session_databases(tmp_path_factory: pytest.TempPathFactory) -> _SessionDatabases:
    return _SessionDatabases(tmp_path_factory.mktemp("synthbeam-databases"))


def _locate(config: Any, request: pytest.FixtureRequest) -> Any:
    if isinstance(config, Mapping) or Path(config).is_absolute():
        return config
    for folder in (Path(str(request.node.path)).parent, Path(str(request.config.rootpath))):
        if (folder / config).exists():
            return folder / config
    return config  # synthbeam.load names the missing file


@pytest.fixture
def synthbeam_tables(
    request: pytest.FixtureRequest, _synthbeam_session_tables: _SessionTables
) -> Callable[..., dict[str, pa.Table]]:
    """A factory: ``synthbeam_tables(config=None, rows=None, **overrides) -> {table: pyarrow.Table}``."""
    marker = request.node.get_closest_marker(MARKER)

    def make(
        config: str | os.PathLike[str] | Mapping[str, Any] | None = None, rows: int | None = None, **overrides: Any
    ) -> dict[str, pa.Table]:
        if config is None:
            if marker is None or not marker.args:
                raise pytest.UsageError(
                    "synthbeam_tables() needs a config: pass one, or mark the test "
                    "@pytest.mark.synthbeam(config, rows=..., **overrides)"
                )
            config = marker.args[0]
            marked = dict(marker.kwargs)
            rows = rows if rows is not None else marked.pop("rows", None)
            overrides = {**marked, **overrides}
        return _synthbeam_session_tables.get(_locate(config, request), rows, overrides)

    return make


@pytest.fixture
def synthbeam_database(
    request: pytest.FixtureRequest, _synthbeam_session_databases: _SessionDatabases
) -> Callable[..., str]:
    """A factory: ``synthbeam_database(config, url=None, **overrides) -> URL`` of a database holding the tables."""

    def make(config: str | os.PathLike[str] | Mapping[str, Any], url: str | None = None, **overrides: Any) -> str:
        return _synthbeam_session_databases.get(_locate(config, request), url, overrides)

    return make
