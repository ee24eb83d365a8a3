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

from initspec.cli.documents._pypositions import Positions, Where
from initspec.cli.documents._pysize import Measure
from initspec.cli.documents.model import Document, DocumentError, Limits, Loc, Position, Skipped, has_path

__all__ = ["INIT_CLASSES", "Imported", "Missing", "Table", "value_at"]

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
        self._source: dict[int, tuple[Document, Loc]] = {}  # adopted containers: positions read from there
        self._missing: dict[int, dict[_Key, Missing]] = {}
        self._imported: list[tuple[object, _Key]] = []
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

    def put(
        self, container: dict[_Key, object] | list[object], key: _Key, value: object, where: Where
    ) -> None:
        """``container[key] = value`` (append when ``key`` is one past a list's end), remembering ``where``."""
        if isinstance(container, list) and isinstance(key, int) and key == len(container):
            container.append(value)
        else:
            container[key] = value  # type: ignore[index]  # list keys are ints, checked by the caller
        ident = id(container)
        placed = self._where.get(ident)
        if placed is None:  # not setdefault: that would build an empty dict on every call
            placed = self._where[ident] = {}
        placed[key] = where
        missing = self._missing.get(ident)
        if missing is not None:
            missing.pop(key, None)
        if isinstance(value, Imported):
            self._imported.append((container, key))

    def miss(self, container: object, key: _Key, missing: Missing) -> None:
        """Leave ``key`` out of ``container``: its value needs running code (``missing`` says why, and where)."""
        if isinstance(container, dict):
            container.pop(key, None)
        self._missing.setdefault(id(container), {})[key] = missing

    def missing_in(self, container: object) -> dict[_Key, Missing]:
        return self._missing.get(id(container), {})

    def where(self, container: object, key: _Key) -> Where | None:
        found = self._where.get(id(container), {}).get(key)
        if found is None and id(container) in self._source:
            doc, loc = self._source[id(container)]
            found = _where_in(doc, (*loc, key))
        return found

    def moved(self, source: object, target: object, key: _Key) -> None:
        """``target[key]`` now holds what ``source[key]`` held: its position goes with it (``update``)."""
        where = self.where(source, key)
        if where is not None:
            self._where.setdefault(id(target), {})[key] = where
        self.missing_in(target).pop(key, None)

    def forget(self, container: object, key: _Key) -> None:
        self._where.get(id(container), {}).pop(key, None)
        self.missing_in(container).pop(key, None)

    def adopt(self, doc: Document) -> dict[_Key, object]:
        """A copy of a base document's data in this table; positions are read from ``doc`` when asked."""
        copied = self._copy_in(doc, doc.data, ())
        if not isinstance(copied, dict):
            return self.new_dict((1, 1))
        for piece in doc.skipped:
            container = _resolve(copied, piece.path[:-1])
            if container is not None:
                missing = (piece.file or doc.path, piece.line, piece.col, piece.reason)
                self.miss(container, piece.path[-1], missing)
        return copied

    def _copy_in(self, doc: Document, value: object, loc: Loc) -> object:
        made: dict[_Key, object] | list[object]
        if isinstance(value, dict):
            made = {key: self._copy_in(doc, item, (*loc, key)) for key, item in value.items()}
        elif isinstance(value, list):
            made = [self._copy_in(doc, item, (*loc, index)) for index, item in enumerate(value)]
        else:
            return value
        self._register(made, (1, 1), len(made))
        self._source[id(made)] = (doc, loc)
        return made

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
        """A document of ``root``'s entries that ``keep`` accepts; positions are looked up when asked."""
        self._resolve_imports(resolve)
        data = self.new_dict((1, 1))
        for key, value in root.items():
            if isinstance(key, str) and keep(key) and not isinstance(value, Imported):
                self.put(data, key, value, self.where(root, key) or (self.path, 1, 1))
        Measure(self.path, self.limits, self.where).check(data)
        skipped = [
            Skipped((key,), line, col, reason, None if file == self.path else file)
            for key, (file, line, col, reason) in self.missing_in(root).items()
            if isinstance(key, str) and keep(key)
        ]
        skipped += self._skipped_under(data)
        skipped.sort(key=lambda piece: (piece.file is not None, piece.line, piece.col))
        positions = Positions(self.path, self.where, data)
        return Document(self.path, data, positions, tuple(skipped), positions.origins)

    def _resolve_imports(self, resolve: Callable[[object], object]) -> None:
        """Imported classes become their registered names (``PretrainedInit``), or are left out, said why."""
        for container, key in self._imported:
            value = value_at(container, key)
            if not isinstance(value, Imported):
                continue
            resolved = resolve(value)
            if not isinstance(resolved, Imported):
                container[key] = resolved  # type: ignore[index]  # the slot exists: value_at found it
            elif isinstance(container, dict):
                reason = f"`{value.dotted}` is imported, and initspec never imports code to see what it is"
                where = self.where(container, key) or (self.path, 1, 1)
                self.miss(container, key, (*where, reason))

    def _skipped_under(self, data: dict[_Key, object]) -> list[Skipped]:
        if not any(self._missing.values()):
            return []
        found: list[Skipped] = []
        seen: set[int] = set()
        stack: list[tuple[Loc, object]] = [((), data)]
        while stack:  # each container once, at the first loc that reaches it
            loc, node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            for key, (file, line, col, reason) in self.missing_in(node).items():
                found.append(Skipped((*loc, key), line, col, reason, None if file == self.path else file))
            items = node.items() if isinstance(node, dict) else enumerate(node)  # type: ignore[arg-type]
            stack.extend(((*loc, k), v) for k, v in items if isinstance(v, dict | list))
        return found


def value_at(container: object, key: _Key) -> object:
    if isinstance(container, dict):
        return container.get(key)
    if isinstance(container, list) and isinstance(key, int) and 0 <= key < len(container):
        return container[key]
    return None


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
