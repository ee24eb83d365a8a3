"""Room on the C stack for the parsers: a call run on a thread whose stack is a known, ample size.

``ast.parse``, ``json`` and libyaml recurse in C once per level of nesting, up to Python's recursion limit (or the
parser's own cap, 6,000 levels for ``ast``). How much C stack that takes is fixed, but how much the process has is
not: a main thread started under ``ulimit -s 512`` (some CI containers) overflows it, and the process dies with a
segmentation fault instead of the located "nested too deep" error. Running the parse on a thread started with
``STACK_BYTES`` of stack makes the outcome the same on every machine. The memory is reserved, not committed: only
the pages a deep parse touches are used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final, ParamSpec, TypeVar

__all__ = ["STACK_BYTES", "on_large_stack"]

STACK_BYTES: Final = 64 * 2**20
_THREAD_NAME: Final = "initspec-large-stack"
_P = ParamSpec("_P")
_R = TypeVar("_R")


def on_large_stack(fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """``fn(*args, **kwargs)``, run on a thread with ``STACK_BYTES`` of stack (directly when already on one).

    The result is returned and an exception re-raised in the caller, as if ``fn`` had been called directly.
    The thread is a daemon, so an interrupted caller (Ctrl-C) does not wait for it.
    """
    if threading.current_thread().name == _THREAD_NAME:
        return fn(*args, **kwargs)
    outcome: list[_R] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(fn(*args, **kwargs))
        except BaseException as error:  # handed to the caller, which re-raises it
            failure.append(error)

    with _SIZE_LOCK:
        previous = threading.stack_size(STACK_BYTES)
        try:
            worker = threading.Thread(target=target, name=_THREAD_NAME, daemon=True)
            worker.start()
        finally:
            threading.stack_size(previous)
    worker.join()
    if failure:
        raise failure[0]
    return outcome[0]


_SIZE_LOCK: Final = threading.Lock()  # threading.stack_size is process-wide; set it for one start at a time
