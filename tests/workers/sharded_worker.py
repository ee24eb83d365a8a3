"""Worker for tests/test_sharded.py: initialize sharded models on a CPU/gloo world and save full tensors.

Run as ``python sharded_worker.py WORLD_SIZE PORT OUT_FILE CHECKPOINT``; rank 0 saves a dict of results.
"""

from __future__ import annotations

import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from sharded_models import INIT_CFG, SEED, build_model

from initspec import InitPlanError, initialize


def _full(model: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.full_tensor().detach().clone() for n, p in model.named_parameters()}


def _fsdp_model(mesh: object, checkpoint: str | None) -> nn.Module:
    from torch.distributed.fsdp import fully_shard

    with torch.device("meta"):
        model = build_model()
    for layer in model.children():
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    model.to_empty(device="cpu")
    cfg = dict(type="Pretrained", checkpoint=checkpoint) if checkpoint else INIT_CFG
    initialize(model, cfg, seed=SEED)
    return model


def _placed_params(mesh: object) -> dict[str, torch.Tensor]:
    """A 2-D weight sharded on dim 0 and on dim 1 (uneven sizes), each initialized with the same seed."""
    from torch.distributed.tensor import Shard, distribute_tensor

    out = {}
    for dim in (0, 1):
        layer = nn.Linear(1003, 517)
        layer.weight = nn.Parameter(distribute_tensor(layer.weight.detach(), mesh, [Shard(dim)]))
        layer.bias = nn.Parameter(distribute_tensor(layer.bias.detach(), mesh, [Shard(0)]))
        initialize(
            layer, dict(type="TruncNormal", std=0.02, a=-0.03, b=0.05, layer="Linear", bias=0.5), seed=SEED
        )
        out[f"shard{dim}.weight"] = layer.weight.full_tensor().clone()
        out[f"shard{dim}.bias"] = layer.bias.full_tensor().clone()
    return out


def _unseeded_refused(mesh: object) -> bool:
    from torch.distributed.tensor import Shard, distribute_tensor

    layer = nn.Linear(8, 8)
    layer.weight = nn.Parameter(distribute_tensor(torch.zeros(8, 8), mesh, [Shard(0)]))
    try:
        initialize(layer, dict(type="Normal", layer="Linear"))
    except InitPlanError:
        return bool(layer.weight.to_local().eq(0).all())
    return False


def run(rank: int, world_size: int, port: int, out: str, checkpoint: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    from torch.distributed.device_mesh import init_device_mesh

    mesh = init_device_mesh("cpu", (world_size,))
    results = {
        "fsdp": _full(_fsdp_model(mesh, None)),
        "pretrained": _full(_fsdp_model(mesh, checkpoint)),
        "placed": _placed_params(mesh),
        "unseeded_refused": _unseeded_refused(mesh),
    }
    if rank == 0:
        torch.save(results, out)
    dist.destroy_process_group()


if __name__ == "__main__":
    size, port_arg, out_file, ckpt = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    mp.spawn(run, args=(size, port_arg, out_file, ckpt), nprocs=size)
