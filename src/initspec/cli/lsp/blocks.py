"""Where the cursor is in YAML block mappings (by indentation) and TOML tables (by their ``[header]``)."""

from __future__ import annotations

import re
from typing import Final

from initspec.cli.lsp.cursor import Context, unquote

__all__ = ["toml_context", "yaml_context"]

_YAML_KEY: Final = re.compile(r"""\s*(?:-\s+)*("[^"]*"|'[^']*'|[^\s:#'"][^:#]*?)\s*:(?:\s|$)""")
_TOML_HEADER: Final = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?")
_TOML_KEY: Final = re.compile(r"""\s*("[^"]*"|'[^']*'|[\w.-]+)\s*=\s*(.*)""")


def yaml_context(lines: list[str], row: int, col: int) -> Context | None:
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
            keys[_yaml_key(match)] = unquote(value) or value or None
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


def toml_context(lines: list[str], row: int, col: int) -> Context:
    header, path = _toml_table(lines, row)
    owners: tuple[str | None, ...] = path if path[:1] == ("init_cfg",) else (None, *path)
    keys: dict[str, str | None] = {}
    for number in range(header + 1, len(lines)):
        if _TOML_HEADER.match(lines[number]):
            break
        match = _TOML_KEY.match(lines[number])
        if match and number != row:
            value = match.group(2).split(" #")[0].strip()
            keys[match.group(1).strip("\"'").rsplit(".", 1)[-1]] = unquote(value)
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
