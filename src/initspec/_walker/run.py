"""Running a plan's steps: the outermost run (its options, write log and transaction) and a nested one.

The outermost run sets the options every nested ``init_weights`` inherits, logs what model code writes, and
keeps the transaction journal; a nested run (inside model code) shares all three, and logs its own writes as
its steps, not as model code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext

import torch

from initspec._walker.context import ACTIVE, Options
from initspec._walker.rules import PlanBuilder
from initspec._walker.steps import CallStep, Step
from initspec._walker.tracking import Credit, WriteLog
from initspec._walker.transaction import Journal, journal_for
from initspec.report import init_args

__all__ = ["Calls", "credit_of", "run_nested", "run_outermost"]

Calls = dict[int, list[tuple[str, Credit]]]
"""What each ``CallStep`` (by id) wrote, once it has run."""


def credit_of(step: Step) -> Credit:
    """What the report says of a step: its initializer (or Pretrained), arguments and source."""
    kind = "Pretrained" if step.role == "load" else step.init.type
    return kind, init_args(step.init, step.role), str(step.source)


@contextmanager
def active(options: Options) -> Iterator[Options]:
    """Make ``options`` those of the run in progress, for nested ``init_weights`` calls inside the block."""
    token = ACTIVE.set(options)
    try:
        yield options
    finally:
        ACTIVE.reset(token)


def run_outermost(builder: PlanBuilder, steps: list[Step | CallStep], seed: int | None, skip: bool) -> Calls:
    """Run ``steps`` as the outermost run: any exception leaves every tensor as it was."""
    journal = journal_for(steps)
    log = _new_log(builder, steps, journal)
    options = Options(seed, skip, builder.strict, builder.prefix, set(), log, journal, builder.loaded)
    calls: Calls = {}
    with ExitStack() as stack:
        stack.enter_context(active(options))
        if journal is not None:
            stack.enter_context(journal.guard())
        stack.enter_context(torch.no_grad())
        for step in steps:
            if isinstance(step, Step):
                if journal is not None:
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
            if journal is not None:
                journal.save(step.tensor)
            with log.paused() if log is not None else nullcontext():
                step.run(seed)
            if log is not None:
                log.record(step.name, credit_of(step))
        check_model_code(builder, options.ran)


def _new_log(builder: PlanBuilder, steps: list[Step | CallStep], journal: Journal | None) -> WriteLog | None:
    """A write log for the model code in ``steps``, or ``None`` when there is none."""
    if not any(isinstance(step, CallStep) for step in steps):
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
