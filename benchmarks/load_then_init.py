"""Load, then initialize only what the checkpoint lacks (issue #16, item 2), on a ViT-B-shaped model.

    python benchmarks/load_then_init.py            # ViT-B/16 shape (86M parameters), 5 repeats
    python benchmarks/load_then_init.py --quick    # the same model, 3 repeats
    python benchmarks/load_then_init.py --smoke    # a 2-block, 64-wide ViT, one repeat: checks that it runs

The checkpoint (written once to a temporary directory) holds every tensor but the head. Each contender
reads it from disk on every sample, interleaved round-robin (``_timing.round_robin``):

- ``initspec``: ``initialize(model, cfg)``: TruncNormal on Linear, Constant on LayerNorm, Kaiming on the
  patch Conv2d, TruncNormal overrides on ``cls_token``/``pos_embed``, then ``Pretrained``; with the default
  ``skip_overwritten=True`` only the head is drawn;
- ``initspec exact``: the same with ``skip_overwritten=False`` (mmengine's stream: everything drawn first);
- ``mmengine``: ``mmengine.model.initialize(model, cfg)`` with the same config minus the parameter overrides
  (mmengine cannot target an ``nn.Parameter``);
- ``load alone``: ``torch.load`` then ``model.load_state_dict(..., strict=False)``, the floor.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from _models import load_mmengine
from _report import command_line, machine
from _timing import Contender, round_robin
from torch import nn

from initspec import initialize

MODES = {
    "full": {"repeats": 5, "depth": 12, "dim": 768},
    "quick": {"repeats": 3, "depth": 12, "dim": 768},
    "smoke": {"repeats": 1, "depth": 2, "dim": 64},
}


class Block(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)


class ViT(nn.Module):
    """ViT-B/16's parameter shapes (224 px, 1000 classes); no forward, only what initialization sees."""

    def __init__(self, depth: int, dim: int) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, 16, 16)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 197, dim))
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 1000)


def config(checkpoint: str, *, parameters: bool = True) -> list[dict[str, Any]]:
    linear: dict[str, Any] = dict(type="TruncNormal", std=0.02, layer="Linear")
    if parameters:
        linear["override"] = [dict(name="cls_token"), dict(name="pos_embed")]
    return [
        linear,
        dict(type="Constant", val=1, bias=0, layer="LayerNorm"),
        dict(type="Kaiming", layer="Conv2d", mode="fan_in"),
        dict(type="Pretrained", checkpoint=checkpoint),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick")
    mode.add_argument("--smoke", dest="mode", action="store_const", const="smoke")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    settings = MODES[args.mode or "full"]
    flavour, why = load_mmengine()
    model = ViT(settings["depth"], settings["dim"])
    params = sum(p.numel() for p in model.parameters())
    print(f"machine: {machine()}\ncommand: {command_line()}\nmodel: ViT, {params / 1e6:.1f}M parameters\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "vit_no_head.pth")
        torch.save({k: v for k, v in model.state_dict().items() if not k.startswith("head.")}, path)
        print(f"checkpoint: {Path(path).stat().st_size / 2**20:.0f} MiB, every tensor but the head\n")
        contenders = [
            Contender("initspec", lambda: _quiet(initialize, model, config(path))),
            Contender(
                "initspec exact",
                lambda: _quiet(initialize, model, config(path), skip_overwritten=False),
            ),
            Contender("load alone", lambda: model.load_state_dict(torch.load(path), strict=False)),
        ]
        if flavour is not None:
            from mmengine.logging import MMLogger

            MMLogger.get_current_instance().setLevel(logging.ERROR)  # its missing-head warning, every sample
            cfg = config(path, parameters=False)
            contenders.insert(
                2, Contender("mmengine", lambda: _quiet(flavour.initialize, model, copy.deepcopy(cfg)))
            )
        samples = round_robin(contenders, settings["repeats"])
    medians = {k: sorted(v)[len(v) // 2] for k, v in samples.items()}
    floor = medians["load alone"]
    print("| contender | median | min–max | × load alone |\n|---|---|---|---|")
    for key, values in samples.items():
        print(
            f"| {key} | {medians[key]:.3f} s | {min(values):.3f}–{max(values):.3f} | {medians[key] / floor:.2f} |"
        )
    if flavour is None:
        print(f"\nmmengine skipped: {why}")
    else:
        print(f"\ninitspec is {medians['mmengine'] / medians['initspec']:.2f}× faster than mmengine")
    return 0


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> object:
    """Run without the (expected) missing-head mismatch warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


if __name__ == "__main__":
    sys.exit(main())
