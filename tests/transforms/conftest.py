"""Fixtures for the Beam layer: a config that exercises every stored type, and the pinned local runner.

Every TestPipeline here runs on :func:`synthbeam.pipeline.options.local_runner`
(the FnApiRunner the DirectRunner would pick, never Prism, which would try to
download a binary).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.transforms.configs import ALL_TYPES


@pytest.fixture
def all_types_config() -> dict[str, Any]:
    return copy.deepcopy(ALL_TYPES)


@pytest.fixture
def all_types_plan(make_plan: Callable[..., Any], all_types_config: dict[str, Any]) -> Any:
    return make_plan(all_types_config)


@pytest.fixture
def runner() -> Any:
    from synthbeam.pipeline.options import local_runner

    return local_runner()
