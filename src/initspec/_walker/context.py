"""The options of the ``init_weights`` run in progress, inherited by nested ``init_weights`` calls."""

from __future__ import annotations

from contextlib import ExitStack
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from initspec._options import check_seed

if TYPE_CHECKING:
    from initspec._walker.tracking import WriteLog
    from initspec._walker.transaction import Journal

__all__ = ["ACTIVE", "INSTALLED", "SCOPE", "UNSET", "Options", "Scope", "Unset", "active", "resolve"]


@dataclass(frozen=True)
class Options:
    """Settings of the run in progress; ``prefix`` is the path of the module being planned."""

    seed: int | None = None
    skip_overwritten: bool = True
    strict: bool = False
    prefix: str = ""
    ran: set[int] = field(default_factory=set)  # ids of modules whose generic init_weights has run
    log: WriteLog | None = None  # the WriteLog of the outermost run, while model code runs
    journal: Journal | None = (
        None  # the outermost run's transaction, when it runs code initspec does not control
    )
    checkpoints: dict[tuple[str, str], Any] = field(default_factory=dict)  # read once per run (see rules)

    def nested(self, prefix: str) -> Options:
        """The same options for a child at ``prefix``, sharing what has run, the log, journal and checkpoints."""
        return replace(self, prefix=prefix)


ACTIVE: ContextVar[Options | None] = ContextVar("initspec_active", default=None)


class active:  # lower case: it reads as a function, ``with active(options):``
    """Make ``options`` those of the run in progress for the block, for nested ``init_weights`` calls inside it.

    A class, not a generator-based context manager: every ``init_weights`` run enters it.
    """

    __slots__ = ("_options", "_token")

    def __init__(self, options: Options | None) -> None:
        self._options = options

    def __enter__(self) -> None:
        self._token = ACTIVE.set(self._options)

    def __exit__(self, *exc: object) -> None:
        ACTIVE.reset(self._token)


class Unset:
    """The type of :data:`UNSET`, the default of an option the caller did not pass (httpx's ``UseClientDefault``).

    Signatures say ``seed: int | None | Unset = UNSET``, so mypy needs no ``type: ignore`` for the default, and
    ``value is UNSET`` (or ``isinstance(value, Unset)``) narrows the type back.
    """

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Final = Unset()


@dataclass
class Scope:
    """The options of an ``init_options`` block, and the report of its outermost ``init_weights`` run."""

    seed: int | Unset | None = UNSET
    skip_overwritten: bool | Unset = UNSET
    strict: bool | Unset = UNSET
    require_complete: bool | Unset = UNSET
    report: Any = None
    tail: WriteLog | None = field(default=None, repr=False)  # what model code writes after the outermost run
    tails: ExitStack = field(
        default_factory=ExitStack, repr=False
    )  # holds ``tail`` open until the block ends


SCOPE: ContextVar[Scope | None] = ContextVar("initspec_scope", default=None)
INSTALLED: list[Scope] = [Scope()]  # defaults of initspec.mmengine.install(), replaced on each install


def resolve(
    seed: int | Unset | None,
    skip_overwritten: bool | Unset,
    strict: bool | Unset,
    require_complete: bool | Unset = UNSET,
) -> tuple[int | None, bool, bool, bool]:
    """Each option from the first that sets it: the caller, an ``init_options`` block, ``install()``."""
    layers = [s for s in (SCOPE.get(), INSTALLED[0]) if s is not None]
    out: list[object] = []
    for name, given, default in (
        ("seed", seed, None),
        ("skip_overwritten", skip_overwritten, True),
        ("strict", strict, False),
        ("require_complete", require_complete, False),
    ):
        value: object = given
        for layer in layers:
            if value is not UNSET:
                break
            value = getattr(layer, name)
        out.append(default if value is UNSET else value)
    return check_seed(out[0]), bool(out[1]), bool(out[2]), bool(out[3])
