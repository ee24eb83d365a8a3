"""The options of the ``init_weights`` run in progress, inherited by nested ``init_weights`` calls."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

__all__ = ["ACTIVE", "Options"]


@dataclass(frozen=True)
class Options:
    """Settings of the run in progress; ``prefix`` is the path of the module being planned."""

    seed: int | None = None
    skip_overwritten: bool = True
    strict: bool = False
    prefix: str = ""
    ran: set[int] = field(default_factory=set)  # ids of modules whose generic init_weights has run

    def nested(self, prefix: str) -> Options:
        """The same options for a child at ``prefix``, sharing the record of what has run."""
        return Options(self.seed, self.skip_overwritten, self.strict, prefix, self.ran)


ACTIVE: ContextVar[Options | None] = ContextVar("initspec_active", default=None)
