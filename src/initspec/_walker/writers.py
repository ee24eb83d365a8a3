"""One writer per initializer: how each type fills a tensor unseeded, from seeded block streams, and on a shard.

Every built-in's writer is attached to the registry here, beside the writers of ``register_initializer``
types, so the plan-time checks and :func:`write_weight` read one table for both. The std and fan
arithmetic lives in ``initspec._maths``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import torch

from initspec import _maths as M
from initspec import functional as F
from initspec._shards import DENSE_TYPES, is_sharded, local_view, slice_of
from initspec._walker.seeded import Base, Scale, Transform, fill_seeded, generator_for
from initspec.configs import (
    INITIALIZERS,
    Caffe2XavierInit,
    ConstantInit,
    DiracInit,
    EyeInit,
    InitializerConfig,
    KaimingInit,
    LecunNormalInit,
    NormalInit,
    OrthogonalInit,
    SparseInit,
    TruncNormalInit,
    UniformInit,
    VarianceScalingInit,
    XavierInit,
)
from initspec.configs._registry import Writer

__all__ = [
    "fill_value",
    "is_builtin",
    "kaiming_args",
    "scaling_args",
    "trunc_normal_map",
    "write_weight",
    "writer_of",
]


_CACHE: dict[type, Writer] = {}
_CACHE_VERSION = [-1]


def writer_of(init: InitializerConfig) -> Writer:
    """The writer registered for ``init``'s type (cached per class until the registry changes)."""
    if _CACHE_VERSION[0] != INITIALIZERS.version:
        _CACHE.clear()
        _CACHE_VERSION[0] = INITIALIZERS.version
    writer = _CACHE.get(type(init))
    if writer is not None:
        return writer
    writer = INITIALIZERS.writer(init.type)
    if writer is not None:
        _CACHE[type(init)] = writer
    if writer is None:
        msg = f"initializer type {init.type!r} has no writer; register it with register_initializer"
        raise TypeError(msg)
    return writer


def is_builtin(init: InitializerConfig) -> bool:
    """Whether ``init`` is one of initspec's own types, whose writes the plan checks in full."""
    return type(init) in _BUILTIN_WRITERS


def write_weight(init: InitializerConfig, tensor: torch.Tensor, seed: int | None, name: str) -> None:
    """Fill ``tensor`` as ``init``'s writer says: from its block stream with a seed, else as mmengine does.

    A writer without a stream fills the full tensor from a ``(seed, name)`` generator and a shard keeps its
    slice, which costs the full tensor's memory on each rank.
    """
    writer = writer_of(init)
    sharded = is_sharded(tensor)
    if writer.fills_local:
        writer.fill(init, local_view(tensor)[0] if sharded else tensor, None)
    elif seed is not None and writer.stream is not None:
        base, transform = writer.stream(init)
        fill_seeded(tensor, base, transform, seed, name)
    elif not sharded:
        writer.fill(init, tensor, None if seed is None else generator_for(seed, name, tensor.device))
    else:
        local, shape, offset = local_view(tensor)
        full = torch.empty(shape, dtype=local.dtype, device=local.device)
        writer.fill(init, full, generator_for(seed, name, local.device))
        local.copy_(slice_of(full, local, offset))


def _plain(t: torch.Tensor) -> bool:
    """A dense tensor that torch.nn.init would fill with one direct ``normal_``/``uniform_`` call."""
    return type(t) in DENSE_TYPES and t.numel() > 0


# -- unseeded fills: mmengine's draws, bit for bit --------------------------------------------------------
def _constant(c: Any, t: torch.Tensor, g: torch.Generator | None) -> None:
    fill_value(t, c.val)


def fill_value(t: torch.Tensor, value: float) -> None:
    """``t.fill_(value)``; a positive zero (the usual bias) as ``zero_()``: the same bits, in half the time."""
    if value == 0 and math.copysign(1.0, value) > 0:
        t.zero_()
    else:
        t.fill_(value)


def _normal(c: Any, t: torch.Tensor, g: torch.Generator | None) -> None:
    if _plain(t):
        t.normal_(c.mean, c.std, generator=g)
    else:
        F.normal_(t, c.mean, c.std, generator=g)


def _uniform(c: Any, t: torch.Tensor, g: torch.Generator | None) -> None:
    if _plain(t):
        t.uniform_(c.a, c.b, generator=g)
    else:
        F.uniform_(t, c.a, c.b, generator=g)


def _trunc_normal(c: Any, t: torch.Tensor, g: torch.Generator | None) -> None:
    F.trunc_normal_(t, c.mean, c.std, c.a, c.b, generator=g)


def kaiming_args(c: Any) -> tuple[float, str, str, str]:
    """``(a, mode, nonlinearity, distribution)`` of a Kaiming config, or Caffe2Xavier's fixed ones."""
    if isinstance(c, Caffe2XavierInit):
        return 1.0, "fan_in", "leaky_relu", "uniform"
    return c.a, c.mode, c.nonlinearity, c.distribution


def _kaiming(c: Any, t: torch.Tensor, g: torch.Generator | None) -> None:
    a, mode, nonlinearity, dist = kaiming_args(c)
    if _plain(t):
        M.draw(t, _kaiming_std(t.shape, a, mode, nonlinearity), dist, g)
    else:
        F.kaiming_(t, a, mode, nonlinearity, dist, generator=g)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=1024, typed=True)  # one call per layer, with the same few arguments
def _kaiming_std(shape: tuple[int, ...], a: float, mode: str, nonlinearity: str) -> float:
    return M.kaiming_std(M.fan_in_and_fan_out(shape), a, mode, nonlinearity)


def _xavier(c: Any, t: torch.Tensor, g: torch.Generator | None) -> None:
    if _plain(t):
        M.draw(t, M.xavier_std(M.fan_in_and_fan_out(t.shape), c.gain), c.distribution, g)
    else:
        F.xavier_(t, c.gain, c.distribution, generator=g)


def scaling_args(c: Any) -> tuple[float, M.ScalingMode, M.ScalingDistribution]:
    """``(scale, mode, distribution)`` of a VarianceScaling config, or LecunNormal's fixed ones."""
    if isinstance(c, LecunNormalInit):
        return 1.0, "fan_in", "truncated_normal"
    return c.scale, c.mode, c.distribution


def _variance_scaling(c: Any, t: torch.Tensor, g: torch.Generator | None) -> None:
    scale, mode, dist = scaling_args(c)
    F.variance_scaling_(t, scale, mode, dist, generator=g)


def _orthogonal(c: Any, t: torch.Tensor, g: torch.Generator | None) -> None:
    F.orthogonal_(t, c.gain, generator=g)


def _sparse(c: Any, t: torch.Tensor, g: torch.Generator | None) -> None:
    F.sparse_(t, c.sparsity, c.std, generator=g)


def _dirac(c: Any, t: torch.Tensor, g: torch.Generator | None) -> None:
    F.dirac_(t, c.groups)


def _eye(c: Any, t: torch.Tensor, g: torch.Generator | None) -> None:
    F.eye_(t)


def _dirac_groups(c: Any, shape: tuple[int, ...]) -> str | None:
    if shape[0] % c.groups == 0:
        return None
    return f"Dirac needs the output channels to divide by groups={c.groups}, but the shape is {shape}"


# -- seeded streams: an elementwise map from base draws, with fans from the global shape ------------------
def trunc_normal_map(t: torch.Tensor, mean: float, std: float, a: float, b: float) -> None:
    """Map uniform draws on [0, 1) in place to N(mean, std^2) truncated to [a, b] (inverse CDF).

    The erf argument is kept inside the open interval (-1, 1): with bounds many std out, ``erf`` of the
    lower bound is exactly -1, and a draw of exactly 0 would give ``erfinv(-1) = -inf``, clamped to ``a``.
    """
    lower = math.erf((a - mean) / std / math.sqrt(2.0))
    upper = math.erf((b - mean) / std / math.sqrt(2.0))
    inside = 1.0 - torch.finfo(t.dtype).eps / 2
    t.mul_(upper - lower).add_(lower).clamp_(-inside, inside)
    M.erfinv_(t).mul_(std * math.sqrt(2.0)).add_(mean).clamp_(a, b)


def _scale(t: torch.Tensor, std: float, distribution: str) -> None:
    """Map base draws to N(0, std^2), or to U(-sqrt(3) std, sqrt(3) std) for ``"uniform"``."""
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        t.mul_(2 * bound).sub_(bound)
    else:
        t.mul_(std)


def _base(distribution: str) -> Base:
    return "normal" if distribution == "normal" else "uniform"


def _normal_stream(c: Any) -> tuple[Base, Transform]:
    if c.mean == 0:  # mul_(std).add_(mean) with a zero mean: a scale, drawn in one pass
        return "normal", Scale(lambda shape: c.std, zero=c.mean)
    return "normal", lambda t, shape: _affine(t, c.std, c.mean)


def _uniform_stream(c: Any) -> tuple[Base, Transform]:
    return "uniform", lambda t, shape: _affine(t, c.b - c.a, c.a)


def _affine(t: torch.Tensor, mul: float, add: float) -> None:
    t.mul_(mul).add_(add)


def _trunc_normal_stream(c: Any) -> tuple[Base, Transform]:
    return "uniform", lambda t, shape: trunc_normal_map(t, c.mean, c.std, c.a, c.b)


def _kaiming_stream(c: Any) -> tuple[Base, Transform]:
    a, mode, nonlinearity, dist = kaiming_args(c)

    def std(shape: tuple[int, ...]) -> float:
        return M.kaiming_std(M.fan_in_and_fan_out(shape), a, mode, nonlinearity)

    return _scaled(dist, std)


def _xavier_stream(c: Any) -> tuple[Base, Transform]:
    return _scaled(c.distribution, lambda shape: M.xavier_std(M.fan_in_and_fan_out(shape), c.gain))


def _scaled(distribution: str, std: Callable[[tuple[int, ...]], float]) -> tuple[Base, Transform]:
    """``_scale`` by ``std(shape)``; for normal draws a :class:`Scale`, which draws in one pass."""
    if distribution == "normal":
        return "normal", Scale(std)
    return "uniform", lambda t, shape: _scale(t, std(shape), distribution)


def _variance_scaling_stream(c: Any) -> tuple[Base, Transform]:
    scale, mode, dist = scaling_args(c)

    def transform(t: torch.Tensor, shape: tuple[int, ...]) -> None:
        std = M.variance_scaling_std(M.fan_in_and_fan_out(shape), scale, mode)
        if dist == "truncated_normal":
            std /= M.TRUNCATED_NORMAL_STD
            trunc_normal_map(t, 0.0, std, -2 * std, 2 * std)
        else:
            _scale(t, std, "uniform" if dist == "uniform" else "normal")

    return "normal" if dist == "untruncated_normal" else "uniform", transform


_FANS = Writer(fill=_kaiming, stream=_kaiming_stream, needs_fans=True)
_BUILTIN_WRITERS: dict[type[InitializerConfig], Writer] = {
    ConstantInit: Writer(fill=_constant, dtypes="any", random=False, fills_local=True),
    XavierInit: Writer(fill=_xavier, stream=_xavier_stream, needs_fans=True),
    NormalInit: Writer(fill=_normal, stream=_normal_stream),
    TruncNormalInit: Writer(fill=_trunc_normal, stream=_trunc_normal_stream),
    UniformInit: Writer(fill=_uniform, stream=_uniform_stream),
    KaimingInit: _FANS,
    Caffe2XavierInit: _FANS,
    OrthogonalInit: Writer(fill=_orthogonal, dims=(2, None)),
    DiracInit: Writer(fill=_dirac, dims=(3, 5), dtypes="any", random=False, check=_dirac_groups),
    EyeInit: Writer(fill=_eye, dims=(2, 2), dtypes="any", random=False),
    SparseInit: Writer(fill=_sparse, dims=(2, 2)),
    VarianceScalingInit: Writer(fill=_variance_scaling, stream=_variance_scaling_stream, needs_fans=True),
    LecunNormalInit: Writer(fill=_variance_scaling, stream=_variance_scaling_stream, needs_fans=True),
}

for _cls, _writer in _BUILTIN_WRITERS.items():
    INITIALIZERS.attach_writer(_cls.model_fields["type"].default, _writer)
