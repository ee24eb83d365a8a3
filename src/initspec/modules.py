"""``BaseModule`` and its containers: modules that carry a validated ``init_cfg`` and apply it in mmengine's order."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from torch import nn

from initspec._walker import protocol
from initspec._walker.context import UNSET, Unset
from initspec._walker.initplan import InitPlan
from initspec._walker.session import run_init_weights
from initspec.plan import plan_init_weights
from initspec.report import InitReport

__all__ = ["BaseModule", "ModuleDict", "ModuleList", "Sequential"]

logger = logging.getLogger("initspec")


class BaseModule(nn.Module):
    """An ``nn.Module`` whose ``init_cfg`` is validated when it is set and applied by :meth:`init_weights`.

    A bad config raises ``InitConfigError`` where the model is built, not when it is initialized.

    Example:
        >>> from torch import nn
        >>> from initspec import BaseModule
        >>> class Head(BaseModule):
        ...     def __init__(self):
        ...         super().__init__(init_cfg=dict(type="Normal", std=0.01, layer="Linear"))
        ...         self.fc = nn.Linear(4, 2)
        >>> report = Head().init_weights(seed=0)
        >>> report["fc.weight"].initializer
        'Normal'
    """

    def __init__(self, init_cfg: object = None) -> None:
        super().__init__()
        self._is_init = False
        self.init_cfg = init_cfg

    @property
    def init_cfg(self) -> Any:
        """The config as given (a dict, a list, or typed configs); setting it validates it."""
        return self._init_cfg_raw

    @init_cfg.setter
    def init_cfg(self, value: object) -> None:
        raw = copy.deepcopy(value)
        protocol.validate(self, raw)
        self._init_cfg_raw = raw

    @property
    def is_init(self) -> bool:
        """Whether ``init_weights`` has run; set it to ``True`` to skip this module (e.g. after loading)."""
        return self._is_init

    @is_init.setter
    def is_init(self, value: bool) -> None:
        self._is_init = value

    def plan_init_weights(self, *, strict: bool = False, require_complete: bool = False) -> InitPlan:
        """What :meth:`init_weights` would write, in order, without writing anything."""
        return plan_init_weights(self, strict=strict, require_complete=require_complete)

    @protocol.generic
    def init_weights(
        self,
        *,
        seed: int | Unset | None = UNSET,
        skip_overwritten: bool | Unset = UNSET,
        strict: bool | Unset = UNSET,
        require_complete: bool | Unset = UNSET,
    ) -> InitReport:
        """Initialize this module and its children in mmengine's order, and report what wrote each parameter.

        Own non-Pretrained configs run over the whole subtree first, then each child's ``init_weights``
        (children already initialized are skipped), then own Pretrained configs. Every error is raised
        before the first write. A second call warns with ``InitWarning`` and does nothing.

        Args:
            seed: Draw each tensor from a generator seeded from ``(seed, qualified name)``.
            skip_overwritten: Write each tensor once; ``False`` reproduces mmengine's random stream.
            strict: Turn lints (configs that write nothing, unmatched ``layer`` names) into errors.
            require_complete: Raise ``InitPlanError`` before any write if a parameter (on a meta model,
                also a floating buffer) would be left untouched; see docs/report.md.

        An option not passed comes from an enclosing ``initspec.init_options`` block, else from
        ``initspec.mmengine.install()``, else the defaults ``None``, ``True``, ``False`` and ``False``.
        """
        return run_init_weights(
            self,
            seed=seed,
            skip_overwritten=skip_overwritten,
            strict=strict,
            require_complete=require_complete,
        )

    def __repr__(self) -> str:
        text = super().__repr__()
        return f"{text}\ninit_cfg={self.init_cfg}" if self.init_cfg else text


protocol.register_managed(BaseModule)


class Sequential(BaseModule, nn.Sequential):
    """``nn.Sequential`` with an ``init_cfg``; its BaseModule children get their own ``init_weights`` called."""

    def __init__(self, *args: nn.Module, init_cfg: object = None) -> None:
        BaseModule.__init__(self, init_cfg)
        nn.Sequential.__init__(self, *args)


class ModuleList(BaseModule, nn.ModuleList):
    """``nn.ModuleList`` with an ``init_cfg``."""

    def __init__(self, modules: Iterable[nn.Module] | None = None, init_cfg: object = None) -> None:
        BaseModule.__init__(self, init_cfg)
        nn.ModuleList.__init__(self, modules)


class ModuleDict(BaseModule, nn.ModuleDict):
    """``nn.ModuleDict`` with an ``init_cfg``."""

    def __init__(self, modules: Mapping[str, nn.Module] | None = None, init_cfg: object = None) -> None:
        BaseModule.__init__(self, init_cfg)
        nn.ModuleDict.__init__(self, modules)
