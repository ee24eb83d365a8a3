"""What each initializer promises about the tensor it wrote, read from the report's record of it.

The std and fans come from ``initspec._maths`` and the writers' own argument helpers, so the promise is the
formula the writer used, not a second derivation of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from initspec import _maths as M
from initspec._verify.stats import Spread
from initspec._walker.writers import kaiming_args, scaling_args
from initspec.configs import INITIALIZERS

if TYPE_CHECKING:
    from initspec.report import ParamRecord

__all__ = ["Exact", "FromCheckpoint", "Promise", "Structure", "Unchecked", "promise_of"]


@dataclass(frozen=True)
class Exact:
    """Every element equals ``value``."""

    value: float

    @property
    def label(self) -> str:
        return f"= {self.value:g}"


@dataclass(frozen=True)
class Structure:
    """An exact pattern: ``orthogonal`` (gain), ``eye``, ``dirac`` (groups) or ``sparse`` (sparsity, draws)."""

    kind: Literal["orthogonal", "eye", "dirac", "sparse"]
    label: str
    gain: float = 1.0
    groups: int = 1
    sparsity: float = 0.0
    draws: Spread | None = None


@dataclass(frozen=True)
class FromCheckpoint:
    """Equal to a checkpoint's tensor, found again in the file."""

    checkpoint: str
    prefix: str | None
    revise_keys: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        return f"= {self.checkpoint}"


@dataclass(frozen=True)
class Unchecked:
    """No promise: statistics only, and why."""

    why: str
    label: str = "-"


Promise: TypeAlias = Exact | Spread | Structure | FromCheckpoint | Unchecked


def promise_of(record: ParamRecord) -> Promise:
    """What the last writer of ``record`` promises about its values."""
    kind, args = record.initializer, record.args
    if record.source == "untouched" or not kind:
        return Unchecked("untouched: nothing wrote it")
    if record.source.startswith("user") or "." in kind or kind == "init_weights":
        return Unchecked("written by model code")
    if kind == "Pretrained":
        revise = tuple((str(p), str(r)) for p, r in args.get("revise_keys", ()))
        return FromCheckpoint(str(args["checkpoint"]), args.get("prefix"), revise)
    if "bias" in args:
        return Exact(float(args["bias"]))
    cls = INITIALIZERS.get(kind)
    if cls is None or kind not in _PROMISES:
        return Unchecked(f"{kind} is a registered initializer with no known promise")
    return _PROMISES[kind](cls.model_validate(args), record.shape)


def _constant(c: Any, shape: tuple[int, ...]) -> Promise:
    return Exact(float(c.val))


def _normal(c: Any, shape: tuple[int, ...]) -> Promise:
    return Exact(float(c.mean)) if c.std == 0 else Spread.normal(float(c.mean), float(c.std))


def _uniform(c: Any, shape: tuple[int, ...]) -> Promise:
    return Exact(float(c.a)) if c.a == c.b else Spread.uniform(float(c.a), float(c.b))


def _trunc_normal(c: Any, shape: tuple[int, ...]) -> Promise:
    return Spread.truncated(float(c.mean), float(c.std), float(c.a), float(c.b))


def _drawn(std: float, distribution: str) -> Spread:
    """``initspec._maths.draw``: N(0, std^2), or U(-sqrt(3) std, sqrt(3) std)."""
    if distribution == "uniform":
        return Spread.uniform(-math.sqrt(3) * std, math.sqrt(3) * std)
    return Spread.normal(0.0, std)


def _kaiming(c: Any, shape: tuple[int, ...]) -> Promise:
    a, mode, nonlinearity, distribution = kaiming_args(c)
    return _drawn(M.kaiming_std(M.fan_in_and_fan_out(shape), a, mode, nonlinearity), distribution)


def _xavier(c: Any, shape: tuple[int, ...]) -> Promise:
    return _drawn(M.xavier_std(M.fan_in_and_fan_out(shape), c.gain), c.distribution)


def _variance_scaling(c: Any, shape: tuple[int, ...]) -> Promise:
    scale, mode, distribution = scaling_args(c)
    std = M.variance_scaling_std(M.fan_in_and_fan_out(shape), scale, mode)
    if distribution == "truncated_normal":
        wide = std / M.TRUNCATED_NORMAL_STD
        return Spread.truncated(0.0, wide, -2 * wide, 2 * wide)
    return _drawn(std, "uniform" if distribution == "uniform" else "normal")


def _orthogonal(c: Any, shape: tuple[int, ...]) -> Promise:
    return Structure("orthogonal", f"W Wᵀ = {c.gain:g}² I", gain=float(c.gain))


def _eye(c: Any, shape: tuple[int, ...]) -> Promise:
    return Structure("eye", "identity")


def _dirac(c: Any, shape: tuple[int, ...]) -> Promise:
    return Structure("dirac", f"Dirac(groups={c.groups})", groups=c.groups)


def _sparse(c: Any, shape: tuple[int, ...]) -> Promise:
    label = f"{c.sparsity:g} zeros per column, N(0, {c.std:.4g}²)"
    draws = Spread.normal(0.0, float(c.std)) if c.std > 0 else None
    return Structure("sparse", label, sparsity=float(c.sparsity), draws=draws)


_PROMISES: dict[str, Callable[[Any, tuple[int, ...]], Promise]] = {
    "Constant": _constant,
    "Normal": _normal,
    "Uniform": _uniform,
    "TruncNormal": _trunc_normal,
    "Kaiming": _kaiming,
    "Caffe2Xavier": _kaiming,
    "Xavier": _xavier,
    "VarianceScaling": _variance_scaling,
    "LecunNormal": _variance_scaling,
    "Orthogonal": _orthogonal,
    "Eye": _eye,
    "Dirac": _dirac,
    "Sparse": _sparse,
}
