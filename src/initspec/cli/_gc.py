"""The cyclic garbage collector, paused while a ``validate`` run reads its files.

A run keeps nearly everything it builds until it ends: every document (children read their bases from it)
and the ignore comments the suppression pass needs. Each ``.py`` file's syntax tree, tens of thousands of
nodes, lives while the file is evaluated, so the collector's young passes promote it, and the full passes that
promotion triggers re-scan every document kept so far: on the four OpenMMLab config trees (3,333 files) that
was 40% of the run, for almost nothing to collect (the run's objects are freed by reference counting, or live
on). Peak memory is the same either way (155 MB on those trees).
"""

from __future__ import annotations

import gc

from initspec._gc import collector_paused

__all__ = ["collector_paused", "skip_teardown"]


def skip_teardown() -> None:
    """The process ends now: keep the interpreter's last collection from walking what the run built.

    Once a run returns, what it built is cyclic garbage (a document's positions refer back to it), and the
    collection at exit would walk all of it (0.6 s on the four trees) to free memory the OS takes back anyway.
    Frozen objects are left out of every collection. Call it only where the process exits next: in one that
    goes on, frozen garbage would never be freed.
    """
    gc.freeze()
