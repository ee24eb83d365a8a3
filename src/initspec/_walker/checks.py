"""Plan-time checks of one write against its tensor, so that no write fails once writing has begun."""

from __future__ import annotations

import math
from typing import Literal

import torch

from initspec._errors import InitPlanError
from initspec._walker.steps import Source
from initspec._walker.tree import TensorKind
from initspec._walker.writers import writer_of
from initspec.configs import BaseInit, ConstantInit, InitializerConfig, UniformInit

__all__ = ["check_key", "check_write"]


def check_write(
    path: str, kind: TensorKind, role: Literal["weight", "bias"], init: InitializerConfig, source: Source
) -> None:
    """Raise ``InitPlanError`` if ``init`` cannot write tensor ``path`` of ``kind`` in its ``role``."""
    problem = _layout(kind) or (_weight(kind, init, source) if role == "weight" else _bias(kind, init))
    if problem is not None:
        raise InitPlanError(f"{source.label}: {problem.format(path=path)}")


def check_key(
    init: InitializerConfig, kind: TensorKind, role: Literal["weight", "bias"]
) -> tuple[object, ...]:
    """Everything :func:`check_write`'s verdict depends on, so that a passed check is not repeated."""
    if role == "bias":
        return (kind, role, init.bias_value if isinstance(init, BaseInit) else None)
    return (type(init), kind, role, init if writer_of(init).check is not None else tuple(_values(init)))


def _layout(kind: TensorKind) -> str | None:
    return None if kind.layout is None else f"'{{path}}' is {kind.layout}, so initspec cannot write it"


def _weight(kind: TensorKind, init: InitializerConfig, source: Source) -> str | None:
    writer = writer_of(init)
    low, high = writer.min_dim, writer.dims[1]
    dims = len(kind.shape)
    if writer.needs_fans and dims < 2:
        narrow = "narrow 'layer'" if source.kind == "init_cfg" else "override a submodule without 1-D weights"
        return (
            f"{init.type} computes fans from the weight's shape and needs at least 2 dimensions, but "
            f"'{{path}}' has shape {kind.shape}; use an initializer without fans (Normal, Constant, ...) "
            f"for it, or {narrow}"
        )
    if dims < low or (high is not None and dims > high):
        wanted = f"{low}" if low == high else f"{low} to {high}" if high is not None else f"at least {low}"
        return f"{init.type} needs a weight of {wanted} dimensions, but '{{path}}' has shape {kind.shape}"
    if writer.check is not None and (problem := writer.check(init, kind.shape)) is not None:
        return f"'{{path}}': {problem}"
    if writer.dtypes == "floating" and not kind.dtype.is_floating_point:
        return (
            f"{init.type} draws floating-point values, but '{{path}}' is {_dtype(kind.dtype)}; "
            "use Constant for integer or boolean tensors, or leave them out of 'layer'"
        )
    return _unrepresentable(kind.dtype, _values(init), init.type)


def _values(init: InitializerConfig) -> list[float]:
    """The values a Constant or Uniform writer stores, and the width the Uniform draw spans."""
    if isinstance(init, ConstantInit):
        return [init.val]
    if isinstance(init, UniformInit):
        return [init.a, init.b, init.b - init.a]
    return []


def _bias(kind: TensorKind, init: InitializerConfig) -> str | None:
    if not isinstance(init, BaseInit):
        return None
    return _unrepresentable(kind.dtype, [init.bias_value], f"{init.type}'s bias")


def _unrepresentable(dtype: torch.dtype, values: list[float], what: str) -> str | None:
    """Why ``values`` cannot be stored in ``dtype`` (out of range, or not whole for integers), or None."""
    for value in values:
        if dtype.is_complex or dtype.is_floating_point:
            info = torch.finfo(dtype)
            if abs(value) > info.max:
                return f"{what} value {value!r} overflows {_dtype(dtype)} '{{path}}' (largest: {info.max:g})"
        elif dtype == torch.bool:
            if value not in (0, 1):
                return f"{what} value {value!r} is not 0 or 1, but '{{path}}' is {_dtype(dtype)}"
        elif not (math.isfinite(value) and value == int(value)):
            return f"{what} value {value!r} is not a whole number, but '{{path}}' is {_dtype(dtype)}"
        else:
            iinfo = torch.iinfo(dtype)
            if not iinfo.min <= value <= iinfo.max:
                return f"{what} value {value!r} does not fit {_dtype(dtype)} '{{path}}'"
    return None


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
