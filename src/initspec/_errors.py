"""The package's exception and warning types, and the two wordings every message shares.

InitSpecError
 ├── InitConfigError (ValueError)   a bad config, with every Problem located
 ├── InitPlanError   (ValueError)   a valid config that does not fit the model
 └── CheckpointError (OSError)      a checkpoint that cannot be found, read, trusted or matched
InitWarning (UserWarning)           legal but suspicious
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CheckpointError",
    "InitConfigError",
    "InitPlanError",
    "InitSpecError",
    "InitWarning",
    "Problem",
    "did_you_mean",
    "format_loc",
]


def did_you_mean(word: str, choices: Iterable[str], *, n: int = 1, render: str = "'{}'") -> str:
    """``"; did you mean 'x'?"`` (or ``'x' or 'y'`` for ``n > 1``) for the closest choices, else ``""``.

    The one wording of every did-you-mean hint; ``render`` formats each choice (``"'{}'"`` quotes it).
    """
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=n, cutoff=0.6)
    if not close:
        lowered = word.lower()
        close = [c for c in options if c.lower() == lowered or lowered.startswith(c.lower())][:1]
    return f"; did you mean {' or '.join(render.format(c) for c in close)}?" if close else ""


def format_loc(loc: tuple[str | int, ...], root: str = "init_cfg") -> str:
    """Render a location such as ``init_cfg[1].override[0].std``."""
    out = root
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
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


class InitWarning(UserWarning):
    """Something legal but suspicious happened during initialization."""
