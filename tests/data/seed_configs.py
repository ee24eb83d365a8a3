"""Every ``init_cfg`` example in the OpenMMLab seed documents (``/work/shared/seeds/``), as written there.

``SEED_CONFIGS`` holds the valid examples and ``SEED_INVALID_CONFIGS`` the two the documents call
invalid. Each entry is ``(description, config)``; the comment above each group names the seed file it
comes from. Examples that appear in several seeds are repeated, so each document's text is covered on its
own. Placeholders such as ``init_cfg=XXX`` are not examples and are left out.
"""

from __future__ import annotations

from typing import Any

# The one variable the seeds use: the retinanet checkpoint URL from mmcv's cnn.md.
_RETINANET_URL = (
    "http://download.openmmlab.com/mmdetection/v2.0/retinanet/"
    "retinanet_r50_fpn_1x_coco/"
    "retinanet_r50_fpn_1x_coco_20200130-c2398f9e.pth"
)

SEED_CONFIGS: list[tuple[str, Any]] = [
    # 000_136b6a1253a6434b.txt: mmcv PR #780 "Unified parameters initialization".
    (
        "000: FooModel, one Constant per layer type",
        [
            dict(type="Constant", val=1, bias=2, layer="Linear"),
            dict(type="Constant", val=3, bias=4, layer="Conv1d"),
            dict(type="Constant", val=5, bias=6, layer="Conv2d"),
        ],
    ),
    (
        "000: nested FooModel, Linear rule with an override of 'reg'",
        [
            dict(
                type="Constant",
                val=1,
                bias=2,
                layer="Linear",
                override=dict(type="Constant", name="reg", val=13, bias=14),
            ),
            dict(type="Constant", val=3, bias=4, layer="Conv1d"),
            dict(type="Constant", val=5, bias=6, layer="Conv2d"),
        ],
    ),
    ("000: component1's init_cfg", dict(type="Constant", val=7, bias=8)),
    ("000: component2's init_cfg", dict(type="Constant", val=9, bias=10)),
    (
        "000: retina_head migration, Normal with a bias_prob override",
        dict(
            type="Normal",
            layer="Conv2d",
            std=0.01,
            override=dict(type="Normal", name="retina_cls", std=0.01, bias_prob=0.01),
        ),
    ),
    # The seed writes checkpoint=pretrained, a path passed in by the caller.
    ("000: pretrained backward compatibility", dict(type="Pretrained", checkpoint="pretrained.pth")),
    # 001_895408c013c00eb7.txt: mmengine 0.10.7 "Weight initialization" tutorial.
    ("001: ToyNet from a saved checkpoint", dict(type="Pretrained", checkpoint="./pretrained.pth")),
    ("001: Kaiming for Conv2d", dict(type="Kaiming", layer="Conv2d")),
    (
        "001: Kaiming for Conv2d and Xavier for Linear",
        [dict(type="Kaiming", layer="Conv2d"), dict(type="Xavier", layer="Linear")],
    ),
    ("001: Kaiming with a list of layers", [dict(type="Kaiming", layer=["Conv2d", "Linear"])]),
    (
        "001: Kaiming with a Xavier override of conv2",
        [dict(type="Kaiming", layer=["Conv2d"], override=dict(name="conv2", type="Xavier"))],
    ),
    (
        "001: the same Kaiming/Xavier override, next to a custom init_weights",
        [dict(type="Kaiming", layer=["Conv2d"], override=dict(name="conv2", type="Xavier"))],
    ),
    # 002_bb8557f00ae2406e.txt: mmdetection weight initialization tutorial (Chinese).
    (
        "002: one Constant for three layer types",
        dict(type="Constant", layer=["Conv1d", "Conv2d", "Linear"], val=1),
    ),
    (
        "002: a Constant per layer type",
        [
            dict(type="Constant", layer="Conv1d", val=1),
            dict(type="Constant", layer="Conv2d", val=2),
            dict(type="Constant", layer="Linear", val=3),
        ],
    ),
    (
        "002: Constant with an override of 'reg'",
        dict(
            type="Constant",
            layer=["Conv1d", "Conv2d"],
            val=1,
            bias=2,
            override=dict(type="Constant", name="reg", val=3, bias=4),
        ),
    ),
    (
        "002: no layer, an override with only a name",
        dict(type="Constant", val=1, bias=2, override=dict(name="reg")),
    ),
    ("002: torchvision ResNet-50", dict(type="Pretrained", checkpoint="torchvision://resnet50")),
    # 003_37537889d2c1919d.txt: mmcv docs/en/understand_mmcv/cnn.md.
    (
        "003: one Constant for three layer types",
        dict(type="Constant", layer=["Conv1d", "Conv2d", "Linear"], val=1),
    ),
    (
        "003: a Constant per layer type",
        [
            dict(type="Constant", layer="Conv1d", val=1),
            dict(type="Constant", layer="Conv2d", val=2),
            dict(type="Constant", layer="Linear", val=3),
        ],
    ),
    (
        "003: Constant with an override of 'reg'",
        dict(
            type="Constant",
            layer=["Conv1d", "Conv2d"],
            val=1,
            bias=2,
            override=dict(type="Constant", name="reg", val=3, bias=4),
        ),
    ),
    (
        "003: no layer, an override with only a name",
        dict(type="Constant", val=1, bias=2, override=dict(name="reg")),
    ),
    ("003: torchvision ResNet-50", dict(type="Pretrained", checkpoint="torchvision://resnet50")),
    (
        "003: the backbone of a retinanet checkpoint",
        dict(type="Pretrained", checkpoint=_RETINANET_URL, prefix="backbone."),
    ),
    ("003: FooConv1d init_cfg1", dict(type="Constant", layer="Conv1d", val=0.0, bias=1.0)),
    ("003: FooConv2d init_cfg2", dict(type="Constant", layer="Conv2d", val=2.0, bias=3.0)),
    (
        "003: container init_cfg over Conv1d and Conv2d",
        dict(type="Constant", layer=["Conv1d", "Conv2d"], val=4.0, bias=5.0),
    ),
    # 004_f67301b0b5b8e2c1.txt: mmdetection weight initialization tutorial (English).
    (
        "004: one Constant for three layer types",
        dict(type="Constant", layer=["Conv1d", "Conv2d", "Linear"], val=1),
    ),
    (
        "004: a Constant per layer type",
        [
            dict(type="Constant", layer="Conv1d", val=1),
            dict(type="Constant", layer="Conv2d", val=2),
            dict(type="Constant", layer="Linear", val=3),
        ],
    ),
    (
        "004: Constant with an override of 'reg'",
        dict(
            type="Constant",
            layer=["Conv1d", "Conv2d"],
            val=1,
            bias=2,
            override=dict(type="Constant", name="reg", val=3, bias=4),
        ),
    ),
    (
        "004: no layer, an override with only a name",
        dict(type="Constant", val=1, bias=2, override=dict(name="reg")),
    ),
    ("004: torchvision ResNet-50", dict(type="Pretrained", checkpoint="torchvision://resnet50")),
]

SEED_INVALID_CONFIGS: list[tuple[str, Any]] = [
    # 002_bb8557f00ae2406e.txt, "无效的使用" (invalid usage).
    (
        "002: an override without name",
        dict(
            type="Constant",
            layer=["Conv1d", "Conv2d"],
            val=1,
            bias=2,
            override=dict(type="Constant", val=3, bias=4),
        ),
    ),
    (
        "002: an override with arguments but no type",
        dict(
            type="Constant",
            layer=["Conv1d", "Conv2d"],
            val=1,
            bias=2,
            override=dict(name="reg", val=3, bias=4),
        ),
    ),
    # 003_37537889d2c1919d.txt, "Invalid usage".
    (
        "003: an override without name",
        dict(
            type="Constant",
            layer=["Conv1d", "Conv2d"],
            val=1,
            bias=2,
            override=dict(type="Constant", val=3, bias=4),
        ),
    ),
    (
        "003: an override with arguments but no type",
        dict(
            type="Constant",
            layer=["Conv1d", "Conv2d"],
            val=1,
            bias=2,
            override=dict(name="reg", val=3, bias=4),
        ),
    ),
    # 004_f67301b0b5b8e2c1.txt, "Invalid usage".
    (
        "004: an override without name",
        dict(
            type="Constant",
            layer=["Conv1d", "Conv2d"],
            val=1,
            bias=2,
            override=dict(type="Constant", val=3, bias=4),
        ),
    ),
    (
        "004: an override with arguments but no type",
        dict(
            type="Constant",
            layer=["Conv1d", "Conv2d"],
            val=1,
            bias=2,
            override=dict(name="reg", val=3, bias=4),
        ),
    ),
]
