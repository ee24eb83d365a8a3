"""One ``init_cfg`` entry over a subtree, as mmengine's ``initialize``: layer rules, overrides, checkpoints.

A layer rule becomes one lazy :class:`MatchOp` over a range of the post-order node list, not one step per
module, so nested ``init_cfg`` chains cost time linear in the model (see README.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import torch
from torch import nn

from initspec._errors import CheckpointError, InitPlanError, InitWarning, Problem, did_you_mean
from initspec._walker.checks import check_key, check_write
from initspec._walker.external import supplies_module
from initspec._walker.globs import candidates, expand, is_glob
from initspec._walker.steps import CallStep, Source, Step
from initspec._walker.tree import LayerKind, Node, TensorKind, Tree, join, resolve_target, tensor_kind
from initspec.checkpoint import extract_state_dict, load_checkpoint, match_state_dict
from initspec.configs import BaseInit, InitializerConfig, Override, PretrainedInit
from initspec.registry import lint_init_cfg
from initspec.report import CheckpointRecord, UnmatchedLayer

__all__ = ["MatchOp", "Op", "PlanBuilder"]


class MatchOp(NamedTuple):
    """A config's main rule: every node in ``indices`` gets its weight, then its bias, written."""

    init: BaseInit
    source: Source
    indices: Sequence[int]


Op = MatchOp | CallStep | list[Step]
Loaded = dict[tuple[str, str], dict[str, Any]]
"""Checkpoints read in one run, by (source, map_location): the dry run of model code and its run share them."""


class PlanBuilder:
    """Collects the operations for one root module; every error is raised before anything is written."""

    def __init__(
        self,
        root: nn.Module,
        *,
        strict: bool,
        prefix: str = "",
        tree: Tree | None = None,
        loaded: Loaded | None = None,
        dry: bool = False,
    ) -> None:
        self.tree = Tree(root) if tree is None else tree
        self.strict, self.prefix, self.dry = strict, prefix, dry
        self.loaded: Loaded = {} if loaded is None else loaded  # checkpoints read in this run, read once
        self.ops: list[Op] = []
        self.marks: list[nn.Module] = []
        self.unmatched: list[UnmatchedLayer] = []
        self.checkpoints: list[CheckpointRecord] = []
        self.visited: set[int] = set()  # modules with is_init planned in this run (protocol.first_visit)
        self.model_code: list[tuple[nn.Module, str, str | None]] = []
        self._passed: set[tuple[object, ...]] = set()
        self._seen: dict[tuple[int, int], tuple[InitializerConfig, LayerKind]] = {}

    def full(self, path: str) -> str:
        """``path`` as seen from the model's root (nested ``init_weights`` calls plan a subtree)."""
        return self.prefix + path if path else self.prefix[:-1]

    def add_call(self, step: CallStep) -> None:
        """A child's own ``init_weights``, run in its place in the order."""
        self.ops.append(step)

    def expect_generic(self, module: nn.Module, where: str, problem: str | None) -> None:
        """``module``'s config is applied only if its model-code ``init_weights`` calls ``super()``."""
        self.model_code.append((module, where, problem))

    def mark(self, module: nn.Module) -> None:
        """``module`` counts as initialized once the plan has run."""
        self.marks.append(module)

    # -- one init_cfg entry -------------------------------------------------------------------------------
    def run_cfg(self, node: int, cfg: InitializerConfig, index: int) -> None:
        owner = self.tree.nodes[node]
        if isinstance(cfg, PretrainedInit):
            source = Source("checkpoint", self.full(owner.path), index, name=cfg.checkpoint)
            self._load(owner.path, owner.module, cfg, source)
        elif isinstance(cfg, BaseInit) and cfg.layer:
            self._match_layers(node, cfg, Source("init_cfg", self.full(owner.path), index))
        for j, override in enumerate(getattr(cfg, "override", ())):
            source = Source("override", self.full(owner.path), index, j, override.name)
            self._run_override(owner, cfg, override, source)

    def _match_layers(self, node: int, cfg: BaseInit, source: Source) -> None:
        tree, lo = self.tree, self.tree.nodes[node].start
        found: list[Sequence[int]] = []
        for name in cfg.layer:
            hits, kinds = tree.layer_matches(name, lo, node)
            if not hits:
                self.unmatched.append(UnmatchedLayer(source.label, name))
            found.append(hits)
            for kind in kinds:
                if (id(cfg), id(kind)) not in self._seen:  # nested rules repeat kinds: each is checked once
                    self._check(kind, cfg, source, lo, node)
        indices = found[0] if len(found) == 1 else sorted(set().union(*found))
        if not indices and not cfg.override:
            self.lint(
                f"{source.label}: no module matches layer={list(cfg.layer)} under "
                f"'{self.full(tree.nodes[node].path) or '<root>'}', so this config writes nothing"
            )
        self.ops.append(MatchOp(cfg, source, indices))

    def _check(self, kind: LayerKind, cfg: BaseInit, source: Source, lo: int, hi: int) -> None:
        """``check_write`` of a kind's weight and bias (a failure names the first such layer in ``[lo, hi]``).

        Equal configs are one object (see protocol) and each kind one object of the tree (``Tree.layer_matches``),
        so what was checked is remembered by their ids; both objects are held, so no id is reused in the plan.
        """
        first = kind.first_in(lo, hi)
        path = self.tree.nodes[first].path if first is not None else ""
        if kind.weight is not None:
            self._check_role(path, kind.weight, "weight", cfg, source)
        if kind.bias is not None:
            self._check_role(path, kind.bias, "bias", cfg, source)
        self._seen[id(cfg), id(kind)] = (cfg, kind)

    def _check_role(
        self, path: str, kind: TensorKind, role: Literal["weight", "bias"], cfg: BaseInit, source: Source
    ) -> None:
        """One check per verdict key: equal configs, tensor kinds and roles share a verdict."""
        key = check_key(cfg, kind, role)
        if key not in self._passed:
            check_write(join(path, role), kind, role, cfg, source)
            self._passed.add(key)

    def _run_override(self, owner: Node, cfg: InitializerConfig, override: Override, source: Source) -> None:
        if not is_glob(override.name):
            self._override_one(owner, cfg, override, override.name, source)
            return
        matched = expand(owner.module, override.name)
        if not matched:
            raise InitPlanError(_unmatched_glob(owner, override.name, source, self.full(owner.path)))
        for name in matched:
            self._override_one(owner, cfg, override, name, source._replace(match=name))

    def _override_one(
        self, owner: Node, cfg: InitializerConfig, override: Override, name: str, source: Source
    ) -> None:
        target = resolve_target(owner.module, name)
        if target is None:
            raise InitPlanError(_missing_target(owner, name, source, self.full(owner.path)))
        init, path = override.resolve(cfg), join(owner.path, name)
        if isinstance(target, nn.Module) and isinstance(init, PretrainedInit):
            self._load(path, target, init, source)
        elif isinstance(target, nn.Module):
            self.ops.append(self._whole_module(target, path, init, source))
        elif isinstance(init, PretrainedInit):
            msg = f"{source.label}: Pretrained overrides must name a module, but '{path}' is a tensor"
            raise InitPlanError(msg)
        else:
            check_write(path, tensor_kind(target), "weight", init, source)
            self.ops.append([self._step(target, path, "weight", init, source)])

    def _whole_module(
        self, target: nn.Module, path: str, init: InitializerConfig, source: Source
    ) -> list[Step]:
        tree = self.tree
        end = tree.by_path(path)
        if end is None or tree.nodes[end].module is not target:
            # Reached through an alias (a property, or a module registered twice in one parent): walk it
            # afresh, but name its tensors by their canonical names in this model.
            tree, end, base = Tree(target), None, path
        else:
            base = ""
        end = tree.root_index if end is None else end
        steps: list[Step] = []
        for i in range(tree.nodes[end].start, end + 1):
            weight, bias = tree.tensors(i)
            node_path = (
                join(base, tree.nodes[i].path) if base and tree.nodes[i].path else base or tree.nodes[i].path
            )
            if weight is not None:
                check_write(join(node_path, "weight"), tensor_kind(weight), "weight", init, source)
                steps.append(self._step(weight, join(node_path, "weight"), "weight", init, source))
            if bias is not None and isinstance(init, BaseInit):
                check_write(join(node_path, "bias"), tensor_kind(bias), "bias", init, source)
                steps.append(self._step(bias, join(node_path, "bias"), "bias", init, source))
        return steps

    def _step(
        self, tensor: torch.Tensor, path: str, role: str, init: InitializerConfig, source: Source
    ) -> Step:
        return Step(self.prefix + self.tree.name_of(tensor, path), tensor, role, init, source)  # type: ignore[arg-type]

    def _load(self, path: str, module: nn.Module, cfg: PretrainedInit, source: Source) -> None:
        if self.dry:  # model code may read the file itself, with keys of its own: a real run reads it once
            return
        if supplies_module(self, path, module, cfg.checkpoint):
            return  # the Runner's load_from/resume overwrites all of it: never read or download it
        try:
            checkpoint = self._read(cfg)
            state = extract_state_dict(
                checkpoint, prefix=cfg.prefix, revise_keys=cfg.revise_keys, source=cfg.checkpoint
            )
        except CheckpointError as error:  # say which config, as the other plan errors do
            raise CheckpointError(f"{source.label}: {error}") from error
        match = match_state_dict(module, state)
        if match.incompatible:  # mmengine would drop data silently or fail mid-copy: never load them
            listed = "; ".join(problem for _, problem in match.incompatible[:5])
            raise InitPlanError(
                f"{source.label}: checkpoint {cfg.checkpoint} cannot load into the model: {listed}; "
                "nothing was written"
            )
        if not match.ok and cfg.strict:
            raise InitPlanError(f"{source.label} (strict=True): {match.describe(cfg.checkpoint)}")
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
            self.warn(f"{source.label} on '{self.full(path) or '<root>'}': {match.describe(cfg.checkpoint)}")
        targets = module.state_dict(keep_vars=True)
        self.ops.append(
            [
                Step(
                    self.prefix + self.tree.name_of(targets[k], join(path, k)),
                    targets[k],
                    "load",
                    cfg,
                    source,
                    v,
                )
                for k, v in match.loadable.items()
            ]
        )

    def _read(self, cfg: PretrainedInit) -> dict[str, Any]:
        key = (cfg.checkpoint, str(cfg.map_location))
        if key not in self.loaded:
            self.loaded[key] = load_checkpoint(cfg.checkpoint, map_location=cfg.map_location)
        return self.loaded[key]

    # -- lints ---------------------------------------------------------------------------------------------
    def lint(self, message: str) -> None:
        """A legal but suspicious config: a warning, or an error with ``strict``."""
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
        """With ``strict``, every ``layer`` name must have matched a module."""
        if self.strict and self.unmatched:
            listed = "; ".join(f"{u.layer!r} in {u.config}" for u in self.unmatched)
            raise InitPlanError(f"layer names match no module: {listed} (strict=True)")


def _unmatched_glob(owner: Node, pattern: str, source: Source, path: str) -> str:
    choices = candidates(owner.module)
    hint = did_you_mean(pattern, choices, n=3) or did_you_mean(pattern.replace("*", ""), choices, n=3) or "."
    return (
        f"{source.label}: the glob {pattern!r} matches no submodule or parameter path under module "
        f"'{path or '<root>'}' ({type(owner.module).__name__}){hint} '*' matches one dotted segment, "
        "'**' any number of them"
    )


def _missing_target(owner: Node, name: str, source: Source, path: str) -> str:
    module = owner.module
    hint = did_you_mean(name, candidates(module), n=3) or "."
    kids = ", ".join(n for n, _ in module.named_children()) or "none"
    return (
        f"{source.label}: module '{path or '<root>'}' ({type(module).__name__}) has no "
        f"submodule or parameter named {name!r}{hint} Its children: {kids}"
    )
