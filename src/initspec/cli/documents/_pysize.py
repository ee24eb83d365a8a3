"""The size and depth limits on a read ``.py`` config's values, each shared container measured once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeAlias

from initspec.cli.documents._pypositions import Where
from initspec.cli.documents.model import DocumentError, Limits

__all__ = ["Measure"]

_Key: TypeAlias = str | int
_CONTAINERS: Final = (dict, list)  # a tuple: cheaper in isinstance than `dict | list`, built on each call


class Measure:
    """The expanded size and depth of each container, each computed once: a shared value is not re-walked."""

    def __init__(self, path: Path, limits: Limits, where_of: Callable[[object, _Key], Where | None]) -> None:
        self.path, self.limits, self.where_of = path, limits, where_of
        self.size: dict[int, int] = {}

    def check(self, data: dict[_Key, object]) -> None:
        for key, value in data.items():
            if isinstance(value, dict | list):
                where = self.where_of(data, key) or (self.path, 1, 1)
                self._measure(value, str(key), where)

    def _measure(self, root: object, name: str, where: Where) -> None:
        try:
            self._size(root, set(), 0)
        except _Cycle:
            raise DocumentError(self.path, f"`{name}` contains itself", *where[1:], code="IS005") from None
        except _TooBig as err:
            raise DocumentError(self.path, f"`{name}` {err}", *where[1:], code="IS005") from None

    def _size(self, node: object, active: set[int], level: int) -> int:
        key = id(node)
        known = self.size.get(key)
        if known is not None:
            return known
        limits = self.limits
        if key in active:
            raise _Cycle
        if level > limits.max_depth:
            raise _TooBig(f"is nested more than {limits.max_depth} levels deep")
        active.add(key)
        total = 1
        for value in node.values() if isinstance(node, dict) else node:  # type: ignore[attr-defined]
            total += self._size(value, active, level + 1) if isinstance(value, _CONTAINERS) else 1
        active.discard(key)
        if total > limits.max_values:
            raise _TooBig(f"expands to more than {limits.max_values:,} values; simplify the config")
        self.size[key] = total
        return total


class _Cycle(Exception):
    """A value that contains itself."""


class _TooBig(Exception):
    """A value over the evaluation budget."""
