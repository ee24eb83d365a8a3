"""Seeded fills drawn on a thread pool: the same bits as one thread, on whole tensors and on shards."""

from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Any

import pytest
import torch
from torch import nn

from initspec import InitWarning, initialize, parse_init_cfg
from initspec import _maths as M
from initspec._walker import seeded
from initspec._walker.seeded import BLOCK, THREADS_ENV, _fill_base, fill_seeded, seed_threads
from initspec._walker.writers import writer_of

CFGS = [
    dict(type="Normal", std=0.02, layer="Linear"),
    dict(type="TruncNormal", std=0.02, a=-0.03, b=0.05, layer="Linear"),
    dict(type="Uniform", a=-0.1, b=0.2, layer="Linear"),
    dict(type="Kaiming", layer="Linear"),
]


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Force the pool on small tensors: 3 threads, one block per thread is enough."""
    monkeypatch.setattr(seeded, "seed_threads", lambda: 3)
    monkeypatch.setattr(seeded, "MIN_BLOCKS_PER_THREAD", 1)


def _serial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seeded, "seed_threads", lambda: 1)


@pytest.mark.parametrize("cfg", CFGS, ids=[c["type"] for c in CFGS])
def test_parallel_fill_equals_serial_fill(cfg: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stream initializer gives bit-identical values with 1 thread and with a pool of 3."""
    layers = []
    for threads in (1, 3):
        monkeypatch.setattr(seeded, "seed_threads", lambda n=threads: n)
        monkeypatch.setattr(seeded, "MIN_BLOCKS_PER_THREAD", 1)
        layer = nn.Linear(BLOCK // 100 + 7, 701)  # 11 blocks, the last one partial
        initialize(layer, cfg, seed=5)
        layers.append(layer.weight.detach().clone())
    assert torch.equal(layers[0], layers[1])


@pytest.mark.parametrize(
    ("local", "shape", "offset"),
    [
        ((300, 500), (600, 500), (300, 0)),
        ((600, 250), (600, 500), (0, 250)),
        ((7, 70000), (9, 70000), (1, 0)),
    ],
    ids=["rows", "columns", "rows-across-blocks"],
)
def test_parallel_shard_fill_equals_serial_and_the_global_slice(
    local: tuple[int, ...], shape: tuple[int, ...], offset: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shard drawn on the pool equals the shard drawn on one thread, and that slice of the whole tensor."""
    full = torch.empty(shape)
    _serial(monkeypatch)
    _fill_base(full, shape, (0,) * len(shape), "normal", 3, "w")
    shards = []
    for threads in (1, 4):
        monkeypatch.setattr(seeded, "seed_threads", lambda n=threads: n)
        monkeypatch.setattr(seeded, "MIN_BLOCKS_PER_THREAD", 1)
        out = torch.empty(local)
        _fill_base(out, shape, offset, "normal", 3, "w")
        shards.append(out)
    expected = full[tuple(slice(o, o + n) for o, n in zip(offset, local, strict=True))]
    assert torch.equal(shards[0], shards[1])
    assert torch.equal(shards[1], expected)


def test_pool_fill_keeps_autograd_out_of_parameters(parallel: None) -> None:
    """Pool threads do not inherit no_grad, so they set it themselves: a parameter fill records no graph."""
    layer = nn.Linear(BLOCK // 100 + 7, 701)
    initialize(layer, CFGS[0], seed=0)
    assert layer.weight.grad_fn is None
    assert layer.weight.requires_grad


def test_threads_follow_torch_and_the_environment_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """seed_threads is torch.get_num_threads(), lowered (never raised) by $INITSPEC_SEED_THREADS."""
    monkeypatch.setattr(torch, "get_num_threads", lambda: 6)
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert seed_threads() == 6
    monkeypatch.setenv(THREADS_ENV, "2")
    assert seed_threads() == 2
    monkeypatch.setenv(THREADS_ENV, "64")
    assert seed_threads() == 6


def test_a_bad_thread_limit_warns_and_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """A limit that is not a positive integer is named in an InitWarning, and torch's count is used."""
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    monkeypatch.setenv(THREADS_ENV, "two")
    with pytest.warns(InitWarning, match="INITSPEC_SEED_THREADS must be a positive integer.*'two'"):
        assert seed_threads() == 2


def test_small_tensors_and_accelerators_stay_on_the_calling_thread() -> None:
    """Below MIN_BLOCKS_PER_THREAD blocks per thread, or off the CPU, no pool is used."""
    assert seeded._workers(seeded.MIN_BLOCKS_PER_THREAD - 1, torch.device("cpu")) == 1
    assert seeded._workers(10_000, torch.device("meta")) == 1


ALL_STREAMS = [
    *CFGS,
    dict(type="Xavier", distribution="uniform", layer="Linear"),
    dict(type="VarianceScaling", distribution="truncated_normal", layer="Linear"),
    dict(type="LecunNormal", layer="Linear"),
]


@pytest.mark.parametrize("cfg", ALL_STREAMS, ids=[f"{c['type']}-{i}" for i, c in enumerate(ALL_STREAMS)])
@pytest.mark.parametrize("threads", [1, 3])
def test_blockwise_transform_equals_the_whole_tensor_transform(
    cfg: dict[str, object], threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mapping each block as it is drawn gives the bits of drawing everything, then mapping the whole tensor."""
    init = parse_init_cfg(cfg)[0]
    base, transform = writer_of(init).stream(init)  # type: ignore[misc]
    shape = (9, BLOCK // 4 + 5)
    reference = torch.empty(shape)
    _serial(monkeypatch)
    _fill_base(reference, shape, (0, 0), base, 11, "w")
    transform(reference, shape)
    monkeypatch.setattr(seeded, "seed_threads", lambda: threads)
    monkeypatch.setattr(seeded, "MIN_BLOCKS_PER_THREAD", 1)
    layer = nn.Linear(shape[1], shape[0], bias=False)
    fill_seeded(layer.weight.data, base, transform, 11, "w")
    assert torch.equal(layer.weight.data, reference)


def _fill_in_child(queue: Any) -> None:
    layer = nn.Linear(BLOCK // 100 + 7, 701)
    initialize(layer, CFGS[0], seed=5)
    queue.put(layer.weight.detach().numpy().tobytes())  # bytes: a tensor would outlive the child's fds


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_pool(parallel: None) -> None:
    """After fork the parent's pool threads do not exist in the child: the child starts a pool and finishes."""
    layer = nn.Linear(BLOCK // 100 + 7, 701)
    initialize(layer, CFGS[0], seed=5)  # the parent's pool now exists
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_fill_in_child, args=(queue,))
    child.start()
    try:
        got = queue.get(timeout=60)
        child.join(timeout=60)
    finally:
        if child.is_alive():  # hung on the parent's dead pool: do not leave it behind
            child.kill()
    assert child.exitcode == 0
    assert got == layer.weight.detach().numpy().tobytes()


# -- a scale of normal draws, drawn in one pass -------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("zero", [0.0, -0.0], ids=["plus-zero", "minus-zero"])
def test_a_fused_scale_draw_has_the_bits_of_a_draw_then_a_scale(dtype: torch.dtype, zero: float) -> None:
    """``normal_(zero, std)`` equals ``normal_()`` then :class:`seeded.Scale`, bit for bit, signed zeros too.

    Sizes from torch's smallest vectorised fill (16) to a whole block, and scales from 0 to overflow.
    """
    for size in (seeded.FUSED_MIN, 17, 31, 1000, BLOCK):
        for std in (0.0, 1e-30, 0.02, 1.0, 3.7, 1e30):
            fused = torch.empty(size, dtype=dtype).normal_(
                zero, std, generator=torch.Generator().manual_seed(size)
            )
            two_step = torch.empty(size, dtype=dtype).normal_(generator=torch.Generator().manual_seed(size))
            seeded.Scale(lambda shape, std=std: std, zero)(two_step, (size,))
            bits = torch.int32 if dtype == torch.float32 else torch.int64
            assert torch.equal(fused.view(bits), two_step.view(bits)), (size, std)


FUSED_CFGS = [
    dict(type="Normal", std=0.02, layer="Linear"),
    dict(type="Normal", mean=-0.0, std=0.5, layer="Linear"),
    dict(type="Kaiming", distribution="normal", layer="Linear"),
    dict(type="Xavier", distribution="normal", layer="Linear"),
]


@pytest.mark.parametrize("cfg", FUSED_CFGS, ids=["normal", "normal-minus-zero", "kaiming", "xavier"])
@pytest.mark.parametrize("shape", [(300, 700), (1, BLOCK + 5)], ids=["blocks", "tail-under-16"])
def test_seeded_scales_give_the_same_bits_fused_or_not(
    cfg: dict[str, object], shape: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With fusion turned off (every block drawn, then scaled), a seeded fill keeps every bit."""
    layer = nn.Linear(shape[1], shape[0], bias=False)
    initialize(layer, cfg, seed=11)
    fused = layer.weight.detach().clone()
    monkeypatch.setattr(seeded, "FUSED_MIN", BLOCK + 1)
    initialize(layer, cfg, seed=11)
    assert torch.equal(fused.view(torch.int32), layer.weight.detach().view(torch.int32))


# -- torch's float32 erfinv: the same bits on every thread and in every process ------------------------------


def _record_erfinv(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Record ``(numel, thread name)`` of every ``Tensor.erfinv_`` call, with initspec's set-up forgotten."""
    calls: list[tuple[int, str]] = []
    original = torch.Tensor.erfinv_

    def erfinv_(self: torch.Tensor) -> torch.Tensor:
        calls.append((self.numel(), threading.current_thread().name))
        return original(self)

    monkeypatch.setattr(torch.Tensor, "erfinv_", erfinv_)
    monkeypatch.setattr(M, "_ERFINV_READY", set())
    return calls


@pytest.mark.parametrize("seed", [None, 3], ids=["unseeded", "seeded"])
def test_erfinv_is_set_up_on_the_calling_thread_first(
    seed: int | None, parallel: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TruncNormal's first ``erfinv_`` is one element on this thread, before any call torch or the pool splits."""
    calls = _record_erfinv(monkeypatch)
    layer = nn.Linear(4096, 64, bias=False)
    initialize(layer, dict(type="TruncNormal", std=0.02, layer="Linear"), seed=seed)
    main = threading.current_thread().name
    assert calls[0] == (1, main)
    if seed is not None:  # the pool ran: the set-up above came before the pool threads' first calls
        assert {name for _, name in calls[1:]} - {main}
