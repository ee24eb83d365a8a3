"""The model and config shared by the sharded-init worker and its test."""

from __future__ import annotations

from torch import nn

SEED = 1234

INIT_CFG = [
    dict(type="Kaiming", layer="Linear", mode="fan_in", distribution="uniform"),
    dict(type="Xavier", layer="Conv2d", bias=0.1),
    dict(type="TruncNormal", layer="Embedding", std=0.02),
    dict(type="Normal", std=0.3, layer="LayerNorm", override=dict(name="4", type="Normal", std=0.01)),
    # Beyond OpenMMLab: the two full-tensor writers (Orthogonal, Sparse), the two that draw nothing, and the
    # two elementwise Keras ones.
    dict(
        type="Constant",
        val=0,
        override=[
            dict(name="5", type="Orthogonal", gain=1.5),
            dict(name="6", type="Sparse", sparsity=0.3, std=0.1),
            dict(name="7", type="Dirac"),
            dict(name="8", type="Eye"),
            dict(name="9", type="VarianceScaling", scale=2.0, mode="fan_avg"),
            dict(name="10", type="LecunNormal"),
        ],
    ),
]


def build_model() -> nn.Sequential:
    """Layers of several kinds with odd sizes, so shards are uneven."""
    return nn.Sequential(
        nn.Embedding(37, 13),
        nn.Linear(13, 29),
        nn.Conv2d(3, 7, 3),
        nn.LayerNorm(29),
        nn.Linear(29, 5),
        nn.Linear(5, 17),
        nn.Linear(17, 9),
        nn.Conv1d(4, 6, 3),
        nn.Linear(9, 7),
        nn.Linear(9, 6),
        nn.Linear(6, 6),
    )
