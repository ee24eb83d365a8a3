"""The walker: resolve configs against a model into ordered writes (``plan_init``), then perform them."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import nn

from initspec._errors import InitPlanError, InitWarning
from initspec._steps import FAN_BASED, CallStep, Source, Step
from initspec.checkpoint import extract_state_dict, load_checkpoint, match_state_dict
from initspec.configs import BaseInit, InitializerConfig, Override, PretrainedInit
from initspec.registry import lint_init_cfg, parse_init_cfg
from initspec.report import CheckpointRecord, InitReport, ParamRecord, UnmatchedLayer, init_args

__all__ = ["InitPlan", "InitReport", "initialize", "plan_init", "plan_init_weights", "resolve_target"]


@dataclass(frozen=True)
class Options:
    """Settings of the ``init_weights`` call in progress, inherited by nested user ``init_weights``."""

    seed: int | None
    skip_overwritten: bool
    strict: bool
    prefix: str


ACTIVE: ContextVar[Options | None] = ContextVar("initspec_active", default=None)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_CLASS_NAMES: dict[type, frozenset[str]] = {}


def _class_names(cls: type) -> frozenset[str]:
    """The names a ``layer`` entry matches: the class's own and its direct bases' (as mmengine)."""
    names = _CLASS_NAMES.get(cls)
    if names is None:
        names = _CLASS_NAMES[cls] = frozenset([cls.__name__, *(b.__name__ for b in cls.__bases__)])
    return names


def resolve_target(module: nn.Module, name: str) -> nn.Module | torch.Tensor | None:
    """The submodule or tensor that an override ``name`` (possibly dotted) designates, or ``None``."""
    obj: object = module
    for part in name.split("."):
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, nn.Module | torch.Tensor) else None


class _Node:
    __slots__ = ("children", "module", "path", "start")

    def __init__(self, path: str, module: nn.Module, start: int, children: list[int]) -> None:
        self.path, self.module, self.start, self.children = path, module, start, children


def _post_order(module: nn.Module, path: str, out: list[_Node]) -> int:
    """Append ``module``'s subtree in ``nn.Module.apply`` order; return the module's own index."""
    start = len(out)
    children = [_post_order(child, _join(path, name), out) for name, child in module.named_children()]
    out.append(_Node(path, module, start, children))
    return len(out) - 1


class _Planner:
    """Builds the ordered steps for one root module; raises before anything is written."""

    def __init__(self, root: nn.Module, *, strict: bool, prefix: str = "") -> None:
        self.root, self.strict, self.prefix = root, strict, prefix
        self.nodes: list[_Node] = []
        _post_order(root, "", self.nodes)
        self.steps: list[Step | CallStep] = []
        self.marks: list[nn.Module] = []
        self.inlined: set[int] = set()
        self.unmatched: list[UnmatchedLayer] = []
        self.checkpoints: list[CheckpointRecord] = []
        self.names = {id(t): n for n, t in _named_tensors(root)}

    # -- one init_cfg entry over a subtree (mmengine's ``initialize``) --------------------------------------
    def run_cfg(self, node: int, cfg: InitializerConfig, index: int) -> None:
        owner = self.nodes[node]
        if isinstance(cfg, PretrainedInit):
            source = Source("checkpoint", owner.path, index, name=cfg.checkpoint)
            self.load(owner.path, owner.module, cfg, source)
        elif isinstance(cfg, BaseInit) and cfg.layer:
            self.match_layers(node, cfg, Source("init_cfg", owner.path, index))
        for j, override in enumerate(getattr(cfg, "override", ())):
            self.run_override(owner, cfg, override, Source("override", owner.path, index, j, override.name))

    def match_layers(self, node: int, cfg: BaseInit, source: Source) -> None:
        layers, hit = frozenset(cfg.layer), set[str]()
        for sub in self.nodes[self.nodes[node].start : node + 1]:
            common = layers & _class_names(type(sub.module))
            if common:
                hit |= common
                self.module_steps(sub.path, sub.module, cfg, source)
        config = _config_label(source)
        self.unmatched += [UnmatchedLayer(config, name) for name in cfg.layer if name not in hit]
        if not hit and not cfg.override:
            self.lint(
                f"{config}: no module matches layer={list(cfg.layer)} under "
                f"'{self.nodes[node].path or '<root>'}', so this config writes nothing"
            )

    def run_override(self, owner: _Node, cfg: InitializerConfig, override: Override, source: Source) -> None:
        target = resolve_target(owner.module, override.name)
        if target is None:
            raise InitPlanError(_missing_target(owner, override.name, source))
        init, path = override.resolve(cfg), _join(owner.path, override.name)
        if isinstance(target, nn.Module) and isinstance(init, PretrainedInit):
            self.load(path, target, init, source)
        elif isinstance(target, nn.Module):
            for sub_path, sub in _walk(target, path):
                self.module_steps(sub_path, sub, init, source)
        elif isinstance(init, PretrainedInit):
            raise InitPlanError(
                f"{_config_label(source)}: Pretrained overrides must name a module, but '{path}' is a tensor"
            )
        else:
            self.weight_step(path, target, init, source)

    # -- individual writes ----------------------------------------------------------------------------------
    def module_steps(self, path: str, module: nn.Module, init: InitializerConfig, source: Source) -> None:
        weight = _tensor_attr(module, "weight", path, source)
        if weight is not None:
            self.weight_step(_join(path, "weight"), weight, init, source)
        bias = _tensor_attr(module, "bias", path, source)
        if bias is not None and isinstance(init, BaseInit):
            self.steps.append(Step(self.name_of(bias, _join(path, "bias")), bias, "bias", init, source))

    def weight_step(self, path: str, tensor: torch.Tensor, init: InitializerConfig, source: Source) -> None:
        if isinstance(init, FAN_BASED) and tensor.dim() < 2:
            raise InitPlanError(
                f"{_config_label(source)}: {init.type} computes fans from the weight's shape and needs at "
                f"least 2 dimensions, but '{path}' has shape {tuple(tensor.shape)}; use an initializer "
                "without fans (Normal, Constant, ...) for it, or narrow 'layer'"
            )
        self.steps.append(Step(self.name_of(tensor, path), tensor, "weight", init, source))

    def load(self, path: str, module: nn.Module, cfg: PretrainedInit, source: Source) -> None:
        checkpoint = load_checkpoint(cfg.checkpoint, map_location=cfg.map_location)
        state = extract_state_dict(checkpoint, prefix=cfg.prefix, source=cfg.checkpoint)
        match = match_state_dict(module, state)
        if not match.ok and cfg.strict:
            raise InitPlanError(f"{_config_label(source)} (strict=True): {match.describe(cfg.checkpoint)}")
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
            self.warn(f"{_config_label(source)} on '{path or '<root>'}': {match.describe(cfg.checkpoint)}")
        targets = module.state_dict(keep_vars=True)
        for key, value in match.loadable.items():
            name = self.name_of(targets[key], _join(path, key))
            self.steps.append(Step(name, targets[key], "load", cfg, source, loaded=value))

    def name_of(self, tensor: torch.Tensor, fallback: str) -> str:
        return self.prefix + self.names.get(id(tensor), fallback)

    # -- lints ----------------------------------------------------------------------------------------------
    def lint(self, message: str) -> None:
        if self.strict:
            raise InitPlanError(f"{message} (strict=True turns this warning into an error)")
        self.warn(message)

    def warn(self, message: str) -> None:
        warnings.warn(message, InitWarning, stacklevel=5)

    def lint_cfgs(self, owner: str, cfgs: Sequence[InitializerConfig]) -> None:
        for problem in lint_init_cfg(cfgs):
            self.lint(problem.render(_join(owner, "init_cfg")))

    def check_layers(self) -> None:
        if self.strict and self.unmatched:
            listed = "; ".join(f"{u.layer!r} in {u.config}" for u in self.unmatched)
            raise InitPlanError(f"layer names match no module: {listed} (strict=True)")


def _config_label(source: Source) -> str:
    owner = f"{source.owner}." if source.owner else ""
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in source.config_loc)
    return f"{owner}init_cfg{loc}"


def _missing_target(owner: _Node, name: str, source: Source) -> str:
    module = owner.module
    choices = [n for n, _ in module.named_modules() if n] + [n for n, _ in module.named_parameters()]
    close = difflib.get_close_matches(name, choices, n=3)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    children = ", ".join(n for n, _ in module.named_children()) or "none"
    return (
        f"{_config_label(source)}: module '{owner.path or '<root>'}' ({type(module).__name__}) has no "
        f"submodule or parameter named {name!r}{hint} Its children: {children}"
    )


def _tensor_attr(module: nn.Module, attr: str, path: str, source: Source) -> torch.Tensor | None:
    value = getattr(module, attr, None)
    if value is None or isinstance(value, torch.Tensor):
        return value
    msg = (
        f"{_config_label(source)}: '{_join(path, attr)}' of {type(module).__name__} is a "
        f"{type(value).__name__}, not a tensor, so it cannot be initialized"
    )
    raise InitPlanError(msg)


def _walk(module: nn.Module, path: str) -> Iterator[tuple[str, nn.Module]]:
    nodes: list[_Node] = []
    _post_order(module, path, nodes)
    return ((n.path, n.module) for n in nodes)


def _named_tensors(root: nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    yield from root.named_parameters()
    yield from root.named_buffers()


class InitPlan:
    """Ordered writes resolved against one model; nothing is written until :meth:`apply`.

    Example:
        >>> import torch
        >>> from initspec import plan_init
        >>> plan = plan_init(torch.nn.Linear(4, 2), dict(type="Kaiming", layer="Linear"))
        >>> [step.name for step in plan.steps]
        ['weight', 'bias']
        >>> report = plan.apply(seed=0)
    """

    def __init__(self, planner: _Planner) -> None:
        self._root = planner.root
        self._prefix = planner.prefix
        self._strict = planner.strict
        self.steps: tuple[Step | CallStep, ...] = tuple(planner.steps)
        self._marks = tuple(planner.marks)
        self._unmatched = tuple(planner.unmatched)
        self._checkpoints = tuple(planner.checkpoints)

    def __len__(self) -> int:
        return len(self.steps)

    def effective_steps(self, skip_overwritten: bool = True) -> list[Step | CallStep]:
        """The steps :meth:`apply` runs: all of them, or only the last write of each tensor."""
        if not skip_overwritten:
            return list(self.steps)
        seen: set[int] = set()
        kept: list[Step | CallStep] = []
        for step in reversed(self.steps):
            if isinstance(step, Step):
                if id(step.tensor) in seen:
                    continue
                seen.add(id(step.tensor))
            kept.append(step)
        kept.reverse()
        return kept

    def apply(self, *, seed: int | None = None, skip_overwritten: bool = True) -> InitReport:
        """Perform the writes and return the report.

        Args:
            seed: Draw each tensor from its own generator seeded from ``(seed, qualified name)``; ``None``
                draws from torch's global RNG in mmengine's order.
            skip_overwritten: Skip writes that a later step overwrites (each tensor drawn once). ``False``
                runs every step and reproduces mmengine's random stream bit for bit.
        """
        token = ACTIVE.set(Options(seed, skip_overwritten, self._strict, self._prefix))
        try:
            with torch.no_grad():
                for step in self.effective_steps(skip_overwritten):
                    if isinstance(step, CallStep):
                        step.call()
                    else:
                        step.run(seed)
        finally:
            ACTIVE.reset(token)
        for module in self._marks:
            object.__setattr__(module, "_is_init", True)
        return self.report()

    def report(self) -> InitReport:
        """The report that :meth:`apply` returns, computed from the plan alone (O(parameters))."""
        last: dict[str, tuple[str, dict[str, Any], str]] = {}
        for step in self.steps:
            if isinstance(step, CallStep):
                for name in step.covers:
                    last[name] = ("init_weights", {}, str(step.source))
            else:
                initializer = "Pretrained" if step.role == "load" else step.init.type
                last[step.name] = (initializer, init_args(step.init, step.role), str(step.source))
        records = {}
        for name, param in self._root.named_parameters():
            full = self._prefix + name
            initializer, args, source = last.get(full, ("", {}, "untouched"))
            records[full] = ParamRecord(full, tuple(param.shape), initializer, args, source)
        return InitReport(records, self._unmatched, self._checkpoints, type(self._root).__name__)


def plan_init(module: nn.Module, init_cfg: object, *, strict: bool = False) -> InitPlan:
    """Resolve ``init_cfg`` against ``module`` as mmengine's ``initialize`` would, writing nothing.

    Raises ``InitConfigError`` for a bad config, and ``InitPlanError`` or ``CheckpointError`` when the config
    does not fit the model (a missing override name, a fan-based initializer on a 1-D weight, an unreadable
    checkpoint, or with ``strict=True`` a lint such as a ``layer`` name that matches nothing).

    Example:
        >>> import torch
        >>> from initspec import plan_init
        >>> plan = plan_init(torch.nn.Conv2d(3, 8, 3), dict(type="Kaiming", layer="Conv2d"))
        >>> len(plan)
        2
    """
    cfgs = parse_init_cfg(init_cfg)
    prefix = _prefix_from_context()
    planner = _Planner(module, strict=strict, prefix=prefix)
    planner.lint_cfgs("", cfgs)
    root = len(planner.nodes) - 1
    for i, cfg in enumerate(cfgs):
        planner.run_cfg(root, cfg, i)
    planner.check_layers()
    return InitPlan(planner)


def initialize(
    module: nn.Module,
    init_cfg: object,
    *,
    seed: int | None = None,
    skip_overwritten: bool = True,
    strict: bool = False,
) -> InitReport:
    """Plan ``init_cfg`` against ``module``, then apply it; see :func:`plan_init` and :meth:`InitPlan.apply`.

    Example:
        >>> import torch
        >>> from initspec import initialize
        >>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Conv2d(8, 8, 3))
        >>> report = initialize(model, dict(type="Constant", val=1, layer="Conv2d"), seed=0)
        >>> report["0.weight"].source
        'init_cfg[0]'
    """
    return plan_init(module, init_cfg, strict=strict).apply(seed=seed, skip_overwritten=skip_overwritten)


def _prefix_from_context() -> str:
    active = ACTIVE.get()
    return active.prefix if active is not None else ""


def plan_init_weights(module: nn.Module, *, strict: bool = False, prefix: str = "") -> InitPlan:
    """Plan ``module.init_weights()`` for a ``BaseModule`` tree in mmengine's order, writing nothing."""
    planner = _Planner(module, strict=strict, prefix=prefix)
    _plan_base_module(planner, len(planner.nodes) - 1)
    planner.check_layers()
    return InitPlan(planner)


def _plan_base_module(planner: _Planner, index: int) -> None:
    node = planner.nodes[index]
    cfgs = _cfgs_of(node.module)
    planner.lint_cfgs(node.path, cfgs)
    for i, cfg in enumerate(cfgs):
        if not isinstance(cfg, PretrainedInit):
            planner.run_cfg(index, cfg, i)
    for child_index in node.children:
        _plan_child(planner, child_index)
    for i, cfg in enumerate(cfgs):
        if isinstance(cfg, PretrainedInit):
            planner.run_cfg(index, cfg, i)
    planner.marks.append(node.module)


def _plan_child(planner: _Planner, index: int) -> None:
    node = planner.nodes[index]
    module = node.module
    if not hasattr(module, "init_weights") and _is_wrapper(module) and node.children:
        index, node = node.children[0], planner.nodes[node.children[0]]
        module = node.module
    if (
        not hasattr(module, "init_weights")
        or getattr(module, "is_init", False)
        or id(module) in planner.inlined
    ):
        return
    planner.inlined.add(id(module))
    if _plans_inline(module):
        _plan_base_module(planner, index)
        return
    if _plans_inline(module, base_only=True):
        _dry_run(module, planner, node.path)
    prefix = planner.prefix + _join(node.path, "")
    covers = tuple(prefix + n for n, _ in module.named_parameters())
    planner.steps.append(CallStep(node.path, module, partial(_call_nested, module, prefix), covers))


def _call_nested(module: nn.Module, prefix: str) -> None:
    """Call a child's own ``init_weights`` as mmengine does, passing the active options down by context."""
    active = ACTIVE.get()
    assert active is not None  # only called from InitPlan.apply
    token = ACTIVE.set(Options(active.seed, active.skip_overwritten, active.strict, prefix))
    try:
        module.init_weights()  # type: ignore[operator]
    finally:
        ACTIVE.reset(token)


def _dry_run(module: nn.Module, planner: _Planner, path: str) -> None:
    """Plan a child whose ``init_weights`` is user code, to raise its config errors before any write."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InitWarning)
        plan_init_weights(module, strict=planner.strict, prefix=planner.prefix + _join(path, ""))


def _is_wrapper(module: nn.Module) -> bool:
    return isinstance(module, nn.DataParallel | nn.parallel.DistributedDataParallel)


def _plans_inline(module: nn.Module, *, base_only: bool = False) -> bool:
    """Whether ``module`` is an initspec ``BaseModule`` (whose ``init_weights`` is not overridden)."""
    if getattr(module, "_initspec_cfgs", None) is None:
        return False
    return base_only or bool(getattr(getattr(type(module), "init_weights", None), "_initspec_inline", False))


def _cfgs_of(module: nn.Module) -> tuple[InitializerConfig, ...]:
    cfgs = getattr(module, "_initspec_cfgs", ())
    return cfgs if isinstance(cfgs, tuple) else ()
