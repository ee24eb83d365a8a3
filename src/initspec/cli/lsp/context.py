"""Where the cursor is in a config: inside which init_cfg dict, at a key or at which key's value.

Nothing is parsed as a whole (the buffer is half-typed): Python, JSON and TOML inline tables are read by a
bracket scanner over strings, comments and punctuation; YAML block mappings by indentation; TOML tables by
their ``[header]``. An init_cfg dict is one written under an ``init_cfg`` key (directly or in a list), or the
root of a JSON, YAML or TOML file; an override is a dict under ``override`` in an init_cfg dict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

from initspec.cli._edits import Syntax

__all__ = ["Context", "context_at"]

Style = Literal["call", "brace", "yaml", "toml"]
_TOKENS: Final = re.compile(
    r"""(?P<string>[rRbBuUfF]{0,2}(?:\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z)|"(?:[^"\\\n]|\\.)*(?:"|$)|'(?:[^'\\\n]|\\.)*(?:'|$)))"""
    r"|(?P<comment>\#[^\n]*)|(?P<call>\bdict\s*\()|(?P<name>[A-Za-z_$][\w$.-]*)|(?P<punct>[()\[\]{},=:\n;])",
    re.MULTILINE,
)
_CLOSE: Final = {")": "(", "]": "[", "}": "{"}
_STATEMENT: Final = re.compile(r"[A-Za-z_]")
_YAML_KEY: Final = re.compile(r"""\s*(?:-\s+)*("[^"]*"|'[^']*'|[^\s:#'"][^:#]*?)\s*:(?:\s|$)""")
_TOML_HEADER: Final = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?")
_TOML_KEY: Final = re.compile(r"""\s*("[^"]*"|'[^']*'|[\w.-]+)\s*=\s*(.*)""")


@dataclass(frozen=True)
class Context:
    """The init_cfg dict at the cursor: its ``type``, the keys it sets, and the key being written."""

    style: Style
    owners: tuple[str | None, ...]  # the key each enclosing dict is written under, outermost first
    keys: dict[str, str | None] = field(default_factory=dict)  # its other keys, with their string values
    key: str | None = None  # at a value: its key; at a key: None
    quote: str | None = None  # the quote the cursor is inside

    @property
    def override(self) -> bool:
        return len(self.owners) >= 2 and self.owners[-1] == "override" and _is_cfg(self.owners[:-1])

    @property
    def init_cfg(self) -> bool:
        return self.override or _is_cfg(self.owners)

    @property
    def type_name(self) -> str | None:
        return self.keys.get("type")


def _is_cfg(owners: tuple[str | None, ...]) -> bool:
    return bool(owners) and owners[-1] in ("init_cfg", None if len(owners) == 1 else "init_cfg")


def context_at(text: str, syntax: Syntax, line: int, col: int) -> Context | None:
    """The context at 0-based ``line``, ``col`` (code points), or None outside any dict."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        return None
    col = min(col, len(lines[line]))
    if syntax == "yaml":
        return _yaml(lines, line, col)
    first = _statement_row(lines, line) if syntax == "python" else 0
    skipped = sum(len(text) + 1 for text in lines[:first])
    offset = sum(len(text) + 1 for text in lines[first:line]) + col
    found = _bracketed(text[skipped:], offset, top_level_root=syntax != "python")
    if found is None and syntax == "toml":
        return _toml(lines, line, col)
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
    return _unquote(value) if kind == "string" else None


def _unquote(value: str) -> str | None:
    body = value.lstrip("rRbBuU")
    if len(body) >= 2 and body[0] in "'\"" and body[-1] == body[0]:
        return body[1:-1]
    return None


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
        found[key] = _unquote(entry[2][3]) if len(entry) == 3 and entry[2][2] == "string" else None


def _yaml(lines: list[str], row: int, col: int) -> Context | None:
    line = lines[row][:col]
    head = re.match(r"\s*(?:-\s+)*", line)
    keycol = head.end() if head else 0
    match = _YAML_KEY.match(lines[row])
    key = _yaml_key(match) if match and match.end() <= col + 1 and ":" in line else None
    rest = line[match.end() :] if key is not None and match else line[keycol:]
    quote = (
        rest.lstrip()[:1] if rest.lstrip()[:1] in ("'", '"') and rest.count(rest.lstrip()[:1]) == 1 else None
    )
    owners, keys = _yaml_owners(lines, row, keycol)
    keys.pop(key or "", None)
    return Context("yaml", owners, keys, key, quote)


def _yaml_key(match: re.Match[str]) -> str:
    key = match.group(1)
    return key[1:-1] if key[:1] in ("'", '"') else key


def _indent(line: str) -> tuple[int, int, bool]:
    """(spaces, column of the key after any ``- ``, whether a ``-`` starts it)."""
    spaces = len(line) - len(line.lstrip(" "))
    head = re.match(r"\s*(?:-(?:\s+|$))*", line)
    return spaces, head.end() if head else spaces, line.lstrip().startswith("-")


def _yaml_owners(
    lines: list[str], row: int, keycol: int
) -> tuple[tuple[str | None, ...], dict[str, str | None]]:
    owners: list[str | None] = []
    first_keys: dict[str, str | None] | None = None
    for _ in range(64):  # one step per enclosing mapping; deeper nesting is not an init_cfg's business
        keys, parent = _yaml_mapping(lines, row, keycol)
        if first_keys is None:
            first_keys = keys
        if parent is None:
            owners.append(None)
            break
        match = _YAML_KEY.match(lines[parent])
        owners.append(_yaml_key(match) if match else None)
        row, keycol = parent, _indent(lines[parent])[1]
    return tuple(reversed(owners)), first_keys or {}


def _yaml_mapping(lines: list[str], row: int, keycol: int) -> tuple[dict[str, str | None], int | None]:
    """The keys of the block mapping whose keys start at ``keycol`` around ``row``, and its parent's row."""
    keys: dict[str, str | None] = {}
    start, parent = row, None
    for up in range(row, -1, -1):
        text = lines[up]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        spaces, at, dashed = _indent(text)
        if up != row and spaces < keycol and not (dashed and at == keycol):
            parent = up if not dashed or at < keycol else None
            break
        if at == keycol:
            start = up
            if dashed:
                parent = _above(lines, up, spaces)
                break
    for down in range(start, len(lines)):
        text = lines[down]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        spaces, at, dashed = _indent(text)
        if down > start and (spaces < keycol or (dashed and at == keycol)):
            break
        if at == keycol and down != row and (match := _YAML_KEY.match(text)):
            value = text[match.end() :].split(" #")[0].strip()
            keys[_yaml_key(match)] = _unquote(value) or value or None
    return keys, parent


def _above(lines: list[str], row: int, dash: int) -> int | None:
    """The row of the key that holds the list whose item starts at ``row`` (its dash at column ``dash``)."""
    for up in range(row - 1, -1, -1):
        text = lines[up]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        spaces, _, dashed = _indent(text)
        if spaces < dash or (spaces == dash and not dashed):
            return up
    return None


def _toml(lines: list[str], row: int, col: int) -> Context:
    header, path = _toml_table(lines, row)
    owners: tuple[str | None, ...] = path if path[:1] == ("init_cfg",) else (None, *path)
    keys: dict[str, str | None] = {}
    for number in range(header + 1, len(lines)):
        if _TOML_HEADER.match(lines[number]):
            break
        match = _TOML_KEY.match(lines[number])
        if match and number != row:
            value = match.group(2).split(" #")[0].strip()
            keys[match.group(1).strip("\"'").rsplit(".", 1)[-1]] = _unquote(value)
    current = _TOML_KEY.match(lines[row][:col] + " ")
    key = current.group(1).strip("\"'") if current else None
    typed = lines[row][:col][current.start(2) :] if current else ""
    quote = typed[:1] if typed[:1] in ("'", '"') and typed.count(typed[:1]) == 1 else None
    return Context("toml", owners, keys, key, quote)


def _toml_table(lines: list[str], row: int) -> tuple[int, tuple[str, ...]]:
    """The row of the ``[table]`` header above ``row`` (-1 for the root table) and its dotted path."""
    for up in range(row - 1, -1, -1):
        if match := _TOML_HEADER.match(lines[up]):
            return up, tuple(part.strip().strip("\"'") for part in match.group(1).split("."))
    return -1, ()
