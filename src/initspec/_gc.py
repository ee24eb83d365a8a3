"""The cyclic garbage collector, paused while a run builds objects that all live until it ends.

A ``validate`` run keeps every document it reads; an ``init_weights`` run keeps its plan (a node per module,
a name per tensor, a step per write) until the writes are done. Neither leaves cyclic garbage worth finding
while it runs. For ``validate`` the collector's passes re-scanned what the run keeps (40% of the run on the four
OpenMMLab config trees); for ``init_weights`` on 2,000 small blocks the pause saved 0-4% in interleaved CPU
timings (the young objects are still scanned once, when the collector is back on). Reference counting frees
everything as usual, and the collector is back on, if it was on, when the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with automatic garbage collection off; it is back on after if it was on before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
