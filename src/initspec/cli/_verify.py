"""``initspec explain --verify``: initialize the built model on the CPU with ``seed=0`` and check its values."""

from __future__ import annotations

import itertools
import warnings
from typing import TYPE_CHECKING, TextIO

from initspec._errors import InitPlanError, InitSpecError
from initspec.cli._usage import UsageError

if TYPE_CHECKING:
    from torch import nn

    from initspec.plan import InitPlan
    from initspec.verify import InitCheck

__all__ = ["VERIFY_SEED", "materialize", "verify_plan", "write_page"]

VERIFY_SEED = 0


def materialize(model: nn.Module) -> None:
    """Give a model built on the meta device real (uninitialized) CPU storage, so the plan can fill it."""
    tensors = itertools.chain(model.parameters(), model.buffers())
    if any(t.is_meta for t in tensors):
        model.to_empty(device="cpu")


def verify_plan(plan: InitPlan, model: nn.Module, config: str, err: TextIO) -> InitCheck:
    """Apply ``plan`` with ``seed=0`` and verify the result; planning-time warnings print to ``err``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            report = plan.apply(seed=VERIFY_SEED)
        except InitSpecError:
            raise
        except Exception as error:  # model code run by the plan: report it like a plan that does not fit
            msg = f"--verify: initializing the model raised {type(error).__name__}: {error}"
            raise InitPlanError(msg) from error
        check = report.verify(model)
    for warning in caught:
        print(f"{config}: warning: {warning.message}", file=err)
    return check


def write_page(check: InitCheck, model: nn.Module, path: str) -> None:
    """Write the ``--html`` page, or raise a usage error naming the ``initspec[plot]`` extra."""
    try:
        from initspec.cli._verify_html import write_html
    except ModuleNotFoundError as err:
        if err.name is None or not err.name.startswith("matplotlib"):
            raise
        msg = "--html needs matplotlib, which is not installed; install it with `pip install initspec[plot]`"
        raise UsageError(msg) from err
    write_html(check, model, path)
