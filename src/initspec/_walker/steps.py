"""The units of an initialization plan: what writes which tensor, and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch

from initspec._checkpoint.copy import copy_loaded
from initspec._errors import InitPlanError, format_loc
from initspec._shards import DENSE_TYPES, holds_no_data, is_sharded, local_view
from initspec._walker.tree import join
from initspec._walker.writers import fill_value, write_weight, writer_of
from initspec.configs import BaseInit, InitializerConfig

__all__ = ["CallStep", "Source", "Step", "require_seed_for_shards"]


class Source(NamedTuple):
    """Why a tensor is written: which module's ``init_cfg`` entry, override or checkpoint, or model code."""

    kind: Literal["init_cfg", "override", "checkpoint", "user", "untouched", "load_from", "resume"]
    owner: str = ""
    entry: int = 0
    override: int | None = None
    name: str = ""
    match: str = ""  # for a glob override name: the path this write is for

    def __str__(self) -> str:
        if self.kind == "untouched":
            return "untouched"
        if self.kind in ("load_from", "resume"):  # the Runner's own load, after init
            return f"{self.kind}: {self.name}"
        if self.kind == "user":
            return f"user-defined init_weights of {self.name} ({self.owner or '<root>'})"
        where = self.label
        if self.override is not None:
            where += f" (name={self.name!r} -> {self.match!r})" if self.match else f" (name={self.name!r})"
        return f"{where} from {self.name}" if self.kind == "checkpoint" and self.override is None else where

    @property
    def config_loc(self) -> tuple[str | int, ...]:
        """The location inside the owner's ``init_cfg``, as used in config problems."""
        return (self.entry,) if self.override is None else (self.entry, "override", self.override)

    @property
    def label(self) -> str:
        """``owner.init_cfg[i].override[j]``: where the rule is written."""
        return format_loc(self.config_loc, join(self.owner, "init_cfg"))


@dataclass(slots=True)
class Step:
    """One write: ``init`` fills tensor ``name`` (its weight role, its bias, or a checkpoint copy).

    An ``external`` step writes nothing: a load after init (the Runner's ``load_from``) writes the tensor.
    """

    name: str
    tensor: torch.Tensor
    role: Literal["weight", "bias", "load", "external"]
    init: InitializerConfig
    source: Source
    loaded: torch.Tensor | None = None

    def run(self, seed: int | None) -> None:
        """Perform the write; tensors on the meta device are skipped, since they hold no data."""
        tensor, role = self.tensor, self.role
        if role == "external":  # not self.writes: this runs once per tensor, so it reads the role directly
            return
        sharded = type(tensor) not in DENSE_TYPES and is_sharded(tensor)
        if tensor.is_meta or (sharded and holds_no_data(tensor)):
            return
        if role == "bias" and isinstance(self.init, BaseInit):
            fill_value(local_view(tensor)[0] if sharded else tensor, self.init.bias_value)
        elif role == "load" and self.loaded is not None:
            copy_loaded(tensor, self.loaded)
        elif seed is None and not sharded:  # what write_weight does for a whole unseeded tensor, inlined
            writer_of(self.init).fill(self.init, tensor, None)
        else:
            write_weight(self.init, tensor, seed, self.name)

    @property
    def writes(self) -> bool:
        """False for an ``external`` step: the checkpoint the Runner loads after init writes that tensor."""
        return self.role != "external"

    @property
    def needs_seed(self) -> bool:
        """A random write to a sharded tensor, which only a ``seed`` can make consistent across ranks."""
        return self.role == "weight" and is_sharded(self.tensor) and writer_of(self.init).random


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


def require_seed_for_shards(steps: list[Step | CallStep]) -> None:
    """Refuse unseeded random writes to sharded tensors, before any write (they would repeat per rank)."""
    sharded = [
        s.name
        for s in steps
        if isinstance(s, Step) and type(s.tensor) not in DENSE_TYPES and is_sharded(s.tensor) and s.needs_seed
    ]
    if sharded:
        listed = ", ".join(sharded[:5]) + (f" and {len(sharded) - 5} more" if len(sharded) > 5 else "")
        msg = (
            f"sharded parameters need a seed: {listed} are DTensors, and torch's random ops give every rank "
            "the same values on a CPU/gloo mesh and world-size-dependent values elsewhere; pass seed=<int> "
            "so each rank draws its slice of one fixed tensor"
        )
        raise InitPlanError(msg)
