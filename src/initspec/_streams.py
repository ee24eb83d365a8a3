"""Seeded draws that do not depend on sharding: fixed-size blocks of the flattened global tensor.

With ``seed``, an elementwise initializer fills a tensor from base draws (standard normal, or uniform on
[0, 1)) taken in blocks of ``BLOCK`` elements of the flattened *global* tensor, each block from a generator
seeded by ``(seed, name, block index)``, and then maps them elementwise to its distribution, with fans from
the global shape. A rank holding a shard of a ``DTensor`` draws only the blocks its shard touches, so every
rank gets its slice of exactly the tensor an unsharded run produces, at any world size or placement.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from typing import Literal

import torch

from initspec import functional as F
from initspec.configs import (
    Caffe2XavierInit,
    InitializerConfig,
    KaimingInit,
    NormalInit,
    TruncNormalInit,
    UniformInit,
    XavierInit,
)

__all__ = ["BLOCK", "holds_no_data", "is_sharded", "local_view", "seeded_fill", "slice_of", "stable_seed"]

BLOCK = 1 << 16
"""Elements per seeded block; part of the definition of ``seed=`` values, so never change it."""

Base = Literal["normal", "uniform"]
Transform = Callable[[torch.Tensor, InitializerConfig, tuple[int, ...]], None]


def is_sharded(tensor: torch.Tensor) -> bool:
    """Whether ``tensor`` is a ``DTensor`` (as FSDP2 and tensor parallelism produce)."""
    return type(tensor).__name__ == "DTensor"  # a Parameter wrapping a DTensor keeps the DTensor type


def local_view(tensor: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...], tuple[int, ...]]:
    """This rank's data, the global shape, and the global offset of the local data in each dimension."""
    if not is_sharded(tensor):
        return tensor, tuple(tensor.shape), (0,) * tensor.dim()
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    mesh, placements = tensor.device_mesh, tensor.placements  # type: ignore[attr-defined]
    _, offset = compute_local_shape_and_global_offset(tensor.shape, mesh, placements)
    return tensor.to_local(), tuple(tensor.shape), tuple(offset)  # type: ignore[attr-defined]


def slice_of(full: torch.Tensor, local: torch.Tensor, offset: tuple[int, ...]) -> torch.Tensor:
    """The part of ``full`` (global) that ``local`` holds, given its global ``offset``."""
    index = tuple(slice(o, o + n) for o, n in zip(offset, local.shape, strict=True))
    return full[index]


def seeded_fill(init: InitializerConfig, tensor: torch.Tensor, seed: int, name: str) -> bool:
    """Fill this rank's part of ``tensor`` from the block stream; ``False`` if ``init`` has no stream."""
    transform = _TRANSFORMS.get(type(init))
    if transform is None:
        return False
    local, shape, offset = local_view(tensor)
    base = _base_of(init)
    work = local if local.is_contiguous() and local.dtype == _work_dtype(local) else None
    buf = (
        work if work is not None else torch.empty(local.shape, dtype=_work_dtype(local), device=local.device)
    )
    _fill_base(buf, shape, offset, base, seed, name)
    transform(buf, init, shape)
    if work is None:
        local.copy_(buf)
    return True


def _base_of(init: InitializerConfig) -> Base:
    """Normal draws for Normal and for ``distribution="normal"``; uniform draws for everything else."""
    if isinstance(init, NormalInit) or getattr(init, "distribution", None) == "normal":
        return "normal"
    return "uniform"


def holds_no_data(tensor: torch.Tensor) -> bool:
    """Whether ``tensor`` (or this rank's shard of it) lives on the meta device, so writes are skipped."""
    return tensor.is_meta or (is_sharded(tensor) and local_view(tensor)[0].is_meta)


def _work_dtype(local: torch.Tensor) -> torch.dtype:
    return torch.float64 if local.dtype == torch.float64 else torch.float32


def stable_seed(*parts: object) -> int:
    """A generator seed from ``parts`` that is the same in every process (unlike ``hash``)."""
    digest = hashlib.blake2b("\0".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def block_seed(seed: int, name: str, block: int) -> int:
    """The generator seed of one block of tensor ``name``."""
    return stable_seed(seed, name, block)


def _fill_base(
    out: torch.Tensor, shape: tuple[int, ...], offset: tuple[int, ...], base: Base, seed: int, name: str
) -> None:
    flat, numel = out.view(-1), math.prod(shape)
    cached: tuple[int, torch.Tensor] | None = None
    for local_start, start, stop in _runs(tuple(out.shape), shape, offset):
        for k in range(start // BLOCK, (stop - 1) // BLOCK + 1):
            lo, hi = max(start, k * BLOCK), min(stop, (k + 1) * BLOCK)
            dest = flat[local_start + lo - start : local_start + hi - start]
            if hi - lo == min(BLOCK, numel - k * BLOCK):
                _draw(dest, k, base, seed, name)  # the whole block lands here: draw in place
                continue
            if cached is None or cached[0] != k:
                block = torch.empty(min(BLOCK, numel - k * BLOCK), dtype=out.dtype, device=out.device)
                cached = (k, _draw(block, k, base, seed, name))
            dest.copy_(cached[1][lo - k * BLOCK : hi - k * BLOCK])


def _draw(values: torch.Tensor, k: int, base: Base, seed: int, name: str) -> torch.Tensor:
    """Fill ``values`` (one whole block) with block ``k``'s base draws."""
    generator = torch.Generator(device=values.device)
    generator.manual_seed(block_seed(seed, name, k))
    return values.normal_(generator=generator) if base == "normal" else values.uniform_(generator=generator)


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


# -- elementwise maps from base draws to each distribution ------------------------------------------------
def _normal(t: torch.Tensor, c: InitializerConfig, shape: tuple[int, ...]) -> None:
    assert isinstance(c, NormalInit)
    t.mul_(c.std).add_(c.mean)


def _uniform(t: torch.Tensor, c: InitializerConfig, shape: tuple[int, ...]) -> None:
    assert isinstance(c, UniformInit)
    t.mul_(c.b - c.a).add_(c.a)


def _trunc_normal(t: torch.Tensor, c: InitializerConfig, shape: tuple[int, ...]) -> None:
    assert isinstance(c, TruncNormalInit)
    lower = math.erf((c.a - c.mean) / c.std / math.sqrt(2.0))
    upper = math.erf((c.b - c.mean) / c.std / math.sqrt(2.0))
    t.mul_(upper - lower).add_(lower).erfinv_().mul_(c.std * math.sqrt(2.0)).add_(c.mean).clamp_(c.a, c.b)


def _scale(t: torch.Tensor, std: float, distribution: str) -> None:
    """Map base draws to N(0, std^2), or to U(-sqrt(3) std, sqrt(3) std) for ``distribution="uniform"``."""
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        t.mul_(2 * bound).sub_(bound)
    else:
        t.mul_(std)


def _kaiming(t: torch.Tensor, c: InitializerConfig, shape: tuple[int, ...]) -> None:
    a: float
    mode: F.Mode
    nonlinearity: F.Nonlinearity
    if isinstance(c, Caffe2XavierInit):
        a, mode, nonlinearity, distribution = 1.0, "fan_in", "leaky_relu", "uniform"
    else:
        assert isinstance(c, KaimingInit)
        a, mode, nonlinearity, distribution = c.a, c.mode, c.nonlinearity, c.distribution
    fan_in, fan_out = F.fan_in_and_fan_out(shape)
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    _scale(t, gain / math.sqrt(fan_in if mode == "fan_in" else fan_out), distribution)


def _xavier(t: torch.Tensor, c: InitializerConfig, shape: tuple[int, ...]) -> None:
    assert isinstance(c, XavierInit)
    fan_in, fan_out = F.fan_in_and_fan_out(shape)
    _scale(t, c.gain * math.sqrt(2.0 / float(fan_in + fan_out)), c.distribution)


_TRANSFORMS: dict[type[InitializerConfig], Transform] = {
    NormalInit: _normal,
    UniformInit: _uniform,
    TruncNormalInit: _trunc_normal,
    KaimingInit: _kaiming,
    XavierInit: _xavier,
    Caffe2XavierInit: _kaiming,
}
"""Each initializer's elementwise map from its base draws (see ``_base_of``) to its distribution."""
