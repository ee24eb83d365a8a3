"""``require_complete``: every parameter (and, on a meta model, floating buffer) has a write in the plan.

A tensor counts as covered when a step of the plan writes it: a layer rule, an override, a Pretrained load,
or model code. What a module's own ``init_weights`` writes is unknown until it runs, so every tensor under a
module whose model code runs counts as covered (the report then shows what it really wrote).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import torch

from initspec._errors import InitPlanError
from initspec._walker.overwrites import all_writes
from initspec._walker.rules import MatchOp, PlanBuilder
from initspec._walker.steps import CallStep, Step
from initspec._walker.tree import class_names

__all__ = ["check_complete", "required"]

_LISTED_MODULES = 20


def required(builder: PlanBuilder) -> list[tuple[str, torch.Tensor]]:
    """The tensors ``require_complete`` asks a write for: every parameter, and floating persistent buffers
    when the model is on the meta device (after ``to_empty`` they hold garbage; before, they hold the
    constructor's values, such as BatchNorm's zero mean and unit variance, which are a valid init)."""
    tree = builder.tree
    if not tree.meta_only():
        return list(tree.params)
    return [*tree.params, *((n, t) for n, t in tree.buffers if t.is_floating_point())]


def check_complete(builder: PlanBuilder) -> None:
    """Raise ``InitPlanError``, naming every tensor no step writes, grouped by module, with the closest rule."""
    steps = all_writes(builder.ops, builder.tree, builder.prefix)
    written = {s.name for s in steps if isinstance(s, Step)}
    written.update(name for s in steps if isinstance(s, CallStep) for name in s.covers)
    missing = [name for name, _ in required(builder) if builder.prefix + name not in written]
    if not missing:
        return
    buffers = {name for name, _ in builder.tree.buffers}
    groups: dict[tuple[str, bool], list[str]] = {}  # a module's parameters and its buffers get their own fix
    for name in missing:
        path, _, attr = name.rpartition(".")
        groups.setdefault((path, name in buffers), []).append(attr)
    rules = [op for op in builder.ops if isinstance(op, MatchOp) and op.init.layer]
    modules = len({path for path, _ in groups})
    lines = [
        f"require_complete=True: {len(missing)} tensor(s) in {modules} module(s) would be left untouched, "
        "and nothing was written:"
    ]
    for (path, is_buffer), attrs in list(groups.items())[:_LISTED_MODULES]:
        lines.append(_line(builder, path, attrs, rules, is_buffer))
    if len(groups) > _LISTED_MODULES:
        lines.append(f"  ... and {len(groups) - _LISTED_MODULES} more")
    raise InitPlanError("\n".join(lines))


def _line(
    builder: PlanBuilder, path: str, attrs: list[str], rules: Sequence[MatchOp], is_buffer: bool
) -> str:
    index = builder.tree.by_path(path)
    module = builder.tree.nodes[index].module if index is not None else None
    cls = type(module).__name__ if module is not None else "?"
    where = builder.full(path) or "<root>"
    head = f"  '{where}' ({cls}): {', '.join(attrs)}"
    if is_buffer:
        return (
            f"{head}; buffers of a meta model hold garbage after to_empty: load them (Pretrained), set them "
            f"in model code (BatchNorm's reset_running_stats()), or override them (name='{path}.{attrs[0]}', "
            "type='Constant', val=...)"
        )
    other = [a for a in attrs if a not in ("weight", "bias")]
    if other:
        target = f"{path}.{other[0]}" if path else other[0]
        return f"{head}; layer rules write only weight and bias: add an override name='{target}'"
    if module is None:
        return head
    return f"{head}; {_closest(type(module), path, rules)}"


def _closest(cls: type, path: str, rules: Sequence[MatchOp]) -> str:
    names = sorted(class_names(cls))
    fix = f"add '{cls.__name__}' to a layer list, or an override name='{path or '<root>'}'"
    if not rules:
        return f"no config has a layer rule; {fix}"

    def score(op: MatchOp) -> float:
        return max(difflib.SequenceMatcher(None, a, b).ratio() for a in op.init.layer for b in names)

    best = max(rules, key=score)
    if not set(best.init.layer).isdisjoint(names):
        return (
            f"{best.source.label} layer={list(best.init.layer)} names its class, but that config's module "
            f"does not hold it; {fix}"
        )
    return (
        f"closest config: {best.source.label} layer={list(best.init.layer)}, which matches "
        f"{len(best.indices)} module(s) but not this one (its class names: {', '.join(names)}); {fix}"
    )
