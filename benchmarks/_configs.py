"""Small, valid config files in every format ``initspec validate`` reads, for the V case."""

from __future__ import annotations

from pathlib import Path

_JSON = """{{
  "model": {{
    "type": "Detector{i}",
    "backbone": {{"init_cfg": [
      {{"type": "Kaiming", "layer": "Conv2d"}},
      {{"type": "Constant", "val": 1, "layer": ["_BatchNorm", "GroupNorm"]}}
    ]}},
    "head": {{"init_cfg": {{"type": "Normal", "std": {std}, "layer": "Linear",
      "override": {{"name": "fc_cls", "type": "Normal", "std": 0.01, "bias_prob": 0.01}}}}}}
  }}
}}
"""

_YAML = """model:
  type: Detector{i}
  backbone:
    init_cfg:
      - type: Kaiming
        layer: Conv2d
        mode: fan_out
      - type: Constant
        layer: [_BatchNorm, GroupNorm]
        val: 1
  head:
    init_cfg:
      type: Normal
      layer: Linear
      std: {std}
"""

_TOML = """[model]
type = "Detector{i}"

[[model.init_cfg]]
type = "Kaiming"
layer = "Conv2d"

[model.head.init_cfg]
type = "Normal"
layer = "Linear"
std = {std}
override = {{ type = "Normal", name = "fc_cls", std = 0.01, bias_prob = 0.01 }}
"""

_PY = """# An OpenMMLab-style config, read from its syntax tree.
model = dict(
    type="Detector{i}",
    backbone=dict(init_cfg=dict(type="Pretrained", checkpoint="torchvision://resnet18")),
    neck=dict(init_cfg=dict(type="Xavier", layer="Conv2d", distribution="uniform")),
    head=dict(init_cfg=dict(type="Normal", layer="Conv2d", std={std}, override=dict(type="Normal", name="cls", std=0.01, bias_prob=0.01))),
)
"""

TEMPLATES = {".json": _JSON, ".yaml": _YAML, ".toml": _TOML, ".py": _PY}


def write_configs(folder: Path, count: int) -> list[Path]:
    """Write ``count`` configs to ``folder``, cycling through the formats, and return their paths."""
    paths = []
    suffixes = list(TEMPLATES)
    for i in range(count):
        suffix = suffixes[i % len(suffixes)]
        path = folder / f"config_{i:03d}{suffix}"
        path.write_text(TEMPLATES[suffix].format(i=i, std=0.01 + i / 10_000), encoding="utf-8")
        paths.append(path)
    return paths
