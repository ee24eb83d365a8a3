"""Sharded (DTensor / FSDP2) and meta-device initialization: identical values at any world size."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import initspec
from initspec import BaseModule, initialize
from initspec._walker.seeded import BLOCK, _runs

WORKERS = Path(__file__).parent / "workers"
sys.path.insert(0, str(WORKERS))
from sharded_models import INIT_CFG, SEED, build_model  # noqa: E402

from conftest import run_ranks  # noqa: E402

TRUNC_CFG = dict(type="TruncNormal", std=0.02, a=-0.03, b=0.05, layer="Linear", bias=0.5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, nn.Module]:
    """A checkpoint of a freshly built model, and that model."""
    model = build_model()
    path = tmp_path_factory.mktemp("ckpt") / "model.pth"
    torch.save(model.state_dict(), path)
    return path, model


def _reference_placed() -> dict[str, torch.Tensor]:
    out = {}
    for dim in (0, 1):
        layer = nn.Linear(1003, 517)
        initialize(layer, TRUNC_CFG, seed=SEED)
        out[f"shard{dim}.weight"], out[f"shard{dim}.bias"] = layer.weight.detach(), layer.bias.detach()
    return out


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not built in")
@pytest.mark.parametrize("world_size", [2, 4])
def test_sharded_init_equals_single_process(
    world_size: int, checkpoint: tuple[Path, nn.Module], tmp_path: Path
) -> None:
    """Gathered full tensors of seeded FSDP2/Shard(0)/Shard(1) init equal the single-process result, bit for bit."""
    out = tmp_path / "results.pt"
    cmd = [
        sys.executable,
        str(WORKERS / "sharded_worker.py"),
        str(world_size),
        str(_free_port()),
        str(out),
        str(checkpoint[0]),
    ]
    run = run_ranks(cmd, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    results = torch.load(out)
    reference = build_model()
    initialize(reference, INIT_CFG, seed=SEED)
    for name, param in reference.named_parameters():
        assert torch.equal(results["fsdp"][name], param.detach()), name
    for name, param in checkpoint[1].named_parameters():
        assert torch.equal(results["pretrained"][name], param.detach()), name
    for name, value in _reference_placed().items():
        assert torch.equal(results["placed"][name], value), name
    assert results["unseeded_refused"], "an unseeded random write to a DTensor was not refused before writing"


@pytest.mark.parametrize(
    ("local", "shape", "offset"),
    [
        ((3, 5), (7, 5), (4, 0)),
        ((7, 2), (7, 5), (0, 3)),
        ((2, 3, 4), (2, 6, 4), (0, 3, 0)),
        ((4,), (9,), (5,)),
    ],
)
def test_runs_cover_exactly_the_shard(
    local: tuple[int, ...], shape: tuple[int, ...], offset: tuple[int, ...]
) -> None:
    """The contiguous runs of a shard list exactly its elements' global flat indices, in local order."""
    flat = torch.arange(torch.Size(shape).numel()).view(shape)
    expected = flat[tuple(slice(o, o + n) for o, n in zip(offset, local, strict=True))].reshape(-1)
    got = torch.cat([torch.arange(start, stop) for _, start, stop in _runs(local, shape, offset)])
    assert torch.equal(got, expected)


def test_seeded_values_span_blocks_consistently() -> None:
    """A tensor larger than one block is drawn block by block: each block depends only on (seed, name, index)."""
    big, small = nn.Linear(BLOCK // 64 + 3, 64 * 2), nn.Linear(BLOCK // 64 + 3, 64 * 2)
    initialize(big, dict(type="Normal", layer="Linear"), seed=7)
    initialize(small, dict(type="Normal", layer="Linear"), seed=7)
    assert torch.equal(big.weight, small.weight)
    assert big.weight.numel() > BLOCK
    assert not torch.equal(big.weight.view(-1)[:BLOCK], big.weight.view(-1)[BLOCK : 2 * BLOCK])


def test_meta_built_model_matches_eager_model(checkpoint: tuple[Path, nn.Module]) -> None:
    """A model built on meta and materialized with to_empty gets exactly the eager model's seeded values."""
    eager = build_model()
    with torch.device("meta"):
        meta = build_model()
    meta.to_empty(device="cpu")
    initialize(eager, INIT_CFG, seed=SEED)
    initialize(meta, INIT_CFG, seed=SEED)
    for (name, a), b in zip(eager.named_parameters(), meta.parameters(), strict=True):
        assert torch.equal(a, b), name


def test_meta_built_model_loads_pretrained_like_eager(checkpoint: tuple[Path, nn.Module]) -> None:
    """Pretrained loading into a to_empty-materialized meta model gives the checkpoint's exact values."""
    with torch.device("meta"):
        meta = build_model()
    meta.to_empty(device="cpu")
    initialize(meta, dict(type="Pretrained", checkpoint=str(checkpoint[0])))
    for (name, a), b in zip(checkpoint[1].named_parameters(), meta.parameters(), strict=True):
        assert torch.equal(a, b), name


class _Head(BaseModule):
    def __init__(self) -> None:
        super().__init__(
            dict(type="Normal", std=0.02, layer="Linear", override=dict(name="cls", type="Constant", val=1))
        )
        self.fc = nn.Linear(8, 8)
        self.cls = nn.Linear(8, 3)


class _Net(BaseModule):
    def __init__(self) -> None:
        super().__init__(dict(type="Kaiming", layer="Linear"))
        self.stem = nn.Linear(4, 8)
        self.head = _Head()


def test_meta_built_init_weights_matches_eager() -> None:
    """init_weights(seed=s) on a meta-built, materialized BaseModule tree equals the eager tree's result."""
    eager = _Net()
    with torch.device("meta"):
        meta = _Net()
    meta.to_empty(device="cpu")
    eager.init_weights(seed=SEED)
    meta.init_weights(seed=SEED)
    for (name, a), b in zip(eager.named_parameters(), meta.parameters(), strict=True):
        assert torch.equal(a, b), name


def test_meta_model_plans_and_reports_without_writing() -> None:
    """On meta parameters the plan and the report are complete and the writes are no-ops."""
    with torch.device("meta"):
        model = _Net()
    report = model.init_weights(seed=SEED)
    assert report["head.cls.weight"].source == "head.init_cfg[0].override[0] (name='cls')"
    assert report.untouched() == []
    assert all(p.is_meta for p in model.parameters())


def test_user_initializer_on_plain_tensor_uses_seeded_generator() -> None:
    """A registered initializer gets a generator seeded from (seed, name), so equal seeds give equal tensors."""
    from typing import Literal

    class _OrthoInit(initspec.BaseInit):
        type: Literal["OrthoSharded"] = "OrthoSharded"

    def apply(cfg: object, weight: torch.Tensor, generator: torch.Generator | None) -> None:
        torch.nn.init.orthogonal_(weight, generator=generator)

    initspec.register_initializer(_OrthoInit, apply)
    try:
        a, b = nn.Linear(6, 6), nn.Linear(6, 6)
        initialize(a, dict(type="OrthoSharded", layer="Linear"), seed=3)
        initialize(b, dict(type="OrthoSharded", layer="Linear"), seed=3)
        assert torch.equal(a.weight, b.weight)
    finally:
        initspec.configs.INITIALIZERS.remove("OrthoSharded")


def test_init_weights_on_meta_does_not_mark_the_model_initialized() -> None:
    """init_weights on a meta model plans and reports but leaves is_init False, so the call after to_empty works."""
    with torch.device("meta"):
        model = _Net()
    model.init_weights(seed=SEED)
    assert model.is_init is False
    model.to_empty(device="cpu")
    model.init_weights(seed=SEED)
    eager = _Net()
    eager.init_weights(seed=SEED)
    assert model.is_init is True
    assert all(torch.equal(a, b) for a, b in zip(eager.parameters(), model.parameters(), strict=True))
