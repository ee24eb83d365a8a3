"""A ``Fix`` on a config turned into text edits on its file, and edits applied to a text.

A fix names a key path; the document knows where each key starts. From there the edit reads the key (and,
for a value, the separator and the value) token by token, and is made only when what it reads is exactly what
the fix says it replaces. So an edit can be missing (the text is not what was expected: a key built by code,
a value on another line), never wrong.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from initspec._errors import Fix

__all__ = ["Edit", "Syntax", "TextFix", "apply_edits", "fix_edits", "syntax_of"]

Syntax: TypeAlias = Literal["python", "json", "yaml", "toml"]

_SYNTAXES: Final[dict[str, Syntax]] = {
    ".py": "python",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
}
_QUOTED: Final = re.compile(r"""[rRuU]?("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|''|\\.)*')""")
_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_$-][A-Za-z0-9_$.-]*")
_PLAIN: Final = re.compile(r"[^\s,\[\]{}#:'\"](?:[^,\[\]{}#:\n]|:(?=\S))*")
_SIMPLE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Edit:
    """Replace the text from (line, col) up to (end_line, end_col), exclusive, with ``text``; 1-based."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
            "text": self.text,
        }


@dataclass(frozen=True)
class TextFix:
    """A fix as edits on the file its finding names: what ``--fix`` applies and an editor's quick fix offers."""

    title: str
    edits: tuple[Edit, ...]

    def as_dict(self) -> dict[str, object]:
        return {"title": self.title, "edits": [edit.as_dict() for edit in self.edits]}


def syntax_of(suffix: str) -> Syntax | None:
    """The config syntax of a file suffix (``.yml`` is YAML), or None for other files."""
    return _SYNTAXES.get(suffix.lower())


def fix_edits(fix: Fix, text: str, at: tuple[int, int], syntax: Syntax) -> TextFix | None:
    """The edits that make ``fix`` in ``text``, where ``at`` is the 1-based start of the key ``fix.loc`` ends in.

    Returns None when the text at ``at`` is not what the fix expects to change.
    """
    lines = text.split("\n")
    if not 0 < at[0] <= len(lines):
        return None
    reader = _Reader(lines, at[0] - 1, at[1] - 1, syntax)
    edit: Edit | None
    if fix.action == "rename_key":
        edit = reader.replace(fix.old or "", fix.new, key=True)
    elif fix.action == "replace_value":
        edit = reader.replace(fix.old or "", fix.new, key=False) if reader.skip_key() else None
    else:
        edit = reader.add_key(fix.key or "", fix.new, listed=isinstance(fix.loc[-1:][0], int))
    return TextFix(fix.title, (edit,)) if edit is not None else None


def apply_edits(text: str, edits: Iterable[Edit]) -> tuple[str, int]:
    """``text`` with every edit made, and how many were made; an edit overlapping an earlier one is skipped."""
    starts = _line_starts(text)
    spans: list[tuple[int, int, str]] = []
    for edit in edits:
        start, end = _offset(starts, edit.line, edit.col), _offset(starts, edit.end_line, edit.end_col)
        if start is not None and end is not None and start <= end:
            spans.append((start, end, edit.text))
    made, last_end, out = 0, -1, []
    cursor = 0
    for start, end, new in sorted(spans):
        if start < last_end or (start == last_end and start != end):
            continue  # overlaps an edit already made: the next run finds what is left
        out += [text[cursor:start], new]
        cursor, last_end, made = end, max(end, start + 1), made + 1
    out.append(text[cursor:])
    return "".join(out), made


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts += [match.end() for match in re.finditer("\n", text)]
    return starts


def _offset(starts: Sequence[int], line: int, col: int) -> int | None:
    if not 0 < line <= len(starts) or col < 1:
        return None
    return starts[line - 1] + col - 1


class _Reader:
    """Reads tokens forward on one line of a config, from a key's start."""

    def __init__(self, lines: list[str], row: int, col: int, syntax: Syntax) -> None:
        self.lines, self.row, self.col, self.syntax = lines, row, col, syntax

    @property
    def line(self) -> str:
        return self.lines[self.row]

    def _edit(self, start: int, end: int, text: str) -> Edit:
        return Edit(self.row + 1, start + 1, self.row + 1, end + 1, text)

    def _token(self) -> tuple[int, int, str, str | None] | None:
        """The token at the cursor: (start, end, its value, its quote char or None when bare)."""
        quoted = _QUOTED.match(self.line, self.col)
        if quoted:
            value = _unquote(quoted.group(), self.syntax)
            return None if value is None else (self.col, quoted.end(), value, quoted.group(1)[0])
        pattern = _BARE_KEY if self.syntax != "yaml" else _PLAIN
        bare = pattern.match(self.line, self.col)
        if not bare:
            return None
        value = bare.group().rstrip()
        return self.col, self.col + len(value), value, None

    def replace(self, old: str, new: str, *, key: bool) -> Edit | None:
        """Replace the token at the cursor, a key or a value, when it reads ``old``; keep its quoting."""
        token = self._token()
        if token is None or token[2] != old:
            return None
        start, end, _, quote = token
        return self._edit(start, end, _render(new, quote, self.syntax, key=key))

    def skip_key(self) -> bool:
        """Move past the key and its separator (``=`` or ``:``) to the value; False when they are not there."""
        token = self._token()
        if token is None:
            return False
        rest = self.line[token[1] :]
        separator = re.match(r"\s*[=:]\s*", rest)
        if separator is None:
            return False
        self.col = token[1] + separator.end()
        return True

    def add_key(self, key: str, value: str, *, listed: bool) -> Edit | None:
        """Insert ``key: value`` as the first entry of the dict at the cursor (after its key, unless listed)."""
        if not listed and not self.skip_key():
            return None
        opening = re.match(r"dict\(|\{", self.line[self.col :])
        if opening is not None:
            return self._insert_inline(self.col + opening.end(), key, value)
        if (self.syntax == "yaml" and self.col == len(self.line.rstrip())) or listed:
            return self._insert_block(key, value, listed=listed)
        return None

    def _insert_inline(self, at: int, key: str, value: str) -> Edit:
        quote = _quote_near(self.line[at:], self.syntax)
        call = self.line[:at].endswith("(")
        if call:
            entry = f"{key}={_render(value, quote, 'python', key=False)}"
        else:
            sep = {"python": ": ", "json": ": ", "yaml": ": ", "toml": " = "}[self.syntax]
            name = _render(key, quote if self.syntax in ("python", "json") else None, self.syntax, key=True)
            entry = f"{name}{sep}{_render(value, quote, self.syntax, key=False)}"
        empty = re.match(r"\s*[)}]", self.line[at:]) is not None
        return self._edit(at, at, entry if empty else f"{entry}, ")

    def _insert_block(self, key: str, value: str, *, listed: bool) -> Edit | None:
        """A YAML block mapping: a new first line at the first key's indentation."""
        if self.syntax != "yaml":
            return None
        row, col = (self.row, self.col) if listed else self._next_content()
        if row is None or not _PLAIN.match(self.lines[row], col):
            return None
        self.row = row
        line = f"{key}: {_render(value, None, 'yaml', key=False)}\n" + " " * col
        return self._edit(col, col, line)

    def _next_content(self) -> tuple[int | None, int]:
        for row in range(self.row + 1, len(self.lines)):
            stripped = self.lines[row].lstrip()
            if stripped and not stripped.startswith("#"):
                return (
                    (row, len(self.lines[row]) - len(stripped)) if not stripped.startswith("-") else (None, 0)
                )
        return None, 0


def _unquote(token: str, syntax: Syntax) -> str | None:
    try:
        if syntax == "python":
            value = ast.literal_eval(token)
        elif token.startswith("'"):  # YAML and TOML single quotes: no escapes (YAML doubles the quote)
            value = token[1:-1].replace("''", "'") if syntax == "yaml" else token[1:-1]
        else:
            value = json.loads(token)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _render(value: str, quote: str | None, syntax: Syntax, *, key: bool) -> str:
    """``value`` written as the token it replaces was: same quotes, or bare where that stays the same value."""
    if quote is None:
        if (syntax == "python" and key) or (syntax in ("yaml", "toml") and _SIMPLE.fullmatch(value)):
            return value
        quote = '"' if syntax in ("json", "toml") else "'"
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"{quote}{escaped}{quote}"


def _quote_near(text: str, syntax: Syntax) -> str | None:
    """The quote character the dict's own strings use, so an inserted entry matches them."""
    if syntax in ("json", "toml"):
        return '"'
    match = re.search(r"['\"]", text)
    if match:
        return match.group()
    return "'" if syntax == "python" else None
