"""``require_complete=True``: raise before any write when a parameter (meta: floating buffer) has no write."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from initspec import BaseModule, InitPlanError, init_options, initialize, plan_init


class _ViT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 4))
        self.fc = nn.Linear(4, 4)
        self.conv = nn.Conv2d(1, 1, 1)
        self.norm = nn.BatchNorm1d(4)


FULL = dict(
    type="Normal",
    layer=["Linear", "Conv2d", "BatchNorm1d"],
    override=dict(name="cls_token"),
)


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_untouched_parameters_raise_before_any_write() -> None:
    """Every parameter without a write is listed, grouped by module, and the model is unchanged."""
    model = _ViT()
    before = _snapshot(model)
    with pytest.raises(InitPlanError, match=r"5 tensor\(s\) in 3 module\(s\) would be left untouched") as err:
        initialize(model, dict(type="Normal", layer="Linear"), require_complete=True)
    text = str(err.value)
    assert (
        "'<root>' (_ViT): cls_token; layer rules write only weight and bias: add an override name='cls_token'"
        in text
    )
    assert "'conv' (Conv2d): weight, bias; closest config: init_cfg[0] layer=['Linear']" in text
    assert "add 'Conv2d' to a layer list, or an override name='conv'" in text
    for key, value in before.items():
        assert torch.equal(model.state_dict()[key], value), key


def test_a_complete_config_passes_and_leaves_nothing_untouched() -> None:
    """With every parameter written, the run goes ahead, and the report agrees: no parameter untouched."""
    report = initialize(_ViT(), FULL, require_complete=True)
    assert report.untouched(buffers=False) == []


def test_off_by_default() -> None:
    """Without the option an incomplete config runs, as under mmengine."""
    report = initialize(_ViT(), dict(type="Normal", layer="Linear"))
    assert "cls_token" in report.untouched()


def test_plan_init_checks_without_writing() -> None:
    """plan_init(require_complete=True) raises the same error; nothing is ever written by planning."""
    with pytest.raises(InitPlanError, match="require_complete=True"):
        plan_init(_ViT(), dict(type="Normal", layer="Linear"), require_complete=True)
    assert len(plan_init(_ViT(), FULL, require_complete=True)) == 7


def test_real_model_buffers_count_as_initialized() -> None:
    """On a model with data, BatchNorm's running stats hold their constructor values: they are not required."""
    initialize(_ViT(), FULL, require_complete=True)  # norm.running_mean/var written by no step: fine


def test_meta_model_requires_floating_buffers() -> None:
    """On the meta device, floating buffers are garbage once materialized: they need a write too."""
    with torch.device("meta"):
        model = _ViT()
    with pytest.raises(
        InitPlanError, match=r"'norm' \(BatchNorm1d\): running_mean, running_var; buffers of a meta"
    ):
        plan_init(model, FULL, require_complete=True)
    cfg = [
        FULL,
        dict(type="Constant", val=0, override=dict(name="norm.running_mean")),
        dict(type="Constant", val=1, override=dict(name="norm.running_var")),
    ]
    plan_init(model, cfg, require_complete=True)  # num_batches_tracked is an integer: not required


def test_a_pretrained_load_covers_what_it_loads(tmp_path: Path) -> None:
    """Tensors a checkpoint loads count as written; keys it lacks are still reported."""
    source = _ViT()
    path = tmp_path / "ck.pth"
    torch.save({k: v for k, v in source.state_dict().items() if not k.startswith("conv")}, path)
    with pytest.warns(match="missing keys in the checkpoint: conv.weight, conv.bias"):
        initialize(
            _ViT(),
            [dict(type="Kaiming", layer="Conv2d"), dict(type="Pretrained", checkpoint=str(path))],
            require_complete=True,
        )
    with (
        pytest.warns(match="missing keys"),
        pytest.raises(InitPlanError, match=r"'conv' \(Conv2d\): weight, bias"),
    ):
        initialize(_ViT(), dict(type="Pretrained", checkpoint=str(path)), require_complete=True)


class _Head(BaseModule):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def init_weights(self) -> None:  # model code: what it writes is unknown before it runs
        nn.init.zeros_(self.fc.weight)


class _Net(BaseModule):
    def __init__(self, cfg: object = None) -> None:
        super().__init__(init_cfg=cfg)
        self.backbone = nn.Linear(4, 4)
        self.extra = nn.Linear(4, 4)
        self.head = _Head()


def test_init_weights_checks_the_whole_tree_and_trusts_model_code() -> None:
    """init_weights(require_complete=True) raises for 'extra'; tensors under model code count as covered.

    The report, exact after the run, shows what the model code really wrote.
    """
    with pytest.raises(InitPlanError, match=r"'extra' \(Linear\)") as err:
        _Net(dict(type="Normal", override=dict(name="backbone"))).init_weights(require_complete=True)
    assert "head" not in str(err.value)
    net = _Net(dict(type="Normal", override=[dict(name="backbone"), dict(name="extra")]))
    report = net.init_weights(require_complete=True)
    assert report["head.fc.weight"].source.startswith("user-defined init_weights of _Head")
    assert report["head.fc.bias"].source == "untouched"  # trusted before it ran; the report tells the truth


def test_init_options_reaches_model_code_roots() -> None:
    """init_options(require_complete=True) applies to init_weights calls made without keywords."""

    class Root(_Net):
        def init_weights(self) -> None:
            super().init_weights()

    with init_options(require_complete=True), pytest.raises(InitPlanError, match="'extra'"):
        Root(dict(type="Normal", override=dict(name="backbone"))).init_weights()
