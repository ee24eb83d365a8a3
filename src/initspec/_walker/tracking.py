"""What model code writes: a ``TorchFunctionMode`` that logs in-place writes to the model's tensors.

While a :class:`CallStep` runs a module's own ``init_weights``, every in-place torch call (``normal_``,
``copy_``, ``__setitem__``, ``torch.nn.init.*``...) whose target is one of the model's tensors, or a view or
``.data`` alias of one, is logged with what did it: the module whose code was running and the outermost
library function on the stack (``mmengine.model.weight_init.normal_init``, ``torch.nn.init.trunc_normal_``).
initspec's own steps, run by a nested ``super().init_weights()``, pause the log and record themselves, so
every tensor's last writer is known exactly. Nothing reads tensor values; on the meta device, where views
share no storage, only writes to the tensor objects themselves are seen. Given the run's transaction
journal, the log hands it each written tensor before the write happens, so only written tensors are copied.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

import torch
from torch.overrides import TorchFunctionMode

if TYPE_CHECKING:
    from initspec._walker.transaction import Journal

__all__ = ["Credit", "WriteLog"]

Credit = tuple[str, dict[str, Any], str]
"""(initializer or function, arguments, source), as the report shows them."""

_LIBRARIES: Final = ("torch.", "initspec.", "mmengine.", "mmcv.", "numpy.")
_FRAMES: Final = 48
_DATA: Final = torch.Tensor.data  # the descriptor whose __set__ is ``weight.data = other``


class WriteLog(TorchFunctionMode):
    """Logs ``(tensor name, credit)`` for each in-place write to a named tensor, in order."""

    def __init__(self, tensors: list[tuple[str, torch.Tensor]], journal: Journal | None = None) -> None:
        super().__init__()
        self.events: list[tuple[str, Credit]] = []
        self._journal = journal
        self._tensors = dict(tensors)
        self._by_id: dict[int, list[str]] = {}
        self._by_storage: dict[int, list[str]] = {}
        for name, tensor in tensors:
            self._by_id.setdefault(id(tensor), []).append(name)
            if not tensor.is_meta and tensor.layout == torch.strided:
                self._by_storage.setdefault(tensor.untyped_storage().data_ptr(), []).append(name)
        self._owners: list[tuple[str, str]] = []
        self._paused = 0

    @contextmanager
    def running(self, path: str, module: torch.nn.Module) -> Iterator[None]:
        """Credit writes inside the block to ``module``'s own code."""
        self._owners.append((path, type(module).__name__))
        try:
            yield
        finally:
            self._owners.pop()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Ignore writes inside the block (initspec's own steps, which record themselves)."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def record(self, name: str, credit: Credit) -> None:
        self.events.append((name, credit))

    def __torch_function__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        kwargs = kwargs or {}
        if not self._paused and self._owners:
            name = getattr(func, "__name__", "")
            if name == "__setitem__" or (name.endswith("_") and not name.startswith("_")):
                target = args[0] if args else kwargs.get("tensor")
                if isinstance(target, torch.Tensor):
                    self._log(target, name)
            elif isinstance(out := kwargs.get("out"), torch.Tensor):  # torch.randn(..., out=weight)
                self._log(out, name)
            elif name == "__set__" and getattr(func, "__self__", None) is _DATA and args:  # w.data = other
                self._save(self._names(args[0]))
        return func(*args, **kwargs)

    def _names(self, target: torch.Tensor) -> list[str]:
        names = self._by_id.get(id(target))
        if names is None and not target.is_meta and target.layout == torch.strided:
            names = self._by_storage.get(target.untyped_storage().data_ptr())
        return names or []

    def _save(self, names: list[str]) -> None:
        if self._journal is not None:
            for name in names:
                self._journal.save(self._tensors[name])

    def _log(self, target: torch.Tensor, op: str) -> None:
        names = self._names(target)
        if not names:
            return
        self._save(names)
        path, cls = self._owners[-1]
        credit: Credit = (_caller(op), {}, f"user-defined init_weights of {cls} ({path or '<root>'})")
        self.events += [(name, credit) for name in names]


def _caller(op: str) -> str:
    """The outermost library function below the model code on the stack, else the tensor method."""
    frame: FrameType | None = sys._getframe(3)
    found = ""
    for _ in range(_FRAMES):
        if frame is None:
            break
        module = frame.f_globals.get("__name__", "")
        if module == "contextlib" or module.startswith(
            ("torch.overrides", "torch.utils", "initspec._walker")
        ):
            pass  # plumbing between the caller and the write
        elif module.startswith(_LIBRARIES):
            public = ".".join(part for part in module.split(".") if not part.startswith("_"))
            found = f"{public}.{frame.f_code.co_name}"
        else:
            break  # the model code that made the call
        frame = frame.f_back
    return found or f"Tensor.{op}"
