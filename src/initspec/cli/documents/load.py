"""The loader above the readers: pick the reader, then do what every format shares (``_base_``), once per file.

Each file is read and evaluated once per run, however many children inherit from it; each result (or error)
is kept. A problem in a base (missing, cyclic, unreadable, over a limit) is an error notice at the child's
``_base_`` entry, and the child is still checked with what could be read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from initspec._stack import on_large_stack
from initspec.cli.documents import json as json_reader
from initspec.cli.documents import python as python_reader
from initspec.cli.documents import toml as toml_reader
from initspec.cli.documents import yaml as yaml_reader
from initspec.cli.documents._bases import FileBases, file_key, merge_bases
from initspec.cli.documents._pysites import SiteMap
from initspec.cli.documents.layers import merged_layers
from initspec.cli.documents.model import (
    MAX_INT_DIGITS,
    Document,
    DocumentError,
    Limits,
    Loc,
    Notice,
    Position,
    position_of,
    read_source,
)

__all__ = ["SUFFIXES", "Loader"]

_Reader = Callable[[Path, str, Limits], Document]
_READERS: Final[dict[str, _Reader]] = {
    ".json": json_reader.read_json,
    ".yaml": yaml_reader.read_yaml,
    ".yml": yaml_reader.read_yaml,
    ".toml": toml_reader.read_toml,
}
SUFFIXES: Final = frozenset({*_READERS, ".py"})
_IGNORE: Final = re.compile(r"#\s*initspec:\s*ignore(?:\[([A-Za-z0-9,\s]*)\])?")
_MAX_BITS: Final = int(MAX_INT_DIGITS * 3.32)


class Loader:
    """Reads config files for one run: each file once, its ``_base_`` chain merged as mmengine merges it."""

    def __init__(self, limits: Limits | None = None, overlay: Mapping[Path, str] | None = None) -> None:
        """``overlay`` maps a file (any spelling of its path) to the text to read instead of the file's:
        an editor's unsaved buffer, or a file as ``--diff`` would leave it.
        """
        self.limits = limits or Limits()
        self.overlay = {file_key(path): text for path, text in (overlay or {}).items()}
        self.reads = 0
        self._texts: dict[Path, str] = {}
        self.ignores: dict[Path, dict[int, frozenset[str] | None]] = {}
        self._done: dict[Path, Document | DocumentError] = {}
        self._deps: dict[Path, frozenset[Path]] = {}
        self._chain: list[Path] = []
        self._sites: dict[Path, SiteMap] = {}

    def load(self, path: Path) -> Document:
        """The document of ``path`` with its bases merged in.

        Raises:
            DocumentError: ``path`` itself cannot be read, does not parse, or is over a limit.
        """
        return on_large_stack(self._load, path)  # a parser's C recursion must not outgrow a small main stack

    def _load(self, path: Path, key: Path | None = None) -> Document:
        if key is None:
            key = file_key(path)
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
        text = self.source(path, key)
        self._scan_ignores(key, text)
        bases = FileBases(self, path)
        if reader is None:
            config = python_reader.read_python(path, text, self.limits, bases)
            self._sites[key] = config.sites
            layers = [config.own] if config.base is None else [config.base, config.own]
            document = merged_layers(path, layers) if config.base is not None else config.own
        else:
            read = reader(path, text, self.limits)
            _check_values(read, self.limits)
            document = merge_bases(read, bases)
        self._deps[key] = bases.deps
        return document

    def source(self, path: Path, key: Path | None = None) -> str:
        """The text of ``path`` as its reader sees it (the overlay's, else the file's), read once per run.

        Raises:
            DocumentError: the file cannot be read (IS001).
        """
        key = key or file_key(path)
        text = self._texts.get(key)
        if text is None:
            text = self.overlay.get(key)
            if text is None:
                text = read_source(path, self.limits)
                self.reads += 1
            self._texts[key] = text
        return text

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

    def sites_of(self, path: Path) -> SiteMap | None:
        """The init_cfg sites of the ``.py`` file ``path`` read in this run (None: not a ``.py`` read)."""
        return self._sites.get(file_key(path))

    def deps_of(self, key: Path) -> frozenset[Path]:
        return self._deps.get(key, frozenset())


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
