"""Golden tests of the ``seed=`` contract: the integers and block splits that define what a seed draws.

``stable_seed`` (blake2b of the parts) and ``BLOCK`` decide every seeded value; a change to either changes the
values of every seeded run, in every version, so they are pinned here on platform-independent data.
"""

from __future__ import annotations

import pytest

from initspec._walker.seeded import BLOCK, block_runs, stable_seed


def test_block_size_is_pinned() -> None:
    """A seeded block is 65,536 elements of the flattened global tensor."""
    assert BLOCK == 65536


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ((0, "weight"), 3951154644049706098),
        ((0, "backbone.0.weight", 0), 2098945294804076324),
        ((1234, "head.fc.weight", 3), 6718045873174539177),
        ((2**40, "x", 7), 2381408271983487561),
    ],
)
def test_stable_seed_is_pinned(parts: tuple[object, ...], expected: int) -> None:
    """The generator seed of a (seed, name[, block]) triple is a fixed 63-bit integer."""
    assert stable_seed(*parts) == expected


@pytest.mark.parametrize(
    ("local", "shape", "offset", "expected"),
    [
        (
            (3, 70000),
            (3, 70000),
            (0, 0),
            [
                (0, 0, 0, 65536),
                (65536, 1, 65536, 131072),
                (131072, 2, 131072, 196608),
                (196608, 3, 196608, 210000),
            ],
        ),
        (
            (2, 70000),
            (4, 70000),
            (2, 0),
            [(0, 2, 140000, 196608), (56608, 3, 196608, 262144), (122144, 4, 262144, 280000)],
        ),
        ((4, 3), (4, 7), (0, 2), [(0, 0, 2, 5), (3, 0, 9, 12), (6, 0, 16, 19), (9, 0, 23, 26)]),
        (
            (300, 500),
            (600, 500),
            (300, 0),
            [(0, 2, 150000, 196608), (46608, 3, 196608, 262144), (112144, 4, 262144, 300000)],
        ),
    ],
    ids=["whole", "shard0-rows", "shard1-columns", "shard0-half"],
)
def test_block_split_is_pinned(
    local: tuple[int, ...], shape: tuple[int, ...], offset: tuple[int, ...], expected: list[tuple[int, ...]]
) -> None:
    """Which blocks a shard draws, and where each piece lands: (local start, block, global start, global stop)."""
    assert list(block_runs(local, shape, offset)) == expected
