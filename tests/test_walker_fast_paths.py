"""The walker's fast paths write what the general ones do: zero fills, the collector pause, shared checks."""

from __future__ import annotations

import gc
import math
import sys
import types as pytypes
from collections.abc import Sequence

import pytest
import torch
from torch import nn

from initspec import BaseModule, InitPlanError
from initspec._walker.tree import Tree
from initspec._walker.writers import fill_value
from workbound import within


class _Net(BaseModule):
    def __init__(self, init_cfg: object, layers: Sequence[nn.Module]) -> None:
        super().__init__(init_cfg=init_cfg)
        self.layers = nn.ModuleList(layers)


@pytest.mark.parametrize("value", [0, 0.0, False, -0.0, 1.5, math.nan])
def test_fill_value_writes_the_bits_of_fill(value: float) -> None:
    """``fill_value`` gives the same bytes as ``fill_`` (a positive zero through ``zero_()``, -0.0 kept)."""
    for dtype in (torch.float32, torch.float64, torch.bfloat16):
        ours, theirs = torch.full((5,), 7.0, dtype=dtype), torch.full((5,), 7.0, dtype=dtype)
        fill_value(ours, value)
        theirs.fill_(value)
        assert ours.view(torch.uint8).tolist() == theirs.view(torch.uint8).tolist()


def test_a_negative_zero_bias_stays_negative() -> None:
    """``bias=-0.0`` writes a negative zero, as ``fill_(-0.0)`` does, not the ``zero_()`` shortcut's +0.0."""
    net = _Net(dict(type="Constant", val=1, bias=-0.0, layer="Linear"), [nn.Linear(2, 3)])
    net.init_weights()
    bias = net.get_parameter("layers.0.bias")
    assert all(math.copysign(1.0, float(v)) == -1.0 for v in bias.detach())


@pytest.mark.usefixtures("collector_on")
def test_init_weights_gives_the_collector_back_on() -> None:
    """An ``init_weights`` run pauses the collector and turns it back on, also when the plan raises."""
    _Net(dict(type="Kaiming", layer="Linear"), [nn.Linear(2, 2)]).init_weights()
    assert gc.isenabled()
    bad = _Net(dict(type="Kaiming", layer="Linear"), [nn.Linear(2, 2)])
    bad.layers[0].weight = nn.Parameter(torch.empty(2))  # 1-D: Kaiming cannot compute fans
    with pytest.raises(InitPlanError, match="needs at least 2 dimensions"):
        bad.init_weights()
    assert gc.isenabled()


def test_init_weights_leaves_a_collector_that_was_off_off() -> None:
    """A caller that turned collection off keeps it off after an ``init_weights`` run."""
    was = gc.isenabled()
    gc.disable()
    try:
        _Net(dict(type="Kaiming", layer="Linear"), [nn.Linear(2, 2)]).init_weights()
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_one_layer_index_per_name_groups_equal_tensors() -> None:
    """Equal layers form one kind (checked once); a different dtype or shape is a kind of its own."""
    layers = [nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 2), nn.Linear(4, 4).double(), nn.Linear(4, 4)]
    tree = Tree(nn.Sequential(*layers))
    hits, kinds = tree.layer_matches("Linear", 0, tree.root_index)
    assert list(hits) == [0, 1, 2, 3, 4]
    assert [(k.first_in(0, 4), k.weight and k.weight.shape, k.weight and k.weight.dtype) for k in kinds] == [
        (0, (4, 4), torch.float32),
        (2, (2, 4), torch.float32),
        (3, (4, 4), torch.float64),
    ]
    assert [k.nodes for k in kinds] == [[0, 1, 4], [2], [3]]
    assert tree.layer_matches("Linear", 1, 1) == ([1], [kinds[0]])
    assert tree.layer_matches("Linear", 2, 3) == ([2, 3], [kinds[1], kinds[2]])
    assert tree.layer_matches("Conv2d", 0, tree.root_index) == ([], [])


def test_a_bad_layer_among_equal_ones_is_still_found() -> None:
    """A rule over many equal layers and one non-contiguous weight refuses the odd one, by name."""
    layers = [nn.Linear(4, 4) for _ in range(3)]
    layers[2].weight = nn.Parameter(torch.empty(1, 4).expand(4, 4))
    net = _Net(dict(type="Normal", layer="Linear"), layers)
    with pytest.raises(InitPlanError, match=r"layers\.2\.weight' is an expanded tensor"):
        net.init_weights()


class _Level(BaseModule):
    def __init__(self, value: int, inner: nn.Module | None) -> None:
        super().__init__(init_cfg=dict(type="Constant", val=value, bias=-value, layer="Linear"))
        self.fc = nn.Linear(2, 2)
        self.next = inner


def _chain(depth: int) -> _Level:
    """``depth`` nested levels, built inside out (no recursion): level 1 is the root, level ``i`` sets ``i``."""
    level: nn.Module | None = None
    for value in range(depth, 0, -1):
        level = _Level(value, level)
    assert isinstance(level, _Level)
    return level


def test_a_model_deeper_than_the_recursion_limit_is_walked_with_a_stack() -> None:
    """The tree walk and the plan keep a stack of their own: a chain deeper than Python's recursion limit
    is planned and written, each level's layer by its own config, the last of those that cover it."""
    depth = sys.getrecursionlimit() + 200
    level = _chain(depth)
    report = level.init_weights()
    assert len(report) == 2 * depth
    assert report.untouched() == []
    fcs = [m for m in Tree(level).nodes if isinstance(m.module, nn.Linear)]
    assert [(f.path.count("next"), f.module.weight[0, 0].item(), f.module.bias[0].item()) for f in fcs] == [
        (value - 1, float(value), float(-value)) for value in range(1, depth + 1)
    ]


def test_work_on_nested_configs_grows_linearly_with_depth() -> None:
    """Each level of a chain configures its whole subtree, so a plan that wrote (or scanned) every covered
    layer per level would do depth(depth+1)/2 units of work; the plan's does grow linearly: doubling the
    depth doubles the function calls of ``init_weights`` (counted, not timed), within a small constant."""
    calls = {}
    for depth in (100, 200, 400):
        model = _chain(depth)
        _, calls[depth] = within(10**7, model.init_weights)
    per_level = {depth: n / depth for depth, n in calls.items()}
    assert per_level[200] == pytest.approx(per_level[100], rel=0.05)
    assert per_level[400] == pytest.approx(per_level[100], rel=0.05)


def _reachable_types(root: object) -> set[type]:
    """The types of the objects reachable from ``root``, not looking inside tensors, modules or functions."""
    stop = (torch.Tensor, nn.Module, pytypes.FunctionType, pytypes.ModuleType, type)
    seen, todo, found = {id(root)}, [root], set()
    while todo:
        obj = todo.pop()
        found.add(type(obj))
        if isinstance(obj, stop):
            continue
        for ref in gc.get_referents(obj):
            if id(ref) not in seen:
                seen.add(id(ref))
                todo.append(ref)
    return found


def test_a_report_keeps_the_last_writes_not_the_plan() -> None:
    """After a run the report holds the last writes and the tensors, so the tree and the plan are freed."""
    from initspec._walker.initplan import InitPlan
    from initspec._walker.rules import PlanBuilder
    from initspec._walker.steps import Step
    from initspec._walker.tree import Node

    net = _Net(dict(type="Kaiming", layer="Linear"), [nn.Linear(2, 2), nn.Linear(2, 3)])
    report = net.init_weights()
    held = _reachable_types(report)
    assert Step in held  # what the records are read from, before they are first read
    assert not held & {InitPlan, PlanBuilder, Tree, Node, nn.Linear, _Net}
    assert report["layers.1.bias"].shape == (3,) and report["layers.1.bias"].initializer == "Kaiming"


class _Unhashable(nn.Linear):
    """A layer class that defines ``__eq__`` and so, in Python, no ``__hash__`` (torch's own
    ``named_modules`` cannot walk it; the walker still does)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Unhashable) and self.in_features == other.in_features

    __hash__ = None  # type: ignore[assignment]


class _EqualByWidth(nn.Linear):
    """Hashable, but two of one width are equal: a set of them has fewer members than the modules."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _EqualByWidth) and self.in_features == other.in_features

    def __hash__(self) -> int:
        return self.in_features


def test_the_walk_visits_children_as_named_children_does() -> None:
    """Unhashable modules, modules equal by ``__eq__``, a module twice in one parent and a ``None`` child."""
    shared = nn.Linear(2, 2)
    parent = nn.Module()
    parent.a, parent.b = _EqualByWidth(2, 2), _EqualByWidth(2, 2)  # equal to each other, distinct modules
    parent.c, parent.d = shared, shared  # one module twice: visited once, under its first name
    parent.e = None
    parent.f = nn.Sequential(_Unhashable(2, 3), _Unhashable(2, 3))
    tree = Tree(parent)
    assert [node.path for node in tree.nodes] == ["a", "b", "c", "f.0", "f.1", "f", ""]
    assert [name for name, _ in tree.params] == [
        f"{layer}.{role}" for layer in ("a", "b", "c", "f.0", "f.1") for role in ("weight", "bias")
    ]


class _WithInitWeightsMeta(type):
    def init_weights(cls) -> None:
        """A metaclass method: the class has it, its instances do not."""


class _MetaLayer(nn.Linear, metaclass=_WithInitWeightsMeta):
    pass


class _InheritsInitWeights(_Net):
    pass


def test_has_init_weights_answers_as_hasattr() -> None:
    """Looking along the MRO gives ``hasattr``'s answer: inherited, per instance, or none (a metaclass's
    method is the class's, not its instances')."""
    from initspec._walker.protocol import has_init_weights

    per_instance = nn.Linear(2, 2)
    per_instance.__dict__["init_weights"] = lambda: None
    modules = [
        nn.Linear(2, 2),
        nn.Sequential(),
        _Net(None, []),
        _InheritsInitWeights(None, []),
        per_instance,
        _MetaLayer(2, 2),
    ]
    assert [has_init_weights(m) for m in modules] == [hasattr(m, "init_weights") for m in modules]
    assert [has_init_weights(m) for m in modules] == [False, False, True, True, True, False]
