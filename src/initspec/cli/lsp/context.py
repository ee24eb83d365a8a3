"""Where the cursor is in a config: inside which init_cfg dict, at a key or at which key's value.

Nothing is parsed as a whole (the buffer is half-typed): Python, JSON and TOML inline tables are read by a
bracket scanner over strings, comments and punctuation; YAML block mappings by indentation; TOML tables by
their ``[header]``. An init_cfg dict is one written under an ``init_cfg`` key (directly or in a list), or the
root of a JSON, YAML or TOML file; an override is a dict under ``override`` in an init_cfg dict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from initspec.cli._edits import Syntax
from initspec.cli.lsp.blocks import toml_context, yaml_context
from initspec.cli.lsp.cursor import Context, Style, unquote

__all__ = ["Context", "context_at"]

_TOKENS: Final = re.compile(
    r"""(?P<string>[rRbBuUfF]{0,2}(?:\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z)|"(?:[^"\\\n]|\\.)*(?:"|$)|'(?:[^'\\\n]|\\.)*(?:'|$)))"""
    r"|(?P<comment>\#[^\n]*)|(?P<call>\bdict\s*\()|(?P<name>[A-Za-z_$][\w$.-]*)|(?P<punct>[()\[\]{},=:\n;])",
    re.MULTILINE,
)
_CLOSE: Final = {")": "(", "]": "[", "}": "{"}
_STATEMENT: Final = re.compile(r"[A-Za-z_]")


def context_at(text: str, syntax: Syntax, line: int, col: int) -> Context | None:
    """The context at 0-based ``line``, ``col`` (code points), or None outside any dict."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        return None
    col = min(col, len(lines[line]))
    if syntax == "yaml":
        return yaml_context(lines, line, col)
    first = _statement_row(lines, line) if syntax == "python" else 0
    skipped = sum(len(text) + 1 for text in lines[:first])
    offset = sum(len(text) + 1 for text in lines[first:line]) + col
    found = _bracketed(text[skipped:], offset, top_level_root=syntax != "python")
    if found is None and syntax == "toml":
        return toml_context(lines, line, col)
    return found


@dataclass
class _Frame:
    opener: str
    start: int  # the index of its opening token
    owner: str | None
    entry: int  # the index of the first token of the entry being read


def _statement_row(lines: list[str], row: int) -> int:
    """The row of the top-level Python statement ``row`` is in: the nearest line above that starts a name at
    column 0 (a buffer is scanned from there, not from its first line, so a keystroke costs one statement).
    """
    for up in range(row, -1, -1):
        if _STATEMENT.match(lines[up]):
            return up
    return 0


_Token = tuple[int, int, str, str]


class _Tokens:
    """The tokens of a text, read as far as they are asked for (a dict's end is often far before the text's)."""

    def __init__(self, text: str) -> None:
        self._read: list[_Token] = []
        self._more = _TOKENS.finditer(text)

    def has(self, index: int) -> bool:
        while len(self._read) <= index:
            match = next(self._more, None)
            if match is None:
                return False
            self._read.append((match.start(), match.end(), match.lastgroup or "", match.group()))
        return True

    def __getitem__(self, index: int) -> _Token:
        return self._read[index]

    def span(self, start: int, end: int) -> list[_Token]:
        self.has(end - 1)
        return self._read[start:end]


def _bracketed(text: str, offset: int, *, top_level_root: bool) -> Context | None:
    tokens = _Tokens(text)
    stack: list[_Frame] = [_Frame("", -1, None, 0)]
    quote: str | None = None
    index = 0
    while tokens.has(index):
        start, end, kind, value = tokens[index]
        if start >= offset:
            break
        if kind == "string" and end >= offset and not _closed(value, offset - start):
            quote = value.lstrip("rRbBuUfF")[0]
            break
        _step(stack, tokens, index, kind, value)
        index += 1
    frame = stack[-1]
    if frame.opener not in ("dict(", "{") or (len(stack) == 2 and not top_level_root and frame.owner is None):
        return None
    owners = tuple(f.owner for f in stack[1:] if f.opener in ("dict(", "{"))
    if not top_level_root and owners and owners[0] is None:
        owners = owners[1:]
    key = _entry_key(tokens.span(frame.entry, index))
    style: Style = "call" if frame.opener == "dict(" else "brace"
    return Context(style, owners, _entries(tokens, frame.start, index), key, quote)


def _closed(value: str, inside: int) -> bool:
    """Whether a string token ends before ``inside`` characters into it (the cursor is after it)."""
    body = value.lstrip("rRbBuUfF")
    quote = body[:3] if body[:3] in ('"""', "'''") else body[0]
    prefix = len(value) - len(body)
    return len(body) >= 2 * len(quote) and body.endswith(quote) and inside >= len(value) and prefix >= 0


def _step(stack: list[_Frame], tokens: _Tokens, index: int, kind: str, value: str) -> None:
    frame = stack[-1]
    if kind == "call" or value in ("(", "[", "{"):
        opener = "dict(" if kind == "call" else value
        key = _entry_key(tokens.span(frame.entry, index))
        owner = key if key is not None else frame.owner if frame.opener in ("[", "(") else None
        stack.append(_Frame(opener, index, owner, index + 1))
    elif value in _CLOSE and len(stack) > 1:
        stack.pop()
    elif value == "," or (value in ("\n", ";") and len(stack) == 1):
        frame.entry = index + 1


def _entry_key(entry: list[_Token]) -> str | None:
    """``k`` for an entry that starts ``k=``, ``'k':`` or ``"k":`` (the last part of a dotted name)."""
    words = [token for token in entry if token[2] not in ("comment",) and token[3] != "\n"]
    if len(words) < 2 or words[1][3] not in ("=", ":"):
        return None
    kind, value = words[0][2], words[0][3]
    if kind == "name":
        return value.rsplit(".", 1)[-1]
    return unquote(value) if kind == "string" else None


def _entries(tokens: _Tokens, start: int, cursor: int) -> dict[str, str | None]:
    """The keys of the dict opened at token ``start``, each with its value when a plain string."""
    found: dict[str, str | None] = {}
    depth, entry, index = 0, start + 1, start + 1
    while True:
        more = tokens.has(index)
        kind, value = (tokens[index][2], tokens[index][3]) if more else ("punct", ")")
        if (depth == 0 and value in (",", ")", "}")) or not more:
            if not entry <= cursor <= index:
                _add_entry(
                    found, [t for t in tokens.span(entry, index) if t[2] != "comment" and t[3] != "\n"]
                )
            entry = index + 1
            if value != "," or not more:
                return found
        if kind == "call" or value in ("(", "[", "{"):
            depth += 1
        elif value in _CLOSE:
            depth -= 1
        index += 1


def _add_entry(found: dict[str, str | None], entry: list[_Token]) -> None:
    key = _entry_key(entry)
    if key is not None:
        found[key] = unquote(entry[2][3]) if len(entry) == 3 and entry[2][2] == "string" else None
