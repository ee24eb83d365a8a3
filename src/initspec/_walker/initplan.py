"""``InitPlan``: the ordered writes resolved against one model, and running them (:meth:`InitPlan.apply`).

The outermost run sets the options every nested ``init_weights`` inherits, logs what model code writes, and
keeps the transaction journal, each a context manager around the steps; a nested run (inside model code)
shares all three, and logs its own writes as its steps, not as model code.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from functools import partial

import torch
from torch import nn

from initspec._options import check_seed
from initspec._walker import protocol
from initspec._walker.context import ACTIVE, Options, active
from initspec._walker.coverage import check_complete
from initspec._walker.external import add_later_load
from initspec._walker.order import plan_module
from initspec._walker.overwrites import all_writes, last_writes
from initspec._walker.rules import Loaded, PlanBuilder
from initspec._walker.steps import CallStep, Step, require_seed_for_shards
from initspec._walker.tracking import Credit, WriteLog
from initspec._walker.transaction import Journal, journal_for
from initspec.report import InitReport, ParamRecord, init_args

__all__ = ["Calls", "InitPlan", "credit_of", "plan_tree", "run_nested", "run_outermost"]

Calls = dict[int, list[tuple[str, Credit]]]
"""What each ``CallStep`` (by id) wrote, once it has run."""


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
        self._calls: Calls = {}  # what each CallStep wrote, once it has run

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
        if outer is None:
            self._calls.update(run_outermost(builder, steps, seed, skip_overwritten))
        else:
            run_nested(builder, steps, seed, skip_overwritten, outer)
        if not builder.tree.meta_only():  # a meta model is only planned: init_weights must run again
            protocol.set_init_all(builder.marks)
        return self.report()

    def report(self) -> InitReport:
        """The report :meth:`apply` returns, computed from the plan alone (no tensor values are read)."""
        builder = self._builder
        name = type(builder.tree.root).__name__
        return InitReport(self._records(), tuple(builder.unmatched), tuple(builder.checkpoints), name)

    def _records(self) -> Callable[[], dict[str, ParamRecord]]:
        """The report's records, built when first read, from the last writes and the tensors alone.

        Once the last writes are known, the report holds only them, not the plan: the tree's nodes, the
        index and the operations are freed when the run ends, so the collector never scans them.
        """
        tree = self._builder.tree
        steps = self._last if self._last is not None else self.effective_steps
        return partial(_records, steps, self._calls, tree.params, tree.buffers, self._builder.prefix)


def _records(
    steps: list[Step | CallStep] | Callable[[], list[Step | CallStep]],
    calls: Calls,
    params: list[tuple[str, torch.Tensor]],
    buffers: list[tuple[str, torch.Tensor]],
    prefix: str,
) -> dict[str, ParamRecord]:
    last: dict[str, Credit] = {}
    described: dict[tuple[int, str, int], Credit] = {}
    for step in steps if isinstance(steps, list) else steps():
        if isinstance(step, Step):
            key = (id(step.init), step.role, id(step.source))
            if key not in described:
                described[key] = credit_of(step)
            last[step.name] = described[key]
        elif id(step) in calls:
            last.update(calls[id(step)])
        else:  # not run yet: everything under the child may be written by its code
            last.update(dict.fromkeys(step.covers, ("init_weights", {}, str(step.source))))
    records = {}
    for tensors, buffer in ((params, False), (buffers, True)):
        for name, tensor in tensors:
            kind, args, source = last.get(prefix + name, ("", {}, "untouched"))
            records[prefix + name] = ParamRecord(
                prefix + name, tuple(tensor.shape), kind, args, source, buffer
            )
    return records


def plan_tree(
    module: nn.Module,
    *,
    strict: bool = False,
    require_complete: bool = False,
    prefix: str = "",
    loaded: Loaded | None = None,
) -> InitPlan:
    """Plan ``module.init_weights()`` for a ``BaseModule`` tree in mmengine's order, writing nothing."""
    builder = PlanBuilder(module, strict=strict, prefix=prefix, loaded=loaded)
    plan_module(builder, builder.tree.root_index)
    add_later_load(builder)
    builder.check_layers()
    if require_complete:
        check_complete(builder)
    return InitPlan(builder)


def credit_of(step: Step) -> Credit:
    """What the report says of a step: its initializer (or Pretrained), arguments and source."""
    if step.role in ("load", "external"):
        return "Pretrained", init_args(step.init, "load"), str(step.source)
    return step.init.type, init_args(step.init, step.role), str(step.source)


def run_outermost(builder: PlanBuilder, steps: list[Step | CallStep], seed: int | None, skip: bool) -> Calls:
    """Run ``steps`` as the outermost run: any exception leaves every tensor as it was."""
    journal = journal_for(steps)
    log = _new_log(builder, steps, journal)
    options = Options(seed, skip, builder.strict, builder.prefix, set(), log, journal, builder.loaded)
    calls: Calls = {}
    try:
        with active(options), torch.no_grad():  # the options every nested init_weights inherits
            for step in steps:
                if isinstance(step, Step):
                    if journal is not None and step.writes:
                        journal.save(step.tensor)
                    step.run(seed)
                elif log is not None:
                    start = len(log.events)
                    with log:
                        step.call()
                    calls[id(step)] = log.events[start:]
                else:
                    step.call()
            check_model_code(builder, options.ran)
    except BaseException:  # KeyboardInterrupt included: every tensor the run wrote gets its copy back
        if journal is not None:
            journal.restore()
        raise
    return calls


def run_nested(
    builder: PlanBuilder, steps: list[Step | CallStep], seed: int | None, skip: bool, outer: Options
) -> None:
    """Run ``steps`` inside model code, with the outer run's log, journal and checkpoints."""
    options = Options(
        seed, skip, builder.strict, builder.prefix, outer.ran, outer.log, outer.journal, outer.checkpoints
    )
    log, journal = outer.log, outer.journal
    with active(options), torch.no_grad():
        for step in steps:
            if isinstance(step, CallStep):
                step.call()
                continue
            if journal is not None and step.writes:
                journal.save(step.tensor)
            with log.paused() if log is not None else nullcontext():
                step.run(seed)
            if log is not None:
                log.record(step.name, credit_of(step))
        check_model_code(builder, options.ran)


def _new_log(builder: PlanBuilder, steps: list[Step | CallStep], journal: Journal | None) -> WriteLog | None:
    """A write log for the model code in ``steps``, or ``None`` when there is none."""
    if journal is None or not any(isinstance(step, CallStep) for step in steps):  # model code needs a journal
        return None
    prefix, tree = builder.prefix, builder.tree
    return WriteLog([(prefix + name, t) for name, t in (*tree.params, *tree.buffers)], journal)


def check_model_code(builder: PlanBuilder, ran: set[int]) -> None:
    """Warn (or, strict, raise) for each config that model code never applied (mmengine's dead configs)."""
    for module, where, problem in builder.model_code:
        if id(module) in ran:
            continue
        name = type(module).__name__
        message = (
            f"init_cfg of '{where}' ({name}) was never applied: {name}.init_weights is model code and did "
            "not call super().init_weights(), so its config is dead, as under mmengine"
            + (f" (it could not have been applied: {problem})" if problem else "")
        )
        builder.lint(message)
