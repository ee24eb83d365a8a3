"""Work bounds for tests, in place of the wall clock: the function calls a piece of code makes, capped.

A test that bounds a hostile input by seconds fails on a loaded machine and passes on a fast one whatever the
code does. The number of Python and C function calls is the same on every machine, so it is the bound here:
``within(limit, fn, ...)`` runs ``fn`` with a profiler counting the calls made in this thread and in the threads
it starts (the parsers run on a thread of their own), and stops it with ``WorkExceeded`` at the first call over
``limit``, so an exponential regression fails at once instead of hanging. Each thread raises it once, and never
inside ``threading``'s own code (a lock left half-released there would break the thread that waits on it) or
``initspec._stack``'s (a raise between its setting and restoring of the process-wide thread stack size would
leave every later thread with 64 MiB stacks).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import ParamSpec, TypeVar

__all__ = ["WorkExceeded", "within"]

_P = ParamSpec("_P")
_R = TypeVar("_R")
_COUNTED = frozenset({"call", "c_call"})
_NOT_HERE = frozenset({os.path.basename(threading.__file__), os.path.basename(__file__), "_stack.py"})


class WorkExceeded(BaseException):
    """More calls than the bound: a BaseException, so no ``except Exception`` in the code under test hides it."""


def within(limit: int, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> tuple[_R, int]:
    """``fn(*args, **kwargs)`` and the number of function calls it made; ``WorkExceeded`` past ``limit``."""
    calls = 0

    def count(frame: FrameType, event: str, _arg: object) -> None:
        nonlocal calls
        if event not in _COUNTED:
            return
        calls += 1
        if calls > limit and os.path.basename(frame.f_code.co_filename) not in _NOT_HERE:
            sys.setprofile(None)  # this thread raises once
            threading.setprofile(None)
            raise WorkExceeded(f"more than {limit:,} function calls")

    threading.setprofile(count)
    sys.setprofile(count)
    try:
        result = fn(*args, **kwargs)
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return result, calls
