"""The TOML reader: ``tomllib`` for the data, a line scan for the position of tables and keys."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Final

from initspec.cli.documents.model import (
    Document,
    DocumentError,
    Limits,
    Loc,
    Position,
    deep_offset,
    has_path,
    line_col,
    too_long_int,
)

__all__ = ["read_toml"]

_KEY_PART: Final = r"""[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'"""
_KEY: Final = rf"(?:{_KEY_PART})(?:[ \t]*\.[ \t]*(?:{_KEY_PART}))*"
_HEADER: Final = re.compile(rf"[ \t]*(\[\[?)[ \t]*({_KEY})[ \t]*\]\]?[ \t]*(?:#.*)?$")
_ASSIGN: Final = re.compile(rf"[ \t]*({_KEY})[ \t]*=")
_ERROR_AT: Final = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def read_toml(path: Path, text: str, limits: Limits) -> Document:
    """Read TOML with ``tomllib``.

    ``tomllib`` records no positions, so lines come from a scan for ``[table]``/``[[array]]`` headers and
    ``key =`` lines. Keys inside inline tables and arrays, and tables under an array of tables, map to their
    nearest scanned ancestor (at worst the root, 1:1).
    """
    try:
        import tomllib
    except ModuleNotFoundError as err:  # Python 3.10
        raise DocumentError(path, "reading TOML needs Python 3.11 or newer (tomllib)", code="IS001") from err
    try:
        data: object = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        at = _ERROR_AT.search(str(err))
        message = _ERROR_AT.sub("", str(err))
        line, col = (int(at[1]), int(at[2])) if at else (None, None)
        raise DocumentError(path, f"invalid TOML: {message}", line, col) from err
    except ValueError as err:  # int(...) refused a number over sys.get_int_max_str_digits()
        raise _located(path, text, too_long_int(text), "an integer with more than 4,300 digits") from err
    except RecursionError as err:
        depth = f"nested more than {limits.max_depth} levels deep"
        raise _located(path, text, deep_offset(text, limits.max_depth), depth, "IS005") from err
    except MemoryError as err:
        raise DocumentError(
            path, "out of memory while parsing; the file is too large to check", 1, 1
        ) from err
    scanned = _scan_keys(text)
    return Document(path, data, {loc: at for loc, at in scanned.items() if has_path(data, loc)})


def _located(path: Path, text: str, offset: int | None, message: str, code: str = "IS002") -> DocumentError:
    where = line_col(text, offset) if offset is not None else (1, 1)
    return DocumentError(path, message, *where, code="IS005" if code == "IS005" else "IS002")


def _scan_keys(text: str) -> dict[Loc, Position]:
    positions: dict[Loc, Position] = {(): (1, 1)}
    table: Loc = ()
    tables_seen: dict[Loc, int] = {}
    for number, line in enumerate(text.split("\n"), 1):
        header = _HEADER.match(line)
        match = header or _ASSIGN.match(line)
        if match is None:
            continue
        name: Loc = _key_parts(match[2] if header else match[1])
        if header and header[1] == "[[":
            tables_seen[name] = tables_seen.get(name, -1) + 1
            name = (*name, tables_seen[name])
        full = name if header else (*table, *name)
        table = full if header else table
        for depth in range(len(full) - len(name) + 1, len(full) + 1):
            positions.setdefault(full[:depth], (number, match.start(2 if header else 1) + 1))
    return positions


def _key_parts(key: str) -> tuple[str, ...]:
    return tuple(_unquote(part) for part in re.findall(_KEY_PART, key))


def _unquote(part: str) -> str:
    if part.startswith("'"):
        return part[1:-1]
    if part.startswith('"'):
        try:
            return str(json.loads(part))
        except ValueError:
            return part[1:-1]
    return part
