"""The loader above the readers: pick the reader, then do what every format shares (``_base_``), once per file.

Each file is read and evaluated once per run, however many children inherit from it; each result (or error)
is kept. A problem in a base (missing, cyclic, unreadable, over a limit) is an error notice at the child's
``_base_`` entry, and the child is still checked with what could be read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

from initspec._stack import on_large_stack
from initspec.cli.documents import json as json_reader
from initspec.cli.documents import packages
from initspec.cli.documents import python as python_reader
from initspec.cli.documents import toml as toml_reader
from initspec.cli.documents import yaml as yaml_reader
from initspec.cli.documents.layers import merged_layers
from initspec.cli.documents.model import (
    MAX_INT_DIGITS,
    Document,
    DocumentError,
    Limits,
    Loc,
    Notice,
    Position,
    has_path,
    position_of,
    read_source,
)

__all__ = ["SUFFIXES", "Loader"]

BASE_KEY: Final = "_base_"
_Reader = Callable[[Path, str, Limits], Document]
_READERS: Final[dict[str, _Reader]] = {
    ".json": json_reader.read_json,
    ".yaml": yaml_reader.read_yaml,
    ".yml": yaml_reader.read_yaml,
    ".toml": toml_reader.read_toml,
}
SUFFIXES: Final = frozenset({*_READERS, ".py"})
_REFERENCE: Final = re.compile(r"\{\{\s*_base_\.([A-Za-z0-9_.]+)\s*\}\}")
_IGNORE: Final = re.compile(r"#\s*initspec:\s*ignore(?:\[([A-Za-z0-9,\s]*)\])?")
_MAX_BITS: Final = int(MAX_INT_DIGITS * 3.32)


class Loader:
    """Reads config files for one run: each file once, its ``_base_`` chain merged as mmengine merges it."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.reads = 0
        self.ignores: dict[Path, dict[int, frozenset[str] | None]] = {}
        self._done: dict[Path, Document | DocumentError] = {}
        self._deps: dict[Path, frozenset[Path]] = {}
        self._chain: list[Path] = []

    def load(self, path: Path) -> Document:
        """The document of ``path`` with its bases merged in.

        Raises:
            DocumentError: ``path`` itself cannot be read, does not parse, or is over a limit.
        """
        return on_large_stack(self._load, path)  # a parser's C recursion must not outgrow a small main stack

    def _load(self, path: Path, key: Path | None = None) -> Document:
        if key is None:
            key = _key(path)
        done = self._done.get(key)
        if isinstance(done, DocumentError):
            raise done
        if done is not None:
            return done
        self._chain.append(key)
        try:
            document = self._read(path, key)
        except DocumentError as error:
            self._done[key] = error
            raise
        finally:
            self._chain.pop()
        self._done[key] = document
        return document

    def _read(self, path: Path, key: Path) -> Document:
        suffix = path.suffix.lower()
        reader = _READERS.get(suffix)
        if reader is None and suffix != ".py":
            msg = f"cannot read {suffix or 'extension-less'!r} files; use .json, .yaml, .yml, .toml or .py"
            raise DocumentError(path, msg, code="IS001")
        text = read_source(path, self.limits)
        self.reads += 1
        self._scan_ignores(key, text)
        bases = _FileBases(self, path)
        if reader is None:
            config = python_reader.read_python(path, text, self.limits, bases)
            layers = [config.own] if config.base is None else [config.base, config.own]
            document = merged_layers(path, layers) if config.base is not None else config.own
        else:
            read = reader(path, text, self.limits)
            _check_values(read, self.limits)
            document = self._inherit(read, bases)
        self._deps[key] = bases.deps
        return document

    def _inherit(self, document: Document, bases: _FileBases) -> Document:
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

    def _scan_ignores(self, key: Path, text: str) -> None:
        if "initspec:" not in text:
            return
        found: dict[int, frozenset[str] | None] = {}
        for number, line in enumerate(text.split("\n"), 1):
            if match := _IGNORE.search(line):
                codes = match[1]
                found[number] = (
                    None
                    if codes is None
                    else frozenset(c.strip().upper() for c in codes.split(",") if c.strip())
                )
        self.ignores[key] = found

    def base(self, target: Path, key: Path, at: Position) -> tuple[Document | None, Notice | None]:
        """Read the base ``target`` (``key``: its absolute path): the document, or the notice saying why not."""
        if key in self._chain:
            cycle = " -> ".join(str(link) for link in (*self._chain, key))
            return None, Notice("IS003", "error", *at, f"`_base_` files include each other: {cycle}")
        if len(self._chain) >= self.limits.max_base_depth:
            msg = f"the `_base_` chain is deeper than {self.limits.max_base_depth} files"
            return None, Notice("IS005", "error", *at, msg)
        try:
            document = on_large_stack(self._load, target, key)
        except DocumentError as error:
            return None, Notice(
                error.code if error.code != "IS002" else "IS003",
                "error",
                *at,
                f"base config {str(target)!r} cannot be read: {error}",
            )
        return document, None

    def deps_of(self, key: Path) -> frozenset[Path]:
        return self._deps.get(key, frozenset())


class _FileBases:
    """The bases of one file, as the ``.py`` reader asks for them (``Bases``) and the loader merges them."""

    def __init__(self, loader: Loader, path: Path) -> None:
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
        key = _key(target)
        document, notice = self.loader.base(target, key, at)
        if notice is not None:
            notices.append(notice)
            return None
        self.deps = self.deps | {key} | self.loader.deps_of(key)
        if len(self.deps) > self.loader.limits.max_bases:
            msg = f"the `_base_` files of this config number over {self.loader.limits.max_bases}"
            raise DocumentError(self.path, msg, *at, code="IS005")
        return document


def _key(path: Path) -> Path:
    """The file's absolute path, ``..`` folded (not symlinks: resolving every base costs a stat per folder)."""
    return Path(os.path.abspath(path))


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


def _check_values(document: Document, limits: Limits) -> None:
    """Refuse data nested deeper than the limit or holding an integer of more than 4,300 digits."""
    stack: list[tuple[Loc, object]] = [((), document.data)]
    while stack:  # containers only: a loc is built for each container, never for each scalar
        loc, node = stack.pop()
        if len(loc) > limits.max_depth:
            msg = f"nested more than {limits.max_depth} levels deep"
            raise DocumentError(document.path, msg, *position_of(document, loc), code="IS005")
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(value, dict | list):
                stack.append(((*loc, key), value))
            elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_BITS:
                msg = "an integer with more than 4,300 digits; write a smaller number"
                raise DocumentError(document.path, msg, *position_of(document, (*loc, key)))
