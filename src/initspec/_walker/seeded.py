"""Seeded draws that do not depend on sharding: fixed-size blocks of the flattened global tensor.

With ``seed``, a writer with a stream fills a tensor from base draws (standard normal, or uniform on
[0, 1)) taken in blocks of ``BLOCK`` elements of the flattened *global* tensor, each block from a generator
seeded by ``(seed, name, block index)``, and its transform maps them elementwise to its distribution, with
fans from the global shape. A rank holding a shard draws only the blocks its shard touches, so every rank
gets its slice of exactly the tensor an unsharded run produces, at any world size or placement.
``BLOCK`` and ``stable_seed`` define what ``seed=`` draws: golden tests pin both.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Final, Literal

import torch

from initspec._errors import InitWarning
from initspec._shards import local_view

__all__ = [
    "BLOCK",
    "THREADS_ENV",
    "Scale",
    "block_runs",
    "fill_seeded",
    "generator_for",
    "seed_threads",
    "stable_seed",
]

BLOCK: Final = 1 << 16
"""Elements per seeded block; part of the definition of ``seed=`` values, so never change it."""

Base = Literal["normal", "uniform"]
Transform = Callable[[torch.Tensor, tuple[int, ...]], None]


@dataclass(frozen=True)
class Scale:
    """A transform of standard normal draws that only scales them: ``t * std(shape)``, then ``+ zero``.

    ``zero`` is a signed zero: ``-0.0`` leaves the product as it is (a plain scale, as Kaiming's), ``+0.0``
    turns a ``-0`` into ``+0`` (``Normal(mean=0)``'s ``mul_(std).add_(0)``). Such a block is drawn in one pass
    as ``normal_(zero, std)``, with the same bits: for 16 or more contiguous elements torch computes each value
    as ``fma(r, std, zero)`` or ``r * std + zero`` from the standard draw ``r`` it would give ``normal_()``, and
    adding a signed zero changes nothing but that sign. Shorter blocks take torch's other, double-precision
    path, so they are drawn and scaled in two steps.
    """

    std: Callable[[tuple[int, ...]], float]
    zero: float = -0.0

    def __call__(self, t: torch.Tensor, shape: tuple[int, ...]) -> None:
        t.mul_(self.std(shape))
        if math.copysign(1.0, self.zero) > 0:
            t.add_(0.0)


FUSED_MIN: Final = 16
"""The fewest contiguous elements for which torch's ``normal_`` fills through its vectorised path."""


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
    _fill_base(buf, shape, offset, base, seed, name, transform)
    if not in_place:
        local.copy_(buf)


def _fill_base(
    out: torch.Tensor,
    shape: tuple[int, ...],
    offset: tuple[int, ...],
    base: Base,
    seed: int,
    name: str,
    transform: Transform | None = None,
) -> None:
    """Draw the blocks of ``out`` (a shard of ``shape`` at ``offset``), each transformed while it is in cache.

    A transform is elementwise, so mapping each block's slice gives the same bits as mapping the whole
    tensor, and the pool threads then share the transform's work too.
    """
    flat, numel = out.view(-1), math.prod(shape)
    groups = _by_block(block_runs(tuple(out.shape), shape, offset))
    fused = (
        (transform.zero, transform.std(shape)) if base == "normal" and isinstance(transform, Scale) else None
    )

    def fill(chunk: list[_Group]) -> None:
        with torch.no_grad():  # grad mode is per thread: a pool thread does not inherit the caller's
            _fill_groups(chunk)

    def _fill_groups(chunk: list[_Group]) -> None:
        for k, pieces in chunk:
            size = min(BLOCK, numel - k * BLOCK)
            scaled = fused if size >= FUSED_MIN else None
            if len(pieces) == 1 and pieces[0][2] - pieces[0][1] == size:
                start = pieces[0][0]
                _draw(flat[start : start + size], k, base, seed, name, scaled)  # the whole block lands here
            else:
                empty = torch.empty(size, dtype=out.dtype, device=out.device)
                block = _draw(empty, k, base, seed, name, scaled)
                for start, lo, hi in pieces:
                    flat[start : start + hi - lo].copy_(block[lo - k * BLOCK : hi - k * BLOCK])
            if transform is not None and scaled is None:
                for start, lo, hi in pieces:
                    for at in range(start, start + hi - lo, SERIAL_OP):
                        transform(flat[at : min(at + SERIAL_OP, start + hi - lo)], shape)

    workers = _workers(len(groups), out.device)
    if workers == 1:
        fill(groups)
        return
    if transform is not None:  # set up the transform's kernels here, not in two pool threads at once
        with torch.no_grad():
            transform(torch.zeros(1, dtype=out.dtype, device=out.device), shape)
    step = -(-len(groups) // workers)
    chunks = [groups[i : i + step] for i in range(0, len(groups), step)]
    futures = [_pool(len(chunks)).submit(fill, chunk) for chunk in chunks]
    try:
        for future in futures:
            future.result()  # re-raises a worker's exception here
    finally:  # even on KeyboardInterrupt: no thread may still write while the transaction restores
        wait(futures)


_Group = tuple[int, list[tuple[int, int, int]]]


def _by_block(runs: Iterator[tuple[int, int, int, int]]) -> list[_Group]:
    """The pieces of each block, in order: ``(block, [(local start, global start, global stop), ...])``."""
    groups: list[_Group] = []
    for local_start, k, lo, hi in runs:
        if not groups or groups[-1][0] != k:
            groups.append((k, []))
        groups[-1][1].append((local_start, lo, hi))
    return groups


SERIAL_OP: Final = 1 << 15
"""Elements per transform call: torch's ``GRAIN_SIZE``. torch may still split such a call over two of its own
threads; that measured faster here than smaller pieces (8192² TruncNormal: 0.29 s against 0.36 s at 32,767
and 0.42 s at 16,384), and gives one thread's bits, since each map is elementwise and ``erfinv`` is set up
before the first call (``_maths.erfinv_``)."""

MIN_BLOCKS_PER_THREAD: Final = 8
"""Below this many blocks per thread, a pool costs more than it saves."""


THREADS_ENV: Final = "INITSPEC_SEED_THREADS"


def seed_threads() -> int:
    """Threads for one seeded fill: ``torch.get_num_threads()``, capped by ``$INITSPEC_SEED_THREADS``."""
    threads = torch.get_num_threads()
    text = os.environ.get(THREADS_ENV, "").strip()
    if text:
        if text.isdigit() and int(text) > 0:
            return max(1, min(threads, int(text)))
        _warn_bad_limit(text)
    return max(threads, 1)


@functools.cache
def _warn_bad_limit(text: str) -> None:
    # a warning, not an error: this is read while the plan writes, after its last chance to fail cleanly
    msg = f"{THREADS_ENV} must be a positive integer such as 1 or 4, got {text!r}; using torch.get_num_threads()"
    warnings.warn(msg, InitWarning, stacklevel=2)


def _workers(blocks: int, device: torch.device) -> int:
    if device.type != "cpu":
        return 1  # an accelerator's kernels are asynchronous already: threads only add launch contention
    return max(1, min(seed_threads(), blocks // MIN_BLOCKS_PER_THREAD))


@functools.cache
def _pool(workers: int) -> ThreadPoolExecutor:
    """One long-lived pool per size: torch's draws release the GIL, so blocks fill on every core."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="initspec-seed")


if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads: start new pools there
    os.register_at_fork(after_in_child=_pool.cache_clear)


def _draw(
    values: torch.Tensor, k: int, base: Base, seed: int, name: str, scaled: tuple[float, float] | None = None
) -> torch.Tensor:
    """Fill ``values`` (one whole block) with block ``k``'s base draws, or their :class:`Scale` (zero, std)."""
    generator = torch.Generator(device=values.device)
    generator.manual_seed(stable_seed(seed, name, k))
    if scaled is not None:
        return values.normal_(scaled[0], scaled[1], generator=generator)
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
