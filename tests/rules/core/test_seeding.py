"""Counter-based streams: pure in (key, index), uniform, and independent by name."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from synthbeam.rules.core.seeding import Stream, derive_key
from synthbeam.rules.relations.keys import unique_ordinals


def test_same_key_same_values_any_slice() -> None:
    stream = Stream.root("seed", 1, "t", "c")
    index = np.arange(10_000, dtype=np.uint64)
    whole = stream.bits(index)
    assert np.array_equal(whole[2500:7000], stream.bits(index[2500:7000]))
    assert np.array_equal(whole[::-1], stream.bits(index[::-1]))


def test_keys_are_stable_across_processes() -> None:
    code = "from synthbeam.rules.core.seeding import derive_key; print(derive_key('a', 1, 't'))"
    outputs = {subprocess.check_output([sys.executable, "-c", code], text=True).strip() for _ in range(2)}
    assert outputs == {str(derive_key("a", 1, "t"))}


def test_children_are_independent() -> None:
    root = Stream.root("x")
    index = np.arange(50_000, dtype=np.uint64)
    a, b = root.child("a").uniform(index), root.child("b").uniform(index)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.02
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 0.02


def test_integers_cover_bounds_uniformly() -> None:
    stream = Stream.root("ints")
    index = np.arange(60_000, dtype=np.uint64)
    values = stream.integers(index, -3, 2)
    assert values.min() == -3 and values.max() == 2
    counts = np.bincount(values + 3)
    assert ((counts - 10_000) ** 2 / 10_000).sum() < 20.5  # chi-square, 5 dof, p = 0.001
    big = stream.integers(index, -(2**62), 2**62)
    assert big.min() >= -(2**62) and big.max() <= 2**62 and big.min() < 0 < big.max()


def test_uniform_in_unit_interval() -> None:
    values = Stream.root("u").uniform(np.arange(100_000, dtype=np.uint64))
    assert values.min() >= 0 and values.max() < 1
    assert abs(values.mean() - 0.5) < 0.005


def test_unique_ordinals_is_a_permutation() -> None:
    for space in (1, 2, 3, 10, 1000, 4097, 100_003):
        ordinals = unique_ordinals(Stream.root("p", space), np.arange(space, dtype=np.uint64), space)
        assert sorted(ordinals.tolist()) == list(range(space)), space


def test_unique_ordinals_in_huge_space_are_distinct_and_in_range() -> None:
    space = 17_576_000_000
    index = np.arange(0, 3_000_000, 7, dtype=np.uint64)
    ordinals = unique_ordinals(Stream.root("big"), index, space)
    assert len(np.unique(ordinals)) == len(index)
    assert int(ordinals.max()) < space
