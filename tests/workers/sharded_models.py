"""The model and config shared by the sharded-init worker and its test."""

from __future__ import annotations

from torch import nn

SEED = 1234

INIT_CFG = [
    dict(type="Kaiming", layer="Linear", mode="fan_in", distribution="uniform"),
    dict(type="Xavier", layer="Conv2d", bias=0.1),
    dict(type="TruncNormal", layer="Embedding", std=0.02),
    dict(type="Normal", std=0.3, layer="LayerNorm", override=dict(name="4", type="Normal", std=0.01)),
]


def build_model() -> nn.Sequential:
    """Layers of several kinds with odd sizes, so shards are uneven."""
    return nn.Sequential(
        nn.Embedding(37, 13),
        nn.Linear(13, 29),
        nn.Conv2d(3, 7, 3),
        nn.LayerNorm(29),
        nn.Linear(29, 5),
    )
