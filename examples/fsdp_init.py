"""Seeded FSDP2 initialization on a CPU/gloo world: every rank's shard is a slice of one fixed tensor.

Run it under torchrun, or let it spawn its own ranks:

    torchrun --nproc-per-node 2 examples/fsdp_init.py
    python examples/fsdp_init.py --world-size 2

Each rank builds the model on the meta device, shards it with ``fully_shard``, materializes its shards with
``to_empty`` and calls ``init_weights(seed=SEED)``. The script prints every rank's shard shapes, gathers the
full tensors and checks them against a model initialized eagerly in one process; it exits with status 1 if
any tensor differs.
"""

from __future__ import annotations

import argparse
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.device_mesh import DeviceMesh

from initspec import BaseModule, ModuleList

SEED = 0


class Block(BaseModule):
    """A pre-norm MLP block; its own ``init_cfg`` overrides the parent's for its Linear layers."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__(
            init_cfg=[
                dict(type="TruncNormal", std=0.02, a=-0.04, b=0.04, layer="Linear", bias=0),
                dict(type="Constant", val=1, layer="LayerNorm", bias=0),
            ]
        )
        self.norm = nn.LayerNorm(dim)
        self.up = nn.Linear(dim, hidden)
        self.down = nn.Linear(hidden, dim)


class TinyLM(BaseModule):
    """An embedding, two blocks and an output head, with odd sizes so that shards are uneven."""

    def __init__(self, vocab: int = 1001, dim: int = 96, hidden: int = 250, depth: int = 2) -> None:
        super().__init__(
            init_cfg=[
                dict(type="Normal", std=0.02, layer="Embedding"),
                dict(type="Xavier", layer="Linear", distribution="uniform"),
            ]
        )
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = ModuleList(
            Block(dim, hidden) for _ in range(depth)
        )  # calls each block's init_weights; nn.ModuleList would not
        self.head = nn.Linear(dim, vocab)


def sharded_model(mesh: DeviceMesh) -> TinyLM:
    """Build on meta, shard each block and the root with FSDP2, materialize the shards, initialize them."""
    from torch.distributed.fsdp import fully_shard

    with torch.device("meta"):
        model = TinyLM()
    for block in model.blocks:
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)
    model.to_empty(device="cpu")
    report = model.init_weights(seed=SEED)
    if report.untouched(buffers=False):  # after to_empty, a parameter nothing writes holds garbage
        msg = f"no init_cfg writes {', '.join(report.untouched(buffers=False))}"
        raise SystemExit(msg)
    return model


def print_shards(model: nn.Module, rank: int, world_size: int) -> None:
    """Each rank, in rank order, prints the local shape of every parameter next to its global shape."""
    for turn in range(world_size):
        if turn == rank:
            for name, param in model.named_parameters():
                local = tuple(param.to_local().shape)  # type: ignore[attr-defined]
                print(f"rank {rank}: {name:<20} global {tuple(param.shape)!s:<12} shard {local}", flush=True)
        dist.barrier()


def check(model: nn.Module, rank: int, world_size: int) -> None:
    """Gather every parameter and compare it with an eager, single-process ``init_weights(seed=SEED)``."""
    reference = TinyLM()
    reference.init_weights(seed=SEED)
    expected = dict(reference.named_parameters())
    differ = [
        name
        for name, param in model.named_parameters()
        if not torch.equal(param.full_tensor(), expected[name])  # type: ignore[attr-defined]
    ]
    if differ:
        msg = f"rank {rank}: gathered tensors differ from the single-process init: {', '.join(differ)}"
        raise SystemExit(msg)
    if rank == 0:
        print(
            f"match: all {len(expected)} parameters gathered from {world_size} ranks equal the "
            "single-process init bit for bit",
            flush=True,
        )


def main_worker(rank: int, world_size: int) -> None:
    """One rank's work, once its process group is up."""
    from torch.distributed.device_mesh import init_device_mesh

    mesh = init_device_mesh("cpu", (world_size,))
    model = sharded_model(mesh)
    print_shards(model, rank, world_size)
    check(model, rank, world_size)


def spawned(rank: int, world_size: int, port: int) -> None:
    """Entry point of a rank started by ``torch.multiprocessing.spawn``."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    try:
        main_worker(rank, world_size)
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--world-size", type=int, help="spawn this many ranks (not needed under torchrun)")
    args = parser.parse_args()
    if args.world_size is None and "RANK" in os.environ:  # started by torchrun: one process per rank
        dist.init_process_group("gloo")
        try:
            main_worker(dist.get_rank(), dist.get_world_size())
        finally:
            dist.destroy_process_group()
        return
    world_size = args.world_size or 2
    mp.spawn(spawned, args=(world_size, free_port()), nprocs=world_size)


if __name__ == "__main__":
    main()
