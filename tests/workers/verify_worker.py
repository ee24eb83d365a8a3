"""Worker for tests/test_verify.py: verify sharded (DTensor) tensors on a CPU/gloo world.

Run as ``python verify_worker.py WORLD_SIZE PORT OUT_PREFIX``; each rank saves ``OUT_PREFIX.<rank>.pt``.
"""

from __future__ import annotations

import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from initspec import initialize

SEED = 11
CFG = dict(type="Normal", std=0.05, bias=0.25, layer="Linear")


def _sharded_layer(mesh: object) -> nn.Module:
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor

    layer = nn.Linear(301, 257)
    layer.weight = nn.Parameter(distribute_tensor(layer.weight.detach(), mesh, [Shard(0)]))
    layer.bias = nn.Parameter(distribute_tensor(layer.bias.detach(), mesh, [Replicate()]))
    return layer


def _structure_and_checkpoint(mesh: object, out: str, rank: int) -> dict[str, object]:
    """An Eye weight (checked on the gathered tensor) and a Pretrained one (each shard against its slice),
    clean, then with one rank's shard of the loaded weight changed."""
    from torch.distributed.tensor import Shard, distribute_tensor

    eye = nn.Linear(6, 8)
    eye.weight = nn.Parameter(distribute_tensor(eye.weight.detach(), mesh, [Shard(0)]))
    eye_check = initialize(eye, dict(type="Eye", layer="Linear"), seed=SEED).verify(eye)
    torch.manual_seed(0)
    source = nn.Linear(10, 6)
    path = f"{out}.ckpt.{rank}.pt"  # the same tensors on every rank, each rank its own file
    torch.save(source.state_dict(), path)
    loaded = nn.Linear(10, 6)
    loaded.weight = nn.Parameter(distribute_tensor(loaded.weight.detach(), mesh, [Shard(1)]))
    report = initialize(loaded, dict(type="Pretrained", checkpoint=path))
    clean = report.verify(loaded)
    with torch.no_grad():
        if rank == 0:
            loaded.weight.to_local()[0, 0] += 1
    faulty = report.verify(loaded)
    return {
        "eye": eye_check["weight"].verdict,
        "pretrained": clean["weight"].verdict,
        "pretrained_faulty": faulty["weight"].verdict,
    }


def _summary(check: object) -> dict[str, object]:
    return {
        name: (c.verdict, c.stats.numel, c.stats.mean, c.stats.std, c.stats.min, c.stats.max)
        for name, c in check.items()  # type: ignore[attr-defined]
    }


def run(rank: int, world_size: int, port: int, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    from torch.distributed.device_mesh import init_device_mesh

    mesh = init_device_mesh("cpu", (world_size,))
    layer = _sharded_layer(mesh)
    report = initialize(layer, CFG, seed=SEED)
    clean = _summary(report.verify(layer))
    with torch.no_grad():
        if rank == world_size - 1:
            layer.weight.to_local().mul_(1.5)  # a fault on one rank's shard only
    faulty = _summary(report.verify(layer))
    exact = _structure_and_checkpoint(mesh, out, rank)
    torch.save({"clean": clean, "faulty": faulty, "exact": exact}, f"{out}.{rank}.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    size, port_arg, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    mp.spawn(run, args=(size, port_arg, prefix), nprocs=size)
