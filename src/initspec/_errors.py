"""The package's exception and warning types, and the two wordings every message shares.

InitSpecError
 ├── InitConfigError   (ValueError)   a bad config, with every Problem located
 ├── InitPlanError     (ValueError)   a valid config that does not fit the model
 ├── CheckpointError   (OSError)      a checkpoint that cannot be found, read, trusted or matched
 └── InitArgumentError (TypeError, ValueError, AssertionError)
                                      a bad argument to a Python function (a seed, a distribution name)
InitWarning (UserWarning)             legal but suspicious

Messages quote user values through ``short_repr``, which caps them at ``VALUE_LIMIT`` characters and never
fails on huge integers (Python refuses to turn an int of more than 4,300 digits into a string).
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

__all__ = [
    "VALUE_LIMIT",
    "CheckpointError",
    "Fix",
    "FixAction",
    "InitArgumentError",
    "InitConfigError",
    "InitPlanError",
    "InitSpecError",
    "InitWarning",
    "Problem",
    "close_matches",
    "did_you_mean",
    "format_loc",
    "short_repr",
    "sole_match",
]

VALUE_LIMIT: Final = 200
"""The most characters of one user value (or key) that a message quotes."""


class _ShortRepr(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxstring = self.maxother = self.maxlong = VALUE_LIMIT
        self.maxlevel, self.maxdict, self.maxlist, self.maxtuple = 3, 8, 8, 8

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 3 * VALUE_LIMIT:  # over ~180 digits: str() is slow, and over 4,300 it raises
            return f"<int of about {int(x.bit_length() * 0.30103) + 1} digits>"
        return super().repr_int(x, level)


_SHORT_REPR: Final = _ShortRepr()


def short_repr(value: object) -> str:
    """``repr(value)``, at most about ``VALUE_LIMIT`` characters, and safe for ints of any size."""
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= VALUE_LIMIT + 5 else text[:VALUE_LIMIT] + "..."


def close_matches(word: str, choices: Iterable[str], *, n: int = 1) -> list[str]:
    """The choices closest to ``word`` (at most ``n``), by the one distance rule every hint and fix uses.

    A choice is close when difflib rates it at least 60% alike, or, failing that, when it equals ``word`` up
    to case or is a prefix of it (``'kaiming'``, ``'KaimingInit'`` -> ``'Kaiming'``).
    """
    options = list(choices)
    if len(word) > max(VALUE_LIMIT, 3 * max(map(len, options), default=0)):  # never 60% alike: skip difflib
        return []
    close = difflib.get_close_matches(word, options, n=n, cutoff=0.6)
    if not close:
        lowered = word.lower()
        close = [c for c in options if c.lower() == lowered or lowered.startswith(c.lower())][:n]
    return close


def did_you_mean(word: str, choices: Iterable[str], *, n: int = 1, render: str = "'{}'") -> str:
    """``"; did you mean 'x'?"`` (or ``'x' or 'y'`` for ``n > 1``) for the closest choices, else ``""``.

    The one wording of every did-you-mean hint; ``render`` formats each choice (``"'{}'"`` quotes it).
    """
    close = close_matches(word, choices, n=n)
    return f"; did you mean {' or '.join(render.format(c) for c in close)}?" if close else ""


def sole_match(word: str, choices: Iterable[str]) -> str | None:
    """The one choice close to ``word``, or None when there is none or more than one (an ambiguous fix)."""
    close = close_matches(word, choices, n=2)
    return close[0] if len(close) == 1 else None


def format_loc(loc: tuple[str | int, ...], root: str = "init_cfg") -> str:
    """Render a location such as ``init_cfg[1].override[0].std``."""
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{short_repr(part)}]"
        else:
            out += f".{part}" if len(part) <= VALUE_LIMIT else f".{part[:VALUE_LIMIT]}..."
    return out


FixAction: TypeAlias = Literal["rename_key", "replace_value", "add_key"]


@dataclass(frozen=True)
class Fix:
    """A change that makes one problem go away, described on the config, not on its text.

    ``loc`` says where, in the same terms as ``Problem.loc``:

    - ``rename_key``: ``loc`` is the key; it becomes ``new`` (``std0`` -> ``std``);
    - ``replace_value``: ``loc`` is the value's key; the value ``old`` becomes ``new`` (``'Kaimng'`` ->
      ``'Kaiming'``);
    - ``add_key``: ``loc`` is the dict; the key ``key`` is added to it with the value ``new``
      (``type='Normal'`` on an override that sets arguments).

    Only unambiguous fixes are made: a did-you-mean with exactly one candidate, or a value that follows from
    the config itself. ``initspec validate --fix`` and the language server turn it into text edits.
    """

    title: str
    action: FixAction
    loc: tuple[str | int, ...]
    new: str
    old: str | None = None
    key: str | None = None

    def under(self, prefix: tuple[str | int, ...], drop: int = 0) -> Fix:
        """The same fix, with ``drop`` leading segments of its location replaced by ``prefix``."""
        return Fix(self.title, self.action, (*prefix, *self.loc[drop:]), self.new, self.old, self.key)


@dataclass(frozen=True)
class Problem:
    """One problem in a config: where it is (keys and indices as written), what is wrong, and its code.

    ``code`` is the stable ``IS…`` code of ``initspec validate`` (see docs/cli.md), set where the problem is
    made; ``fix``, when not None, is a change that removes the problem.
    """

    loc: tuple[str | int, ...]
    message: str
    code: str = "IS100"
    fix: Fix | None = None

    def render(self, root: str = "init_cfg") -> str:
        """``<location>: <message>``, with the location rooted at ``root``."""
        return f"{format_loc(self.loc, root)}: {self.message}"

    def under(self, prefix: tuple[str | int, ...], drop: int = 0) -> Problem:
        """The same problem, with ``drop`` leading segments of its location (and its fix's) replaced."""
        fix = self.fix.under(prefix, drop) if self.fix else None
        return Problem((*prefix, *self.loc[drop:]), self.message, self.code, fix)

    def __str__(self) -> str:
        return self.render()


class InitSpecError(Exception):
    """Root of every error raised by initspec."""


class InitConfigError(InitSpecError, ValueError):
    """An ``init_cfg`` is invalid; ``problems`` lists every problem found in it."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"invalid init_cfg ({count}):\n" + "\n".join(f"  {p}" for p in problems))


class InitPlanError(InitSpecError, ValueError):
    """A valid config does not fit the model it is applied to."""


class CheckpointError(InitSpecError, OSError):
    """A checkpoint cannot be found, read, trusted or matched."""


class InitArgumentError(InitSpecError, TypeError, ValueError, AssertionError):
    """A bad argument to one of initspec's Python functions: a ``seed`` or a ``distribution`` name, say.

    It is a ``TypeError`` and a ``ValueError``, as Python code expects of a bad argument, and also an
    ``AssertionError``, which is what mmengine's helpers raise for the same arguments: an ``except`` clause
    written for either library keeps working. Bad configs raise ``InitConfigError`` instead.
    """


class InitWarning(UserWarning):
    """Something legal but suspicious happened during initialization."""
