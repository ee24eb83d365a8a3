"""The transaction around code initspec does not control: model ``init_weights`` and registered writers.

The plan checks every write it makes itself before the first one, so built-in writes cannot fail part-way.
Model code run by a :class:`CallStep` and a registered initializer's apply function can; before the run,
every tensor the plan writes, and every tensor under a module whose model code runs, is copied, and on any exception (``KeyboardInterrupt`` included) every copied
tensor is restored before the exception propagates. The cost is one copy of those tensors, only when the
plan holds such code.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from initspec._walker.shards import holds_no_data
from initspec._walker.steps import CallStep, Step
from initspec._walker.writers import is_builtin

__all__ = ["restore", "save"]

Saved = list[tuple[torch.Tensor, torch.Tensor]]


def save(steps: Sequence[Step | CallStep]) -> Saved | None:
    """Copies of the tensors that code outside initspec may write during ``steps``; ``None`` if none may."""
    if not _uncontrolled(steps):
        return None
    tensors: dict[int, torch.Tensor] = {}
    for step in steps:
        if isinstance(step, CallStep):
            tensors.update((id(t), t) for t in step.module.state_dict(keep_vars=True).values())
        elif step.role != "external":  # written by a load after init, not by this plan
            tensors[id(step.tensor)] = step.tensor
    with torch.no_grad():
        return [(t, t.detach().clone()) for t in tensors.values() if not holds_no_data(t)]


def _uncontrolled(steps: Sequence[Step | CallStep]) -> bool:
    seen: set[int] = set()
    for step in steps:
        if isinstance(step, CallStep):
            return True
        if id(step.init) not in seen:
            seen.add(id(step.init))
            if step.role == "weight" and not is_builtin(step.init):
                return True
    return False


def restore(saved: Saved) -> None:
    """Write every saved copy back."""
    with torch.no_grad():
        for tensor, copy in saved:
            tensor.copy_(copy)
