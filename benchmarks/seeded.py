"""Seeded draws on a thread pool (issue #16, item 5): ``initialize(..., seed=0)`` against torch's own fills.

    python benchmarks/seeded.py            # Linear(8192, 8192) and a 1e9-element weight, 5 repeats
    python benchmarks/seeded.py --quick    # Linear(8192, 8192) only, 3 repeats
    python benchmarks/seeded.py --smoke    # tiny sizes, one repeat: checks that it runs

Each size fills one bias-free ``nn.Linear`` weight with ``Normal(std=0.02)`` and ``TruncNormal(std=0.02)``
(mmengine's cutoffs, ±2), four ways, interleaved round-robin (``_timing.round_robin``):

- ``initspec``: ``initialize(layer, cfg, seed=0)`` with ``torch.get_num_threads()`` (``--threads``) threads;
- ``initspec 1 thread``: the same with ``INITSPEC_SEED_THREADS=1``, today's serial block loop;
- ``torch``: ``nn.init.normal_`` or ``nn.init.trunc_normal_`` on the same weight, one call on the global RNG.

The speed-up is torch's median over initspec's. Both seeded runs are checked to give identical bits.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import torch
from _report import command_line, machine
from _timing import Contender, round_robin
from torch import nn

from initspec import initialize

MODES = {
    "full": {"repeats": 5, "shapes": [(8192, 8192), (31250, 32000)]},
    "quick": {"repeats": 3, "shapes": [(8192, 8192)]},
    "smoke": {"repeats": 1, "shapes": [(256, 4096)]},
}
TORCH: dict[str, Callable[[torch.Tensor], object]] = {
    "Normal": lambda w: nn.init.normal_(w, std=0.02),
    "TruncNormal": lambda w: nn.init.trunc_normal_(w, std=0.02, a=-2.0, b=2.0),
}


def serial(fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        os.environ["INITSPEC_SEED_THREADS"] = "1"
        try:
            return fn()
        finally:
            del os.environ["INITSPEC_SEED_THREADS"]

    return run


def case(shape: tuple[int, int], kind: str, repeats: int) -> dict[str, Any]:
    with torch.device("meta"):
        layer = nn.Linear(shape[1], shape[0], bias=False)
    layer.to_empty(device="cpu")
    cfg = dict(type=kind, std=0.02, layer="Linear")

    def seeded() -> object:
        return initialize(layer, cfg, seed=0)

    def check() -> None:
        serial(seeded)()
        one = layer.weight.detach().clone()
        seeded()
        if not torch.equal(one, layer.weight):
            sys.exit(f"{kind} {shape}: the pool's values differ from one thread's")

    check()
    contenders = [
        Contender("initspec", seeded),
        Contender("initspec 1 thread", serial(seeded)),
        Contender("torch", lambda: TORCH[kind](layer.weight.detach())),
    ]
    samples = round_robin(contenders, repeats)
    medians = {k: sorted(v)[len(v) // 2] for k, v in samples.items()}
    return {"shape": shape, "kind": kind, "samples": samples, "medians": medians}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick")
    mode.add_argument("--smoke", dest="mode", action="store_const", const="smoke")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    settings = MODES[args.mode or "full"]
    print(f"machine: {machine()}\ncommand: {command_line()}\n")
    print("| weight | initializer | initspec seed=0 | initspec 1 thread | torch | torch / initspec |")
    print("|---|---|---|---|---|---|")
    for shape in settings["shapes"]:
        for kind in TORCH:
            m = case(shape, kind, settings["repeats"])["medians"]
            print(
                f"| {shape[0]}×{shape[1]} | {kind} | {m['initspec']:.3f} s | {m['initspec 1 thread']:.3f} s"
                f" | {m['torch']:.3f} s | {m['torch'] / m['initspec']:.2f}× |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
