"""The walker's public face: ``plan_init`` resolves configs into ordered writes, ``InitPlan.apply`` runs them."""

from __future__ import annotations

import warnings
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import nn

from initspec._errors import InitPlanError, InitWarning
from initspec._planner import MatchOp, Planner
from initspec._steps import CallStep, Step
from initspec._streams import holds_no_data
from initspec._tree import Written, join, resolve_target
from initspec.configs import InitializerConfig, PretrainedInit
from initspec.registry import parse_init_cfg
from initspec.report import InitReport, ParamRecord, init_args

__all__ = ["InitPlan", "InitReport", "initialize", "plan_init", "plan_init_weights", "resolve_target"]


@dataclass(frozen=True)
class Options:
    """Settings of the ``init_weights`` call in progress, inherited by nested user ``init_weights``."""

    seed: int | None
    skip_overwritten: bool
    strict: bool
    prefix: str


ACTIVE: ContextVar[Options | None] = ContextVar("initspec_active", default=None)


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

    def __init__(self, planner: Planner) -> None:
        self._planner = planner
        self._last: list[Step | CallStep] | None = None

    @property
    def steps(self) -> list[Step | CallStep]:
        """Every write in mmengine's order, including those a later step overwrites."""
        out: list[Step | CallStep] = []
        for op in self._planner.ops:
            if isinstance(op, MatchOp):
                out += self._planner.match_steps(op)
            elif isinstance(op, CallStep):
                out.append(op)
            else:
                out += op
        return out

    def __len__(self) -> int:
        return len(self.steps)

    def effective_steps(self, skip_overwritten: bool = True) -> list[Step | CallStep]:
        """The steps :meth:`apply` runs: all of them, or only the last write of each tensor."""
        if not skip_overwritten:
            return self.steps
        if self._last is None:
            self._last = self._last_writes()
        return self._last

    def _last_writes(self) -> list[Step | CallStep]:
        written: set[int] = set()
        done = Written(len(self._planner.nodes))
        kept: list[Step | CallStep] = []
        for op in reversed(self._planner.ops):
            if isinstance(op, CallStep):
                kept.append(op)
                continue
            if isinstance(op, MatchOp):
                kept += self._planner.last_match_steps(op, written, done)
                continue
            for step in reversed(op):
                if id(step.tensor) not in written:
                    written.add(id(step.tensor))
                    kept.append(step)
        kept.reverse()
        return kept

    def apply(self, *, seed: int | None = None, skip_overwritten: bool = True) -> InitReport:
        """Perform the writes and return the report.

        Args:
            seed: Draw each tensor from its own generator seeded from ``(seed, qualified name)``; ``None``
                draws from torch's global RNG in mmengine's order.
            skip_overwritten: Skip writes that a later step overwrites, so each tensor is drawn once.
                ``False`` runs every step and reproduces mmengine's random stream bit for bit.
        """
        planner = self._planner
        steps = self.effective_steps(skip_overwritten)
        if seed is None:
            _require_seed_for_shards(steps)
        token = ACTIVE.set(Options(seed, skip_overwritten, planner.strict, planner.prefix))
        try:
            with torch.no_grad():
                for step in steps:
                    if isinstance(step, CallStep):
                        step.call()
                    else:
                        step.run(seed)
        finally:
            ACTIVE.reset(token)
        if not _meta_only(planner):  # a meta model is planned, not initialized: init_weights must run again
            for module in planner.marks:
                object.__setattr__(module, "_is_init", True)
        return self.report()

    def report(self) -> InitReport:
        """The report :meth:`apply` returns, computed from the plan alone (no tensor values are read)."""
        planner = self._planner
        name = type(planner.root).__name__
        return InitReport(self._records, tuple(planner.unmatched), tuple(planner.checkpoints), name)

    def _records(self) -> dict[str, ParamRecord]:
        last: dict[str, tuple[str, dict[str, Any], str]] = {}
        described: dict[tuple[int, str, int], tuple[str, dict[str, Any], str]] = {}
        for step in self.effective_steps():
            if isinstance(step, CallStep):
                user: tuple[str, dict[str, Any], str] = ("init_weights", {}, str(step.source))
                last.update(dict.fromkeys(step.covers, user))
                continue
            key = (id(step.init), step.role, id(step.source))
            if key not in described:
                kind = "Pretrained" if step.role == "load" else step.init.type
                described[key] = (kind, init_args(step.init, step.role), str(step.source))
            last[step.name] = described[key]
        prefix, records = self._planner.prefix, {}
        for name, param in self._planner.params:
            kind, args, source = last.get(prefix + name, ("", {}, "untouched"))
            records[prefix + name] = ParamRecord(prefix + name, tuple(param.shape), kind, args, source)
        return records


def _meta_only(planner: Planner) -> bool:
    """Whether every parameter of the planned model is on the meta device (so nothing was written)."""
    return bool(planner.params) and all(holds_no_data(tensor) for _, tensor in planner.params)


def _require_seed_for_shards(steps: list[Step | CallStep]) -> None:
    """Refuse unseeded random writes to sharded tensors, before any write (they would repeat per rank)."""
    sharded = [s.name for s in steps if isinstance(s, Step) and s.needs_seed]
    if sharded:
        listed = ", ".join(sharded[:5]) + (f" and {len(sharded) - 5} more" if len(sharded) > 5 else "")
        msg = (
            f"sharded parameters need a seed: {listed} are DTensors, and torch's random ops give every rank "
            "the same values on a CPU/gloo mesh and world-size-dependent values elsewhere; pass seed=<int> "
            "so each rank draws its slice of one fixed tensor"
        )
        raise InitPlanError(msg)


def plan_init(module: nn.Module, init_cfg: object, *, strict: bool = False) -> InitPlan:
    """Resolve ``init_cfg`` against ``module`` as mmengine's ``initialize`` would, writing nothing.

    Raises ``InitConfigError`` for a bad config, and ``InitPlanError`` or ``CheckpointError`` when the config
    does not fit the model: a missing override name, a fan-based initializer on a 1-D weight, an unreadable
    checkpoint, or with ``strict=True`` a lint such as a ``layer`` name that matches nothing.

    Example:
        >>> import torch
        >>> from initspec import plan_init
        >>> plan = plan_init(torch.nn.Conv2d(3, 8, 3), dict(type="Kaiming", layer="Conv2d"))
        >>> len(plan)
        2
    """
    cfgs = parse_init_cfg(init_cfg)
    active = ACTIVE.get()
    planner = Planner(module, strict=strict, prefix=active.prefix if active is not None else "")
    planner.lint_cfgs("", cfgs)
    for i, cfg in enumerate(cfgs):
        planner.run_cfg(len(planner.nodes) - 1, cfg, i)
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


def plan_init_weights(module: nn.Module, *, strict: bool = False, prefix: str = "") -> InitPlan:
    """Plan ``module.init_weights()`` for a ``BaseModule`` tree in mmengine's order, writing nothing."""
    planner = Planner(module, strict=strict, prefix=prefix)
    _plan_base_module(planner, len(planner.nodes) - 1)
    planner.check_layers()
    return InitPlan(planner)


def _plan_base_module(planner: Planner, index: int) -> None:
    """Own non-Pretrained configs over the subtree, then the children, then own Pretrained configs."""
    node = planner.nodes[index]
    cfgs = _cfgs_of(node.module)
    planner.lint_cfgs(node.path, cfgs, getattr(node.module, "_initspec_lints", None))
    for i, cfg in enumerate(cfgs):
        if not isinstance(cfg, PretrainedInit):
            planner.run_cfg(index, cfg, i)
    for child in node.children:
        _plan_child(planner, child)
    for i, cfg in enumerate(cfgs):
        if isinstance(cfg, PretrainedInit):
            planner.run_cfg(index, cfg, i)
    planner.marks.append(node.module)


def _plan_child(planner: Planner, index: int) -> None:
    node = planner.nodes[index]
    has_init_weights = _has_init_weights(node.module)
    if not has_init_weights and node.children and _is_wrapper(node.module):
        index = node.children[0]
        node = planner.nodes[index]
        has_init_weights = _has_init_weights(node.module)
    module = node.module
    if not has_init_weights or getattr(module, "is_init", False) or id(module) in planner.inlined:
        return
    if hasattr(module, "is_init"):  # its first init_weights sets is_init, so later parents skip it
        planner.inlined.add(id(module))
    if _plans_inline(module):
        _plan_base_module(planner, index)
        return
    prefix = planner.prefix + join(node.path, "")
    if _plans_inline(module, base_only=True):
        _dry_run(module, planner.strict, prefix)
    covers = tuple(planner.name_of(p, join(node.path, n)) for n, p in module.named_parameters())
    planner.ops.append(CallStep(node.path, module, partial(_call_nested, module, prefix), covers))


def _call_nested(module: nn.Module, prefix: str) -> None:
    """Call a child's own ``init_weights`` as mmengine does, passing the active options down by context."""
    active = ACTIVE.get()
    assert active is not None  # only called from InitPlan.apply
    token = ACTIVE.set(Options(active.seed, active.skip_overwritten, active.strict, prefix))
    try:
        module.init_weights()  # type: ignore[operator]
    finally:
        ACTIVE.reset(token)


def _dry_run(module: nn.Module, strict: bool, prefix: str) -> None:
    """Plan a BaseModule child whose ``init_weights`` is user code, so its config errors surface early."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InitWarning)
        plan_init_weights(module, strict=strict, prefix=prefix)


def _has_init_weights(module: nn.Module) -> bool:
    """``hasattr(module, "init_weights")`` without ``nn.Module.__getattr__`` raising for plain layers."""
    return hasattr(type(module), "init_weights") or "init_weights" in module.__dict__


def _is_wrapper(module: nn.Module) -> bool:
    return isinstance(module, nn.DataParallel | nn.parallel.DistributedDataParallel)


def _plans_inline(module: nn.Module, *, base_only: bool = False) -> bool:
    """Whether ``module`` is an initspec ``BaseModule`` whose ``init_weights`` is not overridden."""
    if getattr(module, "_initspec_cfgs", None) is None:
        return False
    init_weights = getattr(type(module), "init_weights", None)
    return base_only or bool(getattr(init_weights, "_initspec_inline", False))


def _cfgs_of(module: nn.Module) -> tuple[InitializerConfig, ...]:
    cfgs = getattr(module, "_initspec_cfgs", ())
    return cfgs if isinstance(cfgs, tuple) else ()
