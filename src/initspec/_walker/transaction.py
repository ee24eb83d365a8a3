"""The transaction around code initspec does not control: model ``init_weights`` and registered writers.

The plan checks every write it makes itself before the first one, so built-in writes cannot fail part-way.
Model code run by a :class:`CallStep` and a registered initializer's apply function can. So when the plan
holds such code, the run keeps a :class:`Journal`: each tensor is copied just before its first write (a
step's tensor before the step runs; a tensor model code writes when the write log sees the in-place call,
which is before it happens), and on any exception (``KeyboardInterrupt`` included) every copied tensor is
written back before the exception propagates. A tensor nothing writes is never copied.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from initspec._shards import holds_no_data
from initspec._walker.steps import CallStep, Step
from initspec._walker.writers import is_builtin

__all__ = ["Journal", "journal_for"]


class Journal:
    """A copy of each tensor taken just before its first write in the run, to write back on failure."""

    def __init__(self) -> None:
        self._saved: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self._saved)

    def save(self, tensor: torch.Tensor) -> None:
        """Copy ``tensor`` unless it was copied already in this run (or holds no data)."""
        if id(tensor) not in self._saved and not holds_no_data(tensor):
            self._saved[id(tensor)] = (tensor, _copy(tensor))

    def restore(self) -> None:
        """Write every saved copy back."""
        with torch.no_grad():
            for tensor, copy in self._saved.values():
                tensor.copy_(copy)


def _copy(tensor: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return tensor.detach().clone()


def journal_for(steps: Sequence[Step | CallStep]) -> Journal | None:
    """A journal when ``steps`` run code outside initspec (model code, a registered writer), else ``None``."""
    seen: set[int] = set()
    last = None  # a rule's steps come together and share one config: skip the set for them
    for step in steps:
        if isinstance(step, CallStep):
            return Journal()
        if step.init is last:
            continue
        last = step.init
        if id(last) not in seen:
            seen.add(id(last))
            if step.role == "weight" and not is_builtin(last):
                return Journal()
    return None
