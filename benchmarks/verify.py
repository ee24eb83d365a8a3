"""``InitReport.verify`` on ViT-B (86M parameters) against one ``torch.std_mean`` pass over the same tensors.

    python benchmarks/verify.py            # ViT-B/16, 5 repeats
    python benchmarks/verify.py --smoke    # a 2-block, 64-wide ViT, one repeat: checks that it runs

The model is ViT-B/16's shapes in plain torch modules (patch embedding, class token, position embedding, 12
blocks of LayerNorm, qkv and projection, MLP 768-3072-768, final norm, 1000-class head), initialized with
initspec as timm's ViT is: TruncNormal(std=0.02) on every Linear and embedding, bias 0, LayerNorm weight 1 and
bias 0. The floor is one ``torch.std_mean`` call per tensor; ``verify`` is ``report.verify(model)``, which
also reads each tensor's min and max, re-derives each promise and runs its tests. Interleaved round-robin
(``_timing.round_robin``); the target is verify ≤ 1.5× the floor.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch
from _report import command_line, machine
from _timing import Contender, round_robin
from torch import nn

from initspec import initialize

TARGET = 1.5
MODES = {
    "full": {
        "repeats": 5,
        "width": 768,
        "depth": 12,
        "mlp": 3072,
        "patch": 16,
        "image": 224,
        "classes": 1000,
    },
    "smoke": {"repeats": 1, "width": 64, "depth": 2, "mlp": 256, "patch": 16, "image": 64, "classes": 10},
}
CONFIG = [
    dict(type="TruncNormal", std=0.02, a=-2, b=2, bias=0, layer=["Linear", "Embedding", "Conv2d"]),
    dict(type="Constant", val=1, bias=0, layer="LayerNorm"),
]


class Embedding(nn.Module):
    """A learned tensor (class token, position embedding) as a module's ``weight``, so a layer rule reaches it."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(*shape))


class Block(nn.Module):
    def __init__(self, width: int, mlp: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.fc1, self.fc2 = nn.Linear(width, mlp), nn.Linear(mlp, width)


class ViT(nn.Module):
    def __init__(self, width: int, depth: int, mlp: int, patch: int, image: int, classes: int) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, width, patch, stride=patch)
        self.cls_token = Embedding(1, 1, width)
        self.pos_embed = Embedding(1, (image // patch) ** 2 + 1, width)
        self.blocks = nn.ModuleList(Block(width, mlp) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, classes)


def build(settings: dict[str, int]) -> tuple[nn.Module, object]:
    """The ViT, built on the meta device, given CPU storage, and initialized with ``seed=0``."""
    with torch.device("meta"):
        model = ViT(*(settings[k] for k in ("width", "depth", "mlp", "patch", "image", "classes")))
    model.to_empty(device="cpu")
    return model, initialize(model, CONFIG, seed=0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", dest="mode", action="store_const", const="smoke", default="full")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    settings = MODES[args.mode]
    model, report = build(settings)
    tensors = [t.detach() for t in model.parameters()]
    check = report.verify(model)  # type: ignore[attr-defined]
    if check.failures():
        raise SystemExit(f"the freshly initialized model fails its check:\n{check}")

    def floor() -> None:
        for tensor in tensors:
            torch.std_mean(tensor)

    samples = round_robin(
        [Contender("floor", floor), Contender("verify", lambda: report.verify(model))], settings["repeats"]
    )  # type: ignore[attr-defined]
    medians = {k: sorted(v)[len(v) // 2] for k, v in samples.items()}
    ratio = medians["verify"] / medians["floor"]
    params = sum(t.numel() for t in tensors)
    print(f"machine: {machine()}\ncommand: {command_line()}\n")
    print("| model | parameters | tensors | std_mean floor | verify | verify / floor | target | met? |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| ViT ({settings['depth']} blocks, width {settings['width']}) | {params / 1e6:.1f} M | {len(check)} "
        f"| {medians['floor'] * 1e3:.1f} ms | {medians['verify'] * 1e3:.1f} ms | {ratio:.2f}× | ≤ {TARGET}× "
        f"| {'yes' if ratio <= TARGET else 'no'} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
