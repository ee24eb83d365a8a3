"""Seeded draws that do not depend on sharding: fixed-size blocks of the flattened global tensor.

With ``seed``, a writer with a stream fills a tensor from base draws (standard normal, or uniform on
[0, 1)) taken in blocks of ``BLOCK`` elements of the flattened *global* tensor, each block from a generator
seeded by ``(seed, name, block index)``, and its transform maps them elementwise to its distribution, with
fans from the global shape. A rank holding a shard draws only the blocks its shard touches, so every rank
gets its slice of exactly the tensor an unsharded run produces, at any world size or placement.
``BLOCK`` and ``stable_seed`` define what ``seed=`` draws: golden tests pin both.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from typing import Final, Literal

import torch

from initspec._walker.shards import local_view

__all__ = ["BLOCK", "block_runs", "fill_seeded", "generator_for", "stable_seed"]

BLOCK: Final = 1 << 16
"""Elements per seeded block; part of the definition of ``seed=`` values, so never change it."""

Base = Literal["normal", "uniform"]
Transform = Callable[[torch.Tensor, tuple[int, ...]], None]


def stable_seed(*parts: object) -> int:
    """A generator seed from ``parts`` that is the same in every process and version (unlike ``hash``)."""
    digest = hashlib.blake2b("\0".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def generator_for(seed: int | None, name: str, device: torch.device) -> torch.Generator | None:
    """A generator seeded from ``(seed, name)`` alone, or ``None`` (the global RNG) without a seed."""
    if seed is None:
        return None
    generator = torch.Generator(device=device)
    generator.manual_seed(stable_seed(seed, name))
    return generator


def fill_seeded(tensor: torch.Tensor, base: Base, transform: Transform, seed: int, name: str) -> None:
    """Fill this rank's part of ``tensor`` from the block stream of ``(seed, name)``, then ``transform`` it."""
    local, shape, offset = local_view(tensor)
    work_dtype = torch.float64 if local.dtype == torch.float64 else torch.float32
    in_place = local.is_contiguous() and local.dtype == work_dtype
    buf = local if in_place else torch.empty(local.shape, dtype=work_dtype, device=local.device)
    _fill_base(buf, shape, offset, base, seed, name)
    transform(buf, shape)
    if not in_place:
        local.copy_(buf)


def _fill_base(
    out: torch.Tensor, shape: tuple[int, ...], offset: tuple[int, ...], base: Base, seed: int, name: str
) -> None:
    flat, numel = out.view(-1), math.prod(shape)
    cached: tuple[int, torch.Tensor] | None = None
    for local_start, k, lo, hi in block_runs(tuple(out.shape), shape, offset):
        dest = flat[local_start : local_start + hi - lo]
        size = min(BLOCK, numel - k * BLOCK)
        if hi - lo == size:
            _draw(dest, k, base, seed, name)  # the whole block lands here: draw in place
            continue
        if cached is None or cached[0] != k:
            cached = (k, _draw(torch.empty(size, dtype=out.dtype, device=out.device), k, base, seed, name))
        dest.copy_(cached[1][lo - k * BLOCK : hi - k * BLOCK])


def _draw(values: torch.Tensor, k: int, base: Base, seed: int, name: str) -> torch.Tensor:
    """Fill ``values`` (one whole block) with block ``k``'s base draws."""
    generator = torch.Generator(device=values.device)
    generator.manual_seed(stable_seed(seed, name, k))
    return values.normal_(generator=generator) if base == "normal" else values.uniform_(generator=generator)


def block_runs(
    local: tuple[int, ...], shape: tuple[int, ...], offset: tuple[int, ...]
) -> Iterator[tuple[int, int, int, int]]:
    """``(local flat start, block, global start, global stop)`` of each piece of a shard within one block."""
    for local_start, start, stop in _runs(local, shape, offset):
        for k in range(start // BLOCK, (stop - 1) // BLOCK + 1):
            lo, hi = max(start, k * BLOCK), min(stop, (k + 1) * BLOCK)
            yield local_start + lo - start, k, lo, hi


def _runs(
    local: tuple[int, ...], shape: tuple[int, ...], offset: tuple[int, ...]
) -> Iterator[tuple[int, int, int]]:
    """``(local flat start, global flat start, global flat stop)`` of each contiguous piece of the shard."""
    if not local or math.prod(local) == 0:
        if local == () and shape == ():
            yield 0, 0, 1
        return
    tail = len(shape)
    while tail > 0 and local[tail - 1] == shape[tail - 1]:
        tail -= 1
    strides = [math.prod(shape[d + 1 :]) for d in range(len(shape))]
    run = math.prod(local[max(tail - 1, 0) :])
    lead = range(max(tail - 1, 0))
    first = sum(offset[d] * strides[d] for d in range(len(shape)))
    for n, idx in enumerate(_product([local[d] for d in lead])):
        start = first + sum(i * strides[d] for d, i in zip(lead, idx, strict=True))
        yield n * run, start, start + run


def _product(sizes: list[int]) -> Iterator[tuple[int, ...]]:
    if not sizes:
        yield ()
        return
    for head in range(sizes[0]):
        for rest in _product(sizes[1:]):
            yield (head, *rest)
