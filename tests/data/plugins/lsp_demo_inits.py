"""A plugin that registers one initializer, for ``initspec lsp --plugin lsp_demo_inits`` in tests/test_lsp.py."""

from __future__ import annotations

from typing import Any, Literal

from initspec import BaseInit, register_initializer


class HadamardInit(BaseInit):
    """A Hadamard-like orthogonal weight, scaled by `gain`."""

    type: Literal["Hadamard"] = "Hadamard"
    gain: float = 1.0


def apply_hadamard(cfg: HadamardInit, weight: Any, generator: Any) -> None:
    import torch

    torch.nn.init.orthogonal_(weight, gain=cfg.gain, generator=generator)


register_initializer(HadamardInit, apply_hadamard)
