"""Value helpers: pool-backed scratch arrays and string arrays built from byte matrices."""

from __future__ import annotations

import numpy as np
import pytest

from synthbeam.rules.core.values import fixed_width_strings, pool_empty


@pytest.mark.parametrize("shape", [(0,), (10,), (1000, 36), (300_000,)])
def test_pool_arrays_are_writable_and_shaped(shape: tuple[int, ...]) -> None:
    array = pool_empty(shape, np.uint32)
    array[...] = 7
    assert array.shape == shape and array.dtype == np.uint32 and (array == 7).all()


def test_fixed_width_strings_keep_utf8_bytes() -> None:
    text = ["aé", "zü", "0€"[:1] + "x"]
    encoded = [t.encode() for t in text]
    width = max(len(e) for e in encoded)
    matrix = np.frombuffer(b"".join(e.ljust(width, b"!") for e in encoded), dtype=np.uint8).reshape(3, width)
    assert fixed_width_strings(matrix).to_pylist() == [e.ljust(width, b"!").decode() for e in encoded]
    assert fixed_width_strings(np.zeros((4, 0), dtype=np.uint8)).to_pylist() == [""] * 4
