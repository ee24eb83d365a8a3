"""The generic ``init_weights`` run, and the ``init_options`` block whose options and report it shares.

A run's options come from the caller, else the enclosing ``init_weights`` run (a nested call), else an
``init_options`` block, else ``initspec.mmengine.install()``'s defaults, else the built-in defaults.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

from initspec._errors import InitWarning
from initspec._gc import collector_paused
from initspec._options import check_seed
from initspec._walker import protocol
from initspec._walker.context import ACTIVE, SCOPE, UNSET, Scope, Unset, resolve
from initspec._walker.initplan import plan_tree
from initspec._walker.tracking import WriteLog
from initspec.report import InitReport

__all__ = ["InitOptions", "init_options", "run_init_weights"]

logger = logging.getLogger("initspec")
InitOptions = Scope


def run_init_weights(
    module: nn.Module,
    *,
    seed: int | Unset | None = UNSET,
    skip_overwritten: bool | Unset = UNSET,
    strict: bool | Unset = UNSET,
    require_complete: bool | Unset = UNSET,
) -> InitReport:
    """The generic ``init_weights``: initspec's ``BaseModule``'s, and mmengine's once installed.

    Options come from the caller, else the enclosing ``init_weights`` run (a nested call), else an
    ``init_options`` block, else ``initspec.mmengine.install()``'s defaults, else the built-in defaults.
    """
    active = ACTIVE.get()
    if active is not None:  # a nested call from a parent's init_weights: its options win
        active.ran.add(id(module))
    if protocol.is_init(module):
        warnings.warn(
            f"init_weights of {type(module).__name__} has been called more than once; "
            "nothing was done (set is_init = False to run it again)",
            InitWarning,
            stacklevel=3,
        )
        return InitReport({}, module=type(module).__name__)
    if active is not None:  # model code's run: the outermost plan counted its tensors as covered
        plan = plan_tree(module, strict=active.strict, prefix=active.prefix, loaded=active.checkpoints)
        return plan.apply(seed=active.seed, skip_overwritten=active.skip_overwritten)
    seed_, skip, strict_, complete = resolve(seed, skip_overwritten, strict, require_complete)
    with collector_paused():  # the plan's objects all live until the run ends: see initspec._gc
        report = plan_tree(module, strict=strict_, require_complete=complete).apply(
            seed=seed_, skip_overwritten=skip
        )
    _share(module, report)
    if logger.isEnabledFor(logging.INFO):
        logger.info("%s", report.summary())
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("\n%s", report)
    return report


def _share(module: nn.Module, report: InitReport) -> None:
    """Give the enclosing ``init_options`` block its first report, and log what a model-code root writes next."""
    scope = SCOPE.get()
    if scope is None or scope.report is not None:
        return
    scope.report = report
    if not protocol.runs_generic(module):  # a model-code root: what its code writes next is logged too
        scope.tail = scope.tails.enter_context(WriteLog(list(module.state_dict(keep_vars=True).items())))
        scope.tails.enter_context(scope.tail.running("", module))


@contextmanager
def init_options(
    *,
    seed: int | Unset | None = UNSET,
    skip_overwritten: bool | Unset = UNSET,
    strict: bool | Unset = UNSET,
    require_complete: bool | Unset = UNSET,
) -> Iterator[InitOptions]:
    """Set the options of every ``init_weights`` run inside the block, including model-code roots.

    An option not given keeps its value from ``initspec.mmengine.install()``, or the built-in default
    (``seed=None``, ``skip_overwritten=True``, ``strict=False``, ``require_complete=False``). The value's
    ``.report`` is the ``InitReport`` of the outermost ``init_weights`` run inside the block (``None`` until
    one has run).

    Example:
        >>> from torch import nn
        >>> from initspec import BaseModule, init_options
        >>> class Net(BaseModule):
        ...     def __init__(self):
        ...         super().__init__(init_cfg=dict(type="Constant", val=1, layer="Linear"))
        ...         self.fc = nn.Linear(2, 2)
        ...     def init_weights(self):  # model code without keywords
        ...         super().init_weights()
        >>> with init_options(seed=0) as options:
        ...     Net().init_weights()
        >>> options.report["fc.weight"].initializer
        'Constant'
    """
    checked = seed if isinstance(seed, Unset) else check_seed(seed)
    scope = Scope(checked, skip_overwritten, strict, require_complete)
    token = SCOPE.set(scope)
    try:
        with scope.tails:
            yield scope
    finally:
        SCOPE.reset(token)
        if scope.tail is not None:
            scope.report = scope.report.updated(scope.tail.events)
            scope.tail = None
