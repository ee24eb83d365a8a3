"""The walker's public face: ``plan_init`` resolves configs into ordered writes, ``InitPlan.apply`` runs them.

Planning lives here; running (``InitPlan.apply``, the generic ``init_weights``, ``init_options``) lives in
the walker package and is re-exported for the names users import from this module.
"""

from __future__ import annotations

from torch import nn

from initspec._walker.context import ACTIVE
from initspec._walker.coverage import check_complete
from initspec._walker.initplan import InitPlan, plan_tree
from initspec._walker.rules import PlanBuilder
from initspec._walker.session import InitOptions, init_options, run_init_weights
from initspec.registry import parse_init_cfg
from initspec.report import InitReport

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
    if active is None:
        builder = PlanBuilder(module, strict=strict)
    else:  # called by model code inside a run: name tensors from the model's root, share its checkpoints
        builder = PlanBuilder(module, strict=strict, prefix=active.prefix, loaded=active.checkpoints)
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
    return plan_tree(module, strict=strict, require_complete=require_complete, prefix=prefix)
