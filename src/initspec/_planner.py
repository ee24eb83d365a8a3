"""The planner: resolves configs against a module tree into ordered operations, writing nothing.

A layer-matching rule becomes one lazy ``MatchOp`` over a range of the post-order node list rather than
one step per module, so nested ``init_cfg`` chains cost time linear in the model when overwritten writes are
skipped: the last writer of each tensor is found by scanning the operations backwards.
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Literal, NamedTuple

import torch
from torch import nn

from initspec._errors import InitPlanError, InitWarning, Problem, did_you_mean, format_loc
from initspec._steps import FAN_BASED, CallStep, Source, Step
from initspec._tree import Node, Written, attr, children, class_names, join, resolve_target
from initspec.checkpoint import extract_state_dict, load_checkpoint, match_state_dict
from initspec.configs import BaseInit, InitializerConfig, Override, PretrainedInit
from initspec.registry import lint_init_cfg
from initspec.report import CheckpointRecord, UnmatchedLayer

__all__ = ["MatchOp", "Op", "Planner", "config_label"]


def config_label(source: Source) -> str:
    """``owner.init_cfg[i].override[j]``: where the rule behind ``source`` is written."""
    return format_loc(source.config_loc, join(source.owner, "init_cfg"))


class MatchOp(NamedTuple):
    """A config's main rule: every node in ``indices`` gets its weight, then its bias, written."""

    init: BaseInit
    source: Source
    indices: Sequence[int]


Op = MatchOp | CallStep | list[Step]


class Planner:
    """Builds the operations for one root module; every error is raised before anything is written."""

    def __init__(self, root: nn.Module, *, strict: bool, prefix: str = "") -> None:
        self.root, self.strict, self.prefix = root, strict, prefix
        self.nodes: list[Node] = []
        self.params: list[tuple[str, torch.Tensor]] = []
        self.names: dict[int, str] = {}
        self._post_order(root, "")
        self._by_path: dict[str, int] | None = None
        self.ops: list[Op] = []
        self.marks: list[nn.Module] = []
        self.inlined: set[int] = set()
        self.unmatched: list[UnmatchedLayer] = []
        self.checkpoints: list[CheckpointRecord] = []
        self._index: dict[str, list[int]] = {}
        self._low_dim: dict[str, list[int]] = {}

    def by_path(self) -> dict[str, int]:
        """Node index by path, built on first use (only overrides need it)."""
        if self._by_path is None:
            self._by_path = {node.path: i for i, node in enumerate(self.nodes)}
        return self._by_path

    def _post_order(self, module: nn.Module, path: str) -> int:
        start = len(self.nodes)
        if module._parameters:
            self._name_tensors(module._parameters, path, self.params)
        if module._buffers:
            self._name_tensors(module._buffers, path, None)
        kids = [self._post_order(c, f"{path}.{n}" if path else n) for n, c in children(module)]
        self.nodes.append(Node(path, module, start, kids))
        return len(self.nodes) - 1

    def _name_tensors(
        self, tensors: dict[str, Any], path: str, params: list[tuple[str, torch.Tensor]] | None
    ) -> None:
        for key, tensor in tensors.items():
            if tensor is not None and id(tensor) not in self.names:
                self.names[id(tensor)] = name = f"{path}.{key}" if path else key
                if params is not None:
                    params.append((name, tensor))

    # -- one init_cfg entry over a subtree (mmengine's ``initialize``) ------------------------------------
    def run_cfg(self, node: int, cfg: InitializerConfig, index: int) -> None:
        owner = self.nodes[node]
        if isinstance(cfg, PretrainedInit):
            self.load(
                owner.path,
                owner.module,
                cfg,
                Source("checkpoint", self.full(owner.path), index, name=cfg.checkpoint),
            )
        elif isinstance(cfg, BaseInit) and cfg.layer:
            self.match_layers(node, cfg, Source("init_cfg", self.full(owner.path), index))
        for j, override in enumerate(getattr(cfg, "override", ())):
            source = Source("override", self.full(owner.path), index, j, override.name)
            self.run_override(owner, cfg, override, source)

    def match_layers(self, node: int, cfg: BaseInit, source: Source) -> None:
        lo, hi = self.nodes[node].start, node
        found: list[Sequence[int]] = []
        for name in cfg.layer:
            hits = self._in_range(name, lo, hi)
            if not hits:
                self.unmatched.append(UnmatchedLayer(config_label(source), name))
            found.append(hits)
            if isinstance(cfg, FAN_BASED):
                self._check_fans(name, lo, hi, cfg, source)
        indices = found[0] if len(found) == 1 else sorted(set().union(*found))
        if not indices and not cfg.override:
            self.lint(
                f"{config_label(source)}: no module matches layer={list(cfg.layer)} under "
                f"'{self.full(self.nodes[node].path) or '<root>'}', so this config writes nothing"
            )
        self.ops.append(MatchOp(cfg, source, indices))

    def _in_range(self, name: str, lo: int, hi: int) -> Sequence[int]:
        index = self._index.get(name) or self._build_index(name)
        return index[bisect.bisect_left(index, lo) : bisect.bisect_right(index, hi)]

    def _build_index(self, name: str) -> list[int]:
        """Post-order indices of the modules ``name`` matches; their tensors are checked here, once."""
        index = [i for i, n in enumerate(self.nodes) if name in class_names(type(n.module))]
        low = [i for i in index if (w := self.tensors(i)[0]) is not None and w.dim() < 2]
        self._index[name], self._low_dim[name] = index, low
        return index

    def _check_fans(self, name: str, lo: int, hi: int, cfg: InitializerConfig, source: Source) -> None:
        low = self._low_dim[name]
        first = bisect.bisect_left(low, lo)
        if first < len(low) and low[first] <= hi:
            weight = self.tensors(low[first])[0]
            assert weight is not None  # only nodes with a weight are listed
            self.check_fan(join(self.nodes[low[first]].path, "weight"), weight, cfg, source)

    def run_override(self, owner: Node, cfg: InitializerConfig, override: Override, source: Source) -> None:
        target = resolve_target(owner.module, override.name)
        if target is None:
            raise InitPlanError(_missing_target(owner, override.name, source, self.full(owner.path)))
        init, path = override.resolve(cfg), join(owner.path, override.name)
        if isinstance(target, nn.Module) and isinstance(init, PretrainedInit):
            self.load(path, target, init, source)
        elif isinstance(target, nn.Module):
            self.ops.append(self._whole_module(target, path, init, source))
        elif isinstance(init, PretrainedInit):
            raise InitPlanError(
                f"{config_label(source)}: Pretrained overrides must name a module, but '{path}' is a tensor"
            )
        else:
            self.check_fan(path, target, init, source)
            self.ops.append([Step(self.name_of(target, path), target, "weight", init, source)])

    def _whole_module(
        self, target: nn.Module, path: str, init: InitializerConfig, source: Source
    ) -> list[Step]:
        end = self.by_path().get(path)
        if end is None or self.nodes[end].module is not target:
            # Reached through an alias (a property, or a module registered twice in one parent): walk it
            # afresh, but name its tensors by their canonical names in this model.
            sub = Planner(target, strict=self.strict)
            sub.prefix, sub.names = self.prefix, self.names
            for node in sub.nodes:
                node.path = join(path, node.path) if node.path else path
            sub._by_path = None
            return sub._whole_module(target, path, init, source)
        steps: list[Step] = []
        for i in range(self.nodes[end].start, end + 1):
            weight, bias = self.tensors(i)
            node_path = self.nodes[i].path
            if weight is not None:
                self.check_fan(join(node_path, "weight"), weight, init, source)
                steps.append(
                    Step(self.name_of(weight, join(node_path, "weight")), weight, "weight", init, source)
                )
            if bias is not None and isinstance(init, BaseInit):
                steps.append(Step(self.name_of(bias, join(node_path, "bias")), bias, "bias", init, source))
        return steps

    def load(self, path: str, module: nn.Module, cfg: PretrainedInit, source: Source) -> None:
        checkpoint = load_checkpoint(cfg.checkpoint, map_location=cfg.map_location)
        match = match_state_dict(
            module, extract_state_dict(checkpoint, prefix=cfg.prefix, source=cfg.checkpoint)
        )
        if not match.ok and cfg.strict:
            raise InitPlanError(f"{config_label(source)} (strict=True): {match.describe(cfg.checkpoint)}")
        self.checkpoints.append(
            CheckpointRecord(
                str(source),
                cfg.checkpoint,
                len(match.loadable),
                match.missing,
                match.unexpected,
                match.mismatched,
            )
        )
        if not match.ok:
            self.warn(
                f"{config_label(source)} on '{self.full(path) or '<root>'}': {match.describe(cfg.checkpoint)}"
            )
        targets = module.state_dict(keep_vars=True)
        self.ops.append(
            [
                Step(self.name_of(targets[k], join(path, k)), targets[k], "load", cfg, source, loaded=v)
                for k, v in match.loadable.items()
            ]
        )

    # -- tensors -------------------------------------------------------------------------------------------
    def tensors(self, i: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The weight and bias of node ``i`` (``None`` where absent), checked to be tensors."""
        node = self.nodes[i]
        if node.tensors is None:
            node.tensors = (_tensor_attr(node, "weight"), _tensor_attr(node, "bias"))
        return node.tensors

    def check_fan(self, path: str, tensor: torch.Tensor, init: InitializerConfig, source: Source) -> None:
        if isinstance(init, FAN_BASED) and tensor.dim() < 2:
            narrow = (
                "narrow 'layer'" if source.kind == "init_cfg" else "override a submodule without 1-D weights"
            )
            raise InitPlanError(
                f"{config_label(source)}: {init.type} computes fans from the weight's shape and needs at least "
                f"2 dimensions, but '{path}' has shape {tuple(tensor.shape)}; use an initializer without fans "
                f"(Normal, Constant, ...) for it, or {narrow}"
            )

    def full(self, path: str) -> str:
        """``path`` as seen from the model's root (nested ``init_weights`` calls plan a subtree)."""
        return self.prefix + path if path else self.prefix[:-1]

    def name_of(self, tensor: torch.Tensor, fallback: str) -> str:
        return self.prefix + self.names.get(id(tensor), fallback)

    def match_steps(self, op: MatchOp) -> Iterator[Step]:
        """The weight and bias writes of ``op``, in mmengine's order."""
        for i in op.indices:
            weight, bias = self.tensors(i)
            if weight is not None:
                yield self._node_step(i, weight, "weight", op)
            if bias is not None:
                yield self._node_step(i, bias, "bias", op)

    def last_match_steps(self, op: MatchOp, written: set[int], done: Written) -> list[Step]:
        """The writes of ``op`` in reverse order, leaving out tensors in ``written`` (and adding the rest).

        Nodes whose tensors are all written already are skipped in O(log n) through ``done``, so nested
        rules over the same layers cost time linear in the model, not quadratic.
        """
        out: list[Step] = []
        indices, p = op.indices, len(op.indices) - 1
        while p >= 0:
            free = done.last_free(indices[p])
            if free < indices[0]:
                break
            if free != indices[p]:
                p = bisect.bisect_right(indices, free) - 1
                continue
            weight, bias = self.tensors(free)
            for tensor, role in ((bias, "bias"), (weight, "weight")):
                if tensor is not None and id(tensor) not in written:
                    written.add(id(tensor))
                    out.append(self._node_step(free, tensor, role, op))  # type: ignore[arg-type]
            done.mark(free)
            p -= 1
        return out

    def _node_step(self, i: int, tensor: torch.Tensor, role: Literal["weight", "bias"], op: MatchOp) -> Step:
        name = self.names.get(id(tensor))
        if name is None:
            name = join(self.nodes[i].path, role)
        return Step(self.prefix + name, tensor, role, op.init, op.source)

    # -- lints ---------------------------------------------------------------------------------------------
    def lint(self, message: str) -> None:
        if self.strict:
            raise InitPlanError(f"{message} (strict=True turns this warning into an error)")
        self.warn(message)

    def warn(self, message: str) -> None:
        warnings.warn(message, InitWarning, stacklevel=6)

    def lint_cfgs(
        self, owner: str, cfgs: Sequence[InitializerConfig], problems: Sequence[Problem] | None = None
    ) -> None:
        """Warn about (or, strict, reject) legal but suspicious configs; ``problems`` if already linted."""
        for problem in lint_init_cfg(cfgs) if problems is None else problems:
            self.lint(problem.render(join(self.full(owner), "init_cfg")))

    def check_layers(self) -> None:
        if self.strict and self.unmatched:
            listed = "; ".join(f"{u.layer!r} in {u.config}" for u in self.unmatched)
            raise InitPlanError(f"layer names match no module: {listed} (strict=True)")


def _missing_target(owner: Node, name: str, source: Source, path: str) -> str:
    module = owner.module
    choices = [n for n, _ in module.named_modules() if n] + [n for n, _ in module.named_parameters()]
    hint = did_you_mean(name, choices, n=3) or "."
    children = ", ".join(n for n, _ in module.named_children()) or "none"
    return (
        f"{config_label(source)}: module '{path or '<root>'}' ({type(module).__name__}) has no "
        f"submodule or parameter named {name!r}{hint} Its children: {children}"
    )


def _tensor_attr(node: Node, name: str) -> torch.Tensor | None:
    value = attr(node.module, name)
    if value is None or isinstance(value, torch.Tensor):
        return value
    msg = (
        f"'{join(node.path, name)}' of {type(node.module).__name__} is a {type(value).__name__}, not a "
        "tensor, so a rule that matches this module cannot initialize it"
    )
    raise InitPlanError(msg)
