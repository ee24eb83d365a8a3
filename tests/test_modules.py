"""Tests for initspec.modules: BaseModule and its containers, init_weights order, is_init, meta, logging."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from initspec import (
    BaseModule,
    InitConfigError,
    InitPlanError,
    InitReport,
    InitWarning,
    ModuleDict,
    ModuleList,
    Sequential,
)

CONTAINERS: dict[str, Any] = {
    "BaseModule": lambda cfg: Block(init_cfg=cfg),
    "Sequential": lambda cfg: Sequential(nn.Linear(2, 2), init_cfg=cfg),
    "ModuleList": lambda cfg: ModuleList([nn.Linear(2, 2)], init_cfg=cfg),
    "ModuleDict": lambda cfg: ModuleDict({"fc": nn.Linear(2, 2)}, init_cfg=cfg),
}
BAD_CFG = {"type": "Kaiming", "layer": "Linear", "mode": "fan_middle"}


def full(t: torch.Tensor, value: float) -> torch.Tensor:
    return torch.full_like(t, value)


def is_const(t: torch.Tensor, value: float) -> bool:
    return torch.equal(t.detach(), full(t.detach(), value))


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def changed(model: nn.Module, before: dict[str, torch.Tensor]) -> list[str]:
    return [k for k, v in snapshot(model).items() if not torch.equal(v, before[k])]


# -- the FooModel fixtures of mmengine's and mmcv's BaseModule tests ---------------------------------------


class FooConv1d(BaseModule):
    def __init__(self, init_cfg: Any = None) -> None:
        super().__init__(init_cfg)
        self.conv1d = nn.Conv1d(4, 1, 4)


class FooConv2d(BaseModule):
    def __init__(self, init_cfg: Any = None) -> None:
        super().__init__(init_cfg)
        self.conv2d = nn.Conv2d(3, 1, 3)


class FooLinear(BaseModule):
    def __init__(self, init_cfg: Any = None) -> None:
        super().__init__(init_cfg)
        self.linear = nn.Linear(3, 4)


class FooLinearConv1d(BaseModule):
    def __init__(self, linear: nn.Module, conv1d: nn.Module, init_cfg: Any = None) -> None:
        super().__init__(init_cfg)
        self.linear = linear
        self.conv1d = conv1d


class FooModel(BaseModule):
    def __init__(self, components: list[nn.Module], init_cfg: Any = None) -> None:
        super().__init__(init_cfg)
        for i, component in enumerate(components, start=1):
            self.add_module(f"component{i}", component)
        self.reg = nn.Linear(3, 4)


PARENT_RULES = [
    {"type": "Constant", "val": 1, "bias": 2, "layer": "Linear"},
    {"type": "Constant", "val": 3, "bias": 4, "layer": "Conv1d"},
    {"type": "Constant", "val": 5, "bias": 6, "layer": "Conv2d"},
]


def assert_layer(model: nn.Module, path: str, weight: float, bias: float) -> None:
    assert is_const(model.get_parameter(f"{path}.weight"), weight), f"{path}.weight is not {weight}"
    assert is_const(model.get_parameter(f"{path}.bias"), bias), f"{path}.bias is not {bias}"


def test_parent_rules_reach_every_nested_layer() -> None:
    """The parent's rules reach every nested layer and the plain reg: conv1d 3/4, conv2d 5/6, linear 1/2."""
    model = FooModel(
        [FooConv1d(), FooConv2d(), FooLinear(), FooLinearConv1d(FooLinear(), FooConv1d())],
        init_cfg=PARENT_RULES,
    )
    model.init_weights()
    assert_layer(model, "component1.conv1d", 3, 4)
    assert_layer(model, "component2.conv2d", 5, 6)
    assert_layer(model, "component3.linear", 1, 2)
    assert_layer(model, "component4.linear.linear", 1, 2)
    assert_layer(model, "component4.conv1d.conv1d", 3, 4)
    assert_layer(model, "reg", 1, 2)


def test_nested_component_rules_win_over_the_parents() -> None:
    """Seed example: children win (7/8, 9/10), the others keep 1/2 and 3/4, override reg is 13/14."""
    rules = [{**PARENT_RULES[0], "override": {"type": "Constant", "name": "reg", "val": 13, "bias": 14}}]
    model = FooModel(
        [
            FooConv1d({"type": "Constant", "layer": "Conv1d", "val": 7, "bias": 8}),
            FooConv2d({"type": "Constant", "layer": "Conv2d", "val": 9, "bias": 10}),
            FooLinear(),
            FooLinearConv1d(FooLinear(), FooConv1d()),
        ],
        init_cfg=rules + PARENT_RULES[1:],
    )
    report = model.init_weights()
    assert_layer(model, "component1.conv1d", 7, 8)
    assert_layer(model, "component2.conv2d", 9, 10)
    assert_layer(model, "component3.linear", 1, 2)
    assert_layer(model, "component4.linear.linear", 1, 2)
    assert_layer(model, "component4.conv1d.conv1d", 3, 4)
    assert_layer(model, "reg", 13, 14)
    assert report["component1.conv1d.weight"].source == "component1.init_cfg[0]"
    assert report["component4.conv1d.conv1d.bias"].source == "init_cfg[1]"
    assert report["reg.weight"].source == "init_cfg[0].override[0] (name='reg')"


def test_child_rule_without_layer_does_nothing() -> None:
    """A child's rule with no layer writes nothing (InitWarning), so the parent's 3/4 stays."""
    model = FooModel(
        [FooConv1d({"type": "Constant", "val": 7, "bias": 8}), FooConv2d()], init_cfg=PARENT_RULES
    )
    with pytest.warns(InitWarning, match=r"component1\.init_cfg\[0\]: Constant has neither 'layer'"):
        model.init_weights()
    assert_layer(model, "component1.conv1d", 3, 4)
    assert_layer(model, "component2.conv2d", 5, 6)
    assert_layer(model, "reg", 1, 2)


def test_name_only_override_initializes_only_the_named_module() -> None:
    """Without layer, override={'name': 'reg'} inherits Constant 10/20 for reg, and nothing else changes."""
    model = FooModel(
        [FooConv1d(), FooLinear()],
        init_cfg={"type": "Constant", "val": 10, "bias": 20, "override": {"name": "reg"}},
    )
    before = snapshot(model)
    model.init_weights()
    assert sorted(changed(model, before)) == ["reg.bias", "reg.weight"]
    assert_layer(model, "reg", 10, 20)


def test_typed_override_uses_its_own_arguments() -> None:
    """An override with its own type and values (30/40) wins over the parent's values."""
    cfg = {
        "type": "Constant",
        "val": 1,
        "bias": 2,
        "override": {"type": "Constant", "name": "reg", "val": 30, "bias": 40},
    }
    model = FooModel([FooLinear()], init_cfg=cfg)
    model.init_weights()
    assert_layer(model, "reg", 30, 40)


INNER_1D = {"type": "Constant", "layer": "Conv1d", "val": 0.0, "bias": 1.0}
INNER_2D = {"type": "Constant", "layer": "Conv2d", "val": 2.0, "bias": 3.0}
OUTER = {"type": "Constant", "layer": ["Conv1d", "Conv2d"], "val": 4.0, "bias": 5.0}


def _container(kind: str, first: nn.Module, second: nn.Module, cfg: Any) -> BaseModule:
    if kind == "Sequential":
        return Sequential(first, second, init_cfg=cfg)
    if kind == "ModuleList":
        return ModuleList([first, second], init_cfg=cfg)
    return ModuleDict({"first": first, "second": second}, init_cfg=cfg)


@pytest.mark.parametrize("kind", ["Sequential", "ModuleList", "ModuleDict"])
@pytest.mark.parametrize("outer", [None, OUTER], ids=["no-outer-cfg", "outer-cfg"])
def test_container_children_rules_win(kind: str, outer: Any) -> None:
    """In each container the children's own rules win (0/1 and 2/3), with or without an outer rule."""
    first, second = FooConv1d(INNER_1D), FooConv2d(INNER_2D)
    container = _container(kind, first, second, outer)
    container.init_weights()
    assert_layer(first, "conv1d", 0, 1)
    assert_layer(second, "conv2d", 2, 3)


@pytest.mark.parametrize("kind", ["Sequential", "ModuleList", "ModuleDict"])
def test_container_rule_reaches_children_without_rules(kind: str) -> None:
    """A container's own rule initializes children that have no rule of their own."""
    first, second = FooConv1d(), FooConv2d(INNER_2D)
    _container(kind, first, second, OUTER).init_weights()
    assert_layer(first, "conv1d", 4, 5)
    assert_layer(second, "conv2d", 2, 3)


# -- init_cfg: parsed when set ---------------------------------------------------------------------------


def test_base_module_starts_uninitialized_without_config() -> None:
    """BaseModule() has init_cfg None and is_init False."""
    module = BaseModule()
    assert module.init_cfg is None
    assert module.is_init is False


@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_bad_init_cfg_raises_at_construction(kind: str) -> None:
    """A bad init_cfg raises InitConfigError where the module is built, naming location and choices."""
    with pytest.raises(InitConfigError, match=r"init_cfg\.mode.*fan_in"):
        CONTAINERS[kind](BAD_CFG)


@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_bad_init_cfg_assigned_later_raises_and_keeps_the_old_one(kind: str) -> None:
    """Assigning a bad init_cfg raises InitConfigError and leaves the previous config in place."""
    module = CONTAINERS[kind]({"type": "Normal", "layer": "Linear"})
    with pytest.raises(InitConfigError, match="fan_middle"):
        module.init_cfg = BAD_CFG
    assert module.init_cfg == {"type": "Normal", "layer": "Linear"}


@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_init_cfg_assigned_later_is_used(kind: str) -> None:
    """A config assigned after construction is validated and applied by init_weights."""
    module = CONTAINERS[kind](None)
    module.init_cfg = [{"type": "Constant", "val": 3, "bias": 1, "layer": "Linear"}]
    report = module.init_weights()
    assert all(rec.source == "init_cfg[0]" for rec in report.values())
    assert all(is_const(p, 3 if name.endswith("weight") else 1) for name, p in module.named_parameters())


def test_init_cfg_is_copied_from_the_caller() -> None:
    """Mutating the dict passed as init_cfg afterwards does not change the module's config."""
    cfg = {"type": "Constant", "val": 1, "layer": "Linear"}
    module = Sequential(nn.Linear(2, 2), init_cfg=cfg)
    cfg["val"] = 99
    module.init_weights()
    assert is_const(module.get_parameter("0.weight"), 1)


def test_repr_shows_the_init_cfg() -> None:
    """repr() appends init_cfg=... when a config is set, as mmengine does."""
    assert repr(Sequential(nn.Linear(2, 2), init_cfg={"type": "Normal", "layer": "Linear"})).endswith(
        "init_cfg={'type': 'Normal', 'layer': 'Linear'}"
    )
    assert "init_cfg" not in repr(Sequential(nn.Linear(2, 2)))


# -- init_weights order ------------------------------------------------------------------------------------


class Counting(nn.Module):
    """A plain module with its own init_weights (and no is_init), counting its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.calls = 0

    def init_weights(self) -> None:
        self.calls += 1
        with torch.no_grad():
            self.fc.weight.fill_(-3)
            self.fc.bias.fill_(-4)


class Block(BaseModule):
    def __init__(self, init_cfg: Any = None) -> None:
        super().__init__(init_cfg)
        self.fc = nn.Linear(2, 2)


class Tree(BaseModule):
    def __init__(self, children: dict[str, nn.Module], init_cfg: Any = None) -> None:
        super().__init__(init_cfg)
        for name, child in children.items():
            self.add_module(name, child)


ALL_LINEAR = {"type": "Constant", "val": 5, "bias": 6, "layer": "Linear"}


def test_plain_child_with_init_weights_is_called_after_the_parents_rules() -> None:
    """A plain nn.Module child with its own init_weights is called once, after the parent's rules."""
    child = Counting()
    model = Tree({"user": child, "block": Block()}, init_cfg=ALL_LINEAR)
    report = model.init_weights()
    assert child.calls == 1
    assert_layer(child, "fc", -3, -4)
    assert_layer(model, "block.fc", 5, 6)
    assert report["user.fc.weight"].source == "user-defined init_weights of Counting (user)"
    assert report["block.fc.weight"].source == "init_cfg[0]"


def test_plain_child_without_init_weights_is_a_wall() -> None:
    """A BaseModule under a plain nn.Sequential never gets its own rule; the parent's still reaches it."""
    inner = Block({"type": "Constant", "val": 1, "bias": 1, "layer": "Linear"})
    model = Tree({"wall": nn.Sequential(inner)}, init_cfg=ALL_LINEAR)
    model.init_weights()
    assert_layer(inner, "fc", 5, 6)
    assert inner.is_init is False


class SuperBlock(Block):
    """Overrides init_weights, calls super (its rule and children), then adjusts the bias."""

    def init_weights(self, **kwargs: Any) -> InitReport:
        report = super().init_weights(**kwargs)
        with torch.no_grad():
            self.fc.bias.add_(100)
        return report


def test_child_overriding_init_weights_and_calling_super_runs_both() -> None:
    """A BaseModule child that overrides init_weights and calls super gets its rule and its own code."""
    child = SuperBlock({"type": "Constant", "val": 7, "bias": 8, "layer": "Linear"})
    model = Tree({"child": child}, init_cfg=ALL_LINEAR)
    model.init_weights()
    assert_layer(child, "fc", 7, 108)
    assert child.is_init is True


def test_children_run_in_registration_order_after_own_rules() -> None:
    """Own rules first over the whole subtree, then children in registration order (later children win)."""
    shared = nn.Linear(2, 2)
    first = Tree({"fc": shared}, init_cfg={"type": "Constant", "val": 1, "layer": "Linear"})
    second = Tree({"fc": shared}, init_cfg={"type": "Constant", "val": 2, "layer": "Linear"})
    Tree({"first": first, "second": second}, init_cfg=ALL_LINEAR).init_weights()
    assert is_const(shared.weight, 2)


def test_pretrained_runs_last_after_children(tmp_path: Path) -> None:
    """Own Pretrained rules load after the children's rules, overwriting what they wrote."""
    model = FooModel([FooConv1d(INNER_1D), FooConv2d(), FooLinear()], init_cfg=PARENT_RULES)
    path = tmp_path / "all.pth"
    torch.save({k: torch.full_like(v, 0.5) for k, v in model.state_dict().items()}, path)
    model.init_cfg = [*PARENT_RULES, {"type": "Pretrained", "checkpoint": str(path)}]
    report = model.init_weights()
    assert all(is_const(p, 0.5) for p in model.parameters())
    assert {rec.initializer for rec in report.values()} == {"Pretrained"}


def test_keys_missing_from_the_checkpoint_keep_the_child_init(tmp_path: Path) -> None:
    """A partial checkpoint loads its keys last; the rest keep their child's init, with a warning."""
    model = FooModel([FooConv1d(INNER_1D), FooConv2d(), FooLinear()], init_cfg=PARENT_RULES)
    path = tmp_path / "part.pth"
    torch.save({"reg.weight": torch.full((4, 3), 0.5), "reg.bias": torch.full((4,), 0.25)}, path)
    model.init_cfg = [{"type": "Pretrained", "checkpoint": str(path)}, *PARENT_RULES]
    with pytest.warns(InitWarning, match="missing"):
        report = model.init_weights()
    assert_layer(model, "reg", 0.5, 0.25)
    assert_layer(model, "component1.conv1d", 0, 1)
    assert_layer(model, "component3.linear", 1, 2)
    assert report["reg.weight"].initializer == "Pretrained"
    assert report["component1.conv1d.weight"].source == "component1.init_cfg[0]"


# -- is_init ------------------------------------------------------------------------------------------------


def test_init_weights_marks_every_base_module_initialized() -> None:
    """After init_weights, the root and every BaseModule reached are is_init."""
    model = FooModel(
        [FooConv1d(), FooConv2d(), FooLinearConv1d(FooLinear(), FooConv1d())], init_cfg=PARENT_RULES
    )
    model.init_weights()
    assert all(m.is_init for m in model.modules() if isinstance(m, BaseModule))


def test_second_call_warns_and_does_nothing() -> None:
    """Calling init_weights again warns (InitWarning) and leaves the weights alone."""
    model = Tree({"block": Block()}, init_cfg=ALL_LINEAR)
    model.init_weights()
    with torch.no_grad():
        model.get_parameter("block.fc.weight").fill_(0)
    with pytest.warns(InitWarning, match="init_weights of Tree has been called more than once"):
        report = model.init_weights()
    assert is_const(model.get_parameter("block.fc.weight"), 0)
    assert len(report) == 0


def test_is_init_setter_skips_or_reruns() -> None:
    """is_init=True makes init_weights a warned no-op; setting it back to False runs it again."""
    model = Tree({"block": Block()}, init_cfg=ALL_LINEAR)
    model.is_init = True
    before = snapshot(model)
    with pytest.warns(InitWarning, match="more than once"):
        model.init_weights()
    assert changed(model, before) == []
    model.is_init = False
    model.init_weights()
    assert_layer(model, "block.fc", 5, 6)


def test_initialized_children_are_skipped_but_parent_rules_still_apply() -> None:
    """A child with is_init=True has its own rule skipped (no warning); the parent's rule still writes it."""
    child = Block({"type": "Constant", "val": 1, "bias": 1, "layer": "Linear"})
    counting = Counting()
    child.is_init = True
    model = Tree({"child": child, "user": counting}, init_cfg=ALL_LINEAR)
    model.init_weights()
    assert_layer(child, "fc", 5, 6)
    assert counting.calls == 1


# -- options through init_weights ----------------------------------------------------------------------------


def _seeded_tree() -> Tree:
    return Tree(
        {"a": Block({"type": "Normal", "layer": "Linear"}), "b": Block(), "c": Counting()},
        init_cfg={"type": "Kaiming", "layer": "Linear", "override": {"name": "b", "type": "Uniform"}},
    )


def test_seeded_init_weights_is_reproducible_and_leaves_the_global_rng() -> None:
    """init_weights(seed=...) gives the same values for the same seed and does not touch the global RNG."""
    first, second = _seeded_tree(), _seeded_tree()
    state = torch.random.get_rng_state()
    first.init_weights(seed=3)
    second.init_weights(seed=3, skip_overwritten=False)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(first.get_parameter("a.fc.weight"), second.get_parameter("a.fc.weight"))
    assert torch.equal(first.get_parameter("b.fc.weight"), second.get_parameter("b.fc.weight"))


def test_strict_init_weights_raises_on_lints_in_children() -> None:
    """strict=True turns a child's unmatched layer name into an InitPlanError before any write."""
    model = Tree({"block": Block({"type": "Normal", "layer": ["Linear", "Conv2d"]})}, init_cfg=ALL_LINEAR)
    before = snapshot(model)
    with pytest.raises(InitPlanError, match=r"'Conv2d' in block\.init_cfg\[0\]"):
        model.init_weights(strict=True)
    assert changed(model, before) == []
    assert model.is_init is False


# -- meta device --------------------------------------------------------------------------------------------


def test_init_weights_on_a_meta_model_plans_and_reports() -> None:
    """On the meta device init_weights runs (writes are no-ops) and reports everything, but sets no is_init."""
    with torch.device("meta"):
        model = FooModel(
            [FooConv1d(INNER_1D), FooConv2d(), FooLinearConv1d(FooLinear(), FooConv1d())],
            init_cfg=[{**PARENT_RULES[0], "override": {"name": "reg", "type": "Kaiming"}}, *PARENT_RULES[1:]],
        )
    report = model.init_weights(seed=0)
    assert list(report) == [n for n, _ in model.named_parameters()]
    assert report.untouched() == []
    assert report["component1.conv1d.weight"].source == "component1.init_cfg[0]"
    assert report["reg.weight"].initializer == "Kaiming"
    assert all(p.is_meta for p in model.parameters())
    linear = model.get_submodule("component3.linear")
    assert not model.is_init and isinstance(linear, BaseModule) and not linear.is_init


# -- logging -------------------------------------------------------------------------------------------------


def test_init_weights_logs_one_info_summary_and_the_table_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """init_weights logs a one-line INFO summary on 'initspec' and the report table at DEBUG."""
    model = FooModel([FooConv1d(INNER_1D), FooConv2d(), FooLinear()], init_cfg=PARENT_RULES)
    with caplog.at_level(logging.DEBUG, logger="initspec"):
        report = model.init_weights()
    records = [r for r in caplog.records if r.name == "initspec"]
    infos = [r for r in records if r.levelno == logging.INFO]
    debugs = [r for r in records if r.levelno == logging.DEBUG]
    assert len(infos) == 1
    assert "\n" not in infos[0].getMessage()
    assert infos[0].getMessage().startswith("initialized FooModel: 8 tensors")
    assert len(debugs) == 1
    assert str(report) in debugs[0].getMessage()


def test_info_level_hides_the_table(caplog: pytest.LogCaptureFixture) -> None:
    """At INFO only the summary line is logged."""
    with caplog.at_level(logging.INFO, logger="initspec"):
        Tree({"block": Block()}, init_cfg=ALL_LINEAR).init_weights()
    assert [r.levelno for r in caplog.records if r.name == "initspec"] == [logging.INFO]


def test_nested_super_init_weights_still_logs_one_summary(caplog: pytest.LogCaptureFixture) -> None:
    """A top-level init_weights logs exactly one INFO line even when a child's init_weights calls super."""
    model = Tree(
        {"child": SuperBlock({"type": "Constant", "val": 7, "layer": "Linear"})}, init_cfg=ALL_LINEAR
    )
    with caplog.at_level(logging.INFO, logger="initspec"):
        model.init_weights()
    infos = [r.getMessage() for r in caplog.records if r.name == "initspec" and r.levelno == logging.INFO]
    assert len(infos) == 1, infos


# -- known divergences ------------------------------------------------------------------------------------


class NoSuperBlock(Block):
    """Overrides init_weights without calling super: mmengine never applies its init_cfg."""

    def init_weights(self, **kwargs: Any) -> None:  # type: ignore[override]
        with torch.no_grad():
            self.fc.weight.fill_(9)


def test_dead_config_of_a_child_that_never_calls_super_is_a_warning() -> None:
    """A stale init_cfg on a child whose init_weights skips super() is reported, and the model initializes."""
    child = NoSuperBlock({"type": "Constant", "val": 1, "override": {"name": "old_fc"}})
    model = Tree({"child": child}, init_cfg=ALL_LINEAR)
    with pytest.warns(InitWarning, match=r"init_cfg of 'child' \(NoSuperBlock\) was never applied.*'old_fc'"):
        model.init_weights()
    assert torch.equal(child.fc.weight, torch.full_like(child.fc.weight, 9))


def test_dead_config_that_plans_is_also_reported() -> None:
    """A valid config that model code never applies is a warning naming the module, as mmengine ignores it."""
    child = NoSuperBlock({"type": "Constant", "val": 1, "layer": "Linear"})
    with pytest.warns(InitWarning, match=r"'child' \(NoSuperBlock\) was never applied"):
        Tree({"child": child}).init_weights()


def test_strict_refuses_a_dead_config_before_any_write() -> None:
    """With strict=True a config that model code could not apply raises before anything is written."""
    child = NoSuperBlock({"type": "Constant", "val": 1, "override": {"name": "old_fc"}})
    model = Tree({"child": child}, init_cfg=ALL_LINEAR)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(InitPlanError, match=r"child\.init_cfg\[0\]\.override\[0\].*'old_fc'.*strict=True"):
        model.init_weights(strict=True)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


class UserBox(nn.Module):
    """A plain container whose init_weights rewrites every parameter below it."""

    def __init__(self, leaf: nn.Module) -> None:
        super().__init__()
        self.leaf = leaf

    def init_weights(self) -> None:
        with torch.no_grad():
            for p in self.parameters():
                p.fill_(-7)


def test_report_attributes_a_shared_leaf_to_the_user_init_weights_that_wrote_it_last() -> None:
    """A leaf also registered under a child with its own init_weights is reported as written by that code."""
    leaf = nn.Linear(2, 2)
    model = Tree({"leaf": leaf, "box": UserBox(leaf)}, init_cfg=ALL_LINEAR)
    report = model.init_weights()
    assert is_const(leaf.weight, -7)
    assert report["leaf.weight"].source.startswith("user-defined init_weights of UserBox")


@pytest.mark.parametrize("empty", [{}, [], None])
def test_empty_init_cfg_configures_nothing_as_in_mmengine(empty: object) -> None:
    """``init_cfg={}`` or ``[]`` is accepted and does nothing, as mmengine's ``if self.init_cfg`` skips it."""
    module = BaseModule(init_cfg=empty)
    module.lin = nn.Linear(2, 2)
    before = module.lin.weight.clone()
    report = module.init_weights()
    assert torch.equal(module.lin.weight, before)
    assert report.untouched() == ["lin.weight", "lin.bias"]


def test_equal_plain_configs_share_one_parse() -> None:
    """Modules built with equal plain ``init_cfg`` dicts share one parsed config (checked once per plan)."""
    from initspec._walker import protocol

    first = BaseModule(init_cfg=dict(type="Kaiming", layer="Linear"))
    second = BaseModule(init_cfg=dict(type="Kaiming", layer="Linear"))
    other = BaseModule(init_cfg=dict(type="Kaiming", layer="Linear", a=1.0))
    assert protocol.configs_of(first)[0] is protocol.configs_of(second)[0]
    assert protocol.configs_of(other)[0] is not protocol.configs_of(first)[0]
    assert protocol.configs_of(other)[0].a == 1.0
