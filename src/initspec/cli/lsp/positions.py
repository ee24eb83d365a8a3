"""Positions between initspec (1-based lines, columns in code points) and LSP (0-based, UTF-16 by default).

LSP counts a column in the units of the negotiated position encoding: UTF-16 code units unless the client
offers another, so a character outside the Basic Multilingual Plane (an emoji) is two units wide.
"""

from __future__ import annotations

import re
from typing import Final

from lsprotocol import types

__all__ = ["Encoding", "code_points", "diagnostic_range", "lsp_position", "lsp_range", "units", "word_at"]

Encoding = str
_TOKEN: Final = re.compile(r"""[rRuUbBfF]?"(?:[^"\\\n]|\\.)*"?|[rRuUbBfF]?'(?:[^'\\\n]|\\.)*'?|[\w$.-]+""")
_WORD: Final = re.compile(r"[\w$]+")


def _width(text: str, encoding: Encoding) -> int:
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def units(line: str, points: int, encoding: Encoding) -> int:
    """The column, in ``encoding`` units, of the code point at index ``points`` of ``line``."""
    return _width(line[:points], encoding)


def code_points(line: str, column: int, encoding: Encoding) -> int:
    """The code-point index in ``line`` of an LSP column in ``encoding`` units (clamped to the line)."""
    if encoding == types.PositionEncodingKind.Utf32:
        return min(column, len(line))
    counted = 0
    for index, char in enumerate(line):
        if counted >= column:
            return index
        counted += _width(char, encoding)
    return len(line)


def lsp_position(lines: list[str], line: int, col: int, encoding: Encoding) -> types.Position:
    """The LSP position of 1-based ``line``:``col`` (code points), clamped to the text."""
    row = min(max(line - 1, 0), max(len(lines) - 1, 0))
    text = lines[row] if lines else ""
    return types.Position(line=row, character=units(text, min(max(col - 1, 0), len(text)), encoding))


def lsp_range(
    lines: list[str], start: tuple[int, int], end: tuple[int, int], encoding: Encoding
) -> types.Range:
    """The LSP range of two 1-based (line, col) positions."""
    return types.Range(start=lsp_position(lines, *start, encoding), end=lsp_position(lines, *end, encoding))


def diagnostic_range(lines: list[str], line: int, col: int, encoding: Encoding) -> types.Range:
    """From a finding's start to the end of the token there (a key, a quoted string, a word)."""
    row = line - 1
    text = lines[row] if 0 <= row < len(lines) else ""
    start = min(max(col - 1, 0), len(text))
    token = _TOKEN.match(text, start)
    end = token.end() if token and token.end() > start else min(start + 1, len(text))
    if end == start and not text:
        return lsp_range(lines, (line, col), (line, col), encoding)
    return lsp_range(lines, (line, start + 1), (line, end + 1), encoding)


def word_at(line: str, index: int) -> tuple[int, int] | None:
    """The span (code points) of the identifier-like word under ``index`` in ``line``, if any."""
    for match in _WORD.finditer(line):
        if match.start() <= index <= match.end():
            return match.start(), match.end()
    return None
