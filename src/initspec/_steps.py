"""The units of an initialization plan: what writes which tensor, and the code that performs each write."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch

from initspec import functional as F
from initspec._streams import holds_no_data, is_sharded, local_view, seeded_fill, slice_of, stable_seed
from initspec.configs import (
    INITIALIZERS,
    BaseInit,
    Caffe2XavierInit,
    ConstantInit,
    InitializerConfig,
    KaimingInit,
    NormalInit,
    TruncNormalInit,
    UniformInit,
    XavierInit,
)

__all__ = ["FAN_BASED", "CallStep", "Source", "Step", "generator_for", "write_weight"]

FAN_BASED: tuple[type[InitializerConfig], ...] = (KaimingInit, XavierInit, Caffe2XavierInit)
"""Initializers that compute fans from the weight's shape, so they need at least two dimensions."""


class Source(NamedTuple):
    """Why a tensor is written: which module's ``init_cfg`` entry, override or checkpoint."""

    kind: Literal["init_cfg", "override", "checkpoint", "user", "untouched"]
    owner: str = ""
    entry: int = 0
    override: int | None = None
    name: str = ""

    def __str__(self) -> str:
        owner = f"{self.owner}." if self.owner else ""
        if self.kind == "untouched":
            return "untouched"
        if self.kind == "user":
            return f"user-defined init_weights of {self.name} ({self.owner or '<root>'})"
        where = f"{owner}init_cfg[{self.entry}]"
        if self.override is not None:
            where += f".override[{self.override}] (name={self.name!r})"
        return f"{where} from {self.name}" if self.kind == "checkpoint" and self.override is None else where

    @property
    def config_loc(self) -> tuple[str | int, ...]:
        """The location inside the owner's ``init_cfg``, as used in config problems."""
        return (self.entry,) if self.override is None else (self.entry, "override", self.override)


@dataclass(slots=True)
class Step:
    """One write: ``init`` fills tensor ``name`` (its weight role, its bias, or a checkpoint copy)."""

    name: str
    tensor: torch.Tensor
    role: Literal["weight", "bias", "load"]
    init: InitializerConfig
    source: Source
    loaded: torch.Tensor | None = None

    def run(self, seed: int | None) -> None:
        """Perform the write; tensors on the meta device are skipped, since they hold no data."""
        tensor = self.tensor
        if holds_no_data(tensor):
            return
        if self.role == "load":
            assert self.loaded is not None  # set for every load step by the planner
            local, _, offset = local_view(tensor)
            local.copy_(slice_of(self.loaded, local, offset))
        elif self.role == "bias":
            assert isinstance(self.init, BaseInit)  # only weight initializers plan bias steps
            local_view(tensor)[0].fill_(self.init.bias_value)
        else:
            write_weight(self.init, tensor, seed, self.name)

    @property
    def needs_seed(self) -> bool:
        """A random write to a sharded tensor, which only a ``seed`` can make consistent across ranks."""
        return self.role == "weight" and not isinstance(self.init, ConstantInit) and is_sharded(self.tensor)


@dataclass(frozen=True, slots=True)
class CallStep:
    """A child's own ``init_weights``, called as mmengine calls it; what it writes is not known in advance."""

    path: str
    module: torch.nn.Module
    call: Callable[[], object]
    covers: tuple[str, ...]

    @property
    def source(self) -> Source:
        """Everything under the child is attributed to its ``init_weights``."""
        return Source("user", owner=self.path, name=type(self.module).__name__)


def generator_for(seed: int | None, name: str, device: torch.device) -> torch.Generator | None:
    """A generator seeded from ``(seed, name)`` alone, or ``None`` (the global RNG) without a seed."""
    if seed is None:
        return None
    generator = torch.Generator(device=device)
    generator.manual_seed(stable_seed(seed, name))
    return generator


def write_weight(init: InitializerConfig, tensor: torch.Tensor, seed: int | None, name: str) -> None:
    """Fill ``tensor`` as ``init`` says: from the block stream with a seed, else like mmengine.

    A user-registered initializer gets a generator seeded from ``(seed, name)``; on a sharded tensor it
    fills the full tensor and this rank keeps its slice, which costs the full tensor's memory.
    """
    if isinstance(init, ConstantInit):  # no randomness: fill this rank's data, sharded or not
        local_view(tensor)[0].fill_(init.val)
        return
    if seed is not None and seeded_fill(init, tensor, seed, name):
        return
    apply_fn = INITIALIZERS.applier(init.type) or _BUILTIN_WRITERS.get(type(init))
    if apply_fn is None:
        msg = f"no apply function is registered for initializer type {init.type!r}"
        raise TypeError(msg)
    local, shape, offset = local_view(tensor)
    if local is tensor:
        apply_fn(init, tensor, generator_for(seed, name, tensor.device))
        return
    full = torch.empty(shape, dtype=local.dtype, device=local.device)
    apply_fn(init, full, generator_for(seed, name, local.device))
    local.copy_(slice_of(full, local, offset))


def _plain(t: torch.Tensor) -> bool:
    """A dense tensor that torch.nn.init would fill with one direct ``normal_``/``uniform_`` call."""
    return (type(t) is torch.Tensor or type(t) is torch.nn.Parameter) and t.numel() > 0


def _draw(t: torch.Tensor, std: float, distribution: str, g: torch.Generator | None) -> None:
    """The draw torch.nn.init's kaiming/xavier bodies make, without their per-call checks (configs are valid)."""
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        t.uniform_(-bound, bound, generator=g)
    else:
        t.normal_(0, std, generator=g)


def _xavier(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    assert isinstance(c, XavierInit)
    if not _plain(t):
        F.xavier_(t, c.gain, c.distribution, generator=g)
        return
    fan_in, fan_out = F.fan_in_and_fan_out(t.shape)
    _draw(t, c.gain * math.sqrt(2.0 / float(fan_in + fan_out)), c.distribution, g)


def _normal(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    assert isinstance(c, NormalInit)
    if _plain(t):
        t.normal_(c.mean, c.std, generator=g)
    else:
        F.normal_(t, c.mean, c.std, generator=g)


def _trunc_normal(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    assert isinstance(c, TruncNormalInit)
    F.trunc_normal_(t, c.mean, c.std, c.a, c.b, generator=g)


def _uniform(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    assert isinstance(c, UniformInit)
    if _plain(t):
        t.uniform_(c.a, c.b, generator=g)
    else:
        F.uniform_(t, c.a, c.b, generator=g)


def _kaiming(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    assert isinstance(c, KaimingInit)
    _kaiming_draw(t, c.a, c.mode, c.nonlinearity, c.distribution, g)


def _caffe2_xavier(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    _kaiming_draw(t, 1, "fan_in", "leaky_relu", "uniform", g)


def _kaiming_draw(
    t: torch.Tensor,
    a: float,
    mode: F.Mode,
    nonlinearity: F.Nonlinearity,
    dist: F.Distribution,
    g: torch.Generator | None,
) -> None:
    if not _plain(t):
        F.kaiming_(t, a, mode, nonlinearity, dist, generator=g)
        return
    fan_in, fan_out = F.fan_in_and_fan_out(t.shape)
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    _draw(t, gain / math.sqrt(fan_in if mode == "fan_in" else fan_out), dist, g)


_BUILTIN_WRITERS: dict[type[InitializerConfig], Callable[..., None]] = {
    XavierInit: _xavier,
    NormalInit: _normal,
    TruncNormalInit: _trunc_normal,
    UniformInit: _uniform,
    KaimingInit: _kaiming,
    Caffe2XavierInit: _caffe2_xavier,
}
