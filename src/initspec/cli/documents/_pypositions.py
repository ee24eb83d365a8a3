"""Where each loc of a read ``.py`` config was written, and in which file: looked up when asked, never copied."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Final, TypeAlias

from initspec.cli.documents.model import Loc, Position, has_path

__all__ = ["Positions", "Where"]

Where: TypeAlias = tuple[Path, int, int]
_MEMO_SIZE: Final = 100_000
_Key: TypeAlias = str | int


class Positions(Mapping[Loc, Position]):
    """Where each loc of a read ``.py`` config was written, found by following the loc through the table."""

    def __init__(
        self, path: Path, where_of: Callable[[object, _Key], Where | None], data: dict[_Key, object]
    ) -> None:
        self.path, self.where_of, self.data = path, where_of, data
        self.origins = _Origins(self)
        self._memo: dict[Loc, Where | None] = {}  # each loc once: a read_base chain asks each level again

    def where(self, loc: Loc) -> Where | None:
        if loc in self._memo:
            return self._memo[loc]
        found = self._where(loc)
        if len(self._memo) < _MEMO_SIZE:
            self._memo[loc] = found
        return found

    def _where(self, loc: Loc) -> Where | None:
        node: object = self.data
        where: Where | None = (self.path, 1, 1)
        for key in loc:
            if not has_path(node, (key,)):
                return None
            where = self.where_of(node, key)
            node = node[key]  # type: ignore[index]  # has_path checked it
        return where

    def __getitem__(self, loc: Loc) -> Position:
        where = self.where(loc)
        if where is None:
            raise KeyError(loc)
        return (1, 1) if loc == () else (where[1], where[2])

    def __contains__(self, loc: object) -> bool:
        return isinstance(loc, tuple) and self.where(loc) is not None

    def __iter__(self) -> Iterator[Loc]:
        stack: list[tuple[Loc, object]] = [((), self.data)]
        while stack:
            loc, node = stack.pop()
            yield loc
            items = (
                node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            )
            stack.extend(((*loc, key), value) for key, value in items)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Origins(Mapping[Loc, Path]):
    """The file of each loc written outside the file being read (in a base it adopted)."""

    def __init__(self, positions: Positions) -> None:
        self._positions = positions

    def __getitem__(self, loc: Loc) -> Path:
        where = self._positions.where(loc)
        if where is None or where[0] is self._positions.path or where[0] == self._positions.path:
            raise KeyError(loc)
        return where[0]

    def __iter__(self) -> Iterator[Loc]:
        return iter([loc for loc in self._positions if loc in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)
