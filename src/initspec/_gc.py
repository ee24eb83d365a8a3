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

__all__ = ["collector_paused"]


class collector_paused:  # lower case: it reads as a function, ``with collector_paused():``
    """Run the block with automatic garbage collection off; it is back on after if it was on before.

    A class, not a generator-based context manager: ``init_weights`` enters it once per run, and the
    generator's machinery cost more than the pause it brackets on small models.
    """

    __slots__ = ("_was_enabled",)

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            gc.enable()
