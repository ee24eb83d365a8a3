"""``skip_overwritten``: keep only the last write of each tensor, found by scanning the operations backwards.

Nodes whose tensors are all written already are skipped in O(log n) through a union-find over post-order
positions, so nested rules over the same layers cost time linear in the model, not quadratic.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import Literal

import torch

from initspec._walker.rules import MatchOp, Op
from initspec._walker.steps import CallStep, Step
from initspec._walker.tree import Tree, join

__all__ = ["all_writes", "last_writes"]


def all_writes(ops: Sequence[Op], tree: Tree, prefix: str) -> list[Step | CallStep]:
    """Every write in mmengine's order, including those a later step overwrites."""
    out: list[Step | CallStep] = []
    for op in ops:
        if isinstance(op, MatchOp):
            out += _match_steps(op, tree, prefix)
        elif isinstance(op, CallStep):
            out.append(op)
        else:
            out += op
    return out


def last_writes(ops: Sequence[Op], tree: Tree, prefix: str) -> list[Step | CallStep]:
    """The writes that no later step overwrites, in order; every ``CallStep`` is kept."""
    written: set[int] = set()
    done = _Written(len(tree.nodes))
    kept: list[Step | CallStep] = []
    for op in reversed(ops):
        if isinstance(op, CallStep):
            kept.append(op)
        elif isinstance(op, MatchOp):
            kept += _last_match_steps(op, tree, prefix, written, done)
        else:
            for step in reversed(op):
                if id(step.tensor) not in written:
                    written.add(id(step.tensor))
                    kept.append(step)
    kept.reverse()
    return kept


def _match_steps(op: MatchOp, tree: Tree, prefix: str) -> Iterator[Step]:
    for i in op.indices:
        weight, bias = tree.tensors(i)
        if weight is not None:
            yield _node_step(tree, prefix, i, weight, "weight", op)
        if bias is not None:
            yield _node_step(tree, prefix, i, bias, "bias", op)


def _last_match_steps(op: MatchOp, tree: Tree, prefix: str, written: set[int], done: _Written) -> list[Step]:
    """The writes of ``op`` in reverse order, leaving out tensors in ``written`` (and adding the rest)."""
    out: list[Step] = []
    indices, p = op.indices, len(op.indices) - 1
    names, nodes, init, source = (
        tree.names,
        tree.nodes,
        op.init,
        op.source,
    )  # the hot loop of skip_overwritten
    parent = done.parent
    while p >= 0:
        slot = indices[p] + 1
        free = slot - 1 if parent[slot] == slot else done.last_free(slot - 1)  # inline: most are free
        if free < indices[0]:
            break
        if free != indices[p]:
            p = bisect.bisect_right(indices, free) - 1
            continue
        weight, bias = nodes[free].tensors or tree.tensors(free)  # cached by the rule's checks
        if bias is not None and (key := id(bias)) not in written:
            written.add(key)
            name = names.get(key) or join(nodes[free].path, "bias")
            out.append(Step(prefix + name, bias, "bias", init, source))
        if weight is not None and (key := id(weight)) not in written:
            written.add(key)
            name = names.get(key) or join(nodes[free].path, "weight")
            out.append(Step(prefix + name, weight, "weight", init, source))
        parent[free + 1] = free  # node free is fully written (visited once per scan, so final)
        p -= 1
    return out


def _node_step(
    tree: Tree, prefix: str, i: int, tensor: torch.Tensor, role: Literal["weight", "bias"], op: MatchOp
) -> Step:
    name = tree.names.get(id(tensor))
    if name is None:
        name = join(tree.nodes[i].path, role)
    return Step(prefix + name, tensor, role, op.init, op.source)


class _Written:
    """Union-find over post-order positions: the last position at or before ``i`` not yet fully written.

    The scan marks node ``i`` written by setting ``parent[i + 1] = i`` itself (inline: once per written node).
    """

    def __init__(self, size: int) -> None:
        self.parent = list(range(size + 1))  # slot i + 1 is node i; slot 0 stands for "none left"

    def last_free(self, i: int) -> int:
        parent, slot = self.parent, i + 1
        while parent[slot] != slot:
            parent[slot] = parent[parent[slot]]
            slot = parent[slot]
        return slot - 1
