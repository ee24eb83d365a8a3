"""The module tree as the walker sees it: ``nn.Module.apply``'s post-order, names, and layer-name matching."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

__all__ = ["Node", "Written", "attr", "children", "class_names", "join", "resolve_target"]

_MISSING = object()


def join(path: str, name: str) -> str:
    """``path.name``, or ``name`` at the root."""
    return f"{path}.{name}" if path else name


def resolve_target(module: nn.Module, name: str) -> nn.Module | torch.Tensor | None:
    """The submodule or tensor that an override ``name`` (possibly dotted) designates, or ``None``."""
    obj: object = module
    for part in name.split("."):
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, nn.Module | torch.Tensor) else None


_CLASS_NAMES: dict[type, frozenset[str]] = {}


def class_names(cls: type) -> frozenset[str]:
    """The names a ``layer`` entry matches: the class's own and its direct bases' (as mmengine)."""
    names = _CLASS_NAMES.get(cls)
    if names is None:
        names = _CLASS_NAMES[cls] = frozenset([cls.__name__, *(b.__name__ for b in cls.__bases__)])
    return names


def attr(module: nn.Module, name: str) -> object:
    """``getattr(module, name, None)`` without the cost of ``nn.Module.__getattr__`` raising."""
    for store in (module._parameters, module._buffers, module.__dict__):
        value = store.get(name, _MISSING)
        if value is not _MISSING:
            return value
    return getattr(module, name, None) if hasattr(type(module), name) else None


class Node:
    """One visit of ``nn.Module.apply``: a module, its path, and the start of its post-order subtree."""

    __slots__ = ("children", "module", "path", "start", "tensors")

    def __init__(self, path: str, module: nn.Module, start: int, children: list[int]) -> None:
        self.path, self.module, self.start, self.children = path, module, start, children
        self.tensors: tuple[torch.Tensor | None, torch.Tensor | None] | None = None


class Written:
    """Union-find over post-order positions: the last position at or before ``i`` not yet fully written."""

    def __init__(self, size: int) -> None:
        self._parent = list(range(size + 1))  # slot i + 1 is node i; slot 0 stands for "none left"

    def last_free(self, i: int) -> int:
        parent, slot = self._parent, i + 1
        while parent[slot] != slot:
            parent[slot] = parent[parent[slot]]
            slot = parent[slot]
        return slot - 1

    def mark(self, i: int) -> None:
        """Node ``i``'s weight and bias are written (a node is visited once per scan, so this is final)."""
        self._parent[i + 1] = i


def children(module: nn.Module) -> Iterable[tuple[str, nn.Module]]:
    """``named_children()`` (None skipped, duplicates within one parent dropped), without its generator cost."""
    items = module._modules.items()
    if not items:
        return ()
    if len(items) == 1 and next(iter(items))[1] is not None:
        return items  # type: ignore[return-value]
    seen: set[int] = set()
    out = []
    for name, child in items:
        if child is not None and id(child) not in seen:
            seen.add(id(child))
            out.append((name, child))
    return out
