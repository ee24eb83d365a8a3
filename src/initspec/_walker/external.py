"""A load that follows init: the tensors mmengine's Runner will load from ``load_from`` or ``resume``.

The Runner calls ``init_weights`` and only then loads its checkpoint. While :data:`LATER` holds what that
checkpoint supplies (names and shapes, read ahead by ``initspec._runner``), every plan ends with one
operation that writes nothing and credits each supplied tensor to the checkpoint. The last-writer scan then
drops the draws the load overwrites (``skip_overwritten=True``); with ``False`` every draw still runs, so
mmengine's random stream is kept. A ``Pretrained`` whose every tensor is supplied is never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from torch import nn

from initspec._walker.steps import Source, Step
from initspec._walker.tree import join
from initspec.configs import PretrainedInit

if TYPE_CHECKING:
    from initspec._walker.rules import PlanBuilder

__all__ = ["LATER", "LaterLoad", "add_later_load", "supplies_module"]


@dataclass
class LaterLoad:
    """The checkpoint the Runner loads after init: ``kind`` says why (``load_from`` or ``resume``)."""

    kind: Literal["load_from", "resume"]
    path: str
    shapes: Mapping[str, tuple[int, ...]]
    skipped: list[str] = field(default_factory=list)  # Pretrained checkpoints left unread

    def supplies(self, name: str, shape: tuple[int, ...]) -> bool:
        """Whether the load writes tensor ``name`` (a shape mismatch is not loaded, so not supplied)."""
        return self.shapes.get(name) == shape


LATER: ContextVar[LaterLoad | None] = ContextVar("initspec_later_load", default=None)


def supplies_module(builder: PlanBuilder, path: str, module: nn.Module, checkpoint: str) -> bool:
    """True (and the checkpoint noted as skipped) when the later load supplies every tensor of ``module``."""
    later = LATER.get()
    if later is None:
        return False
    state = module.state_dict(keep_vars=True)
    where = builder.full(path)
    if not state or not all(later.supplies(join(where, k), tuple(t.shape)) for k, t in state.items()):
        return False
    later.skipped.append(checkpoint)
    return True


def add_later_load(builder: PlanBuilder) -> None:
    """End the plan with the later load: a no-op write of each tensor it supplies, credited to it."""
    later = LATER.get()
    if later is None:
        return
    init = PretrainedInit(checkpoint=later.path)
    source = Source(later.kind, name=later.path)
    tree, prefix = builder.tree, builder.prefix
    steps = [
        Step(prefix + name, tensor, "external", init, source)
        for name, tensor in (*tree.params, *tree.buffers)
        if later.supplies(prefix + name, tuple(tensor.shape))
    ]
    if steps:
        builder.ops.append(steps)
