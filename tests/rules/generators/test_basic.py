"""Rules without parameters: UUID text is canonical version 4 and never mutates its inputs."""

from __future__ import annotations

import uuid

import numpy as np

from synthbeam.rules.generators.basic import format_uuid4


def _expected(high: int, low: int) -> str:
    high = (high & 0xFFFFFFFFFFFF0FFF) | 0x4000
    low = (low & 0x3FFFFFFFFFFFFFFF) | 0x8000000000000000
    return str(uuid.UUID(int=(high << 64) | low))


def test_uuid_text_matches_the_uuid_module_across_blocks() -> None:
    generator = np.random.default_rng(4)
    high = generator.integers(0, 2**64, 20_000, dtype=np.uint64, endpoint=False)
    low = generator.integers(0, 2**64, 20_000, dtype=np.uint64, endpoint=False)
    high[:2], low[:2] = [0, 2**64 - 1], [2**64 - 1, 0]
    kept = high.copy(), low.copy()
    texts = [row.tobytes().decode() for row in format_uuid4(high, low)]
    assert texts == [_expected(int(h), int(lo)) for h, lo in zip(high, low)]
    assert all(uuid.UUID(t).version == 4 and uuid.UUID(t).variant == uuid.RFC_4122 for t in texts[:100])
    assert (high == kept[0]).all() and (low == kept[1]).all()
