"""Tensor-level initializers: each fills one tensor in place, drawing as mmengine 0.10.7 or torch does."""

from __future__ import annotations

import math
import warnings
from typing import Final, get_args

import torch
from torch import nn

from initspec import _maths as M
from initspec._errors import InitArgumentError, InitWarning, short_repr
from initspec._maths import ScalingDistribution, ScalingMode, fan_in_and_fan_out
from initspec.configs import Distribution, Mode, Nonlinearity

_MODES: Final[tuple[str, ...]] = get_args(Mode)
_DISTRIBUTIONS: Final[tuple[str, ...]] = get_args(Distribution)
_NONLINEARITIES: Final[tuple[str, ...]] = get_args(Nonlinearity)


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        choices = ", ".join(repr(choice) for choice in allowed)
        msg = f"{name} must be one of {choices} (got {short_repr(value)}); pass one of those strings"
        raise InitArgumentError(msg)


def constant_(tensor: torch.Tensor, val: float) -> torch.Tensor:
    """Fill ``tensor`` with ``val`` in place; draws nothing from any RNG."""
    if tensor.is_meta:
        return tensor
    return nn.init.constant_(tensor, val)


def normal_(
    tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Fill ``tensor`` in place from ``N(mean, std**2)`` with one ``normal_`` draw."""
    if tensor.is_meta:
        return tensor
    return nn.init.normal_(tensor, mean, std, generator=generator)


def uniform_(
    tensor: torch.Tensor, a: float = 0.0, b: float = 1.0, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Fill ``tensor`` in place from ``U(a, b)`` with one ``uniform_`` draw."""
    if tensor.is_meta:
        return tensor
    return nn.init.uniform_(tensor, a, b, generator=generator)


def _norm_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(
    tensor: torch.Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill ``tensor`` in place from ``N(mean, std**2)`` truncated to ``[a, b]``, as mmengine does.

    This is mmengine's inverse-CDF sampler (one ``uniform_`` draw per element, then ``erfinv``), not
    ``torch.nn.init.trunc_normal_``, whose algorithm gives different values for the same seed.

    Args:
        tensor: The tensor to fill.
        mean: Mean of the underlying normal distribution.
        std: Standard deviation of the underlying normal distribution.
        a: Lower cutoff, an absolute value (not a multiple of ``std``).
        b: Upper cutoff, an absolute value (not a multiple of ``std``).
        generator: RNG to draw from; ``None`` uses the global one.

    Returns:
        ``tensor``, filled.

    Example:
        >>> w = trunc_normal_(torch.empty(768, 768), std=0.02)
        >>> bool(w.abs().max() <= 2.0)
        True
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        msg = (
            f"trunc_normal_: mean={mean} is more than 2 std (std={std}) outside [a, b] = [{a}, {b}]; "
            "the distribution of values may be incorrect. Move the mean inside [a, b] or widen the cutoffs"
        )
        warnings.warn(msg, InitWarning, stacklevel=2)
    if tensor.is_meta:
        return tensor
    lower = _norm_cdf((a - mean) / std)
    upper = _norm_cdf((b - mean) / std)
    with torch.no_grad():
        tensor.uniform_(2 * lower - 1, 2 * upper - 1, generator=generator)
        M.erfinv_(tensor)
        tensor.mul_(std * math.sqrt(2.0))
        tensor.add_(mean)
        tensor.clamp_(min=a, max=b)
    return tensor


def xavier_(
    tensor: torch.Tensor,
    gain: float = 1.0,
    distribution: Distribution = "normal",
    *,
    fan: tuple[int, int] | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill ``tensor`` in place with Xavier (Glorot) values, ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Args:
        tensor: The weight to fill, at least 2-D unless ``fan`` is given.
        gain: Scaling factor.
        distribution: ``"normal"`` or ``"uniform"`` (bound ``sqrt(3) * std``).
        fan: ``(fan_in, fan_out)`` to use instead of the tensor's own shape, for example the fans of the
            global weight when ``tensor`` is one shard of it.
        generator: RNG to draw from; ``None`` uses the global one.

    Returns:
        ``tensor``, filled.

    Raises:
        InitArgumentError: If ``distribution`` is unknown, or the tensor has fewer than 2 dimensions and no
            ``fan``.
    """
    _check_choice("distribution", distribution, _DISTRIBUTIONS)
    if tensor.is_meta:
        return tensor
    if fan is None:
        fan_in_and_fan_out(tensor.shape)  # torch's own check raises a plain ValueError
        init = nn.init.xavier_uniform_ if distribution == "uniform" else nn.init.xavier_normal_
        return init(tensor, gain=gain, generator=generator)
    with torch.no_grad():
        return M.draw(tensor, M.xavier_std(fan, gain), distribution, generator)


def kaiming_(
    tensor: torch.Tensor,
    a: float = 0.0,
    mode: Mode = "fan_out",
    nonlinearity: Nonlinearity = "relu",
    distribution: Distribution = "normal",
    *,
    fan: tuple[int, int] | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill ``tensor`` in place with Kaiming (He) values, ``std = gain(nonlinearity, a) / sqrt(fan)``.

    The default mode is ``"fan_out"``, mmengine's default, not torch's ``"fan_in"``.

    Args:
        tensor: The weight to fill, at least 2-D unless ``fan`` is given.
        a: Negative slope of the rectifier; used only with ``"leaky_relu"``.
        mode: Which fan to divide by; ``"fan_in"`` or ``"fan_out"`` (case-insensitive, as in torch).
        nonlinearity: Name passed to ``torch.nn.init.calculate_gain``.
        distribution: ``"normal"`` or ``"uniform"`` (bound ``sqrt(3) * std``).
        fan: ``(fan_in, fan_out)`` to use instead of the tensor's own shape.
        generator: RNG to draw from; ``None`` uses the global one.

    Returns:
        ``tensor``, filled.

    Raises:
        InitArgumentError: If ``distribution``, ``mode`` or ``nonlinearity`` is unknown, or the tensor has fewer
            than 2 dimensions and no ``fan``.
    """
    _check_choice("distribution", distribution, _DISTRIBUTIONS)
    _check_choice("mode", mode.lower(), _MODES)
    _check_choice("nonlinearity", nonlinearity, _NONLINEARITIES)
    if tensor.is_meta:
        return tensor
    if fan is None:
        fan_in_and_fan_out(tensor.shape)
        init = nn.init.kaiming_uniform_ if distribution == "uniform" else nn.init.kaiming_normal_
        return init(tensor, a=a, mode=mode, nonlinearity=nonlinearity, generator=generator)
    with torch.no_grad():
        return M.draw(tensor, M.kaiming_std(fan, a, mode, nonlinearity), distribution, generator)


def variance_scaling_(
    tensor: torch.Tensor,
    scale: float = 1.0,
    mode: ScalingMode = "fan_in",
    distribution: ScalingDistribution = "truncated_normal",
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill ``tensor`` in place as Keras 3's ``VarianceScaling``: variance ``scale / max(1, fan)``.

    ``"truncated_normal"`` draws N(0, std^2) cut at 2 std with ``std = sqrt(variance) / 0.87962566103423978``
    (so the result has the target variance); ``"untruncated_normal"`` draws N(0, variance);
    ``"uniform"`` draws U(-limit, limit) with ``limit = sqrt(3 * variance)``. Fans use torch's layout,
    ``(out_features, in_features, *kernel)``.

    Example:
        >>> w = variance_scaling_(torch.empty(256, 512), scale=2.0, mode="fan_avg")
        >>> round(float(w.std()), 2)  # doctest: +SKIP
        0.07
    """
    _check_choice("mode", mode, ("fan_in", "fan_out", "fan_avg"))
    _check_choice("distribution", distribution, ("truncated_normal", "untruncated_normal", "uniform"))
    std = M.variance_scaling_std(fan_in_and_fan_out(tensor.shape), scale, mode)
    if tensor.is_meta:
        return tensor
    if distribution == "truncated_normal":
        std /= M.TRUNCATED_NORMAL_STD
        return trunc_normal_(tensor, 0.0, std, -2 * std, 2 * std, generator=generator)
    with torch.no_grad():
        return M.draw(tensor, std, "uniform" if distribution == "uniform" else "normal", generator)


def lecun_normal_(tensor: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """LeCun normal, as Keras and Flax: :func:`variance_scaling_` with ``scale=1``, ``"fan_in"``, truncated."""
    return variance_scaling_(tensor, 1.0, "fan_in", "truncated_normal", generator=generator)


def orthogonal_(
    tensor: torch.Tensor, gain: float = 1.0, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``torch.nn.init.orthogonal_``: a (semi-)orthogonal matrix times ``gain``; at least 2-D."""
    if tensor.is_meta:
        return tensor
    return nn.init.orthogonal_(tensor, gain=gain, generator=generator)


def sparse_(
    tensor: torch.Tensor, sparsity: float, std: float = 0.01, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``torch.nn.init.sparse_``: N(0, std^2) with a ``sparsity`` fraction of each column zeroed; 2-D.

    Without a generator this is torch's function, bit for bit. torch draws the zeroed rows from the global
    RNG even when given a generator, so with one the rows are chosen here, from that generator alone.
    """
    if tensor.is_meta or generator is None:
        return nn.init.sparse_(tensor, sparsity, std)
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    with torch.no_grad():
        tensor.normal_(0, std, generator=generator)
        scores = torch.rand((cols, rows), generator=generator, device=tensor.device)
        zero_rows = scores.argsort(dim=1)[:, : math.ceil(sparsity * rows)]
        tensor.t().scatter_(1, zero_rows, 0.0)
    return tensor


def dirac_(tensor: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """``torch.nn.init.dirac_``: the identity convolution (3-5-D); draws nothing from any RNG."""
    if tensor.is_meta:
        return tensor
    return nn.init.dirac_(tensor, groups)


def eye_(tensor: torch.Tensor) -> torch.Tensor:
    """``torch.nn.init.eye_``: the identity matrix (2-D); draws nothing from any RNG."""
    if tensor.is_meta:
        return tensor
    return nn.init.eye_(tensor)
