"""Running a nested plan inside model code: its own writes are logged as its steps, not as model code."""

from __future__ import annotations

from initspec._walker.steps import CallStep, Step
from initspec._walker.tracking import Credit, WriteLog
from initspec.report import init_args

__all__ = ["credit_of", "run_nested"]


def credit_of(step: Step) -> Credit:
    """What the report says of a step: its initializer (or Pretrained), arguments and source."""
    if step.role in ("load", "external"):
        return "Pretrained", init_args(step.init, "load"), str(step.source)
    return step.init.type, init_args(step.init, step.role), str(step.source)


def run_nested(steps: list[Step | CallStep], seed: int | None, log: WriteLog | None) -> None:
    """Run a nested plan (inside model code): its own writes are logged as its steps, not as model code."""
    for step in steps:
        if isinstance(step, CallStep):
            step.call()
        elif log is None:
            step.run(seed)
        else:
            with log.paused():
                step.run(seed)
            log.record(step.name, credit_of(step))
