"""initspec inside mmengine: ``install()`` makes every mmengine ``BaseModule`` validate and initialize through initspec.

Every mmdet, mmpretrain, mmseg and mmpose module subclasses mmengine's ``BaseModule``, and every model root
its ``BaseModel``, which users cannot re-base. ``install()`` patches that one class, so all of them get
initspec's ``init_cfg`` validation where the model is built and initspec's ``init_weights`` (mmengine's order,
the report, the transaction, the options), with no class edited. With ``runner=True`` it also makes the
Runner's init know the checkpoint ``load_from``/``resume`` loads next (see ``_runner``). ``uninstall()``
restores mmengine exactly.

From an mmengine config file alone::

    custom_imports = dict(imports=["initspec.mmengine_install"], allow_failed_imports=False)

Importing this module never fails; only ``install()`` needs mmengine.
"""

from __future__ import annotations

import importlib
from typing import Any, Final

from initspec import _runner
from initspec._walker import protocol
from initspec._walker.context import INSTALLED, UNSET, Scope, Unset
from initspec._walker.session import run_init_weights
from initspec.report import InitReport

__all__ = ["install", "installed", "last_report", "uninstall"]

_MISSING: Final = (
    "initspec.mmengine.install() needs mmengine, which is not installed: pip install mmengine "
    "(initspec is tested with mmengine 0.10.7)"
)
_SAVED: dict[str, Any] = {}


def install(
    *,
    seed: int | Unset | None = UNSET,
    skip_overwritten: bool | Unset = UNSET,
    strict: bool | Unset = UNSET,
    require_complete: bool | Unset = UNSET,
    runner: bool = True,
) -> None:
    """Make every subclass of mmengine's ``BaseModule`` validate ``init_cfg`` and initialize through initspec.

    The keywords are the options used where a caller passes none, as mmengine's Runner calls
    ``model.init_weights()`` bare; ``skip_overwritten=False`` reproduces mmengine's random stream bit for bit.
    Calling it again only replaces the defaults. Modules built before ``install()`` were not validated when
    built, but initialize through initspec all the same.

    With ``runner=True`` (the default), a ``Runner`` that will load ``load_from`` or resume reads that
    checkpoint's names and shapes before ``init_weights``: a ``Pretrained`` it fully overwrites is never
    read or downloaded, and (with ``skip_overwritten=True``) no tensor it supplies is drawn;
    ``skip_overwritten=False`` leaves the weights after the load bit-identical to mmengine's. The report of
    that init is :func:`last_report`. ``runner=False`` leaves the Runner as mmengine has it.

    Raises:
        ImportError: mmengine is not installed.

    Example:
        >>> import initspec.mmengine
        >>> initspec.mmengine.install(skip_overwritten=False)  # doctest: +SKIP
    """
    base = _base_module()
    INSTALLED[0] = Scope(seed, skip_overwritten, strict, require_complete)
    if runner:
        _runner.patch()
    else:
        _runner.unpatch()
    if _SAVED:
        return
    _SAVED.update(init=base.__dict__["__init__"], init_weights=base.__dict__["init_weights"])
    original_init = _SAVED["init"]

    def __init__(self: Any, init_cfg: Any = None) -> None:
        original_init(self, init_cfg)
        protocol.validate(self, self.init_cfg)

    @protocol.generic
    def init_weights(self: Any, **options: Any) -> InitReport:
        return run_init_weights(self, **options)

    init_weights.__doc__ = "Initialize through initspec (installed by initspec.mmengine.install())."
    base.__init__ = __init__
    base.init_weights = init_weights
    protocol.register_managed(base)


def uninstall() -> None:
    """Restore mmengine's own ``BaseModule.__init__`` and ``init_weights``; harmless when not installed."""
    INSTALLED[0] = Scope()
    _runner.unpatch()
    if not _SAVED:
        return
    base = _base_module()
    base.__init__ = _SAVED["init"]
    base.init_weights = _SAVED["init_weights"]
    protocol.unregister_managed(base)
    _SAVED.clear()


def last_report() -> InitReport | None:
    """The ``InitReport`` of the last ``init_weights`` a Runner ran (in ``train()``), or ``None``.

    Each tensor the Runner's ``load_from`` or ``resume`` checkpoint supplies has the source
    ``load_from: PATH`` or ``resume: PATH``; ``untouched`` marks one that neither init nor the checkpoint set.

    Example:
        >>> runner.train()  # doctest: +SKIP
        >>> initspec.mmengine.last_report().untouched()  # doctest: +SKIP
        []
    """
    return _runner.last_report()


def installed() -> bool:
    """Whether ``install()`` is in effect."""
    return bool(_SAVED)


def _base_module() -> Any:
    try:
        module = importlib.import_module("mmengine.model.base_module")
    except ImportError as err:
        raise ImportError(_MISSING) from err
    return module.BaseModule
