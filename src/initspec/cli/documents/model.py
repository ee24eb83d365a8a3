"""The document model every reader returns: plain data, where each key and item was written, and notices."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, Protocol, TypeAlias

__all__ = [
    "MAX_INT_DIGITS",
    "Bases",
    "Document",
    "DocumentError",
    "Limits",
    "Loc",
    "Notice",
    "Position",
    "Positions",
    "Skipped",
    "deep_offset",
    "drop_subtree",
    "find_init_cfgs",
    "has_path",
    "line_col",
    "location_of",
    "plain",
    "position_of",
    "read_source",
    "skipped_inside",
    "too_long_int",
]

Loc: TypeAlias = tuple[str | int, ...]
Position: TypeAlias = tuple[int, int]
Positions: TypeAlias = Mapping[Loc, Position]
ErrorCode: TypeAlias = Literal["IS001", "IS002", "IS003", "IS005"]

MAX_INT_DIGITS: Final = 4300  # Python's own int/str conversion limit (sys.int_info.default_max_str_digits)
_LONG_INT: Final = re.compile(rf"[0-9a-fA-F_]{{{MAX_INT_DIGITS + 1},}}")
_BRACKETS: Final = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[\[\]{}()]""")


@dataclass(frozen=True)
class Limits:
    """Caps on the work one ``validate`` run does, so a hostile file gets a located error, never a hang.

    ``max_bytes`` caps each file read; ``max_values`` the values one file (or one ``.py`` evaluation) may
    build; ``max_depth`` the nesting of values; ``max_base_depth`` and ``max_bases`` the ``_base_`` chain of
    one config and the distinct files it may pull in.
    """

    max_bytes: int = 10_000_000
    max_values: int = 1_000_000
    max_depth: int = 200
    max_base_depth: int = 32
    max_bases: int = 512


class DocumentError(Exception):
    """A config file cannot be read or parsed; ``line`` and ``col`` (1-based) locate the problem if known.

    ``code`` says which: IS001 unreadable, IS002 does not parse, IS003 a bad ``_base_``, IS005 over a limit.
    """

    def __init__(
        self,
        path: Path,
        message: str,
        line: int | None = None,
        col: int | None = None,
        *,
        code: ErrorCode = "IS002",
    ) -> None:
        where = f"{path}:{line}:{col or 1}" if line else str(path)
        super().__init__(f"{where}: {message}")
        self.path, self.message, self.line, self.col, self.code = path, message, line, col, code


@dataclass(frozen=True)
class Skipped:
    """A piece of a ``.py`` config that cannot be known without running it, so it is left out of the data.

    ``file`` is None when the piece is in the document's own file, else the base config it comes from.
    """

    path: Loc
    line: int
    col: int
    reason: str
    file: Path | None = None


@dataclass(frozen=True)
class Notice:
    """Something a reader or the loader wants said about a file: a YAML 1.1 reading, a missing package."""

    code: str
    severity: Literal["error", "warning", "note"]
    line: int
    col: int
    message: str
    file: Path | None = None
    loc: Loc | None = None  # the value it is about, when there is one; None: about the file


@dataclass(frozen=True)
class Document:
    """A parsed config file: plain data, and the 1-based (line, col) of every key and list item in it.

    ``positions`` holds the position of the key for mapping entries and of the value for list items; the root
    ``()`` is at (1, 1). ``origins`` names the file of each position that lies in a ``_base_`` config; a loc
    missing from it lies in ``path``.
    """

    path: Path
    data: object
    positions: Positions
    skipped: tuple[Skipped, ...] = ()
    origins: Mapping[Loc, Path] = field(default_factory=dict)
    notices: tuple[Notice, ...] = ()


class Bases(Protocol):
    """What the ``.py`` reader asks of the loader: the bases a file names, read and merged."""

    def inherit(self, entries: list[tuple[str, Position]]) -> Document:
        """The merged ``_base_`` files (relative paths or ``pkg::path``), as the file's ``_base_`` value."""

    def module(self, name: str, level: int, at: Position) -> Document | None:
        """The config module a ``read_base()`` import names (``level`` leading dots), or None if absent."""


def read_source(path: Path, limits: Limits) -> str:
    """Return the text of a regular UTF-8 file of at most ``limits.max_bytes`` (BOM dropped, ``\\n`` lines)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            msg = f"not a regular file ({_file_kind(info.st_mode)}); config files are regular files"
            raise DocumentError(path, msg, code="IS001")
        if info.st_size > limits.max_bytes:
            raise DocumentError(path, _too_big(info.st_size, limits), code="IS001")
        with open(path, "rb") as file:  # read what stat says is there: a cap-sized read allocates the cap
            raw = file.read(info.st_size + 1)
            if len(raw) > info.st_size:  # it grew since, or its size is unknown (/proc): read on to the cap
                raw += file.read(limits.max_bytes + 1 - len(raw))
    except OSError as err:
        raise DocumentError(path, f"cannot read the file: {err.strerror or err}", code="IS001") from err
    if len(raw) > limits.max_bytes:
        raise DocumentError(path, _too_big(len(raw), limits), code="IS001")
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as err:
        msg = f"not valid UTF-8 (byte {err.object[err.start]:#04x} at offset {err.start}); save it as UTF-8"
        raise DocumentError(path, msg, code="IS001") from err


def _too_big(size: int, limits: Limits) -> str:
    return f"{size:,} bytes is over the {limits.max_bytes:,}-byte cap; raise it with --max-bytes"


def _file_kind(mode: int) -> str:
    kinds = {stat.S_ISFIFO: "a FIFO", stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device"}
    kinds[stat.S_ISSOCK] = "a socket"
    kinds[stat.S_ISDIR] = "a directory"
    return next((name for test, name in kinds.items() if test(mode)), "not a plain file")


def line_col(text: str, offset: int) -> Position:
    """The 1-based (line, col) of ``offset`` in ``text``, computed without an index."""
    start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - start + 1


def too_long_int(text: str) -> int | None:
    """The offset of the first run of more than 4,300 digits (an integer Python will not convert), if any."""
    match = _LONG_INT.search(text)
    return match.start() if match else None


def deep_offset(text: str, limit: int) -> int | None:
    """The offset of the first bracket nested more than ``limit`` deep, quoted strings aside."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in "[{(":
            depth += 1
            if depth > limit:
                return match.start()
        elif token in "]})":
            depth -= 1
    return None


def has_path(data: object, loc: Loc) -> bool:
    """Whether ``loc`` names a value inside ``data``."""
    node = data
    for key in loc:
        in_dict = isinstance(node, dict) and key in node
        if not (in_dict or (isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node))):
            return False
        node = node[key]  # type: ignore[index]  # a dict or a list, checked just above
    return True


def plain(value: object) -> object:
    """``value`` with every tuple a list, as config data compares (a module's ``init_cfg`` and the file's)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def drop_subtree(positions: dict[Loc, object], prefix: Loc) -> None:
    """Remove ``prefix`` and every loc below it, for a key that is about to be given a new value."""
    size = len(prefix)
    for loc in [loc for loc in positions if loc[:size] == prefix]:
        del positions[loc]


def position_of(doc: Document, loc: Loc) -> Position:
    """The (line, col) of the deepest part of ``loc`` found in ``doc``.

    Segments the document lacks are stepped over: a key that is missing, a union tag such as ``'Kaiming'``, or
    the ``0`` a validator adds when it wraps a single dict in a tuple.
    """
    return doc.positions.get(_known_loc(doc, loc), (1, 1))


def location_of(doc: Document, loc: Loc) -> tuple[Path, int, int]:
    """Like :func:`position_of`, with the file the position is in (a ``_base_`` config or ``doc.path``)."""
    known = _known_loc(doc, loc)
    line, col = doc.positions.get(known, (1, 1))
    return doc.origins.get(known, doc.path), line, col


def _known_loc(doc: Document, loc: Loc) -> Loc:
    known: Loc = ()
    for segment in loc:
        if (*known, segment) in doc.positions:
            known = (*known, segment)
    return known


def skipped_inside(doc: Document, loc: Loc) -> list[Skipped]:
    """The pieces of ``doc`` left out (they need running code) from inside the value at ``loc``."""
    return [piece for piece in doc.skipped if len(piece.path) > len(loc) and piece.path[: len(loc)] == loc]


def find_init_cfgs(
    data: object,
    memo: dict[int, tuple[object, list[tuple[Loc, object]]]] | None = None,
    *,
    include_none: bool = False,
) -> list[tuple[Loc, object]]:
    """Every non-None value under an ``init_cfg`` key (None ones too with ``include_none``), with its loc.

    The search does not enter an ``init_cfg`` value. A root that is itself an init_cfg (a dict with a string
    ``type``, or a non-empty list of them) and holds no ``init_cfg`` key anywhere is returned with loc ``()``.
    ``memo`` keeps what each container holds, for values shared by many documents (merged bases).
    """
    found = _collect(data, 0, {} if memo is None else memo) if isinstance(data, dict | list) else []
    if not found and _looks_like_init_cfg(data):
        return [((), data)]
    return found if include_none else [(loc, value) for loc, value in found if value is not None]


_MAX_SEARCH_DEPTH: Final = 500  # below Python's recursion limit; the loader refuses data nested deeper
_CONTAINERS: Final = (dict, list)  # a tuple: cheaper in isinstance than `dict | list`, built on each call


def _collect(
    node: object, depth: int, memo: dict[int, tuple[object, list[tuple[Loc, object]]]]
) -> list[tuple[Loc, object]]:
    """The init_cfgs below ``node``, with locs relative to it; each container's answer is kept in ``memo``."""
    seen = memo.get(id(node))
    if seen is not None and seen[0] is node:
        return seen[1]
    found: list[tuple[Loc, object]] = []
    if depth <= _MAX_SEARCH_DEPTH:
        items = node.items() if isinstance(node, dict) else enumerate(node)  # type: ignore[arg-type]
        for key, value in items:
            if key == "init_cfg":
                found.append(((key,), value))
            elif isinstance(value, _CONTAINERS) and (inner := _collect(value, depth + 1, memo)):
                found += [((key, *loc), item) for loc, item in inner]
    memo[id(node)] = (node, found)  # holding node keeps its id from being reused
    return found


def _looks_like_init_cfg(data: object) -> bool:
    def is_cfg(value: object) -> bool:
        return isinstance(value, dict) and isinstance(value.get("type"), str)

    return is_cfg(data) or (isinstance(data, list) and bool(data) and all(map(is_cfg, data)))
