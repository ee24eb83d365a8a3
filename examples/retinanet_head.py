"""A RetinaNet-style detection head initialized from the init_cfg of the mmcv#780 migration example.

mmdetection's ``RetinaHead.init_weights`` used to be::

    for m in self.cls_convs: normal_init(m.conv, std=0.01)
    for m in self.reg_convs: normal_init(m.conv, std=0.01)
    normal_init(self.retina_cls, std=0.01, bias=bias_init_with_prob(0.01))
    normal_init(self.retina_reg, std=0.01)

and became one config: Normal(std=0.01) on every Conv2d, with an override giving ``retina_cls`` the focal-loss
prior bias. Run it with ``python examples/retinanet_head.py``.
"""

from __future__ import annotations

import torch
from torch import nn

from initspec import BaseModule, InitReport

RETINA_INIT_CFG = dict(
    type="Normal",
    layer="Conv2d",
    std=0.01,
    override=dict(type="Normal", name="retina_cls", std=0.01, bias_prob=0.01),
)


def conv_stack(channels: int, depth: int) -> nn.Sequential:
    """``depth`` 3x3 conv + ReLU pairs, as the head's classification and regression towers."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers)


class RetinaHead(BaseModule):
    """Two conv towers, then a classification conv and a box-regression conv per anchor."""

    def __init__(
        self, num_classes: int = 80, channels: int = 64, num_anchors: int = 9, depth: int = 2
    ) -> None:
        super().__init__(init_cfg=RETINA_INIT_CFG)
        self.cls_convs = conv_stack(channels, depth)
        self.reg_convs = conv_stack(channels, depth)
        self.retina_cls = nn.Conv2d(channels, num_anchors * num_classes, 3, padding=1)
        self.retina_reg = nn.Conv2d(channels, num_anchors * 4, 3, padding=1)

    def forward(self, feature: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.retina_cls(self.cls_convs(feature)), self.retina_reg(self.reg_convs(feature))


def main() -> InitReport:
    head = RetinaHead()
    report = head.init_weights(seed=0)
    print(report)
    print()
    print(report.summary())
    prior = torch.sigmoid(head.retina_cls.bias[0]).item()
    print(f"retina_cls.bias = {head.retina_cls.bias[0].item():.6f}, so sigmoid(bias) = {prior:.4f}")
    print(f"retina_reg.bias = {head.retina_reg.bias[0].item():.1f}")
    return report


if __name__ == "__main__":
    main()
