"""``InitPlan``: the ordered writes resolved against one model, run by :meth:`InitPlan.apply`."""

from __future__ import annotations

from torch import nn

from initspec._options import check_seed
from initspec._walker import protocol
from initspec._walker.context import ACTIVE
from initspec._walker.coverage import check_complete, meta_only
from initspec._walker.order import plan_module
from initspec._walker.overwrites import all_writes, last_writes
from initspec._walker.rules import Loaded, PlanBuilder
from initspec._walker.run import Calls, credit_of, run_nested, run_outermost
from initspec._walker.steps import CallStep, Step, require_seed_for_shards
from initspec._walker.tracking import Credit
from initspec.report import InitReport, ParamRecord

__all__ = ["InitPlan", "plan_tree"]


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
            self._calls = run_outermost(builder, steps, seed, skip_overwritten)
        else:
            run_nested(builder, steps, seed, skip_overwritten, outer)
        if not meta_only(
            builder.tree
        ):  # a meta model is planned, not initialized: init_weights must run again
            for module in builder.marks:
                protocol.set_init(module)
        return self.report()

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
    builder.check_layers()
    if require_complete:
        check_complete(builder)
    return InitPlan(builder)
