"""mmengine's ``BaseModule.init_weights`` order: own configs, then the children, then own checkpoints.

A child whose ``init_weights`` is the generic one is planned inline; a child with its own ``init_weights``
(model code) becomes a :class:`CallStep`, called in its place, after its config is dry-run so that errors
surface before the first write. A config that model code may never apply is a warning, not a failure.
"""

from __future__ import annotations

import warnings
from functools import partial

from torch import nn

from initspec._errors import InitPlanError, InitSpecError, InitWarning
from initspec._walker import protocol
from initspec._walker.context import ACTIVE, active
from initspec._walker.rules import PlanBuilder
from initspec._walker.steps import CallStep
from initspec._walker.tree import join
from initspec.configs import PretrainedInit

__all__ = ["plan_module"]

_Todo = list[tuple[int, tuple[tuple[int, PretrainedInit], ...] | None]]
"""What is left to plan: (node, None) enters a module; (node, loads) finishes one after its children (its own
Pretrained entries, then its mark); (-1 - node, None) is a child to look at when its turn comes (an earlier
sibling may have planned it already)."""


def plan_module(builder: PlanBuilder, index: int) -> None:
    """Own non-Pretrained configs over the subtree, then the children, then own Pretrained configs.

    mmengine recurses; this keeps a stack of what is left to do instead, in the same order: a Python frame
    per level of a deep model would cost memory the interpreter maps afresh on every run.
    """
    nodes = builder.tree.nodes
    stack: _Todo = [(index, None)]
    while stack:
        index, loads = stack.pop()
        if index < 0:
            _plan_child(builder, -1 - index, stack)
        elif loads is None:
            _enter(builder, index, stack)
        else:
            for i, cfg in loads:
                builder.run_cfg(index, cfg, i)
            builder.marks.append(nodes[index].module)


def _enter(builder: PlanBuilder, index: int, stack: _Todo) -> None:
    """Run the module's own non-Pretrained configs and queue its children, then its own end."""
    nodes = builder.tree.nodes
    node = nodes[index]
    parsed = protocol.parsed(node.module)
    if parsed.lints:
        builder.lint_cfgs(node.path, parsed.cfgs, parsed.lints)
    for i, cfg in parsed.rules:
        builder.run_cfg(index, cfg, i)
    stack.append((index, parsed.loads))
    for child in reversed(node.children):
        kid = nodes[child]
        if kid.children or protocol.has_init_weights(kid.module):  # a plain leaf layer has nothing to plan
            stack.append((-1 - child, None))


def _plan_child(builder: PlanBuilder, index: int, stack: _Todo) -> None:
    tree = builder.tree
    node = tree.nodes[index]
    module = node.module
    has_own = protocol.has_init_weights(module)
    if not has_own and node.children and _is_wrapper(module):
        index = node.children[0]
        node = tree.nodes[index]
        module = node.module
        has_own = protocol.has_init_weights(module)
    if not has_own or not protocol.first_visit(module, builder.visited):
        return
    managed = protocol.is_managed(module)
    if managed and protocol.runs_generic(module):
        _enter(builder, index, stack)  # planned inline, now: its turn has come
        return
    prefix = builder.prefix + join(node.path, "")
    if managed:
        _dry_run(builder, module, prefix)
    covers = tuple(builder.prefix + tree.name_of(p, join(node.path, n)) for n, p in module.named_parameters())
    builder.add_call(CallStep(node.path, module, partial(_call_nested, module, prefix), covers))


def _call_nested(module: nn.Module, prefix: str) -> None:
    """Call a child's own ``init_weights`` as mmengine does, passing the active options down by context."""
    outer = ACTIVE.get()
    with active(outer.nested(prefix) if outer is not None else None):
        if outer is not None and outer.log is not None:
            with outer.log.running(prefix[:-1], module):
                module.init_weights()  # type: ignore[operator]
        else:
            module.init_weights()  # type: ignore[operator]


def _dry_run(builder: PlanBuilder, module: nn.Module, prefix: str) -> None:
    """Plan the config of a child whose ``init_weights`` is model code, so its errors surface early.

    The model code may never call ``super().init_weights()``, and then mmengine never applies the config.
    So a config that cannot be applied is not an error here (only with ``strict``): if the code does call
    ``super()``, that call raises and the run's transaction restores every tensor; if it never does, the
    run ends with a warning naming the module.

    A ``Pretrained`` is not read here: model code such as Swin's reads the file itself and maps its keys
    its own way, and a ``super()`` call plans it for real, reading it then. So each file is read once.
    """
    where = prefix[:-1] or "<root>"
    problem = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InitWarning)
            sub = PlanBuilder(module, strict=builder.strict, prefix=prefix, loaded=builder.loaded, dry=True)
            plan_module(sub, sub.tree.root_index)
    except InitSpecError as err:
        problem = str(err)
        if builder.strict:
            msg = (
                f"init_cfg of '{where}' ({type(module).__name__}) cannot be applied ({problem}); "
                f"{type(module).__name__}.init_weights is model code, which would fail if it calls "
                "super().init_weights() (strict=True)"
            )
            raise InitPlanError(msg) from err
    if problem is not None or protocol.configs_of_or_none(module):
        builder.expect_generic(module, where, problem)


def _is_wrapper(module: nn.Module) -> bool:
    return isinstance(module, nn.DataParallel | nn.parallel.DistributedDataParallel)
