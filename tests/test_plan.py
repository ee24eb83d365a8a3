"""Tests for initspec.plan: planning, applying, transactional errors, extensions, seeds and the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from initspec import (
    BaseModule,
    CheckpointError,
    InitConfigError,
    InitPlan,
    InitPlanError,
    InitReport,
    InitWarning,
    KaimingInit,
    ModuleList,
    NormalInit,
    Sequential,
    Step,
    initialize,
    plan_init,
    registered_types,
)
from initspec.configs import INITIALIZERS

TYPES = registered_types()
WEIGHT_TYPES = tuple(t for t in TYPES if t != "Pretrained")
RANDOM_TYPES = tuple(t for t in WEIGHT_TYPES if INITIALIZERS.writer(t).random)  # type: ignore[union-attr]
MMENGINE_TYPES = ("Constant", "Xavier", "Normal", "TruncNormal", "Uniform", "Kaiming", "Caffe2Xavier")
FAN_BASED = tuple(t for t in WEIGHT_TYPES if INITIALIZERS.writer(t).needs_fans)  # type: ignore[union-attr]
TWO_D_ONLY = tuple(t for t in WEIGHT_TYPES if INITIALIZERS.writer(t).dims[1] == 2)  # type: ignore[union-attr]

# Arguments that make each built-in type valid; every registered type must appear here.
ARGS: dict[str, dict[str, Any]] = {
    "Constant": {"val": 0.5, "bias": 0.25},
    "Xavier": {"gain": 2.0, "distribution": "uniform"},
    "Normal": {"mean": 0.1, "std": 0.02},
    "TruncNormal": {"std": 0.5, "a": -0.3, "b": 0.4},
    "Uniform": {"a": -0.5, "b": 0.5},
    "Kaiming": {"mode": "fan_in", "nonlinearity": "leaky_relu", "a": 0.1},
    "Caffe2Xavier": {},
    "Pretrained": {},
    "Orthogonal": {"gain": 1.5},
    "Dirac": {"groups": 1},
    "Eye": {},
    "Sparse": {"sparsity": 0.25, "std": 0.1},
    "VarianceScaling": {"scale": 2.0, "mode": "fan_avg", "distribution": "uniform"},
    "LecunNormal": {},
}


def two_layers(type_name: str) -> tuple[nn.Module, list[str]]:
    """Two layers of different classes that ``type_name`` can write, and their ``layer`` names."""
    if type_name in TWO_D_ONLY:
        return nn.Sequential(nn.Linear(3, 4), nn.Linear(2, 3)), ["Linear"]
    if type_name == "Dirac":
        return nn.Sequential(nn.Conv1d(4, 4, 3), nn.Conv2d(2, 2, 3)), ["Conv1d", "Conv2d"]
    return nn.Sequential(nn.Linear(3, 4), nn.Conv2d(2, 3, 3)), ["Linear", "Conv2d"]


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of every parameter and buffer."""
    return {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()}


def assert_unchanged(model: nn.Module, before: dict[str, torch.Tensor]) -> None:
    after = snapshot(model)
    assert after.keys() == before.keys()
    assert [k for k in after if not torch.equal(after[k], before[k])] == []


def changed(model: nn.Module, before: dict[str, torch.Tensor]) -> list[str]:
    return [k for k, v in snapshot(model).items() if not torch.equal(v, before[k])]


def cfg_for(type_name: str, tmp_path: Path, model: nn.Module, **extra: Any) -> dict[str, Any]:
    """A valid config of ``type_name`` for ``model``; Pretrained gets a checkpoint of 0.75s."""
    if type_name == "Pretrained":
        path = tmp_path / "ckpt.pth"
        torch.save({k: torch.full_like(v, 0.75) for k, v in model.state_dict().items()}, path)
        return {"type": "Pretrained", "checkpoint": str(path)}
    return {"type": type_name, **ARGS[type_name], **extra}


class Neck(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lateral_convs = nn.ModuleList([nn.Conv2d(4, 4, 1) for _ in range(3)])
        self.fpn = nn.ModuleDict({"p3": nn.Conv2d(4, 4, 3), "p4": nn.Conv2d(4, 4, 3)})


class Detector(nn.Module):
    """A backbone with a BatchNorm, a neck of ModuleList/ModuleDict convs, a head, and a bare Parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 3))
        self.neck = Neck()
        self.head = nn.Linear(4, 2)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 4))


# -- planning and applying ------------------------------------------------------------------------------


def test_every_registered_type_has_test_arguments() -> None:
    """The parametrized tests below cover every registered initializer type."""
    assert set(TYPES) == set(ARGS)


@pytest.mark.parametrize("type_name", TYPES)
def test_plan_init_writes_nothing_and_apply_writes(type_name: str, tmp_path: Path) -> None:
    """plan_init leaves the model untouched; InitPlan.apply performs the planned writes."""
    model, layers = two_layers(type_name)
    cfg = cfg_for(type_name, tmp_path, model, layer=layers)
    before = snapshot(model)
    plan = plan_init(model, cfg)
    assert isinstance(plan, InitPlan)
    assert len(plan) == 4
    assert_unchanged(model, before)
    report = plan.apply(seed=0)
    assert isinstance(report, InitReport)
    assert sorted(changed(model, before)) == ["0.bias", "0.weight", "1.bias", "1.weight"]


def test_steps_follow_mmengine_order() -> None:
    """Rules run in list order, each main rule in post-order (weight before bias), then its overrides."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Conv2d(2, 2, 1), nn.Linear(2, 2)))
    cfg = [
        {"type": "Normal", "layer": "Linear", "override": {"name": "1", "type": "Uniform"}},
        {"type": "Constant", "val": 1, "layer": "Conv2d"},
    ]
    plan = plan_init(model, cfg)
    assert [(s.name, s.source.kind) for s in plan.steps if isinstance(s, Step)] == [
        ("0.weight", "init_cfg"),
        ("0.bias", "init_cfg"),
        ("1.1.weight", "init_cfg"),
        ("1.1.bias", "init_cfg"),
        ("1.0.weight", "override"),
        ("1.0.bias", "override"),
        ("1.1.weight", "override"),
        ("1.1.bias", "override"),
        ("1.0.weight", "init_cfg"),
        ("1.0.bias", "init_cfg"),
    ]


def test_effective_steps_keep_only_each_tensors_last_write() -> None:
    """skip_overwritten keeps, in order, only the step that writes each tensor last; False keeps all."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Conv2d(2, 2, 1), nn.Linear(2, 2)))
    cfg = [
        {"type": "Normal", "layer": "Linear", "override": {"name": "1", "type": "Uniform"}},
        {"type": "Constant", "val": 1, "layer": "Conv2d"},
    ]
    plan = plan_init(model, cfg)
    kept = plan.effective_steps(skip_overwritten=True)
    assert all(isinstance(s, Step) for s in kept)
    assert [(s.name, s.init.type) for s in kept if isinstance(s, Step)] == [
        ("0.weight", "Normal"),
        ("0.bias", "Normal"),
        ("1.1.weight", "Uniform"),
        ("1.1.bias", "Uniform"),
        ("1.0.weight", "Constant"),
        ("1.0.bias", "Constant"),
    ]
    assert plan.effective_steps(skip_overwritten=False) == plan.steps


@pytest.mark.parametrize("type_name", RANDOM_TYPES)
def test_modes_agree_without_overwrites(type_name: str) -> None:
    """When no tensor is written twice, both skip_overwritten modes draw the same global stream."""
    models = [two_layers(type_name)[0] for _ in range(2)]
    cfg = {"type": type_name, **ARGS[type_name], "layer": two_layers(type_name)[1]}
    for model, skip in zip(models, (True, False), strict=True):
        torch.manual_seed(5)
        initialize(model, cfg, skip_overwritten=skip)
    assert_same(models[0], models[1])


@pytest.mark.parametrize("type_name", tuple(t for t in RANDOM_TYPES if t in MMENGINE_TYPES))
def test_skip_false_reproduces_mmengine_stream(type_name: str, mm: Any) -> None:
    """skip_overwritten=False draws the overwritten tensors too, giving mmengine's exact tensors."""
    models = [Detector() for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    cfg = [
        {"type": type_name, **ARGS[type_name], "layer": ["Conv2d", "Linear"], "override": {"name": "head"}},
        {"type": "Normal", "std": 0.3, "layer": "_ConvNd", "override": {"name": "neck", "type": "Uniform"}},
    ]
    torch.manual_seed(11)
    mm.initialize(models[0], cfg)
    torch.manual_seed(11)
    initialize(models[1], cfg, skip_overwritten=False)
    assert_same(models[0], models[1])


def test_initialize_accepts_typed_configs_and_leaves_dicts_unmodified() -> None:
    """initialize takes typed configs or dicts, and never mutates the caller's dict."""
    cfg = {"type": "Constant", "val": 2, "layer": "Linear", "override": {"name": "1", "type": "Normal"}}
    frozen = json.dumps(cfg, sort_keys=True)
    initialize(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), cfg)
    assert json.dumps(cfg, sort_keys=True) == frozen
    model = nn.Linear(2, 2)
    report = initialize(model, [KaimingInit(layer="Linear"), NormalInit(layer="Linear", bias=3)], seed=1)
    assert report["weight"].initializer == "Normal"
    assert torch.equal(model.bias, torch.full((2,), 3.0))


def assert_same(left: nn.Module, right: nn.Module) -> None:
    a, b = left.state_dict(), right.state_dict()
    assert a.keys() == b.keys()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []


# -- the layer and override examples of the mmcv documentation (seed 003) ------------------------------


class FooNet(nn.Module):
    def __init__(self, cls: nn.Module | None = None) -> None:
        super().__init__()
        self.feat = nn.Conv1d(3, 1, 3)
        self.reg = nn.Conv2d(3, 3, 3)
        self.cls = cls if cls is not None else nn.Linear(1, 2)


def full(t: torch.Tensor, value: float) -> torch.Tensor:
    return torch.full_like(t, value)


def is_const(model: nn.Module, name: str, value: float) -> bool:
    """Whether every element of parameter ``name`` equals ``value``."""
    tensor = model.get_parameter(name).detach()
    return torch.equal(tensor, full(tensor, value))


def test_doc_example_one_rule_for_a_list_of_layers() -> None:
    """layer=['Conv1d', 'Conv2d', 'Linear'] with val=1 sets every weight to 1 and every bias to 0."""
    model = FooNet()
    initialize(model, {"type": "Constant", "layer": ["Conv1d", "Conv2d", "Linear"], "val": 1})
    for layer in ("feat", "reg", "cls"):
        assert is_const(model, f"{layer}.weight", 1)
        assert is_const(model, f"{layer}.bias", 0)


def test_doc_example_one_rule_per_layer_type() -> None:
    """A list of rules gives Conv1d 1, Conv2d 2 and Linear 3."""
    model = FooNet()
    initialize(
        model,
        [
            {"type": "Constant", "layer": "Conv1d", "val": 1},
            {"type": "Constant", "layer": "Conv2d", "val": 2},
            {"type": "Constant", "layer": "Linear", "val": 3},
        ],
    )
    assert is_const(model, "feat.weight", 1)
    assert is_const(model, "reg.weight", 2)
    assert is_const(model, "cls.weight", 3)


def test_doc_example_override_wins_over_the_layer_rule() -> None:
    """override reg 3/4 beats the layer rule 1/2; the Linear inside cls, matched by no layer, is untouched."""
    model = FooNet(nn.Sequential(nn.Conv1d(3, 1, 3), nn.Linear(1, 2)))
    linear_before = model.get_parameter("cls.1.weight").detach().clone()
    initialize(
        model,
        {
            "type": "Constant",
            "layer": ["Conv1d", "Conv2d"],
            "val": 1,
            "bias": 2,
            "override": {"type": "Constant", "name": "reg", "val": 3, "bias": 4},
        },
    )
    assert is_const(model, "reg.weight", 3)
    assert is_const(model, "reg.bias", 4)
    assert is_const(model, "feat.weight", 1)
    assert is_const(model, "cls.0.bias", 2)
    assert torch.equal(model.get_parameter("cls.1.weight"), linear_before)


def test_doc_example_name_only_override_inherits_the_parent_rule() -> None:
    """override={'name': 'reg'} without layer sets reg to the parent's 1/2 and nothing else."""
    model = FooNet()
    before = snapshot(model)
    initialize(model, {"type": "Constant", "val": 1, "bias": 2, "override": {"name": "reg"}})
    assert sorted(changed(model, before)) == ["reg.bias", "reg.weight"]
    assert is_const(model, "reg.weight", 1)
    assert is_const(model, "reg.bias", 2)


def test_doc_example_rule_without_layer_or_override_does_nothing() -> None:
    """A rule with neither layer nor override writes nothing, and says so with an InitWarning."""
    model = FooNet()
    before = snapshot(model)
    with pytest.warns(InitWarning, match="neither 'layer' nor 'override'"):
        report = initialize(model, {"type": "Constant", "val": 1})
    assert_unchanged(model, before)
    assert report.untouched() == list(report)


# -- transactional errors --------------------------------------------------------------------------------


def test_missing_override_name_raises_with_a_suggestion() -> None:
    """An override name that is not an attribute raises InitPlanError naming the rule and a close match."""
    with pytest.raises(InitPlanError, match=r"init_cfg\[1\]\.override\[1\].*'hed'.*did you mean 'head'"):
        plan_init(
            Detector(),
            [
                {"type": "Constant", "val": 1, "layer": "Linear"},
                {"type": "Constant", "val": 2, "override": [{"name": "head"}, {"name": "hed"}]},
            ],
        )


def test_missing_override_name_lists_the_childrens_names() -> None:
    """With no close match, the message names the module and lists its children."""
    with pytest.raises(InitPlanError, match=r"module '<root>' \(Detector\).*backbone, neck, head"):
        plan_init(Detector(), {"type": "Constant", "val": 1, "override": {"name": "zzz"}})


def test_plan_errors_are_value_errors() -> None:
    """InitPlanError is a ValueError, as the design promises."""
    assert issubclass(InitPlanError, ValueError)
    with pytest.raises(ValueError, match="no submodule or parameter named 'tail'"):
        plan_init(Detector(), {"type": "Normal", "override": {"name": "tail"}})


@pytest.mark.parametrize("type_name", FAN_BASED)
def test_fan_based_override_on_a_module_with_a_1d_weight_raises(type_name: str) -> None:
    """A whole-module fan-based override onto Sequential(Conv, BatchNorm) raises, naming the 1-D weight."""
    with pytest.raises(
        InitPlanError, match=rf"{type_name} computes fans.*'backbone\.1\.weight' has shape \(4,\)"
    ):
        plan_init(Detector(), {"type": type_name, "override": {"name": "backbone"}})


@pytest.mark.parametrize("type_name", FAN_BASED)
@pytest.mark.parametrize("layer", ["BatchNorm2d", "_BatchNorm", "LayerNorm"])
def test_fan_based_layer_rule_on_norm_layers_raises(type_name: str, layer: str) -> None:
    """A fan-based main rule matching a norm layer raises before anything is written."""
    model = nn.Sequential(nn.Linear(5, 5), nn.BatchNorm2d(5), nn.LayerNorm(5))
    with pytest.raises(InitPlanError, match=r"init_cfg\[0\]: .*needs at least 2 dimensions"):
        plan_init(model, {"type": type_name, "layer": ["Linear", layer]})


@pytest.mark.parametrize("type_name", FAN_BASED)
def test_fan_based_override_on_a_1d_parameter_raises(type_name: str) -> None:
    """A fan-based override naming a 1-D parameter raises."""
    with pytest.raises(InitPlanError, match=r"'head\.bias' has shape \(2,\)"):
        plan_init(Detector(), {"type": type_name, "override": {"name": "head.bias"}})


def test_strict_makes_an_unmatched_layer_name_an_error() -> None:
    """With strict=True a layer name that matches no module raises; without it, it is only reported."""
    cfg = {"type": "Constant", "val": 1, "layer": ["Linear", "Conv3d"]}
    with pytest.raises(InitPlanError, match=r"'Conv3d' in init_cfg\[0\].*strict=True"):
        plan_init(Detector(), cfg, strict=True)
    report = initialize(Detector(), cfg)
    assert [(u.layer, u.config) for u in report.unmatched_layers] == [("Conv3d", "init_cfg[0]")]


def test_a_rule_matching_nothing_warns_and_strict_raises() -> None:
    """A rule whose layers all match nothing warns (InitWarning); strict=True raises instead."""
    cfg = {"type": "Normal", "layer": "Conv3d"}
    with pytest.warns(InitWarning, match=r"no module matches layer=\['Conv3d'\]"):
        plan_init(Detector(), cfg)
    with pytest.raises(InitPlanError, match="no module matches"):
        plan_init(Detector(), cfg, strict=True)


class Inner(BaseModule):
    def __init__(self, init_cfg: Any = None) -> None:
        super().__init__(init_cfg)
        self.fc = nn.Linear(3, 3)
        self.norm = nn.LayerNorm(3)


class Middle(BaseModule):
    def __init__(self, inner_cfg: Any) -> None:
        super().__init__({"type": "Constant", "val": 4, "layer": ["Linear", "LayerNorm"]})
        self.inner = Inner(inner_cfg)


class Outer(BaseModule):
    def __init__(self, inner_cfg: Any, extra: nn.Module | None = None) -> None:
        super().__init__(
            {"type": "Normal", "layer": "Linear", "override": {"name": "head", "type": "Uniform"}}
        )
        self.head = nn.Linear(3, 3)
        self.mid = Middle(inner_cfg)
        if extra is not None:
            self.extra = extra


class SuperInner(Inner):
    """A BaseModule that overrides init_weights and calls super first."""

    def init_weights(self, **kwargs: Any) -> InitReport:
        report = super().init_weights(**kwargs)
        with torch.no_grad():
            self.fc.bias.fill_(-1)
        return report


def _error_cases(tmp_path: Path) -> dict[str, tuple[nn.Module, Callable[[nn.Module], object], str]]:
    """Each case: a model, how to trigger the error, and the message it must carry."""
    missing = str(tmp_path / "missing.pth")
    return {
        "override missing after valid rules": (
            Detector(),
            lambda m: initialize(
                m,
                [
                    {"type": "Normal", "layer": ["Conv2d", "Linear"]},
                    {"type": "Constant", "val": 3, "override": [{"name": "head"}, {"name": "nekc"}]},
                ],
            ),
            r"init_cfg\[1\]\.override\[1\].*did you mean 'neck'",
        ),
        "fan-based whole-module override after valid rules": (
            Detector(),
            lambda m: initialize(
                m,
                [
                    {"type": "Uniform", "layer": "_ConvNd", "override": {"name": "head"}},
                    {"type": "Kaiming", "override": {"name": "backbone"}},
                ],
            ),
            r"init_cfg\[1\]\.override\[0\]: Kaiming computes fans",
        ),
        "strict unmatched layer after valid rules": (
            Detector(),
            lambda m: initialize(
                m,
                [{"type": "Normal", "layer": "Linear"}, {"type": "Normal", "layer": "Conv3d"}],
                strict=True,
            ),
            "no module matches",
        ),
        "deep child override missing": (
            Outer({"type": "Constant", "val": 1, "layer": "Linear", "override": {"name": "fcc"}}),
            lambda m: m.init_weights(),
            r"mid\.inner\.init_cfg\[0\]\.override\[0\]: module 'mid\.inner' \(Inner\).*did you mean 'fc'",
        ),
        "deep child fan-based rule on LayerNorm": (
            Outer({"type": "Xavier", "layer": ["Linear", "LayerNorm"]}),
            lambda m: m.init_weights(),
            r"mid\.inner\.init_cfg\[0\]: Xavier computes fans.*'mid\.inner\.norm\.weight'",
        ),
        "deep child strict unmatched layer": (
            Outer({"type": "Normal", "layer": ["Linear", "Conv9d"]}),
            lambda m: m.init_weights(strict=True),
            r"'Conv9d' in mid\.inner\.init_cfg\[0\]",
        ),
        "deep child checkpoint missing": (
            Outer({"type": "Pretrained", "checkpoint": missing}),
            lambda m: m.init_weights(),
            "missing.pth",
        ),
        "error inside a child whose init_weights calls super": (
            Outer(None, extra=SuperInner({"type": "Constant", "val": 2, "override": {"name": "nrom"}})),
            lambda m: m.init_weights(),
            r"did you mean 'norm'",
        ),
    }


CASE_NAMES = list(_error_cases(Path("/nonexistent")))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_no_error_path_writes_a_tensor(case: str, tmp_path: Path) -> None:
    """Every planned error is raised before the first write: all parameters and buffers stay as they were."""
    model, trigger, message = _error_cases(tmp_path)[case]
    before = snapshot(model)
    with pytest.raises((InitPlanError, CheckpointError), match=message):
        trigger(model)
    assert_unchanged(model, before)
    assert not any(getattr(m, "is_init", False) for m in model.modules())


def test_bad_config_is_rejected_before_planning() -> None:
    """A config that does not parse raises InitConfigError and writes nothing."""
    model = Detector()
    before = snapshot(model)
    with pytest.raises(InitConfigError, match=r"init_cfg\[1\]"):
        initialize(model, [{"type": "Normal", "layer": "Linear"}, {"type": "Kaiming", "mode": "fan_middle"}])
    assert_unchanged(model, before)


# -- extensions beyond mmengine ---------------------------------------------------------------------------


def test_override_name_may_be_a_dotted_path() -> None:
    """An override name such as 'neck.lateral_convs.0' initializes exactly that submodule."""
    model = Detector()
    before = snapshot(model)
    report = initialize(
        model, {"type": "Constant", "val": 5, "bias": 6, "override": {"name": "neck.lateral_convs.0"}}
    )
    assert sorted(changed(model, before)) == ["neck.lateral_convs.0.bias", "neck.lateral_convs.0.weight"]
    conv = model.neck.lateral_convs[0]
    assert is_const(conv, "weight", 5)
    assert is_const(conv, "bias", 6)
    assert (
        report["neck.lateral_convs.0.weight"].source
        == "init_cfg[0].override[0] (name='neck.lateral_convs.0')"
    )


def test_dotted_override_reaches_module_dict_entries() -> None:
    """A dotted name passes through ModuleDict keys: 'neck.fpn.p4'."""
    model = Detector()
    before = snapshot(model)
    initialize(model, {"type": "Normal", "override": {"name": "neck.fpn.p4"}}, seed=0)
    assert sorted(changed(model, before)) == ["neck.fpn.p4.bias", "neck.fpn.p4.weight"]


def test_missing_dotted_override_suggests_the_dotted_name() -> None:
    """A mistyped dotted name gets a dotted did-you-mean."""
    with pytest.raises(InitPlanError, match=r"did you mean 'neck\.lateral_convs\.1'"):
        plan_init(Detector(), {"type": "Normal", "override": {"name": "neck.lateral_conv.1"}})


@pytest.mark.parametrize("type_name", WEIGHT_TYPES)
def test_override_may_name_a_parameter(type_name: str) -> None:
    """An override naming an nn.Parameter applies the weight rule to that tensor alone."""
    model = Detector()
    if type_name in TWO_D_ONLY:
        model.cls_token = nn.Parameter(torch.zeros(3, 4))
    before = snapshot(model)
    report = initialize(
        model, {"type": type_name, **ARGS[type_name], "override": {"name": "cls_token"}}, seed=3
    )
    assert changed(model, before) == ["cls_token"]
    assert report["cls_token"].initializer == type_name
    assert report["cls_token"].source == "init_cfg[0].override[0] (name='cls_token')"


def test_parameter_override_writes_the_weight_value_not_the_bias() -> None:
    """A name-only override onto a Parameter inherits the parent's weight value (val), not its bias."""
    model = Detector()
    initialize(model, {"type": "Constant", "val": 7, "bias": 9, "override": {"name": "cls_token"}})
    assert is_const(model, "cls_token", 7)


def test_override_may_name_a_nested_parameter_by_dotted_path() -> None:
    """'head.weight' names one parameter: the weight is written and the bias left alone."""
    model = Detector()
    before = snapshot(model)
    initialize(model, {"type": "Constant", "val": 2, "override": {"name": "head.weight"}})
    assert changed(model, before) == ["head.weight"]


def test_pretrained_override_must_name_a_module(tmp_path: Path) -> None:
    """A Pretrained override naming a tensor raises: a checkpoint loads into a module."""
    torch.save({"weight": torch.ones(1)}, tmp_path / "w.pth")
    cfg = {
        "type": "Constant",
        "val": 1,
        "override": {"name": "cls_token", "type": "Pretrained", "checkpoint": str(tmp_path / "w.pth")},
    }
    with pytest.raises(InitPlanError, match="Pretrained overrides must name a module"):
        plan_init(Detector(), cfg)


# -- seeds -------------------------------------------------------------------------------------------------


class Three(nn.Module):
    """Linear layers a, b, c registered in a chosen order, optionally with extra layers in between."""

    def __init__(self, order: str = "abc", extra: bool = False) -> None:
        super().__init__()
        shapes = {"a": (4, 3), "b": (4, 3), "c": (5, 4)}
        for key in order:
            if extra:
                self.add_module(f"x{key}", nn.Linear(6, 6))
            self.add_module(key, nn.Linear(*shapes[key]))
        self.norm = nn.LayerNorm(4)


def _seed_cfg(type_name: str) -> list[dict[str, Any]]:
    """Two rules writing the Linear layers, the second overwriting b, so overwrites are present."""
    return [
        {"type": type_name, **ARGS[type_name], "layer": "Linear"},
        {
            "type": "Normal",
            "std": 0.5,
            "layer": "LayerNorm",
            "override": {"name": "b", "type": type_name, **ARGS[type_name]},
        },
    ]


def _named(model: nn.Module, names: list[str]) -> dict[str, torch.Tensor]:
    state = model.state_dict()
    return {n: state[n] for n in names}


@pytest.mark.parametrize("type_name", RANDOM_TYPES)
def test_seeded_values_do_not_depend_on_registration_order(type_name: str) -> None:
    """With seed=int, the same names get the same values whatever order the layers were registered in."""
    first, second = Three("abc"), Three("cab")
    initialize(first, _seed_cfg(type_name), seed=42)
    initialize(second, _seed_cfg(type_name), seed=42)
    names = list(first.state_dict())
    assert set(names) == set(second.state_dict())
    assert all(torch.equal(first.state_dict()[n], second.state_dict()[n]) for n in names)


@pytest.mark.parametrize("type_name", RANDOM_TYPES)
def test_seeded_values_do_not_depend_on_other_layers(type_name: str) -> None:
    """Adding layers to a model leaves the seeded values of the layers it shares unchanged."""
    small, large = Three(), Three(extra=True)
    initialize(small, _seed_cfg(type_name), seed=42)
    initialize(large, _seed_cfg(type_name), seed=42)
    names = list(small.state_dict())
    shared = _named(large, names)
    assert all(torch.equal(small.state_dict()[n], shared[n]) for n in names)


@pytest.mark.parametrize("type_name", RANDOM_TYPES)
def test_seeded_init_leaves_the_global_rng_alone(type_name: str) -> None:
    """seed=int never draws from, or reseeds, torch's global generator."""
    model = Three(extra=True)
    state = torch.random.get_rng_state()
    for skip in (True, False):
        initialize(model, _seed_cfg(type_name), seed=9, skip_overwritten=skip)
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize("type_name", RANDOM_TYPES)
def test_seeded_init_is_the_same_in_both_modes(type_name: str) -> None:
    """With a seed, skip_overwritten=True and False give identical tensors despite overwrites."""
    first, second = Three(), Three()
    initialize(first, _seed_cfg(type_name), seed=1, skip_overwritten=True)
    initialize(second, _seed_cfg(type_name), seed=1, skip_overwritten=False)
    assert_same(first, second)


@pytest.mark.parametrize("type_name", RANDOM_TYPES)
def test_seeds_are_reproducible_and_distinct(type_name: str) -> None:
    """The same seed repeats the values; another seed, or another tensor of the same shape, differs."""
    models = [Three() for _ in range(3)]
    for model, seed in zip(models, (1, 1, 2), strict=True):
        initialize(model, _seed_cfg(type_name), seed=seed)
    weights = [(m.get_parameter("a.weight"), m.get_parameter("b.weight")) for m in models]
    assert torch.equal(weights[0][0], weights[1][0])
    assert not torch.equal(weights[0][0], weights[2][0])
    assert not torch.equal(weights[0][0], weights[0][1])


def test_seeded_values_do_not_depend_on_the_global_seed() -> None:
    """With seed=int, reseeding the global RNG before the call changes nothing."""
    first, second = Three(), Three()
    torch.manual_seed(0)
    initialize(first, _seed_cfg("Kaiming"), seed=4)
    torch.manual_seed(1)
    initialize(second, _seed_cfg("Kaiming"), seed=4)
    assert_same(first, second)


# -- the report -------------------------------------------------------------------------------------------


def test_report_records_initializer_arguments_and_source() -> None:
    """Each record holds the last writer's initializer, its arguments and the rule it came from."""
    cfg = [
        {"type": "Kaiming", "layer": "_ConvNd", "mode": "fan_in", "bias": 0.5},
        {
            "type": "Normal",
            "std": 0.01,
            "layer": "Linear",
            "override": {"name": "neck.fpn", "type": "Uniform"},
        },
    ]
    report = initialize(Detector(), cfg, seed=0)
    weight, bias = report["backbone.0.weight"], report["backbone.0.bias"]
    assert (weight.initializer, weight.source, weight.shape) == ("Kaiming", "init_cfg[0]", (4, 3, 3, 3))
    assert weight.args == {"a": 0.0, "mode": "fan_in", "nonlinearity": "relu", "distribution": "normal"}
    assert (bias.initializer, bias.args) == ("Kaiming", {"bias": 0.5})
    assert report["head.weight"].args == {"mean": 0.0, "std": 0.01}
    fpn = report["neck.fpn.p3.weight"]
    assert (fpn.initializer, fpn.source) == ("Uniform", "init_cfg[1].override[0] (name='neck.fpn')")


def test_report_lists_untouched_parameters() -> None:
    """untouched() names the parameters, then the buffers, that nothing wrote, in order."""
    report = initialize(Detector(), {"type": "Normal", "layer": "Linear"})
    untouched = report.untouched()
    assert "head.weight" not in untouched
    model = Detector()
    tensors = [*model.named_parameters(), *model.named_buffers()]
    assert untouched == [n for n, _ in tensors if not n.startswith("head.")]
    assert report.untouched(buffers=False) == [
        n for n, _ in model.named_parameters() if not n.startswith("head.")
    ]
    assert report["cls_token"].source == "untouched"
    assert report["cls_token"].initializer == ""


def test_report_covers_every_parameter_in_order() -> None:
    """The report maps every parameter's, then every buffer's, qualified name, in the model's order."""
    model = Detector()
    report = initialize(model, {"type": "Constant", "val": 1, "layer": "Linear"})
    assert list(report) == [n for n, _ in (*model.named_parameters(), *model.named_buffers())]
    assert [n for n, r in report.items() if r.buffer] == [n for n, _ in model.named_buffers()]


def test_report_to_dict_is_plain_json() -> None:
    """to_dict() gives JSON-ready data: per-parameter records, unmatched layers and checkpoints."""
    report = initialize(Detector(), {"type": "Normal", "std": 0.02, "layer": ["Linear", "Conv3d"]})
    data = json.loads(json.dumps(report.to_dict()))
    assert data["parameters"]["head.weight"] == {
        "shape": [2, 4],
        "initializer": "Normal",
        "args": {"mean": 0.0, "std": 0.02},
        "source": "init_cfg[0]",
    }
    assert data["parameters"]["cls_token"]["source"] == "untouched"
    assert data["buffers"]["backbone.1.running_mean"]["source"] == "untouched"
    assert data["unmatched_layers"] == [{"config": "init_cfg[0]", "layer": "Conv3d"}]
    assert data["checkpoints"] == []


def test_report_str_is_a_table_with_a_row_per_parameter() -> None:
    """str(report) is a table with a header, one row per parameter and the unmatched layer names."""
    model = Detector()
    report = initialize(model, {"type": "Normal", "std": 0.02, "layer": ["Linear", "Conv3d"]})
    lines = str(report).splitlines()
    assert lines[0].split() == ["tensor", "shape", "initializer", "source"]
    assert set(lines[1]) <= {"-", " "}
    rows = {line.split()[0]: line for line in lines[2:]}
    assert set(n for n, _ in model.named_parameters()) <= set(rows)
    assert "Normal(std=0.02)" in rows["head.weight"]  # arguments at their defaults are left out
    assert rows["head.weight"].rstrip().endswith("init_cfg[0]")
    assert rows["cls_token"].rstrip().endswith("untouched")
    assert lines[-1] == "unmatched layer 'Conv3d' in init_cfg[0]"


def test_report_names_the_checkpoint(tmp_path: Path) -> None:
    """Parameters loaded by Pretrained are reported as such, with the checkpoint's path."""
    model = nn.Sequential(nn.Linear(2, 2))
    path = tmp_path / "model.pth"
    torch.save({k: torch.full_like(v, 0.5) for k, v in model.state_dict().items()}, path)
    report = initialize(model, {"type": "Pretrained", "checkpoint": str(path)})
    record = report["0.weight"]
    assert record.initializer == "Pretrained"
    assert record.args == {"checkpoint": str(path)}
    assert str(path) in record.source
    assert is_const(model, "0.weight", 0.5)
    assert [c.loaded for c in report.checkpoints] == [2]


def test_report_of_a_plan_is_known_before_apply() -> None:
    """InitPlan.report() is computed from the plan alone: it is available before anything is written."""
    model = Detector()
    before = snapshot(model)
    plan = plan_init(model, {"type": "Uniform", "layer": "Linear", "override": {"name": "cls_token"}})
    report = plan.report()
    assert_unchanged(model, before)
    assert report["head.weight"].initializer == "Uniform"
    assert report["cls_token"].source == "init_cfg[0].override[0] (name='cls_token')"


def test_report_on_a_meta_model_is_complete() -> None:
    """On meta tensors (no values to read) the report is complete and the writes are no-ops."""
    with torch.device("meta"):
        model = Detector()
    cfg = [
        {
            "type": "Kaiming",
            "layer": "_ConvNd",
            "override": {"name": "neck.lateral_convs.2", "type": "Normal"},
        },
        {"type": "TruncNormal", "std": 0.02, "layer": "Linear", "override": {"name": "cls_token"}},
    ]
    for skip in (True, False):
        report = initialize(model, cfg, seed=0, skip_overwritten=skip)
        assert list(report)[: len(list(model.parameters()))] == [n for n, _ in model.named_parameters()]
        assert report.untouched(buffers=False) == ["backbone.1.weight", "backbone.1.bias"]
        assert report["neck.lateral_convs.2.weight"].initializer == "Normal"
        assert report["cls_token"].initializer == "TruncNormal"
    assert all(p.is_meta for p in model.parameters())


# A brute-force oracle: every rule writes its own constants, so the values read back name the last writer.


def _constant_rules() -> tuple[list[dict[str, Any]], dict[float, str]]:
    cfg = [
        {"type": "Constant", "val": 10, "bias": 11, "layer": ["_ConvNd", "Linear"]},
        {
            "type": "Constant",
            "val": 20,
            "bias": 21,
            "layer": "_BatchNorm",
            "override": [
                {"name": "neck", "type": "Constant", "val": 30, "bias": 31},
                {"name": "neck.fpn.p3", "type": "Constant", "val": 40, "bias": 41},
                {"name": "cls_token", "type": "Constant", "val": 50, "bias": 51},
            ],
        },
        {
            "type": "Constant",
            "val": 60,
            "bias": 61,
            "layer": "BatchNorm2d",
            "override": [
                {"name": "backbone.2", "type": "Constant", "val": 70, "bias": 71},
            ],
        },
    ]
    labels = {
        10: "init_cfg[0]",
        11: "init_cfg[0]",
        20: "init_cfg[1]",
        21: "init_cfg[1]",
        30: "init_cfg[1].override[0] (name='neck')",
        31: "init_cfg[1].override[0] (name='neck')",
        40: "init_cfg[1].override[1] (name='neck.fpn.p3')",
        41: "init_cfg[1].override[1] (name='neck.fpn.p3')",
        50: "init_cfg[1].override[2] (name='cls_token')",
        60: "init_cfg[2]",
        61: "init_cfg[2]",
        70: "init_cfg[2].override[0] (name='backbone.2')",
        71: "init_cfg[2].override[0] (name='backbone.2')",
    }
    return cfg, {float(k): v for k, v in labels.items()}


@pytest.mark.parametrize("skip", [True, False])
def test_report_agrees_with_the_values_each_rule_wrote(skip: bool) -> None:
    """The recorded source of each parameter is the rule whose distinct constant it holds afterwards."""
    model = Detector()
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(-1)
    cfg, labels = _constant_rules()
    report = initialize(model, cfg, skip_overwritten=skip)
    expected = {
        name: labels.get(float(p.detach().flatten()[0]), "untouched") for name, p in model.named_parameters()
    }
    assert {name: rec.source for name, rec in report.items() if not rec.buffer} == expected
    assert report.untouched() == [n for n, _ in model.named_buffers()]  # BatchNorm's running statistics


def test_report_of_init_weights_names_each_modules_own_rules() -> None:
    """Through init_weights, sources carry the owning module's path: 'mid.inner.init_cfg[0]'."""
    model = Outer({"type": "Constant", "val": 1, "layer": "Linear"})
    report = model.init_weights(seed=0)
    assert report["mid.inner.fc.weight"].source == "mid.inner.init_cfg[0]"
    assert report["mid.inner.norm.weight"].source == "mid.init_cfg[0]"
    assert report["head.weight"].source == "init_cfg[0].override[0] (name='head')"


# -- module containers of initspec behave like torch's for planning ------------------------------------


def test_plan_init_walks_initspec_containers_like_torch_ones() -> None:
    """initialize on initspec Sequential/ModuleList trees matches the same tree of torch containers."""
    ours = Sequential(nn.Linear(2, 2), ModuleList([nn.Conv1d(2, 2, 1), nn.Linear(2, 2)]))
    theirs = nn.Sequential(nn.Linear(2, 2), nn.ModuleList([nn.Conv1d(2, 2, 1), nn.Linear(2, 2)]))
    theirs.load_state_dict(ours.state_dict())
    cfg = {"type": "Uniform", "layer": "Linear", "override": {"name": "1", "type": "Normal"}}
    initialize(ours, cfg, seed=8)
    initialize(theirs, cfg, seed=8)
    assert_same(ours, theirs)


# -- override targets reached by a name other than their qualified one ------------------------------------


class Aliased(nn.Module):
    """Layers in a ModuleList, the last also reachable through a property (mmengine's getattr allows it)."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

    @property
    def last(self) -> nn.Module:
        return self.layers[-1]


ALIAS_BUG = (
    "BUG: an override whose name reaches a module under another path than its qualified one (a property "
    "alias such as 'last' for 'layers.2', or the second name of a module registered twice in one parent) is "
    "planned by a sub-planner that names tensors '<override name>.weight' instead of their qualified names"
)


def test_override_through_a_property_alias_is_reported_under_the_qualified_name() -> None:
    """An override written through a property alias is reported under the tensor's qualified name."""
    model = Aliased()
    report = initialize(model, {"type": "Constant", "val": 3, "override": {"name": "last"}})
    assert is_const(model, "layers.2.weight", 3)
    assert report["layers.2.weight"].source == "init_cfg[0].override[0] (name='last')"


def test_override_through_a_duplicate_registration_is_reported() -> None:
    """A module registered twice in one container and overridden by its second name is reported as written."""
    norm = nn.LayerNorm(3)
    model = nn.ModuleList([norm, norm])
    report = initialize(model, {"type": "Constant", "val": 4, "override": {"name": "1"}})
    assert is_const(norm, "weight", 4)
    assert report["0.weight"].source == "init_cfg[0].override[0] (name='1')"


def test_seeded_values_do_not_depend_on_the_name_an_override_uses() -> None:
    """With a seed, overriding a module through an alias or its qualified path gives the same values."""
    first, second = Aliased(), Aliased()
    initialize(first, {"type": "Normal", "override": {"name": "last"}}, seed=0)
    initialize(second, {"type": "Normal", "override": {"name": "layers.2"}}, seed=0)
    assert torch.equal(first.get_parameter("layers.2.weight"), second.get_parameter("layers.2.weight"))


def test_fan_error_from_an_override_suggests_a_fix_that_applies_to_overrides() -> None:
    """A Kaiming override reaching a 1-D weight suggests overriding another submodule, not narrowing 'layer'."""
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
    with pytest.raises(InitPlanError, match=r"override a submodule without 1-D weights$"):
        plan_init(model, dict(type="Normal", override=dict(name="1", type="Kaiming")))
