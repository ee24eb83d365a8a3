"""Running a plan's steps: outermost (with model code logged) or nested inside model code, and their guards."""

from __future__ import annotations

from initspec._errors import InitPlanError
from initspec._walker.rules import PlanBuilder
from initspec._walker.shards import holds_no_data
from initspec._walker.steps import CallStep, Step
from initspec._walker.tracking import Credit, WriteLog
from initspec.report import init_args

__all__ = ["credit_of", "meta_only", "require_seed_for_shards", "run_nested"]


def credit_of(step: Step) -> Credit:
    """What the report says of a step: its initializer (or Pretrained), arguments and source."""
    kind = "Pretrained" if step.role == "load" else step.init.type
    return kind, init_args(step.init, step.role), str(step.source)


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


def meta_only(builder: PlanBuilder) -> bool:
    """Whether every parameter of the planned model is on the meta device (so nothing was written)."""
    params = builder.tree.params
    return bool(params) and all(holds_no_data(tensor) for _, tensor in params)


def require_seed_for_shards(steps: list[Step | CallStep]) -> None:
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
