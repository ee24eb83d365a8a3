"""Every format's ``_base_``: find and read the files it names, merge them, substitute ``{{_base_.x}}``.

A ``.py`` config asks for its bases through ``FileBases`` (the ``Bases`` protocol); a JSON, YAML or TOML file's
``_base_`` key is read here too (``merge_bases``). The loader behind them reads each file once (``BaseSource``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final, Protocol

from initspec.cli.documents import packages
from initspec.cli.documents.layers import merged_layers
from initspec.cli.documents.model import (
    Document,
    DocumentError,
    Limits,
    Loc,
    Notice,
    Position,
    has_path,
    position_of,
)

__all__ = ["BaseSource", "FileBases", "file_key", "merge_bases"]

BASE_KEY: Final = "_base_"
_REFERENCE: Final = re.compile(r"\{\{\s*_base_\.([A-Za-z0-9_.]+)\s*\}\}")


class BaseSource(Protocol):
    """What ``FileBases`` asks of the loader: a base read (once per run), and the bases each file read."""

    limits: Limits

    def base(self, target: Path, key: Path, at: Position) -> tuple[Document | None, Notice | None]:
        """The document of the base ``target``, or the notice saying why it cannot be read."""

    def deps_of(self, key: Path) -> frozenset[Path]:
        """Every base file the file ``key`` read, directly or not."""


class FileBases:
    """The bases of one file, as the ``.py`` reader asks for them (``Bases``) and the loader merges them."""

    def __init__(self, loader: BaseSource, path: Path) -> None:
        self.loader, self.path = loader, path
        self.deps: frozenset[Path] = frozenset()

    def inherit(self, entries: list[tuple[str, Position]]) -> Document:
        merged: dict[str | int, object] = {}
        layers: list[Document] = []
        notices: list[Notice] = []
        for entry, at in entries:
            target, notice = self._resolve(entry, at)
            document = self._read(target, at, notices) if notice is None else None
            notices += [notice] if notice else []
            if document is None:
                continue
            if not isinstance(document.data, dict):
                kind = type(document.data).__name__
                notices.append(
                    Notice(
                        "IS003",
                        "error",
                        *at,
                        f"base config {entry!r} holds a {kind}, not a mapping of variables",
                    )
                )
                continue
            if twice := sorted(map(str, document.data.keys() & merged.keys())):
                notices.append(
                    Notice(
                        "IS003",
                        "error",
                        *at,
                        f"{entry!r} defines {twice} again, and mmengine forbids a variable in two bases",
                    )
                )
            merged.update(document.data)
            if all(document is not layer for layer in layers):  # the same base twice adds nothing
                layers.append(document)
        base = merged_layers(self.path, layers) if layers else Document(self.path, {}, {(): (1, 1)})
        return _with_notices(base, notices)

    def module(self, name: str, level: int, at: Position) -> Document | None:
        notices: list[Notice] = []
        target = packages.module_file(self.path, name, level)
        if target is None:
            return None
        document = self._read(target, at, notices)
        return document if document is None else _with_notices(document, notices)

    def _resolve(self, entry: str, at: Position) -> tuple[Path | None, Notice | None]:
        if "::" not in entry:
            target = self.path.parent / entry
            if not target.is_file():
                return None, Notice(
                    "IS003", "error", *at, f"base config {entry!r} not found (looked for {target})"
                )
            return target, None
        package, _, relative = entry.partition("::")
        root = packages.config_root(package, self.path)
        if root is None:
            why = (
                f"package {package!r} is not installed, so base {entry!r} cannot be read and what it sets is "
                f"not checked; install {package} to check it"
            )
            return None, Notice("IS004", "warning", *at, why)
        target = root / relative
        if not target.is_file():
            return None, Notice(
                "IS003", "error", *at, f"base config {entry!r} not found (looked for {target})"
            )
        return target, None

    def _read(self, target: Path | None, at: Position, notices: list[Notice]) -> Document | None:
        if target is None:
            return None
        key = file_key(target)
        document, notice = self.loader.base(target, key, at)
        if notice is not None:
            notices.append(notice)
            return None
        self.deps = self.deps | {key} | self.loader.deps_of(key)
        if len(self.deps) > self.loader.limits.max_bases:
            msg = f"the `_base_` files of this config number over {self.loader.limits.max_bases}"
            raise DocumentError(self.path, msg, *at, code="IS005")
        return document


def file_key(path: Path) -> Path:
    """The file's absolute path, ``..`` folded (not symlinks: resolving every base costs a stat per folder)."""
    return Path(os.path.abspath(path))


def merge_bases(document: Document, bases: FileBases) -> Document:
    """The document with the bases its ``_base_`` key names merged under it (JSON, YAML, TOML)."""
    data = document.data
    if not isinstance(data, dict) or BASE_KEY not in data:
        return document
    entries = _base_entries(document, data[BASE_KEY])
    own = Document(
        document.path,
        {k: v for k, v in data.items() if k != BASE_KEY},
        document.positions,
        document.skipped,
        document.origins,
        document.notices,
    )
    if entries is None:
        at = document.positions.get((BASE_KEY,), (1, 1))
        notice = Notice("IS003", "error", *at, "`_base_` must be a path or a list of paths")
        return _with_notices(own, [notice])
    base = bases.inherit(entries)
    own = _substitute(own, base)
    return merged_layers(document.path, [base, own])


def _base_entries(document: Document, value: object) -> list[tuple[str, Position]] | None:
    if isinstance(value, str):
        return [(value, document.positions.get((BASE_KEY,), (1, 1)))]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [
            (str(item), document.positions.get((BASE_KEY, index), (1, 1))) for index, item in enumerate(value)
        ]
    return None


def _substitute(own: Document, base: Document) -> Document:
    """``"{{_base_.a.b}}"`` strings in a JSON/YAML/TOML file become the base's value, as in mmengine."""
    notices: list[Notice] = []

    def walk(value: object, loc: Loc) -> object:
        if isinstance(value, str) and (match := _REFERENCE.fullmatch(value.strip())):
            path = tuple(match[1].split("."))
            if has_path(base.data, path):
                return _copy(_get(base.data, path))
            notices.append(
                Notice("IS003", "error", *position_of(own, loc), f"`{value}`: the bases set no `{match[1]}`")
            )
            return value
        if isinstance(value, dict):
            return {k: walk(v, (*loc, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*loc, i)) for i, v in enumerate(value)]
        return value

    data = walk(own.data, ())
    return Document(own.path, data, own.positions, own.skipped, own.origins, (*own.notices, *notices))


def _get(data: object, loc: Loc) -> object:
    for key in loc:
        data = data[key]  # type: ignore[index]  # has_path checked the way
    return data


def _copy(value: object) -> object:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _with_notices(document: Document, notices: list[Notice]) -> Document:
    if not notices:
        return document
    return Document(
        document.path,
        document.data,
        document.positions,
        document.skipped,
        document.origins,
        (*document.notices, *notices),
    )
