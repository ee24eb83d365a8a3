"""Fine-tuning: load a pretrained backbone from a checkpoint, and give a new head its own initialization.

The script first "pretrains" a 1000-class classifier and saves its checkpoint to a temporary directory. It then
builds a 10-class model whose backbone loads the ``backbone.*`` keys of that file (``Pretrained`` with a
``prefix``), while the new head, which the checkpoint cannot fit, keeps its own ``Normal`` init. The report
says which parameters came from the file. Run it with ``python examples/finetune_pretrained.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from torch import nn

from initspec import BaseModule, InitReport

BACKBONE_INIT_CFG = [
    dict(type="Kaiming", layer="Conv2d"),
    dict(type="Constant", layer="BatchNorm2d", val=1),
]
HEAD_INIT_CFG = dict(type="Normal", layer="Linear", std=0.01)


class Backbone(BaseModule):
    """Two conv-BN-ReLU stages and global pooling."""

    def __init__(self, init_cfg: object = BACKBONE_INIT_CFG) -> None:
        super().__init__(init_cfg)
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.stage = nn.Sequential(nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32))
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.relu(self.stage(self.stem(images)))).flatten(1)


class Head(BaseModule):
    """A linear classifier."""

    def __init__(self, num_classes: int) -> None:
        super().__init__(init_cfg=HEAD_INIT_CFG)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(features)


class ImageClassifier(BaseModule):
    """A backbone and a head; each carries its own ``init_cfg``."""

    def __init__(self, num_classes: int, backbone_init: object = BACKBONE_INIT_CFG) -> None:
        super().__init__()
        self.backbone = Backbone(backbone_init)
        self.head = Head(num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(images))


def pretrain(directory: Path) -> tuple[Path, ImageClassifier]:
    """Stand-in for a pretraining run: a 1000-class model, saved as a training checkpoint."""
    model = ImageClassifier(num_classes=1000)
    model.init_weights(seed=1)
    path = directory / "classifier_1000.pth"
    torch.save({"state_dict": model.state_dict(), "meta": {"epoch": 90}}, path)
    return path, model


def main() -> InitReport:
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint, pretrained = pretrain(Path(tmp))
        model = ImageClassifier(
            num_classes=10,
            backbone_init=dict(type="Pretrained", checkpoint=str(checkpoint), prefix="backbone"),
        )
        report = model.init_weights(seed=0)

    from_file = [name for name, record in report.items() if record.initializer == "Pretrained"]
    print("from the checkpoint:", ", ".join(from_file))
    from_head = [name for name, record in report.items() if record.source == "head.init_cfg[0]"]
    print("from the head's init_cfg:", ", ".join(from_head))
    loaded = report.checkpoints[0]
    print(
        f"{loaded.loaded} tensors loaded (parameters and BatchNorm buffers), missing: {list(loaded.missing)}"
    )
    print()
    print(report)

    loaded_state, saved_state = model.backbone.state_dict(), pretrained.backbone.state_dict()
    same = all(torch.equal(loaded_state[key], saved_state[key]) for key in saved_state)
    print()
    print("backbone equals the pretrained backbone:", same)
    print(f"head.fc.weight std: {model.head.fc.weight.std().item():.3f}")
    return report


if __name__ == "__main__":
    main()
