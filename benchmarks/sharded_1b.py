"""Time and peak memory of initializing one 1e9-element fp32 weight: seeded FSDP2 shards against one process.

    python benchmarks/sharded_1b.py                 # world size 2, a (31250, 32000) weight: 4 GB in fp32
    python benchmarks/sharded_1b.py --rows 3125     # a 1e8-element smoke run

Every case runs in a fresh process, so the peak resident set (VmHWM from /proc/self/status) of a process is
its own. Every case fills the weight of one bias-free ``nn.Linear`` with ``cfg`` =
``TruncNormal(std=--std, a=--a, b=--b)`` (mmengine's absolute cutoffs, ±2 by default), or torch's equivalent:

- ``sharded``: ``--world-size`` ranks on a CPU/gloo world, each: meta build, ``fully_shard``, ``to_empty``,
  ``initialize(model, cfg, seed=0)``.
- ``seeded``: one process: meta build, ``to_empty``, ``initialize(model, cfg, seed=0)`` on the full weight.
- ``unseeded``: the same without a seed (mmengine's sampler on torch's global RNG).
- ``torch-normal`` and ``torch-trunc``: ``torch.empty`` then ``nn.init.normal_`` or ``nn.init.trunc_normal_``
  on the full weight, the floor that plain torch sets.

``setup`` is the build (meta, sharding, ``to_empty``; or ``torch.empty``), ``init`` the fill, which also
pays for first touching the pages; ``init cpu`` is the fill's CPU time over all the process's threads,
which other load on the machine disturbs less than wall time. The script then hashes every rank's shard and
the same slice of the ``seeded`` weight and exits with status 1 if any differ. Single-process cases use
``--threads`` threads and each rank ``--threads // --world-size``, so both use the same cores. A case whose
estimated peak exceeds 80% of MemAvailable is skipped, with the reason printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

CASES = ("sharded", "seeded", "unseeded", "torch-normal", "torch-trunc")
RESULT = "RESULT "
MiB = 1 << 20


def vm(field: str) -> float:
    """A ``Vm*`` field of /proc/self/status, in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    msg = f"/proc/self/status has no {field} line; this benchmark reads Linux's /proc"
    raise RuntimeError(msg)


def digest(tensor: torch.Tensor) -> str:
    """A hash of the tensor's bytes (read in place when it is contiguous)."""
    array = tensor.detach().contiguous().numpy()
    return hashlib.blake2b(array.data.cast("B"), digest_size=16).hexdigest()


def config(args: argparse.Namespace) -> dict[str, Any]:
    return dict(type="TruncNormal", std=args.std, a=args.a, b=args.b, layer="Linear")


def meta_linear(args: argparse.Namespace) -> nn.Linear:
    with torch.device("meta"):
        return nn.Linear(args.cols, args.rows, bias=False)


# -- the cases, each run in its own process ----------------------------------------------------------------
def measure(setup: Callable[[], torch.Tensor], fill: Callable[[torch.Tensor], object]) -> dict[str, Any]:
    """Time ``setup`` (returns the weight) and ``fill`` (wall and CPU seconds), then read the peak RSS."""
    base, start = vm("VmRSS"), time.perf_counter()
    weight = setup()
    built, start, cpu = time.perf_counter() - start, time.perf_counter(), time.process_time()
    with torch.no_grad():
        fill(weight)
    init, cpu = time.perf_counter() - start, time.process_time() - cpu
    return dict(base=base, setup=built, init=init, cpu=cpu, hwm=vm("VmHWM"), weight=weight)


def run_sharded(args: argparse.Namespace) -> dict[str, Any]:
    """One rank: meta build, ``fully_shard``, ``to_empty``, seeded ``initialize``."""
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import Shard

    from initspec import initialize

    dist.init_process_group("gloo")
    try:
        mesh = init_device_mesh("cpu", (dist.get_world_size(),))
        model = meta_linear(args)

        def setup() -> torch.Tensor:
            fully_shard(model, mesh=mesh, shard_placement_fn=lambda _: Shard(args.shard_dim))
            model.to_empty(device="cpu")
            return model.weight

        result = measure(setup, lambda _: initialize(model, config(args), seed=0))
        local = result.pop("weight").to_local()
        return dict(result, rank=dist.get_rank(), shape=list(local.shape), digests=[digest(local)])
    finally:
        dist.destroy_process_group()


def run_single(args: argparse.Namespace) -> dict[str, Any]:
    """One process: meta build, ``to_empty``, ``initialize`` on the full weight, with or without a seed."""
    from initspec import initialize

    model = meta_linear(args)
    seed = 0 if args.case == "seeded" else None

    def setup() -> torch.Tensor:
        return model.to_empty(device="cpu").weight

    result = measure(setup, lambda _: initialize(model, config(args), seed=seed))
    pieces = result.pop("weight").detach().chunk(args.world_size, dim=args.shard_dim)  # FSDP2's split
    digests = [digest(piece) for piece in pieces] if seed is not None else []
    return dict(result, shape=[args.rows, args.cols], digests=digests)


def run_torch(args: argparse.Namespace) -> dict[str, Any]:
    """One process: ``torch.empty`` then plain ``nn.init.normal_`` or ``nn.init.trunc_normal_``."""

    def fill(weight: torch.Tensor) -> object:
        if args.case == "torch-normal":
            return nn.init.normal_(weight, std=args.std)
        return nn.init.trunc_normal_(weight, std=args.std, a=args.a, b=args.b)

    result = measure(lambda: torch.empty(args.rows, args.cols), fill)
    del result["weight"]
    return dict(result, shape=[args.rows, args.cols], digests=[])


def run_case(args: argparse.Namespace) -> None:
    """Run ``args.case`` in this process and print its result as one JSON line."""
    torch.set_num_threads(args.threads)
    runner = {"sharded": run_sharded, "seeded": run_single, "unseeded": run_single}.get(args.case, run_torch)
    result = runner(args)
    result.update(case=args.case, threads=args.threads)
    print(RESULT + json.dumps(result), flush=True)


# -- the driver ---------------------------------------------------------------------------------------------
def estimated_peak(case: str, args: argparse.Namespace) -> float:
    """A rough peak in MiB, summed over the case's processes, to skip what would not fit."""
    size, per_process = float(args.rows * args.cols * 4 / MiB), 400.0
    if case == "sharded":
        return size + float(args.world_size) * per_process
    if case == "torch-trunc":  # torch 2.13 redraws rejected values with full-size temporaries
        z: tuple[float, float] = (args.a / args.std, args.b / args.std)
        rejected: float = 1 - (math.erf(z[1] / math.sqrt(2)) - math.erf(z[0] / math.sqrt(2))) / 2
        factor = 4.5 if rejected * args.rows * args.cols >= 1 else 2.0
        return size * factor + per_process
    return size + per_process


def mem_available() -> float:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return math.inf


def launch(case: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run one case in fresh processes (one per rank for ``sharded``) and collect their results."""
    ranks = args.world_size if case == "sharded" else 1
    threads = max(1, args.threads // ranks)
    flags = ["--rows", str(args.rows), "--cols", str(args.cols), "--std", str(args.std), "--a", str(args.a)]
    flags += ["--b", str(args.b), "--world-size", str(args.world_size), "--shard-dim", str(args.shard_dim)]
    cmd = [sys.executable, __file__, "--case", case, "--threads", str(threads), *flags]
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()), WORLD_SIZE=str(ranks))
    procs = [
        subprocess.Popen(
            cmd, env=dict(env, RANK=str(r), LOCAL_RANK=str(r)), stdout=subprocess.PIPE, text=True
        )
        for r in range(ranks)
    ]
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            msg = f"case {case} failed with status {proc.returncode}; its output:\n{out}"
            raise RuntimeError(msg)
        results += [json.loads(line[len(RESULT) :]) for line in out.splitlines() if line.startswith(RESULT)]
    return results


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'case':<22} {'threads':>7} {'setup s':>8} {'init s':>8} {'init cpu s':>10} {'VmHWM MiB':>10} "
        f"{'+ over base':>11}  shape"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        name = r["case"] + (f" rank {r['rank']}" if "rank" in r else "")
        lines.append(
            f"{name:<22} {r['threads']:>7} {r['setup']:>8.2f} {r['init']:>8.2f} {r['cpu']:>10.2f} "
            f"{r['hwm']:>10.0f} {r['hwm'] - r['base']:>11.0f}  {tuple(r['shape'])}"
        )
    return "\n".join(lines)


def drive(args: argparse.Namespace) -> int:
    numel = args.rows * args.cols
    print(
        f"weight ({args.rows}, {args.cols}) fp32 = {numel:,} elements, {numel * 4 / MiB:,.0f} MiB; "
        f"world size {args.world_size}, Shard({args.shard_dim}); config {config(args)}",
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    for case in args.cases:
        need, have = estimated_peak(case, args), mem_available()
        if need > 0.8 * have:
            print(f"skipped {case}: needs about {need:,.0f} MiB, {have:,.0f} MiB available", flush=True)
            continue
        new = sorted(launch(case, args), key=lambda r: r.get("rank", 0))
        print("\n".join(table(new).splitlines()[2:]), flush=True)
        rows += new
    print("\n" + table(rows))
    shards = [d for r in rows if r["case"] == "sharded" for d in r["digests"]]
    full = [d for r in rows if r["case"] == "seeded" for d in r["digests"]]
    if shards and full:
        same = shards == full
        verdict = "match" if same else "DIFFER FROM"
        print(f"\nshards {verdict} the single-process seeded weight (blake2b of each slice)")
        return 0 if same else 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=31_250)
    parser.add_argument("--cols", type=int, default=32_000)
    parser.add_argument("--std", type=float, default=0.02)
    parser.add_argument("--a", type=float, default=-2.0, help="lower cutoff (absolute, as in mmengine)")
    parser.add_argument("--b", type=float, default=2.0, help="upper cutoff (absolute, as in mmengine)")
    parser.add_argument("--world-size", type=int, default=2)
    parser.add_argument("--shard-dim", type=int, default=0, choices=(0, 1))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="cores for one case")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case is not None:
        run_case(args)
        return 0
    return drive(args)


if __name__ == "__main__":
    sys.exit(main())
