"""Module-level helpers with mmengine's names, argument order and defaults: weight first, then the bias."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from initspec._errors import InitArgumentError
from initspec.configs import Distribution, Mode, Nonlinearity, bias_from_prob
from initspec.functional._tensor import (
    _DISTRIBUTIONS,
    _check_choice,
    constant_,
    kaiming_,
    normal_,
    trunc_normal_,
    uniform_,
    xavier_,
)


def _param(module: nn.Module, name: str) -> torch.Tensor | None:
    value = getattr(module, name, None)
    if value is None or isinstance(value, torch.Tensor):
        return value
    msg = f"{type(module).__name__}.{name} must be a tensor or None (got {type(value).__name__})"
    raise InitArgumentError(msg)


def _init_module(module: nn.Module, init_weight: Callable[[torch.Tensor], object], bias: float) -> None:
    # The weight is drawn before the bias is set, which is the order mmengine's RNG parity relies on.
    weight = _param(module, "weight")
    if weight is not None:
        init_weight(weight)
    bias_tensor = _param(module, "bias")
    if bias_tensor is not None:
        constant_(bias_tensor, bias)


def constant_init(
    module: nn.Module, val: float, bias: float = 0, *, generator: torch.Generator | None = None
) -> None:
    """Set ``module.weight`` to ``val`` and ``module.bias`` to ``bias``; ``generator`` is unused."""
    _init_module(module, lambda w: constant_(w, val), bias)


def xavier_init(
    module: nn.Module,
    gain: float = 1,
    bias: float = 0,
    distribution: Distribution = "normal",
    *,
    generator: torch.Generator | None = None,
) -> None:
    """Xavier-initialize ``module.weight`` and set ``module.bias`` to ``bias``.

    Example:
        >>> xavier_init(nn.Linear(4, 3), distribution="uniform")
    """
    _check_choice("distribution", distribution, _DISTRIBUTIONS)
    _init_module(module, lambda w: xavier_(w, gain, distribution, generator=generator), bias)


def normal_init(
    module: nn.Module,
    mean: float = 0,
    std: float = 1,
    bias: float = 0,
    *,
    generator: torch.Generator | None = None,
) -> None:
    """Draw ``module.weight`` from ``N(mean, std**2)`` and set ``module.bias`` to ``bias``."""
    _init_module(module, lambda w: normal_(w, mean, std, generator=generator), bias)


def trunc_normal_init(
    module: nn.Module,
    mean: float = 0,
    std: float = 1,
    a: float = -2,
    b: float = 2,
    bias: float = 0,
    *,
    generator: torch.Generator | None = None,
) -> None:
    """Draw ``module.weight`` with :func:`trunc_normal_` and set ``module.bias`` to ``bias``."""
    _init_module(module, lambda w: trunc_normal_(w, mean, std, a, b, generator=generator), bias)


def uniform_init(
    module: nn.Module,
    a: float = 0,
    b: float = 1,
    bias: float = 0,
    *,
    generator: torch.Generator | None = None,
) -> None:
    """Draw ``module.weight`` from ``U(a, b)`` and set ``module.bias`` to ``bias``."""
    _init_module(module, lambda w: uniform_(w, a, b, generator=generator), bias)


def kaiming_init(
    module: nn.Module,
    a: float = 0,
    mode: Mode = "fan_out",
    nonlinearity: Nonlinearity = "relu",
    bias: float = 0,
    distribution: Distribution = "normal",
    *,
    generator: torch.Generator | None = None,
) -> None:
    """Kaiming-initialize ``module.weight`` (default mode ``"fan_out"``) and set ``module.bias`` to ``bias``.

    Example:
        >>> kaiming_init(nn.Conv2d(3, 8, 3), mode="fan_in", nonlinearity="leaky_relu", a=0.1)
    """
    _check_choice("distribution", distribution, _DISTRIBUTIONS)
    _init_module(
        module, lambda w: kaiming_(w, a, mode, nonlinearity, distribution, generator=generator), bias
    )


def caffe2_xavier_init(
    module: nn.Module, bias: float = 0, *, generator: torch.Generator | None = None
) -> None:
    """Caffe2's ``XavierFill``: Kaiming uniform with ``a=1``, ``mode="fan_in"`` and ``"leaky_relu"``."""
    kaiming_init(
        module,
        a=1,
        mode="fan_in",
        nonlinearity="leaky_relu",
        bias=bias,
        distribution="uniform",
        generator=generator,
    )


def bias_init_with_prob(prior_prob: float) -> float:
    """Return the bias whose sigmoid is ``prior_prob``: ``-log((1 - p) / p)``, mmengine's helper.

    It takes the log as mmengine does, with ``numpy.log`` (``math.log`` when numpy is absent, equal after
    rounding to float32), and is the same function that turns a config's ``bias_prob`` into its bias.

    Raises:
        InitArgumentError: If ``prior_prob`` is not strictly between 0 and 1 (a ``ValueError`` and an
            ``AssertionError``).
    """
    return bias_from_prob(prior_prob)
