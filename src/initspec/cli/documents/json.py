"""The JSON reader: ``json.loads`` for the data, positions found on demand by scanning the text again.

Positions are not stored: a lookup walks the text along the loc, skipping the values beside it, so the memory
kept is the text itself whatever the file holds (a 10 MB string costs nothing beyond its 10 MB).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

from initspec.cli.documents.model import (
    Document,
    DocumentError,
    Limits,
    Loc,
    Position,
    deep_offset,
    line_col,
    too_long_int,
)

__all__ = ["JsonPositions", "read_json"]

_SPACE: Final = re.compile(r"[ \t\n\r]*")
_LITERAL: Final = re.compile(r"[^,:\]}\s]+")
_CONTAINER_TOKEN: Final = re.compile(r'[\[\]{}"]')


def read_json(path: Path, text: str, limits: Limits) -> Document:
    """Parse JSON text; errors, integers over 4,300 digits and deep nesting are located ``DocumentError``\\ s."""
    try:
        data: object = json.loads(text)
    except json.JSONDecodeError as err:
        raise DocumentError(path, f"invalid JSON: {err.msg}", err.lineno, err.colno) from err
    except ValueError as err:  # int(...) refused a number over sys.get_int_max_str_digits()
        offset = too_long_int(text)
        where = line_col(text, offset) if offset is not None else (1, 1)
        raise DocumentError(
            path, "an integer with more than 4,300 digits; write a smaller number", *where
        ) from err
    except RecursionError as err:
        offset = deep_offset(text, limits.max_depth)
        where = line_col(text, offset) if offset is not None else (1, 1)
        raise DocumentError(
            path, f"nested more than {limits.max_depth} levels deep", *where, code="IS005"
        ) from err
    except MemoryError as err:
        raise DocumentError(
            path, "out of memory while parsing; the file is too large to check", 1, 1
        ) from err
    return Document(path, data, JsonPositions(text))


class JsonPositions(Mapping[Loc, Position]):
    """The (line, col) of each key and list item of valid JSON text, found by scanning when asked."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._found: dict[Loc, tuple[int, int]] = {(): (0, _space(text, 0))}  # loc -> (entry, value) offsets

    def __getitem__(self, loc: Loc) -> Position:
        offsets = self._offsets(loc)
        if offsets is None:
            raise KeyError(loc)
        return (1, 1) if loc == () else line_col(self._text, offsets[0])

    def __contains__(self, loc: object) -> bool:
        return isinstance(loc, tuple) and self._offsets(loc) is not None

    def __iter__(self) -> Iterator[Loc]:
        stack: list[tuple[Loc, int]] = [((), self._found[()][1])]
        while stack:
            loc, value = stack.pop()
            yield loc
            children = {key: offsets[1] for key, *offsets in _entries(self._text, value)}
            stack.extend(((*loc, key), start) for key, start in reversed(children.items()))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def _offsets(self, loc: Loc) -> tuple[int, int] | None:
        if loc in self._found:
            return self._found[loc]
        parent = self._offsets(loc[:-1]) if loc else None
        if parent is None:
            return None
        found = None
        for key, entry, value in _entries(self._text, parent[1]):
            if key == loc[-1]:
                found = (entry, value)  # a repeated key: the last one wins, as in json.loads
        if found is not None and len(self._found) < 10_000:
            self._found[loc] = found
        return found


def _entries(text: str, start: int) -> Iterator[tuple[str | int, int, int]]:
    """The key (or index), entry offset and value offset of each child of the container at ``start``."""
    opener = text[start]
    if opener not in "{[":
        return
    closer = "}" if opener == "{" else "]"
    index, count = _space(text, start + 1), 0
    while text[index] != closer:
        entry = index
        key: str | int = count
        if closer == "}":
            end = _string_end(text, index)
            key = str(json.loads(text[index:end]))
            index = _space(text, _space(text, end) + 1)
        yield key, entry, index
        index = _space(text, _skip_value(text, index))
        index = _space(text, index + 1) if text[index] == "," else index
        count += 1


def _skip_value(text: str, index: int) -> int:
    opener = text[index]
    if opener == '"':
        return _string_end(text, index)
    if opener not in "{[":
        match = _LITERAL.match(text, index)
        return match.end() if match else index + 1
    depth = 0
    while True:
        match = _CONTAINER_TOKEN.search(text, index)
        if match is None:
            return len(text)
        token, index = match.group(), match.start()
        if token == '"':
            index = _string_end(text, index)
            continue
        depth += 1 if token in "{[" else -1
        index += 1
        if depth == 0:
            return index


def _string_end(text: str, start: int) -> int:
    """The offset just past the string that opens at ``start``, found without a backtracking regex."""
    index = start + 1
    while True:
        index = text.index('"', index)
        slashes = index - 1
        while text[slashes] == "\\":
            slashes -= 1
        if (index - slashes - 1) % 2 == 0:
            return index + 1
        index += 1


def _space(text: str, index: int) -> int:
    return _SPACE.match(text, index).end()  # type: ignore[union-attr]  # matches "" at worst
