"""The units of an initialization plan: what writes which tensor, and the code that performs each write."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from initspec import functional as F
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


@dataclass(frozen=True, slots=True)
class Source:
    """Why a tensor is written: which module's ``init_cfg`` entry, override or checkpoint."""

    kind: Literal["init_cfg", "override", "checkpoint", "user", "untouched"]
    owner: str = ""
    index: int = 0
    override: int | None = None
    name: str = ""

    def __str__(self) -> str:
        owner = f"{self.owner}." if self.owner else ""
        if self.kind == "untouched":
            return "untouched"
        if self.kind == "user":
            return f"user-defined init_weights of {self.name} ({self.owner or '<root>'})"
        where = f"{owner}init_cfg[{self.index}]"
        if self.override is not None:
            where += f".override[{self.override}] (name={self.name!r})"
        return f"{where} from {self.name}" if self.kind == "checkpoint" and self.override is None else where

    @property
    def config_loc(self) -> tuple[str | int, ...]:
        """The location inside the owner's ``init_cfg``, as used in config problems."""
        return (self.index,) if self.override is None else (self.index, "override", self.override)


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
        """Perform the write; meta tensors are skipped, since they hold no data."""
        tensor = self.tensor
        if tensor.is_meta:
            return
        if self.role == "load":
            assert self.loaded is not None  # set for every load step by the planner
            tensor.copy_(self.loaded)
        elif self.role == "bias":
            assert isinstance(self.init, BaseInit)  # only weight initializers plan bias steps
            tensor.fill_(self.init.bias_value)
        else:
            write_weight(self.init, tensor, generator_for(seed, self.name, tensor.device))


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
    digest = hashlib.blake2b(f"{seed}\0{name}".encode(), digest_size=8).digest()
    generator = torch.Generator(device=device)
    generator.manual_seed(int.from_bytes(digest, "little") >> 1)
    return generator


def write_weight(init: InitializerConfig, tensor: torch.Tensor, generator: torch.Generator | None) -> None:
    """Fill ``tensor`` as ``init`` says, through a registered apply function or a built-in one."""
    apply_fn = INITIALIZERS.applier(init.type)
    if apply_fn is not None:
        apply_fn(init, tensor, generator)
        return
    writer = _BUILTIN_WRITERS.get(type(init))
    if writer is None:
        msg = f"no apply function is registered for initializer type {init.type!r}"
        raise TypeError(msg)
    writer(init, tensor, generator)


def _constant(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    assert isinstance(c, ConstantInit)
    F.constant_(t, c.val)


def _xavier(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    assert isinstance(c, XavierInit)
    F.xavier_(t, c.gain, c.distribution, generator=g)


def _normal(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    assert isinstance(c, NormalInit)
    F.normal_(t, c.mean, c.std, generator=g)


def _trunc_normal(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    assert isinstance(c, TruncNormalInit)
    F.trunc_normal_(t, c.mean, c.std, c.a, c.b, generator=g)


def _uniform(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    assert isinstance(c, UniformInit)
    F.uniform_(t, c.a, c.b, generator=g)


def _kaiming(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    assert isinstance(c, KaimingInit)
    F.kaiming_(t, c.a, c.mode, c.nonlinearity, c.distribution, generator=g)


def _caffe2_xavier(c: InitializerConfig, t: torch.Tensor, g: torch.Generator | None) -> None:
    F.kaiming_(t, 1, "fan_in", "leaky_relu", "uniform", generator=g)


_BUILTIN_WRITERS: dict[type[InitializerConfig], Callable[..., None]] = {
    ConstantInit: _constant,
    XavierInit: _xavier,
    NormalInit: _normal,
    TruncNormalInit: _trunc_normal,
    UniformInit: _uniform,
    KaimingInit: _kaiming,
    Caffe2XavierInit: _caffe2_xavier,
}
