"""One BaseModule per finding of ``validate --build``; ``Net`` builds its parts from the config as mmdet does."""

import threading

import torch
from mmengine.model import BaseModule
from torch import nn

from initspec_fixture.registry import MODELS


@MODELS.register_module()
class Net(BaseModule):
    """The root: each part is built from its config; ``hidden`` sits under a plain nn.Sequential."""

    def __init__(self, neck=None, head=None, own=None, hidden=None, init_cfg=None):
        super().__init__(init_cfg)
        self.stem = nn.Conv2d(3, 8, 3)
        for name, cfg in (("neck", neck), ("head", head), ("own", own)):
            if cfg is not None:
                setattr(self, name, MODELS.build(cfg))
        if hidden is not None:
            self.plain = nn.Sequential(MODELS.build(hidden))


@MODELS.register_module()
class ConvNeck(BaseModule):
    """Convolutions only, with a default init_cfg for Linear layers: a dead rule in package code."""

    def __init__(self, init_cfg=dict(type="Normal", layer="Linear", std=0.01)):  # noqa: B006  # as mmdet writes it
        super().__init__(init_cfg)
        self.conv = nn.Conv2d(8, 8, 1)


@MODELS.register_module()
class Head(BaseModule):
    """A head whose init_cfg comes from the config; it reads a schedule back, as drop-path rates are."""

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self.rates = [x.item() for x in torch.linspace(0, 0.1, 4)]  # fails on the meta device
        self.cls = nn.Conv2d(8, 4, 1)
        self.norm = nn.BatchNorm2d(4)


@MODELS.register_module()
class OwnInit(BaseModule):
    """Model code that never calls ``super().init_weights()``, so its init_cfg is never applied."""

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self.fc = nn.Linear(4, 4)

    def init_weights(self):
        nn.init.zeros_(self.fc.bias)


@MODELS.register_module()
class Boom(BaseModule):
    """A constructor that raises, as a model with a bad argument does."""

    def __init__(self, init_cfg=None):
        raise ValueError("Boom needs a num_classes argument")


@MODELS.register_module()
class Hang(BaseModule):
    """A constructor that never returns."""

    def __init__(self, init_cfg=None):
        threading.Event().wait()
