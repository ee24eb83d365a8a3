"""A load after init (the Runner's ``load_from``), known to the plan: what it supplies is neither read nor drawn."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from initspec import BaseModule, CheckpointError
from initspec._walker.external import LATER, LaterLoad


class Backbone(BaseModule):
    def __init__(self, init_cfg: Any = None) -> None:
        super().__init__(init_cfg)
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)


class Net(BaseModule):
    def __init__(self, checkpoint: str) -> None:
        super().__init__(init_cfg=dict(type="Kaiming", layer="Conv2d"))
        self.backbone = Backbone(init_cfg=dict(type="Pretrained", checkpoint=checkpoint))
        self.head = nn.Linear(4, 2)


def _shapes(model: nn.Module, drop: str = "") -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items() if not (drop and k.startswith(drop))}


@contextmanager
def _later(shapes: Mapping[str, tuple[int, ...]]) -> Iterator[LaterLoad]:
    later = LaterLoad("load_from", "ck.pth", shapes)
    token = LATER.set(later)
    try:
        yield later
    finally:
        LATER.reset(token)


def test_a_fully_supplied_pretrained_is_never_read(tmp_path: Path) -> None:
    """The backbone's checkpoint does not even exist: init succeeds, and the report credits the later load."""
    model = Net(str(tmp_path / "missing.pth"))
    with _later(_shapes(model)) as later:
        report = model.init_weights()
    assert later.skipped == [str(tmp_path / "missing.pth")]
    assert {rec.source for rec in report.values()} == {"load_from: ck.pth"}
    with pytest.raises(CheckpointError, match=r"missing\.pth can not be found"):
        Net(str(tmp_path / "missing.pth")).init_weights()


def test_a_partly_supplied_pretrained_is_loaded_as_before(tmp_path: Path) -> None:
    """A later load lacking the BatchNorm's bias: the Pretrained loads; what the later load lacks keeps it."""
    ckpt = tmp_path / "backbone.pth"
    torch.save(Backbone().state_dict(), ckpt)
    model = Net(str(ckpt))
    with _later(_shapes(model, drop="backbone.bn.bias")) as later:
        report = model.init_weights()
    assert later.skipped == []
    assert report["backbone.bn.bias"].source == f"backbone.init_cfg[0] from {ckpt}"
    assert report["backbone.conv.weight"].source == "load_from: ck.pth"


def test_a_shape_mismatch_is_not_supplied_so_it_is_drawn() -> None:
    """The conv weight recorded with another shape in the later load: it is drawn; its bias is not."""
    model = Backbone(init_cfg=dict(type="Kaiming", layer="Conv2d"))
    with _later({"conv.weight": (4, 3, 5, 5), "conv.bias": (4,)}):
        report = model.init_weights()
    assert report["conv.weight"].initializer == "Kaiming"
    assert report["conv.bias"].source == "load_from: ck.pth"


def test_skip_overwritten_false_still_runs_every_draw(tmp_path: Path) -> None:
    """skip_overwritten=False keeps mmengine's stream: the Kaiming draw runs though the later load supplies it."""
    torch.manual_seed(0)
    ours = Backbone(init_cfg=dict(type="Kaiming", layer="Conv2d"))
    torch.manual_seed(0)
    plain = Backbone(init_cfg=dict(type="Kaiming", layer="Conv2d"))
    torch.manual_seed(1)
    with _later(_shapes(ours)):
        ours.init_weights(skip_overwritten=False)
    after_ours = torch.rand(1)
    torch.manual_seed(1)
    plain.init_weights(skip_overwritten=False)
    assert torch.equal(after_ours, torch.rand(1))
    assert torch.equal(ours.conv.weight, plain.conv.weight)
