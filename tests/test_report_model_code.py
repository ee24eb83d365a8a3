"""The report under model code: what a module's own init_weights wrote, credited to it and to the function."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from initspec import BaseModule
from initspec import functional as F

SENTINEL = 123.0


class Head(BaseModule):
    """Like RetinaHead: super().init_weights() applies the config, then model code writes the classifier."""

    def __init__(self) -> None:
        super().__init__(init_cfg=dict(type="Normal", std=0.01, layer="Conv2d"))
        self.conv = nn.Conv2d(2, 2, 1)
        self.cls = nn.Conv2d(2, 3, 1)
        self.norm = nn.BatchNorm2d(2)
        self.token = nn.Parameter(torch.zeros(1, 2))
        self.unused = nn.Linear(2, 2)

    def init_weights(self, **kwargs: Any) -> None:  # type: ignore[override]
        super().init_weights()
        nn.init.constant_(self.cls.bias, -4.6)
        F.trunc_normal_(self.token, std=0.02)
        with torch.no_grad():
            self.norm.weight.data.fill_(0.5)  # through a .data alias


class Net(BaseModule):
    def __init__(self) -> None:
        super().__init__(init_cfg=dict(type="Kaiming", layer="Conv2d"))
        self.stem = nn.Conv2d(3, 2, 1)
        self.head = Head()


def _fill_sentinel(model: nn.Module) -> None:
    with torch.no_grad():
        for tensor in model.state_dict(keep_vars=True).values():
            tensor.fill_(SENTINEL if tensor.is_floating_point() else 7)


def test_untouched_is_exactly_what_nothing_wrote_and_sources_are_exact() -> None:
    """Every tensor's last writer is named; untouched() equals the tensors still holding the sentinel."""
    model = Net()
    _fill_sentinel(model)
    report = model.init_weights()
    unchanged = [
        name
        for name, t in model.state_dict(keep_vars=True).items()
        if torch.equal(t, torch.full_like(t, SENTINEL if t.is_floating_point() else 7))
    ]
    assert sorted(report.untouched()) == sorted(unchanged)
    assert "head.unused.weight" in unchanged and "head.norm.running_mean" in unchanged
    assert report["head.conv.weight"].source == "head.init_cfg[0]"  # applied by the inner super()
    assert report["head.cls.weight"].source == "head.init_cfg[0]"
    assert report["stem.weight"].source == "init_cfg[0]"
    cls_bias = report["head.cls.bias"]
    assert cls_bias.initializer == "torch.nn.init.constant_"
    assert cls_bias.source == "user-defined init_weights of Head (head)"
    assert report["head.token"].initializer == "initspec.functional.trunc_normal_"
    assert report["head.norm.weight"].initializer == "Tensor.fill_"
    assert report["head.norm.bias"].source == "untouched"


def test_report_of_model_code_reads_no_values_and_works_on_meta() -> None:
    """On the meta device the same sources are reported, and nothing is allocated."""
    with torch.device("meta"):
        model = Net()
    report = model.init_weights()
    assert report["head.cls.bias"].initializer == "torch.nn.init.constant_"
    assert report["head.conv.weight"].source == "head.init_cfg[0]"
    assert all(p.is_meta for p in model.parameters())


def test_report_table_stays_narrow() -> None:
    """Arguments at their defaults are left out of the table, so rows stay short; to_dict keeps them all."""
    report = Net().init_weights()
    widest = max(len(line) for line in str(report).splitlines())
    assert widest < 120, str(report)
    assert "functional.trunc_normal_()" in str(report)
    assert report.to_dict()["parameters"]["stem.weight"]["args"]["mode"] == "fan_out"
