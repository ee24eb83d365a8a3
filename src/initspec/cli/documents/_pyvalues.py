"""Values of a ``.py`` config being read: plain containers, where each key was written, and what is missing.

Positions live beside the containers (keyed by ``id``, the containers pinned so ids stay unique), so a name
that refers to a dict, an assignment into it (``detector['init_cfg'] = ...``) and ``.update()`` all keep the
positions right through aliasing, as Python's own references would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeAlias

from initspec.cli.documents.model import Document, DocumentError, Limits, Loc, Position, Skipped, has_path

__all__ = ["INIT_CLASSES", "Imported", "Missing", "Table", "Where"]

Where: TypeAlias = tuple[Path, int, int]
Missing: TypeAlias = tuple[Path, int, int, str]
_Key: TypeAlias = str | int

_INIT_TYPES: Final = ("Constant", "Xavier", "Normal", "TruncNormal", "Uniform", "Kaiming", "Caffe2Xavier")
_INITSPEC_TYPES: Final = ("Orthogonal", "Dirac", "Eye", "Sparse", "VarianceScaling", "LecunNormal")
_OPENMMLAB_MODULES: Final = ("mmengine.model", "mmengine.model.weight_init", "mmcv.cnn", "mmcv.cnn.utils")
INIT_CLASSES: Final[dict[str, str]] = {
    **{
        f"{module}.{name}Init": name for module in _OPENMMLAB_MODULES for name in (*_INIT_TYPES, "Pretrained")
    },
    **{
        f"{module}.{name}Init": name
        for module in ("initspec", "initspec.configs")
        for name in (*_INIT_TYPES, *_INITSPEC_TYPES, "Pretrained")
    },
}
"""Initializer classes a pure-Python config may use as ``type=``, by import path, and their type names."""


@dataclass(frozen=True)
class Imported:
    """A name bound by an import, never imported: ``PretrainedInit`` from ``mmengine.model`` and the like."""

    dotted: str

    def attribute(self, name: str) -> Imported:
        return Imported(f"{self.dotted}.{name}")


class Table:
    """Every container made while reading one file, with the position of each key and the keys left out."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path, self.limits = path, limits
        self._budget = limits.max_values
        self._where: dict[int, dict[_Key, Where]] = {}
        self._missing: dict[int, dict[_Key, Missing]] = {}
        self._pinned: list[object] = []

    def charge(self, count: int, at: Position) -> None:
        """Spend ``count`` values of the budget; over it is a located error (``a = a + a`` 40 times)."""
        self._budget -= count
        if self._budget < 0:
            msg = (
                f"the values built here exceed the budget of {self.limits.max_values:,}; simplify the config"
            )
            raise DocumentError(self.path, msg, *at, code="IS005")

    def new_dict(self, at: Position) -> dict[_Key, object]:
        made: dict[_Key, object] = {}
        self._register(made, at)
        return made

    def new_list(self, items: list[object], at: Position) -> list[object]:
        self._register(items, at, len(items))
        return items

    def _register(self, container: object, at: Position, size: int = 0) -> None:
        self.charge(1 + size, at)
        self._pinned.append(container)
        self._where[id(container)] = {}

    def put(
        self, container: dict[_Key, object] | list[object], key: _Key, value: object, where: Where
    ) -> None:
        """``container[key] = value`` (append when ``key`` is one past a list's end), remembering ``where``."""
        if isinstance(container, list) and isinstance(key, int) and key == len(container):
            container.append(value)
        else:
            container[key] = value  # type: ignore[index]  # list keys are ints, checked by the caller
        self._where.setdefault(id(container), {})[key] = where
        self._missing.get(id(container), {}).pop(key, None)

    def miss(self, container: object, key: _Key, missing: Missing) -> None:
        """Leave ``key`` out of ``container``: its value needs running code (``missing`` says why, and where)."""
        if isinstance(container, dict):
            container.pop(key, None)
        self._missing.setdefault(id(container), {})[key] = missing

    def missing_in(self, container: object) -> dict[_Key, Missing]:
        return self._missing.get(id(container), {})

    def where(self, container: object, key: _Key) -> Where | None:
        return self._where.get(id(container), {}).get(key)

    def moved(self, source: object, target: object, key: _Key) -> None:
        """``target[key]`` now holds what ``source[key]`` held: its position goes with it (``update``)."""
        where = self.where(source, key)
        if where is not None:
            self._where.setdefault(id(target), {})[key] = where
        self._missing.get(id(target), {}).pop(key, None)

    def forget(self, container: object, key: _Key) -> None:
        self._where.get(id(container), {}).pop(key, None)
        self._missing.get(id(container), {}).pop(key, None)

    def adopt(self, doc: Document) -> dict[_Key, object]:
        """A copy of a base document's data in this table, with its positions, files and left-out pieces."""
        copied = self._copy_in(doc, doc.data, (), (1, 1))
        if not isinstance(copied, dict):
            return self.new_dict((1, 1))
        for piece in doc.skipped:
            container = _resolve(copied, piece.path[:-1])
            if container is not None:
                self.miss(
                    container, piece.path[-1], (piece.file or doc.path, piece.line, piece.col, piece.reason)
                )
        return copied

    def _copy_in(self, doc: Document, value: object, loc: Loc, at: Position) -> object:
        if isinstance(value, dict):
            made = self.new_dict(at)
            for key, item in value.items():
                self.put(made, key, self._copy_in(doc, item, (*loc, key), at), _where_in(doc, (*loc, key)))
            return made
        if isinstance(value, list):
            made_list = self.new_list([], at)
            for index, item in enumerate(value):
                self.put(
                    made_list,
                    index,
                    self._copy_in(doc, item, (*loc, index), at),
                    _where_in(doc, (*loc, index)),
                )
            return made_list
        return value

    def copy(self, value: object, at: Position) -> object:
        """A deep copy that keeps the positions (``copy.deepcopy`` in a config)."""
        if isinstance(value, dict):
            made = self.new_dict(at)
            for key, item in value.items():
                self.put(made, key, self.copy(item, at), self.where(value, key) or (self.path, *at))
            return made
        if isinstance(value, list):
            made_list = self.new_list([], at)
            for index, item in enumerate(value):
                self.put(made_list, index, self.copy(item, at), self.where(value, index) or (self.path, *at))
            return made_list
        return value

    def document(
        self, root: dict[_Key, object], keep: Callable[[str], bool], resolve: Callable[[object], object]
    ) -> Document:
        """A document of ``root``'s entries that ``keep`` accepts, expanded into a tree within the budget."""
        walk = _Finish(self, resolve)
        data: dict[_Key, object] = {}
        for key, value in root.items():
            if isinstance(key, str) and keep(key):
                walk.entry(data, root, key, value, ())
        for key, missing in self._missing.get(id(root), {}).items():
            if isinstance(key, str) and keep(key):
                walk.skip((key,), missing)
        origins = {loc: file for loc, file in walk.files.items() if file != self.path}
        skipped = sorted(walk.skipped, key=lambda piece: (piece.file is not None, piece.line, piece.col))
        return Document(self.path, data, walk.positions, tuple(skipped), origins)


class _Finish:
    """Expands the values of a file into plain trees (each alias copied), recording positions as locs."""

    def __init__(self, table: Table, resolve: Callable[[object], object]) -> None:
        self.table, self.resolve = table, resolve
        self.positions: dict[Loc, Position] = {(): (1, 1)}
        self.files: dict[Loc, Path] = {}
        self.skipped: list[Skipped] = []

    def entry(
        self, out: dict[_Key, object] | list[object], source: object, key: _Key, value: object, loc: Loc
    ) -> None:
        where = self.table.where(source, key) or (self.table.path, 1, 1)
        here = (*loc, key)
        value = self.resolve(value)
        if isinstance(value, Imported):
            reason = f"`{value.dotted}` is imported, and initspec never imports code to see what it is"
            self.skip(here, (*where, reason))
            return
        index = len(out) if isinstance(out, list) else key
        self.positions[(*loc, index)] = where[1:]
        self.files[(*loc, index)] = where[0]
        if isinstance(out, list):
            out.append(self.tree(value, (*loc, index), where))
        else:
            out[key] = self.tree(value, here, where)

    def tree(self, value: object, loc: Loc, where: Where) -> object:
        self.table.charge(1, where[1:])
        if len(loc) > self.table.limits.max_depth:
            msg = f"the value is nested more than {self.table.limits.max_depth} levels deep"
            raise DocumentError(self.table.path, msg, *where[1:], code="IS005")
        if isinstance(value, dict):
            made: dict[_Key, object] = {}
            for key, item in value.items():
                self.entry(made, value, key, item, loc)
            self._skips(value, loc)
            return made
        if isinstance(value, list):
            items: list[object] = []
            for index, item in enumerate(value):
                self.entry(items, value, index, item, loc)
            self._skips(value, loc)
            return items
        return value

    def _skips(self, container: object, loc: Loc) -> None:
        for key, missing in self.table.missing_in(container).items():
            self.skip((*loc, key), missing)

    def skip(self, loc: Loc, missing: Missing) -> None:
        file, line, col, reason = missing
        self.skipped.append(Skipped(loc, line, col, reason, None if file == self.table.path else file))


def _where_in(doc: Document, loc: Loc) -> Where:
    line, col = doc.positions.get(loc, (1, 1))
    return doc.origins.get(loc, doc.path), line, col


def _resolve(data: object, loc: Loc) -> object | None:
    if not has_path(data, loc):
        return None
    node = data
    for key in loc:
        node = node[key]  # type: ignore[index]  # has_path checked the way
    return node
