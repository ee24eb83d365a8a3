"""Test-only stand-ins that let mmpretrain, mmdet and mmseg import beside CPU torch, with no compiled ops.

Two things cannot load on a CPU-only machine, and neither is used to build or initialize a model:

- ``torchvision``'s op registrations. PyPI's torchvision wheels are CUDA builds; next to CPU torch 2.13.0 its
  ``_meta_registrations`` and ``_autograd_registrations`` modules fail at import ("operator torchvision::nms
  does not exist"), which makes ``import torchvision`` fail. mmpretrain imports torchvision at import time. We
  put empty modules under those two names in ``sys.modules`` before torchvision is imported, so the rest of
  torchvision (models, transforms) imports; only the fake/autograd kernels of its C++ ops are missing.
- ``mmcv._ext``. mmcv-lite ships no compiled ops, and some mmdet modules load ``mmcv._ext`` names at import
  time. We register a module whose every public attribute is a function that raises ``NotImplementedError``.

Building a model and calling ``init_weights`` never calls either, so a model that does would fail loudly here
rather than silently compute something else.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import NoReturn

TORCHVISION_REGISTRATIONS = ("torchvision._meta_registrations", "torchvision._autograd_registrations")


def _missing_op(name: str) -> Callable[..., NoReturn]:
    def op(*args: object, **kwargs: object) -> NoReturn:
        msg = f"mmcv._ext.{name} is a compiled op, and this test environment has mmcv-lite (no compiled ops)"
        raise NotImplementedError(msg)

    op.__name__ = name
    return op


class _MissingExt(types.ModuleType):
    """``mmcv._ext``: any public name is a function that raises ``NotImplementedError`` when called."""

    def __getattr__(self, name: str) -> Callable[..., NoReturn]:
        if name.startswith("__"):
            raise AttributeError(name)
        return _missing_op(name)


def install() -> None:
    """Register the stand-ins in ``sys.modules``; call before importing torchvision or any OpenMMLab package."""
    for name in TORCHVISION_REGISTRATIONS:
        sys.modules.setdefault(name, types.ModuleType(name))
    if "mmcv._ext" not in sys.modules:
        sys.modules["mmcv._ext"] = _MissingExt("mmcv._ext")
