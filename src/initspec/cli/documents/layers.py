"""Documents merged from layers (bases first, the child last), as mmengine merges ``_base_`` files.

The merged data shares every value the child does not change; positions and files are looked up when asked,
in the last layer that has the loc, so merging costs what the child sets, not the size of its bases.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from initspec.cli.documents.merge import merged
from initspec.cli.documents.model import Document, Loc, Notice, Position, Skipped, has_path, position_of

__all__ = ["merged_layers"]


def merged_layers(path: Path, layers: list[Document]) -> Document:
    """``layers`` (bases first, the child last) merged as mmengine merges a child into its bases."""
    data: dict[str | int, object] = {}
    notices: list[Notice] = []
    for number, layer in enumerate(layers):
        if not isinstance(layer.data, dict):
            continue
        if number == 0:
            data = layer.data
            continue
        for key, value in layer.data.items():
            try:
                data = merged({key: value}, data, conflict=_Conflict)
            except _Conflict as conflict:
                notices.append(_conflict_notice(layer, conflict))
                data = {**data, key: value}
    skipped: list[Skipped] = []
    for layer in layers:
        skipped += [_from(piece, layer) for piece in layer.skipped if _still_missing(data, piece.path)]
        notices += [_notice_from(notice, layer) for notice in layer.notices]
    own = [piece for piece in skipped if piece.file == path]
    others = [piece for piece in skipped if piece.file != path]
    own = [Skipped(p.path, p.line, p.col, p.reason) for p in own]
    layered = _Layered(path, data, layers)
    return Document(path, data, layered, (*own, *others), layered.origins, tuple(notices))


class _Layered(Mapping[Loc, Position]):
    """Positions of merged data, looked up when asked: the last layer that has a loc wrote it."""

    def __init__(self, path: Path, data: object, layers: list[Document]) -> None:
        self.path, self._data, self._layers = path, data, layers[::-1]
        self.origins = _Origins(self)
        self._memo: dict[Loc, Document | None] = {}  # each loc once: layers may be layered themselves

    def layer_of(self, loc: Loc) -> Document | None:
        if loc in self._memo:
            return self._memo[loc]
        found = None
        if has_path(self._data, loc):
            found = next((layer for layer in self._layers if loc in layer.positions), None)
        if len(self._memo) < 100_000:
            self._memo[loc] = found
        return found

    def __getitem__(self, loc: Loc) -> Position:
        if loc == ():
            return (1, 1)
        layer = self.layer_of(loc)
        if layer is None:
            raise KeyError(loc)
        return layer.positions[loc]

    def __contains__(self, loc: object) -> bool:
        return loc == () or (isinstance(loc, tuple) and self.layer_of(loc) is not None)

    def __iter__(self) -> Iterator[Loc]:
        seen = dict.fromkeys(loc for layer in self._layers for loc in layer.positions)
        return iter([loc for loc in seen if has_path(self._data, loc)])

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Origins(Mapping[Loc, Path]):
    """The file of each position of merged data that lies outside the merged document's own file."""

    def __init__(self, positions: _Layered) -> None:
        self._positions = positions

    def __getitem__(self, loc: Loc) -> Path:
        layer = self._positions.layer_of(loc)
        file = None if layer is None else layer.origins.get(loc, layer.path)
        if file is None or file == self._positions.path:
            raise KeyError(loc)
        return file

    def __iter__(self) -> Iterator[Loc]:
        return iter([loc for loc in self._positions if loc in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _from(piece: Skipped, layer: Document) -> Skipped:
    file = piece.file or layer.path
    return Skipped(piece.path, piece.line, piece.col, piece.reason, file)


def _notice_from(notice: Notice, layer: Document) -> Notice:
    file = notice.file or layer.path
    return Notice(notice.code, notice.severity, notice.line, notice.col, notice.message, file, notice.loc)


def _still_missing(data: dict[str | int, object], loc: Loc) -> bool:
    """Whether a left-out piece still matters: nothing set it, and its container is still there."""
    return not has_path(data, loc) and has_path(data, loc[:-1])


class _Conflict(Exception):
    def __init__(self, loc: Loc, base_value: object) -> None:
        super().__init__(loc)
        self.loc, self.base_value = loc, base_value


def _conflict_notice(layer: Document, conflict: _Conflict) -> Notice:
    dotted = ".".join(map(str, conflict.loc))
    msg = (
        f"`{dotted}` is a dict here but a {type(conflict.base_value).__name__} in the base config, so the two "
        "cannot be merged; add `_delete_=True` to the dict to replace the base value"
    )
    file = layer.origins.get(conflict.loc)
    return Notice("IS003", "error", *position_of(layer, conflict.loc), msg, file)
