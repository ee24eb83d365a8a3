"""The models the cases initialize, built the same way from initspec's or mmengine's ``BaseModule``."""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from torch import nn

import initspec


def kaiming() -> dict[str, Any]:
    """A fresh ``Kaiming`` rule on ``Linear`` (a new dict each time: mmengine pops keys from configs)."""
    return {"type": "Kaiming", "layer": "Linear"}


@dataclass(frozen=True)
class Flavour:
    """Whose ``BaseModule``, ``ModuleList`` and ``initialize`` a model is built from."""

    name: str
    base: type[nn.Module]
    module_list: type[nn.Module]
    initialize: Callable[..., object]


INITSPEC = Flavour("initspec", initspec.BaseModule, initspec.ModuleList, initspec.initialize)


@functools.cache
def load_mmengine() -> tuple[Flavour | None, str]:
    """mmengine's flavour with its logger silenced, or ``None`` and why it cannot be imported."""
    try:
        with warnings.catch_warnings():  # its import warns through torch.jit
            warnings.simplefilter("ignore", DeprecationWarning)
            import mmengine
            import mmengine.model as mm
            from mmengine.logging import MMLogger
    except Exception as err:  # an ImportError, or a broken install that fails while importing
        return None, f"mmengine is not importable ({type(err).__name__}: {err})"
    # MMLogger is not registered with logging's manager, so logging.getLogger("mmengine") is another
    # object; only the instance's own level stops the per-parameter dump (and the DEBUG records).
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    return Flavour(f"mmengine {mmengine.__version__}", mm.BaseModule, mm.ModuleList, mm.initialize), ""


def wide(n: int, width: int) -> nn.Sequential:
    """``n`` large ``Linear`` layers in a plain ``nn.Sequential`` (no BaseModule bookkeeping)."""
    return nn.Sequential(*(nn.Linear(width, width) for _ in range(n)))


def blocks(flavour: Flavour, n: int, width: int, *, parent_cfg: bool = False) -> nn.Module:
    """A net holding a ModuleList of ``n`` blocks, each a BaseModule with one ``Linear`` and a Kaiming cfg."""
    block_cls, net_cls, _ = _classes(flavour.base)
    items = flavour.module_list([block_cls(width) for _ in range(n)])
    return net_cls(items, kaiming() if parent_cfg else None)


def chain(flavour: Flavour, depth: int, width: int) -> nn.Module:
    """``depth`` nested levels, each a BaseModule with a Kaiming cfg, one ``Linear`` and the next level."""
    level_cls = _classes(flavour.base)[2]
    level = None
    for _ in range(depth):  # built inside out, so deep chains need no recursion here
        level = level_cls(width, level)
    assert level is not None
    return level


@functools.cache
def _classes(base: type[nn.Module]) -> tuple[type[nn.Module], type[nn.Module], type[nn.Module]]:
    class Block(base):  # type: ignore[misc, valid-type]
        def __init__(self, width: int) -> None:
            super().__init__(init_cfg=kaiming())
            self.fc = nn.Linear(width, width)

    class Net(base):  # type: ignore[misc, valid-type]
        def __init__(self, items: nn.Module, init_cfg: dict[str, Any] | None) -> None:
            super().__init__(init_cfg=init_cfg)
            self.blocks = items

    class Level(base):  # type: ignore[misc, valid-type]
        def __init__(self, width: int, inner: nn.Module | None) -> None:
            super().__init__(init_cfg=kaiming())
            self.fc = nn.Linear(width, width)
            self.next = inner

    return Block, Net, Level


def reset_init(model: nn.Module) -> None:
    """Clear every ``is_init`` flag, so that ``init_weights`` runs again instead of returning early."""
    for module in model.modules():
        if "_is_init" in vars(module):
            module._is_init = False


def linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def plain_init(layers: Iterable[nn.Linear]) -> None:
    """The floor: what Kaiming on ``Linear`` does, written as a loop over the layers."""
    for layer in layers:
        nn.init.kaiming_normal_(layer.weight, a=0, mode="fan_out", nonlinearity="relu")
        nn.init.constant_(layer.bias, 0)


def plain_walk_init(model: nn.Module) -> None:
    """The floor with the walk: the same loop, finding the layers in ``model.modules()`` as it goes.

    ``plain_init`` is handed the layers; any ``init_weights`` must first find them in the module tree.
    """
    plain_init(m for m in model.modules() if isinstance(m, nn.Linear))
