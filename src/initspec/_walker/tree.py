"""The module tree as the walker sees it: ``nn.Module.apply``'s post-order, tensor names, layer matching."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Reversible, Sequence
from typing import Any, NamedTuple

import torch
from torch import nn

from initspec._errors import InitPlanError
from initspec._shards import holds_no_data

__all__ = [
    "LayerKind",
    "Node",
    "TensorKind",
    "Tree",
    "along",
    "attr",
    "children",
    "class_names",
    "join",
    "resolve_target",
]

_MISSING = object()


def join(path: str, name: str) -> str:
    """``path.name``, or ``name`` at the root."""
    return f"{path}.{name}" if path else name


def along(root: nn.Module, path: str) -> list[object]:
    """What a dotted ``path`` passes through from ``root``: ``root``, then the value of each part in turn.

    The one lookup by dotted name, for override names and for ``explain``'s ``model.<path>.init_cfg``: it
    stops at the first part that is missing (or ``None``), or below a value that is not a module, so the
    path resolved in full exactly when the list is one longer than the path has parts.
    """
    out: list[object] = [root]
    for part in path.split(".") if path else ():
        parent = out[-1]
        if not isinstance(parent, nn.Module):
            break
        value = parent._modules.get(part) if part in parent._modules else attr(parent, part)
        if value is None:
            break
        out.append(value)
    return out


def resolve_target(module: nn.Module, name: str) -> nn.Module | torch.Tensor | None:
    """The submodule or tensor that an override ``name`` (possibly dotted) designates, or ``None``."""
    found = along(module, name)
    target = found[-1]
    if len(found) == name.count(".") + 2 and isinstance(target, nn.Module | torch.Tensor):
        return target
    return None


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


def children(module: nn.Module) -> Reversible[tuple[str, nn.Module]]:
    """``named_children()`` (None skipped, duplicates within one parent dropped), without its generator cost."""
    modules = module._modules
    if not modules:
        return ()
    try:
        distinct = set(modules.values())  # modules hash by identity unless a class says otherwise
    except TypeError:  # a module class with __eq__ and no __hash__: the identity check below
        distinct = set()
    if len(distinct) == len(modules) and None not in distinct:  # the usual case, checked in C
        return modules.items()  # type: ignore[return-value]
    seen: set[int] = set()
    out = []
    for name, child in modules.items():
        if child is not None and id(child) not in seen:
            seen.add(id(child))
            out.append((name, child))
    return out


class TensorKind(NamedTuple):
    """What the plan-time checks need of a tensor, so equal tensors are checked once per rule."""

    shape: tuple[int, ...]
    dtype: torch.dtype
    layout: str | None  # why the tensor cannot be written in place, or None


def tensor_kind(tensor: torch.Tensor) -> TensorKind:
    """The kind of ``tensor``: its global shape, dtype, and any layout that forbids an in-place write."""
    if tensor.layout is torch.strided and tensor.is_contiguous() and not tensor.is_inference():
        return TensorKind(tuple(tensor.shape), tensor.dtype, None)  # the common case, checked inline
    return TensorKind(tuple(tensor.shape), tensor.dtype, _layout_problem(tensor))


def _kind_key(tensor: torch.Tensor | None) -> object:
    """A cheap key equal for tensors of one :class:`TensorKind` (a plain tuple: no ``TensorKind`` is built)."""
    if tensor is None:
        return None
    if tensor.layout is torch.strided and tensor.is_contiguous() and not tensor.is_inference():
        return tensor.shape, tensor.dtype
    kind = tensor_kind(tensor)
    return (kind.shape, kind.dtype) if kind.layout is None else kind


def _layout_problem(tensor: torch.Tensor) -> str | None:
    if tensor.layout is torch.strided and tensor.is_contiguous() and not tensor.is_inference():
        return None  # the common case: a contiguous tensor cannot be expanded
    if tensor.layout != torch.strided:
        return f"a {str(tensor.layout).removeprefix('torch.')} tensor, not a strided one"
    if tensor.is_inference():
        return "an inference-mode tensor, which cannot be written outside inference mode"
    if any(s == 0 and n > 1 for s, n in zip(tensor.stride(), tensor.shape, strict=True)):
        return "an expanded tensor (stride 0), whose elements share memory"
    return None


_NO_CHILDREN: list[int] = []  # a leaf's (shared: nothing appends to a leaf's list)


class Node:
    """One visit of ``nn.Module.apply``: a module, its path, and the start of its post-order subtree."""

    __slots__ = ("children", "module", "path", "start", "tensors")

    def __init__(
        self,
        path: str,
        module: nn.Module,
        start: int,
        children: list[int],
        tensors: tuple[torch.Tensor | None, torch.Tensor | None] | None = None,
    ) -> None:
        self.path, self.module, self.start, self.children = path, module, start, children
        self.tensors = tensors  # weight and bias, once looked up (the walk fills a layer's in passing)


class Tree:
    """The post-order nodes of one root, the canonical name of every tensor, and a per-layer-name index."""

    def __init__(self, root: nn.Module, names: dict[int, str] | None = None) -> None:
        self.root = root
        self.nodes: list[Node] = []
        self.params: list[tuple[str, torch.Tensor]] = []
        self.buffers: list[tuple[str, torch.Tensor]] = []
        self.names: dict[int, str] = {} if names is None else names
        self._post_order(root)
        self._by_path: dict[str, int] | None = None
        self._index: dict[str, list[int]] = {}
        self._kinds: dict[str, list[LayerKind]] = {}

    def _post_order(self, root: nn.Module) -> None:
        """Visit the modules as ``nn.Module.apply`` does, with an explicit stack instead of recursion.

        Tensors are named in pre-order (``named_parameters``'s order), nodes appended in post-order. A stack
        of tuples, not recursion: each Python frame of a deep model (a chain of depth 100) would cost memory
        the interpreter maps and unmaps afresh on every walk (and a deep enough model a ``RecursionError``).
        """
        nodes, params, buffers = self.nodes, self.params, self.buffers
        # (module, path, the parent's list of child indices, own child list once entered, start once entered)
        stack: list[tuple[nn.Module, str, list[int] | None, list[int] | None, int]] = [
            (root, "", None, None, 0)
        ]
        while stack:
            module, path, parent_kids, kids, start = stack.pop()
            if kids is not None:  # every child is done: the node itself, in post-order
                if parent_kids is not None:
                    parent_kids.append(len(nodes))
                nodes.append(Node(path, module, start, kids))
                continue
            start = len(nodes)
            prefix = path + "." if path else ""
            own = module._parameters
            tensors = None
            if own:
                self._name_tensors(own, prefix, params)
                if "weight" in own and "bias" in own:  # a layer's (what tensors() would find there)
                    tensors = (own["weight"], own["bias"])
            if module._buffers:  # the persistent ones: a non-persistent buffer is derived state, not a weight
                skip = module._non_persistent_buffers_set
                kept = (
                    {k: v for k, v in module._buffers.items() if k not in skip} if skip else module._buffers
                )
                self._name_tensors(kept, prefix, buffers)
            if module._modules:
                kids = []
                stack.append((module, path, parent_kids, kids, start))
                for n, c in reversed(children(module)):  # a loop, not a comprehension: no frame per module
                    stack.append((c, prefix + n, kids, None, 0))
            else:  # a leaf is done at once
                if parent_kids is not None:
                    parent_kids.append(start)
                nodes.append(Node(path, module, start, _NO_CHILDREN, tensors))

    def _name_tensors(
        self, tensors: dict[str, Any], prefix: str, out: list[tuple[str, torch.Tensor]]
    ) -> None:
        names = self.names
        for key, tensor in tensors.items():
            if tensor is not None and (tid := id(tensor)) not in names:
                names[tid] = name = prefix + key
                out.append((name, tensor))

    def meta_only(self) -> bool:
        """Whether every parameter is on the meta device (so nothing can be written: it is planned only)."""
        return bool(self.params) and all(holds_no_data(tensor) for _, tensor in self.params)

    @property
    def root_index(self) -> int:
        return len(self.nodes) - 1

    def by_path(self, path: str) -> int | None:
        """The node index of ``path`` (the index is built on first use: only overrides need it)."""
        if self._by_path is None:
            self._by_path = {node.path: i for i, node in enumerate(self.nodes)}
        return self._by_path.get(path)

    def name_of(self, tensor: torch.Tensor, fallback: str) -> str:
        """The tensor's canonical name in this tree (its first registration), else ``fallback``."""
        return self.names.get(id(tensor), fallback)

    def tensors(self, i: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The weight and bias of node ``i`` (``None`` where absent), checked to be tensors."""
        node = self.nodes[i]
        if node.tensors is None:
            node.tensors = (_tensor_attr(node, "weight"), _tensor_attr(node, "bias"))
        return node.tensors

    def layer_matches(self, name: str, lo: int, hi: int) -> tuple[Sequence[int], Sequence[LayerKind]]:
        """Post-order indices in ``[lo, hi]`` of the modules a ``layer`` entry ``name`` matches, and the kinds
        of (weight, bias) among them.

        Each kind is one object per tree and name, so a caller may remember a verdict by its ``id``.
        """
        index = self._index.get(name)
        if index is None:
            index = self._build_index(name)
        first, last = bisect.bisect_left(index, lo), bisect.bisect_right(index, hi)
        if first == last:
            return [], []
        kinds = self._kinds[name]
        if len(kinds) == 1:  # one kind (the usual case): every match is of it
            return index[first:last], kinds
        return index[first:last], [kind for kind in kinds if kind.first_in(lo, hi) is not None]

    def _build_index(self, name: str) -> list[int]:
        types = [type(node.module) for node in self.nodes]
        hit = {cls: name in class_names(cls) for cls in set(types)}  # a few classes, many modules
        index = list(itertools.compress(range(len(types)), map(hit.__getitem__, types)))
        groups: dict[tuple[object, object], list[int]] = {}
        tree_nodes = self.nodes
        for i in index:
            weight, bias = tree_nodes[i].tensors or self.tensors(i)
            key = (_kind_key(weight), _kind_key(bias))
            group = groups.get(key)
            if group is None:
                groups[key] = [i]
            else:
                group.append(i)
        if len(groups) == 1:  # one kind (the usual case): its node list is the index itself
            groups = {key: index for key in groups}
        kinds = []
        for nodes in groups.values():  # the kind itself is built once per group, from its first tensor
            weight, bias = self.tensors(nodes[0])
            kinds.append(
                LayerKind(
                    None if weight is None else tensor_kind(weight),
                    None if bias is None else tensor_kind(bias),
                    nodes,
                )
            )
        self._index[name], self._kinds[name] = index, kinds
        return index


class LayerKind(NamedTuple):
    """The layers of one ``layer`` name whose weights and biases are of one kind each (``None``: absent)."""

    weight: TensorKind | None
    bias: TensorKind | None
    nodes: list[int]  # in post-order

    def first_in(self, lo: int, hi: int) -> int | None:
        """The first of :attr:`nodes` in ``[lo, hi]``, or ``None``."""
        at = bisect.bisect_left(self.nodes, lo)
        return self.nodes[at] if at < len(self.nodes) and self.nodes[at] <= hi else None


def _tensor_attr(node: Node, name: str) -> torch.Tensor | None:
    value = node.module._parameters.get(name, _MISSING)  # where a layer's weight and bias almost always are
    if value is _MISSING:
        value = attr(node.module, name)
    if value is None or isinstance(value, torch.Tensor):
        return value
    msg = (
        f"'{join(node.path, name)}' of {type(node.module).__name__} is a {type(value).__name__}, not a "
        "tensor, so a rule that matches this module cannot initialize it"
    )
    raise InitPlanError(msg)
