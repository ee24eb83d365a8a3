"""The walker's public face: ``plan_init`` resolves configs into ordered writes, ``InitPlan.apply`` runs them."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from initspec._errors import InitWarning
from initspec._options import check_seed
from initspec._walker import protocol, transaction
from initspec._walker.context import ACTIVE, SCOPE, UNSET, Options, Scope, resolve
from initspec._walker.coverage import check_complete, meta_only
from initspec._walker.external import add_later_load
from initspec._walker.order import plan_module
from initspec._walker.overwrites import all_writes, last_writes
from initspec._walker.rules import PlanBuilder
from initspec._walker.run import credit_of, run_nested
from initspec._walker.steps import CallStep, Step, require_seed_for_shards
from initspec._walker.tracking import Credit, WriteLog
from initspec.registry import parse_init_cfg
from initspec.report import InitReport, ParamRecord

__all__ = [
    "InitOptions",
    "InitPlan",
    "InitReport",
    "init_options",
    "initialize",
    "plan_init",
    "plan_init_weights",
    "run_init_weights",
]

logger = logging.getLogger("initspec")
InitOptions = Scope


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

    def __init__(self, builder: PlanBuilder) -> None:
        self._builder = builder
        self._last: list[Step | CallStep] | None = None
        self._calls: dict[int, list[tuple[str, Credit]]] = {}  # what each CallStep wrote, once it has run

    @property
    def steps(self) -> list[Step | CallStep]:
        """Every write in mmengine's order, including those a later step overwrites."""
        return all_writes(self._builder.ops, self._builder.tree, self._builder.prefix)

    def __len__(self) -> int:
        return len(self.steps)

    def effective_steps(self, skip_overwritten: bool = True) -> list[Step | CallStep]:
        """The steps :meth:`apply` runs: all of them, or only the last write of each tensor."""
        if not skip_overwritten:
            return self.steps
        if self._last is None:
            self._last = last_writes(self._builder.ops, self._builder.tree, self._builder.prefix)
        return self._last

    def apply(self, *, seed: int | None = None, skip_overwritten: bool = True) -> InitReport:
        """Perform the writes and return the report.

        Args:
            seed: Draw each tensor from its own generator seeded from ``(seed, qualified name)``; ``None``
                draws from torch's global RNG in mmengine's order.
            skip_overwritten: Skip writes that a later step overwrites, so each tensor is drawn once.
                ``False`` runs every step and reproduces mmengine's random stream bit for bit.
        """
        seed = check_seed(seed)
        builder = self._builder
        steps = self.effective_steps(skip_overwritten)
        if seed is None:
            require_seed_for_shards(steps)
        outer = ACTIVE.get()
        ran = outer.ran if outer is not None else set()
        saved = transaction.save(steps) if outer is None else None
        log = outer.log if outer is not None else self._new_log(steps)
        token = ACTIVE.set(Options(seed, skip_overwritten, builder.strict, builder.prefix, ran, log))
        try:
            with torch.no_grad():
                if outer is None:
                    self._run_outermost(steps, seed, log)
                else:
                    run_nested(steps, seed, log)
                self._check_model_code(ran)
        except BaseException:
            if saved is not None:
                transaction.restore(saved)
            raise
        finally:
            ACTIVE.reset(token)
        if not meta_only(
            builder.tree
        ):  # a meta model is planned, not initialized: init_weights must run again
            for module in builder.marks:
                protocol.set_init(module)
        return self.report()

    def _new_log(self, steps: list[Step | CallStep]) -> WriteLog | None:
        """A write log for the model code in ``steps``, or ``None`` when there is none."""
        if not any(isinstance(step, CallStep) for step in steps):
            return None
        prefix, tree = self._builder.prefix, self._builder.tree
        return WriteLog([(prefix + name, t) for name, t in (*tree.params, *tree.buffers)])

    def _run_outermost(self, steps: list[Step | CallStep], seed: int | None, log: WriteLog | None) -> None:
        self._calls = {}
        for step in steps:
            if isinstance(step, CallStep) and log is not None:
                start = len(log.events)
                with log:
                    step.call()
                self._calls[id(step)] = log.events[start:]
            elif isinstance(step, CallStep):
                step.call()
            else:
                step.run(seed)

    def _check_model_code(self, ran: set[int]) -> None:
        """Warn (or, strict, raise) for each config that model code never applied (mmengine's dead configs)."""
        for module, where, problem in self._builder.model_code:
            if id(module) in ran:
                continue
            name = type(module).__name__
            message = (
                f"init_cfg of '{where}' ({name}) was never applied: {name}.init_weights is model code and did "
                "not call super().init_weights(), so its config is dead, as under mmengine"
                + (f" (it could not have been applied: {problem})" if problem else "")
            )
            self._builder.lint(message)

    def report(self) -> InitReport:
        """The report :meth:`apply` returns, computed from the plan alone (no tensor values are read)."""
        builder = self._builder
        name = type(builder.tree.root).__name__
        return InitReport(self._records, tuple(builder.unmatched), tuple(builder.checkpoints), name)

    def _records(self) -> dict[str, ParamRecord]:
        last: dict[str, Credit] = {}
        described: dict[tuple[int, str, int], Credit] = {}
        for step in self.effective_steps():
            if isinstance(step, Step):
                key = (id(step.init), step.role, id(step.source))
                if key not in described:
                    described[key] = credit_of(step)
                last[step.name] = described[key]
            elif id(step) in self._calls:
                last.update(self._calls[id(step)])
            else:  # not run yet: everything under the child may be written by its code
                last.update(dict.fromkeys(step.covers, ("init_weights", {}, str(step.source))))
        prefix, records, tree = self._builder.prefix, {}, self._builder.tree
        for tensors, buffer in ((tree.params, False), (tree.buffers, True)):
            for name, tensor in tensors:
                kind, args, source = last.get(prefix + name, ("", {}, "untouched"))
                records[prefix + name] = ParamRecord(
                    prefix + name, tuple(tensor.shape), kind, args, source, buffer
                )
        return records


def plan_init(
    module: nn.Module, init_cfg: object, *, strict: bool = False, require_complete: bool = False
) -> InitPlan:
    """Resolve ``init_cfg`` against ``module`` as mmengine's ``initialize`` would, writing nothing.

    Raises ``InitConfigError`` for a bad config, and ``InitPlanError`` or ``CheckpointError`` when the config
    does not fit the model: a missing override name, a fan-based initializer on a 1-D weight, an unreadable
    checkpoint, with ``strict=True`` a lint such as a ``layer`` name that matches nothing, and with
    ``require_complete=True`` a parameter (on a meta model, also a floating buffer) that no step writes.

    Example:
        >>> import torch
        >>> from initspec import plan_init
        >>> plan = plan_init(torch.nn.Conv2d(3, 8, 3), dict(type="Kaiming", layer="Conv2d"))
        >>> len(plan)
        2
    """
    cfgs = parse_init_cfg(init_cfg)
    active = ACTIVE.get()
    builder = PlanBuilder(module, strict=strict, prefix=active.prefix if active is not None else "")
    builder.lint_cfgs("", cfgs)
    for i, cfg in enumerate(cfgs):
        builder.run_cfg(builder.tree.root_index, cfg, i)
    builder.check_layers()
    if require_complete:
        check_complete(builder)
    return InitPlan(builder)


def initialize(
    module: nn.Module,
    init_cfg: object,
    *,
    seed: int | None = None,
    skip_overwritten: bool = True,
    strict: bool = False,
    require_complete: bool = False,
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
    plan = plan_init(module, init_cfg, strict=strict, require_complete=require_complete)
    return plan.apply(seed=seed, skip_overwritten=skip_overwritten)


def plan_init_weights(
    module: nn.Module, *, strict: bool = False, require_complete: bool = False, prefix: str = ""
) -> InitPlan:
    """Plan ``module.init_weights()`` for a ``BaseModule`` tree in mmengine's order, writing nothing."""
    builder = PlanBuilder(module, strict=strict, prefix=prefix)
    plan_module(builder, builder.tree.root_index)
    add_later_load(builder)
    builder.check_layers()
    if require_complete:
        check_complete(builder)
    return InitPlan(builder)


def run_init_weights(
    module: nn.Module,
    *,
    seed: object = UNSET,
    skip_overwritten: object = UNSET,
    strict: object = UNSET,
    require_complete: object = UNSET,
) -> InitReport:
    """The generic ``init_weights``: initspec's ``BaseModule``'s, and mmengine's once installed.

    Options come from the caller, else the enclosing ``init_weights`` run (a nested call), else an
    ``init_options`` block, else ``initspec.mmengine.install()``'s defaults, else the built-in defaults.
    """
    active = ACTIVE.get()
    prefix, complete = "", False  # a nested run is model code's: the outermost plan counted it as covered
    if active is not None:  # a nested call from a parent's init_weights: its options win
        seed, skip, strict_ = active.seed, active.skip_overwritten, active.strict
        prefix = active.prefix
        active.ran.add(id(module))
    else:
        seed, skip, strict_, complete = resolve(seed, skip_overwritten, strict, require_complete)
    if protocol.is_init(module):
        warnings.warn(
            f"init_weights of {type(module).__name__} has been called more than once; "
            "nothing was done (set is_init = False to run it again)",
            InitWarning,
            stacklevel=3,
        )
        return InitReport({}, module=type(module).__name__)
    plan = plan_init_weights(module, strict=strict_, require_complete=complete, prefix=prefix)
    report = plan.apply(seed=check_seed(seed), skip_overwritten=skip)
    if active is not None:
        return report  # the outermost run logs the summary
    scope = SCOPE.get()
    if scope is not None and scope.report is None:
        scope.report = report
        if not protocol.runs_generic(module):  # a model-code root: what its code writes next is logged too
            scope.tail = WriteLog([(name, t) for name, t in (*_named_tensors(module),)])
            scope.tail.__enter__()
            scope.tail.start("", module)
    if logger.isEnabledFor(logging.INFO):
        logger.info("%s", report.summary())
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("\n%s", report)
    return report


@contextmanager
def init_options(
    *,
    seed: int | None = UNSET,  # type: ignore[assignment]
    skip_overwritten: bool = UNSET,  # type: ignore[assignment]
    strict: bool = UNSET,  # type: ignore[assignment]
    require_complete: bool = UNSET,  # type: ignore[assignment]
) -> Iterator[InitOptions]:
    """Set the options of every ``init_weights`` run inside the block, including model-code roots.

    An option not given keeps its value from ``initspec.mmengine.install()``, or the built-in default
    (``seed=None``, ``skip_overwritten=True``, ``strict=False``, ``require_complete=False``). The value's ``.report`` is the
    ``InitReport`` of the outermost ``init_weights`` run inside the block (``None`` until one has run).

    Example:
        >>> from torch import nn
        >>> from initspec import BaseModule, init_options
        >>> class Net(BaseModule):
        ...     def __init__(self):
        ...         super().__init__(init_cfg=dict(type="Constant", val=1, layer="Linear"))
        ...         self.fc = nn.Linear(2, 2)
        ...     def init_weights(self):  # model code without keywords
        ...         super().init_weights()
        >>> with init_options(seed=0) as options:
        ...     Net().init_weights()
        >>> options.report["fc.weight"].initializer
        'Constant'
    """
    given: object = seed
    scope = Scope(UNSET if given is UNSET else check_seed(given), skip_overwritten, strict, require_complete)
    token = SCOPE.set(scope)
    try:
        yield scope
    finally:
        SCOPE.reset(token)
        if scope.tail is not None:
            scope.tail.__exit__(None, None, None)
            scope.report = scope.report.updated(scope.tail.events)
            scope.tail = None


def _named_tensors(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    state = module.state_dict(keep_vars=True)
    return list(state.items())
