"""The package's exception and warning types."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CheckpointError",
    "InitConfigError",
    "InitPlanError",
    "InitSpecError",
    "InitWarning",
    "Problem",
    "format_loc",
]


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
