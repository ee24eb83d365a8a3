"""The options of the ``init_weights`` run in progress, inherited by nested ``init_weights`` calls."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["ACTIVE", "INSTALLED", "SCOPE", "UNSET", "Options", "Scope", "resolve"]


@dataclass(frozen=True)
class Options:
    """Settings of the run in progress; ``prefix`` is the path of the module being planned."""

    seed: int | None = None
    skip_overwritten: bool = True
    strict: bool = False
    prefix: str = ""
    ran: set[int] = field(default_factory=set)  # ids of modules whose generic init_weights has run
    log: Any = None  # the WriteLog of the outermost run, while model code runs

    def nested(self, prefix: str) -> Options:
        """The same options for a child at ``prefix``, sharing the record of what has run and the log."""
        return Options(self.seed, self.skip_overwritten, self.strict, prefix, self.ran, self.log)


ACTIVE: ContextVar[Options | None] = ContextVar("initspec_active", default=None)


class _Unset:
    """The default of an option the caller did not pass (so installed defaults and scopes apply)."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Final = _Unset()


@dataclass
class Scope:
    """The options of an ``init_options`` block, and the report of its outermost ``init_weights`` run."""

    seed: int | _Unset | None = UNSET
    skip_overwritten: bool | _Unset = UNSET
    strict: bool | _Unset = UNSET
    require_complete: bool | _Unset = UNSET
    report: Any = None
    tail: Any = field(default=None, repr=False)  # the WriteLog of model code after the outermost run


SCOPE: ContextVar[Scope | None] = ContextVar("initspec_scope", default=None)
INSTALLED: list[Scope] = [Scope()]  # defaults of initspec.mmengine.install(), replaced on each install


def resolve(
    seed: object, skip_overwritten: object, strict: object, require_complete: object = UNSET
) -> tuple[Any, bool, bool, bool]:
    """Each option from the first that sets it: the caller, an ``init_options`` block, ``install()``."""
    layers = [s for s in (SCOPE.get(), INSTALLED[0]) if s is not None]
    out: list[Any] = []
    for name, given, default in (
        ("seed", seed, None),
        ("skip_overwritten", skip_overwritten, True),
        ("strict", strict, False),
        ("require_complete", require_complete, False),
    ):
        value = given
        for layer in layers:
            if value is not UNSET:
                break
            value = getattr(layer, name)
        out.append(default if value is UNSET else value)
    return out[0], bool(out[1]), bool(out[2]), bool(out[3])
