"""A small ViT whose ``cls_token`` and ``pos_embed`` parameters are initialized from its init_cfg.

ViT implementations usually initialize these two ``nn.Parameter`` attributes by hand in ``init_weights``,
because mmengine's ``override`` can only name submodules. initspec's override ``name`` may name a parameter,
so the whole scheme fits in one config:

- every ``Linear``: TruncNormal(std=0.02), bias 0;
- every ``LayerNorm``: weight 1, bias 0;
- the patch embedding conv: Kaiming, fan_in, linear;
- ``cls_token`` and ``pos_embed``: name-only overrides, so they inherit TruncNormal(std=0.02).

Run it with ``python examples/vit_cls_token.py``.
"""

from __future__ import annotations

import torch
from torch import nn

from initspec import BaseModule, InitReport, ModuleList

VIT_INIT_CFG = [
    dict(
        type="TruncNormal",
        layer="Linear",
        std=0.02,
        override=[dict(name="cls_token"), dict(name="pos_embed")],
    ),
    dict(type="Constant", layer="LayerNorm", val=1),
    dict(type="Kaiming", layer="Conv2d", mode="fan_in", nonlinearity="linear"),
]


class Attention(nn.Module):
    """Multi-head self-attention with one fused ``qkv`` projection."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = nn.functional.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """A pre-norm transformer block."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), nn.GELU(), nn.Linear(dim * 4, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(BaseModule):
    """Patch embedding, a class token, learned position embeddings, blocks and a linear head."""

    def __init__(
        self,
        image: int = 32,
        patch: int = 8,
        dim: int = 64,
        depth: int = 2,
        heads: int = 4,
        classes: int = 10,
    ) -> None:
        super().__init__(init_cfg=VIT_INIT_CFG)
        self.patch_embed = nn.Conv2d(3, dim, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1, dim))
        self.blocks = ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


def main() -> InitReport:
    model = VisionTransformer()
    report = model.init_weights(seed=0)
    for name in ("cls_token", "pos_embed", "patch_embed.weight", "blocks.0.attn.qkv.weight", "norm.weight"):
        record = report[name]
        print(f"{name:26} {record.source:44} {record.described}")
    print()
    print(report.summary())
    print("untouched:", report.untouched())
    print(f"cls_token std: {model.cls_token.std().item():.3f}")
    print(f"pos_embed largest |value|: {model.pos_embed.abs().max().item():.3f}")
    logits = model(torch.zeros(2, 3, 32, 32))
    print("logits:", tuple(logits.shape))
    return report


if __name__ == "__main__":
    main()
