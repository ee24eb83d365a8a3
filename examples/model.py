"""A toy detector for the initspec examples: a backbone, a neck, and a head with ``cls`` and ``reg`` convs.

``build_model()`` is the factory that ``initspec explain`` calls:

    initspec explain examples/configs/retinanet_head.json --model examples/model.py:build_model
"""

from __future__ import annotations

from torch import nn

from initspec import BaseModule

NUM_CLASSES = 3
NUM_ANCHORS = 2


class Backbone(BaseModule):
    """Two conv + batch-norm stages."""

    def __init__(self, init_cfg: object = None) -> None:
        super().__init__(init_cfg)
        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16)
        self.stage1 = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
        self.stage1_bn = nn.BatchNorm2d(32)


class Neck(BaseModule):
    """A lateral 1x1 conv and an output 3x3 conv, as in one FPN level."""

    def __init__(self, init_cfg: object = None) -> None:
        super().__init__(init_cfg)
        self.lateral = nn.Conv2d(32, 32, 1)
        self.fpn = nn.Conv2d(32, 32, 3, padding=1)


class Head(BaseModule):
    """A shared conv, then a classification conv (``cls``) and a box-regression conv (``reg``)."""

    def __init__(self, init_cfg: object = None) -> None:
        super().__init__(init_cfg)
        self.shared = nn.Conv2d(32, 32, 3, padding=1)
        self.cls = nn.Conv2d(32, NUM_ANCHORS * NUM_CLASSES, 3, padding=1)
        self.reg = nn.Conv2d(32, NUM_ANCHORS * 4, 3, padding=1)


class Detector(BaseModule):
    """Backbone, neck and head; each part may carry its own ``init_cfg``."""

    def __init__(
        self,
        backbone_init: object = None,
        neck_init: object = None,
        head_init: object = None,
        init_cfg: object = None,
    ) -> None:
        super().__init__(init_cfg)
        self.backbone = Backbone(backbone_init)
        self.neck = Neck(neck_init)
        self.head = Head(head_init)


def build_model() -> Detector:
    """The example detector, with the init_cfgs a RetinaNet-style model gives its parts."""
    return Detector(
        backbone_init=[
            dict(type="Kaiming", layer="Conv2d"),
            dict(type="Constant", val=1, layer="BatchNorm2d"),
        ],
        neck_init=dict(type="Xavier", layer="Conv2d", distribution="uniform"),
        head_init=dict(
            type="Normal",
            layer="Conv2d",
            std=0.01,
            override=dict(type="Normal", name="cls", std=0.01, bias_prob=0.01),
        ),
    )
