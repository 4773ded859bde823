"""``security.pad_to``: ciphertext lengths show a bucket, not the value's length (issue #12 item 10)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from synthbeam.rules.security import crypto
from tests.conftest import sealed_lengths

KEY = bytes(range(32))
VALUES = pa.array(["x" * n for n in range(1, 61)] + ["é" * 7, "", None])


def test_unpadded_lengths_map_one_to_one() -> None:
    cells = crypto.encrypt_column(VALUES, KEY, "t", "c", np.arange(len(VALUES), dtype=np.uint64))
    assert len(sealed_lengths(cells[:60])) == 60  # what the docs warn about
    assert {n - 28 for n in sealed_lengths(cells[:60])} == set(range(1, 61))


@pytest.mark.parametrize("pad_to", [1, 16, 32, 64])
def test_padding_leaves_only_buckets_and_decrypts_exactly(pad_to: int) -> None:
    rows = np.arange(len(VALUES), dtype=np.uint64)
    cells = crypto.encrypt_column(VALUES, KEY, "t", "c", rows, pad_to=pad_to)
    plain_lengths = [len(v.encode()) for v in VALUES.to_pylist() if v is not None]
    buckets = {-(-(n + 2) // pad_to) for n in plain_lengths}  # marker + 0x80, rounded up
    assert len(sealed_lengths(cells)) == len(buckets)
    if pad_to == 64:
        assert len(sealed_lengths(cells)) == 1
    assert crypto.decrypt_column(cells, KEY, "t", "c").equals(VALUES)
    assert cells.to_pylist()[-1] is None


def test_padding_is_deterministic_and_unpadded_cells_still_decrypt() -> None:
    rows = np.arange(len(VALUES), dtype=np.uint64)
    assert crypto.encrypt_column(VALUES, KEY, "t", "c", rows, pad_to=16).equals(
        crypto.encrypt_column(VALUES, KEY, "t", "c", rows, pad_to=16)
    )
    plain = crypto.encrypt_column(VALUES, KEY, "t", "c", rows)
    assert crypto.decrypt_column(plain, KEY, "t", "c").equals(VALUES)
