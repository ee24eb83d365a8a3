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
from typing import Final

__all__ = [
    "VALUE_LIMIT",
    "CheckpointError",
    "InitArgumentError",
    "InitConfigError",
    "InitPlanError",
    "InitSpecError",
    "InitWarning",
    "Problem",
    "did_you_mean",
    "format_loc",
    "short_repr",
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


def did_you_mean(word: str, choices: Iterable[str], *, n: int = 1, render: str = "'{}'") -> str:
    """``"; did you mean 'x'?"`` (or ``'x' or 'y'`` for ``n > 1``) for the closest choices, else ``""``.

    The one wording of every did-you-mean hint; ``render`` formats each choice (``"'{}'"`` quotes it).
    """
    options = list(choices)
    if len(word) > max(VALUE_LIMIT, 3 * max(map(len, options), default=0)):  # never 60% alike: skip difflib
        return ""
    close = difflib.get_close_matches(word, options, n=n, cutoff=0.6)
    if not close:
        lowered = word.lower()
        close = [c for c in options if c.lower() == lowered or lowered.startswith(c.lower())][:1]
    return f"; did you mean {' or '.join(render.format(c) for c in close)}?" if close else ""


def format_loc(loc: tuple[str | int, ...], root: str = "init_cfg") -> str:
    """Render a location such as ``init_cfg[1].override[0].std``."""
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{short_repr(part)}]"
        else:
            out += f".{part}" if len(part) <= VALUE_LIMIT else f".{part[:VALUE_LIMIT]}..."
    return out


@dataclass(frozen=True)
class Problem:
    """One problem in a config: where it is (keys and indices as written) and what is wrong."""

    loc: tuple[str | int, ...]
    message: str

    def render(self, root: str = "init_cfg") -> str:
        """``<location>: <message>``, with the location rooted at ``root``."""
        return f"{format_loc(self.loc, root)}: {self.message}"

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
