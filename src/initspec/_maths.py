"""The std and fan arithmetic of every fan-based initializer, written once for every fill path.

Each takes ``(fan_in, fan_out)``, so a shard can pass its global weight's fans. The unseeded writers, the seeded block-stream maps, the sharded path and ``initspec.functional`` all call
these functions, so a formula cannot drift between them. Fans follow torch's weight layout,
``(out_features, in_features, *kernel)``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Final, Literal

import torch

from initspec._errors import InitArgumentError

__all__ = [
    "TRUNCATED_NORMAL_STD",
    "draw",
    "erfinv_",
    "fan_in_and_fan_out",
    "kaiming_std",
    "variance_scaling_std",
    "xavier_std",
]

Mode = Literal["fan_in", "fan_out"]
ScalingMode = Literal["fan_in", "fan_out", "fan_avg"]
ScalingDistribution = Literal["truncated_normal", "untruncated_normal", "uniform"]

TRUNCATED_NORMAL_STD: Final = 0.87962566103423978
"""Std of a standard normal truncated to [-2, 2]; Keras 3 and Flax divide by it so the result has the target std."""


def fan_in_and_fan_out(shape: Sequence[int]) -> tuple[int, int]:
    """Compute ``(fan_in, fan_out)`` from a weight shape, the way ``torch.nn.init`` does.

    Raises:
        InitArgumentError: If the shape has fewer than 2 dimensions (a bias or a norm weight); it is a
            ``ValueError`` and an ``AssertionError``.
    """
    if len(shape) < 2:
        msg = (
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(shape)}); Xavier and Kaiming need a weight of at least 2 dimensions, "
            "use a constant or normal initializer for 1-D parameters"
        )
        raise InitArgumentError(msg)
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


Fans = tuple[int, int]


def kaiming_std(fans: Fans, a: float, mode: str, nonlinearity: str) -> float:
    """``gain(nonlinearity, a) / sqrt(fan)``, with ``fan`` chosen by ``mode`` (case-insensitive, as torch)."""
    fan_in, fan_out = fans
    gain = torch.nn.init.calculate_gain(nonlinearity, a)  # type: ignore[arg-type]
    return gain / math.sqrt(fan_in if mode.lower() == "fan_in" else fan_out)


def xavier_std(fans: Fans, gain: float) -> float:
    """``gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def variance_scaling_std(fans: Fans, scale: float, mode: ScalingMode) -> float:
    """Keras 3's ``sqrt(scale / max(1, fan))``: the std of the untruncated target distribution."""
    fan_in, fan_out = fans
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    return math.sqrt(scale / max(1.0, fan))


def draw(
    tensor: torch.Tensor, std: float, distribution: str, generator: torch.Generator | None
) -> torch.Tensor:
    """``normal_(0, std)``, or ``uniform_(-sqrt(3) std, sqrt(3) std)``: the calls torch's kaiming/xavier make.

    The caller holds ``torch.no_grad()`` (the walker does for the whole run).
    """
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        return tensor.uniform_(-bound, bound, generator=generator)
    return tensor.normal_(0, std, generator=generator)


def erfinv_(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor.erfinv_()``, with the same bits in every process.

    torch 2.13's CPU ``erfinv`` for float32 sometimes gives other values (up to ~5e-5 relative) in the part
    of its very first call in a process that a second thread computes: a first call split across an OpenMP
    team, or first calls in two threads at once, race on something the kernel sets up once. One
    single-element call on this thread first sets it up, after which every call is the same; this is
    measured, not documented by torch; ``tests/test_seeded_threads.py`` pins the set-up.
    """
    if tensor.device.type == "cpu" and tensor.dtype not in _ERFINV_READY:
        with _ERFINV_LOCK:  # a second thread waits here until the set-up call has returned
            if tensor.dtype not in _ERFINV_READY:
                with torch.no_grad():
                    torch.zeros(1, dtype=tensor.dtype).erfinv_()
                _ERFINV_READY.add(tensor.dtype)
    return tensor.erfinv_()


_ERFINV_READY: set[torch.dtype] = set()
_ERFINV_LOCK = threading.Lock()
