"""Readers for JSON, YAML and TOML that return plain data plus the source position of every key and item."""

from __future__ import annotations

import bisect
import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Callable

    import yaml

__all__ = ["READERS", "DocumentError", "Loc", "Position", "Positions", "drop_subtree", "has_path"]

Loc: TypeAlias = tuple[str | int, ...]
Position: TypeAlias = tuple[int, int]
Positions: TypeAlias = dict[Loc, Position]

_MAX_YAML_VALUES: Final = 1_000_000


class DocumentError(Exception):
    """A config file cannot be read or parsed; ``line`` and ``col`` (1-based) locate the problem if known."""

    def __init__(self, path: Path, message: str, line: int | None = None, col: int | None = None) -> None:
        where = f"{path}:{line}:{col or 1}" if line else str(path)
        super().__init__(f"{where}: {message}")
        self.path, self.message, self.line, self.col = path, message, line, col


def has_path(data: object, loc: Loc) -> bool:
    """Whether ``loc`` names a value inside ``data``."""
    node = data
    for key in loc:
        in_dict = isinstance(node, dict) and key in node
        if not (in_dict or (isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node))):
            return False
        node = node[key]  # type: ignore[index]  # a dict or a list, checked just above
    return True


def drop_subtree(positions: dict[Loc, Any], prefix: Loc) -> None:
    """Remove ``prefix`` and every loc below it, for a key that is about to be given a new value."""
    size = len(prefix)
    for loc in [loc for loc in positions if loc[:size] == prefix]:
        del positions[loc]


class _LineIndex:
    """Turns an offset into a 1-based (line, col)."""

    def __init__(self, text: str) -> None:
        self._starts = [0, *(match.end() for match in re.finditer("\n", text))]

    def __call__(self, offset: int) -> Position:
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


# -- JSON ---------------------------------------------------------------------------------------------------

_JSON_SPACE: Final = re.compile(r"[ \t\n\r]*")
_JSON_TOKEN: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[^,:\]}\s]+')  # a string, or a number/literal


def _read_json(path: Path, text: str) -> tuple[object, Positions]:
    try:
        data: object = json.loads(text)
        return data, _JsonPositions(text).positions
    except json.JSONDecodeError as err:
        raise DocumentError(path, f"invalid JSON: {err.msg}", err.lineno, err.colno) from err
    except RecursionError as err:
        raise DocumentError(path, "JSON nested too deeply to record its positions") from err


class _JsonPositions:
    """Walks text that ``json.loads`` accepted and records where each key and list item starts."""

    def __init__(self, text: str) -> None:
        self.text, self.at = text, _LineIndex(text)
        self.positions: Positions = {(): (1, 1)}
        self._value(self._space(0), ())

    def _space(self, index: int) -> int:
        return _JSON_SPACE.match(self.text, index).end()  # type: ignore[union-attr]  # matches "" at worst

    def _token(self, index: int) -> int:
        return _JSON_TOKEN.match(self.text, index).end()  # type: ignore[union-attr]  # the text is valid JSON

    def _value(self, index: int, loc: Loc) -> int:
        opener = self.text[index]
        if opener in "{[":
            return self._container(self._space(index + 1), loc, "}" if opener == "{" else "]")
        return self._token(index)

    def _container(self, index: int, loc: Loc, closer: str) -> int:
        count = 0
        while self.text[index] != closer:
            start = index
            key: str | int = count
            if closer == "}":
                index = self._token(start)
                key = str(json.loads(self.text[start:index]))
                index = self._space(self._space(index) + 1)
            child = (*loc, key)
            if child in self.positions:
                drop_subtree(self.positions, child)
            self.positions[child] = self.at(start)
            index = self._space(self._value(index, child))
            index = self._space(index + 1) if self.text[index] == "," else index
            count += 1
        return index + 1


# -- YAML ---------------------------------------------------------------------------------------------------

_TAG: Final = "tag:yaml.org,2002:"
_CORE_SCHEMA: Final = (  # YAML 1.2 core schema, in resolution order
    ("null", r"null|Null|NULL|~|"),
    ("bool", r"true|True|TRUE|false|False|FALSE"),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"),
    (
        "float",
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
    ),
)
_INT_PREFIXES: Final = {"0x": 16, "0o": 8}
_BOOLS: Final = {"true": True, "false": False}


def _core_int(text: str) -> int:
    base = _INT_PREFIXES.get(text[:2])
    return int(text[2:], base) if base else int(text, 10)


def _core_float(text: str) -> float:
    return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))


_SCALARS: Final[dict[str, Callable[[str], object]]] = {
    "str": str,
    "null": lambda _text: None,
    "bool": lambda text: _BOOLS[text.lower()],
    "int": _core_int,
    "float": _core_float,
}


def _read_yaml(path: Path, text: str) -> tuple[object, Positions]:
    try:
        import yaml
    except ModuleNotFoundError as err:
        msg = "reading YAML needs PyYAML; install it with `pip install initspec[yaml]`"
        raise DocumentError(path, msg) from err
    builder = _YamlBuilder(path)
    try:
        node = _first_yaml_node(text)
        return (None if node is None else builder.build(node, ())), builder.positions
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = " ".join(part for part in (err.context, err.problem) if part)
        raise DocumentError(path, f"invalid YAML: {problem}", *_yaml_position(mark)) from err
    except yaml.YAMLError as err:  # e.g. a control character; the text after the first line is PyYAML's noise
        raise DocumentError(path, f"invalid YAML: {str(err).splitlines()[0]}") from err
    except RecursionError as err:
        raise DocumentError(path, "YAML nested too deeply, or an alias refers to itself") from err


def _first_yaml_node(text: str) -> yaml.Node | None:
    loader = _core_schema_loader()(text)
    try:
        return loader.get_node() if loader.check_node() else None
    finally:
        loader.dispose()


@cache
def _core_schema_loader() -> type[yaml.SafeLoader]:
    """A SafeLoader that types plain scalars by YAML 1.2 core rules (``1e-3`` a float, ``off`` a string)."""
    import yaml

    class CoreSchemaLoader(yaml.SafeLoader):
        yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012  # PyYAML's own class-level registry

    for name, pattern in _CORE_SCHEMA:
        CoreSchemaLoader.add_implicit_resolver(_TAG + name, re.compile(rf"^(?:{pattern})\Z"), None)
    CoreSchemaLoader.add_implicit_resolver(_TAG + "merge", re.compile(r"^<<\Z"), ["<"])
    return CoreSchemaLoader


def _yaml_position(mark: yaml.Mark | None) -> Position:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class _YamlBuilder:
    """Builds plain data from composed nodes, recording positions; aliases are expanded as copies."""

    def __init__(self, path: Path) -> None:
        self.path, self._budget = path, _MAX_YAML_VALUES
        self.positions: Positions = {(): (1, 1)}

    def build(self, node: yaml.Node, loc: Loc) -> object:
        import yaml

        self._budget -= 1
        if self._budget < 0:
            raise self._error(node, f"more than {_MAX_YAML_VALUES} values once aliases are expanded")
        if isinstance(node, yaml.MappingNode) and node.tag == _TAG + "map":
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode) and node.tag == _TAG + "seq":
            return [self._entry(item, (*loc, index), item) for index, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        raise self._error(
            node, f"unsupported tag {node.tag!r}; a config holds plain mappings, lists and scalars"
        )

    def _entry(self, node: yaml.Node, loc: Loc, marker: yaml.Node) -> object:
        if loc in self.positions:
            drop_subtree(self.positions, loc)
        self.positions[loc] = _yaml_position(marker.start_mark)
        return self.build(node, loc)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str | int, object]:
        result: dict[str | int, object] = {}
        for key_node, value_node in self._pairs(node):
            key = self._key(key_node)
            result[key] = self._entry(value_node, (*loc, key), key_node)
        return result

    def _pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        """The entries of a mapping, with ``<<`` merges first so that the mapping's own keys win."""
        import yaml

        merged, own = [], []
        for key_node, value_node in node.value:
            if key_node.tag != _TAG + "merge":
                own.append((key_node, value_node))
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in reversed(sources):  # earlier sources win
                if not isinstance(source, yaml.MappingNode):
                    raise self._error(source, "a `<<` merge takes a mapping or a list of mappings")
                merged.extend(self._pairs(source))
        return merged + own

    def _key(self, node: yaml.Node) -> str | int:
        import yaml

        kind = type(node).__name__.removesuffix("Node").lower()
        key = self._scalar(node) if isinstance(node, yaml.ScalarNode) else f"a {kind}"
        if isinstance(key, str | int) and not isinstance(key, bool):
            return key
        raise self._error(node, f"a mapping key must be a string or an integer, got {key!r}; quote it")

    def _scalar(self, node: yaml.ScalarNode) -> object:
        kind = node.tag.removeprefix(_TAG)
        convert = _SCALARS.get(kind)
        if convert is None:
            raise self._error(
                node, f"unsupported tag {node.tag!r}; a config holds plain mappings, lists and scalars"
            )
        try:
            return convert(node.value)
        except (KeyError, ValueError) as err:
            raise self._error(node, f"{node.value!r} is not a valid {kind}") from err

    def _error(self, node: yaml.Node, message: str) -> DocumentError:
        return DocumentError(self.path, message, *_yaml_position(node.start_mark))


# -- TOML ---------------------------------------------------------------------------------------------------

_TOML_KEY_PART: Final = r"""[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'"""
_TOML_KEY: Final = rf"(?:{_TOML_KEY_PART})(?:[ \t]*\.[ \t]*(?:{_TOML_KEY_PART}))*"
_TOML_HEADER: Final = re.compile(rf"[ \t]*(\[\[?)[ \t]*({_TOML_KEY})[ \t]*\]\]?[ \t]*(?:#.*)?$")
_TOML_ASSIGN: Final = re.compile(rf"[ \t]*({_TOML_KEY})[ \t]*=")
_TOML_ERROR_AT: Final = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _read_toml(path: Path, text: str) -> tuple[object, Positions]:
    """Read TOML with ``tomllib``.

    ``tomllib`` records no positions, so lines come from a scan for ``[table]``/``[[array]]`` headers and
    ``key =`` lines. Keys inside inline tables and arrays, and tables under an array of tables, map to their
    nearest scanned ancestor (at worst the root, 1:1).
    """
    try:
        import tomllib
    except ModuleNotFoundError as err:  # Python 3.10
        raise DocumentError(path, "reading TOML needs Python 3.11 or newer (tomllib)") from err
    try:
        data: object = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        at = _TOML_ERROR_AT.search(str(err))
        message = _TOML_ERROR_AT.sub("", str(err))
        line, col = (int(at[1]), int(at[2])) if at else (None, None)
        raise DocumentError(path, f"invalid TOML: {message}", line, col) from err
    scanned = _scan_toml_keys(text)
    return data, {loc: at for loc, at in scanned.items() if has_path(data, loc)}


def _scan_toml_keys(text: str) -> Positions:
    positions: Positions = {(): (1, 1)}
    table: Loc = ()
    tables_seen: dict[Loc, int] = {}
    for number, line in enumerate(text.split("\n"), 1):
        header = _TOML_HEADER.match(line)
        match = header or _TOML_ASSIGN.match(line)
        if match is None:
            continue
        name: Loc = _toml_key_parts(match[2] if header else match[1])
        if header and header[1] == "[[":
            tables_seen[name] = tables_seen.get(name, -1) + 1
            name = (*name, tables_seen[name])
        full = name if header else (*table, *name)
        table = full if header else table
        for depth in range(len(full) - len(name) + 1, len(full) + 1):
            positions.setdefault(full[:depth], (number, match.start(2 if header else 1) + 1))
    return positions


def _toml_key_parts(key: str) -> tuple[str, ...]:
    parts = re.findall(_TOML_KEY_PART, key)
    return tuple(_unquote_toml(part) for part in parts)


def _unquote_toml(part: str) -> str:
    if part.startswith("'"):
        return part[1:-1]
    if part.startswith('"'):
        try:
            return str(json.loads(part))
        except ValueError:
            return part[1:-1]
    return part


READERS: Final[dict[str, Callable[[Path, str], tuple[object, Positions]]]] = {
    ".json": _read_json,
    ".yaml": _read_yaml,
    ".yml": _read_yaml,
    ".toml": _read_toml,
}
