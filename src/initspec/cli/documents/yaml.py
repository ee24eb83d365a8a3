"""The YAML reader: PyYAML's safe composer, plain scalars typed by YAML 1.2, YAML 1.1 readings flagged.

Nothing is ever constructed from a tag: ``!!python/tuple`` (what mmengine's ``Config.dump`` writes for every
tuple) is read as a list, and any other ``!!python/...`` value is left out of the data (``None``) and reported:
an IS002 error in a file that holds an ``init_cfg`` (the whole file, when it lies inside one), else an IS402
note, since a file with no ``init_cfg`` (a detectron2 config beside OpenMMLab ones) loses nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from initspec.cli.documents.model import (
    MAX_INT_DIGITS,
    Document,
    DocumentError,
    Limits,
    Loc,
    Notice,
    Position,
    deep_offset,
    drop_subtree,
    find_init_cfgs,
    line_col,
)

if TYPE_CHECKING:
    import yaml

__all__ = ["read_yaml"]

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
_MEMO_SIZE: Final = 65_536  # short plain scalars whose tag and YAML 1.1 reading are remembered
_MEMO_CHARS: Final = 100
_UNSUPPORTED: Final = "unsupported tag {!r}; a config holds plain mappings, lists and scalars"
_PYTHON: Final = _TAG + "python/"
_PYTHON_TUPLE: Final = _PYTHON + "tuple"
_PYTHON_ERROR: Final = (
    "unsupported tag `{}`, which would construct a Python object; a config holds plain mappings, lists and "
    "scalars: write this value as one (it is left out, never constructed, and the rest of the file is checked)"
)
_PYTHON_NOTE: Final = (
    "`{}` left out, never constructed: it would build a Python object, and this file holds no init_cfg"
)


def _core_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise ValueError("an integer with more than 4,300 digits")
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


def read_yaml(path: Path, text: str, limits: Limits) -> Document:
    """Read the first YAML document; a syntax error, a tag or a limit is a located ``DocumentError``."""
    try:
        import yaml
    except ModuleNotFoundError as err:
        msg = 'reading YAML needs PyYAML; install it with `pip install "initspec[yaml]"`'
        raise DocumentError(path, msg, code="IS001") from err
    builder = _Builder(path, limits)
    try:
        node = _first_node(text)
        data = None if node is None else builder.build(node, ())
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = " ".join(part for part in (err.context, err.problem) if part)
        raise DocumentError(path, f"invalid YAML: {problem}", *_position(mark)) from err
    except yaml.YAMLError as err:  # e.g. a control character; the text after the first line is PyYAML's noise
        raise DocumentError(path, f"invalid YAML: {str(err).splitlines()[0]}") from err
    except RecursionError as err:
        offset = deep_offset(text, limits.max_depth)
        where = line_col(text, offset) if offset is not None else (1, 1)
        msg = f"nested more than {limits.max_depth} levels deep, or an alias refers to itself"
        raise DocumentError(path, msg, *where, code="IS005") from err
    except MemoryError as err:
        raise DocumentError(
            path, "out of memory while parsing; the file is too large to check", 1, 1
        ) from err
    notices = [*builder.notices, *_python_tag_notices(builder.python_tags, data)]
    return Document(path, data, builder.positions, notices=tuple(notices))


def _python_tag_notices(tags: list[tuple[str, Position]], data: object) -> list[Notice]:
    """An IS002 error for each left-out ``!!python/...`` value when the file holds an init_cfg, else a note."""
    if not tags:
        return []
    if find_init_cfgs(data):
        return [Notice("IS002", "error", *at, _PYTHON_ERROR.format(tag)) for tag, at in tags]
    return [Notice("IS402", "note", *at, _PYTHON_NOTE.format(tag)) for tag, at in tags]


def _first_node(text: str) -> yaml.Node | None:
    loader = _core_schema_loader()(text)
    try:
        return loader.get_node() if loader.check_node() else None
    finally:
        loader.dispose()


@cache
def _core_schema_loader() -> type[yaml.SafeLoader]:  # or CSafeLoader, which composes the same nodes
    """A SafeLoader that types plain scalars by YAML 1.2 core rules (``1e-3`` a float, ``off`` a string)."""
    import yaml

    class CoreSchemaLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml when built
        yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012  # PyYAML's own class-level registry

        def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
            if kind is yaml.ScalarNode and implicit[0] and len(value) <= _MEMO_CHARS:
                return plain_tag(value)  # a plain scalar's tag depends on its text alone
            return str(super().resolve(kind, value, implicit))

    for name, pattern in _CORE_SCHEMA:
        CoreSchemaLoader.add_implicit_resolver(_TAG + name, re.compile(rf"^(?:{pattern})\Z"), None)
    CoreSchemaLoader.add_implicit_resolver(_TAG + "merge", re.compile(r"^<<\Z"), ["<"])
    resolver = yaml.resolver.BaseResolver()  # PyYAML's own resolution, over the core schema's patterns
    resolver.yaml_implicit_resolvers = CoreSchemaLoader.yaml_implicit_resolvers

    @lru_cache(maxsize=_MEMO_SIZE)  # metafiles repeat the same few words and numbers thousands of times
    def plain_tag(value: str) -> str:
        return str(resolver.resolve(yaml.ScalarNode, value, (True, False)))  # type: ignore[no-untyped-call]

    return CoreSchemaLoader


def _position(mark: yaml.Mark | None) -> Position:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class _Builder:
    """Builds plain data from composed nodes, recording positions; aliases are expanded as copies."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path, self._limit = path, limits.max_values
        self._budget = limits.max_values
        self.positions: dict[Loc, Position] = {(): (1, 1)}
        self.notices: list[Notice] = []
        self.python_tags: list[tuple[str, Position]] = []  # values left out, with where each was written

    def build(self, node: yaml.Node, loc: Loc) -> object:
        import yaml

        self._budget -= 1
        if self._budget < 0:
            msg = f"more than {self._limit:,} values once aliases are expanded"
            raise DocumentError(self.path, msg, *_position(node.start_mark), code="IS005")
        if isinstance(node, yaml.MappingNode) and node.tag == _TAG + "map":
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode) and node.tag in (_TAG + "seq", _PYTHON_TUPLE):
            return [self._entry(item, (*loc, index), item) for index, item in enumerate(node.value)]
        if node.tag.startswith(_PYTHON) and "init_cfg" not in loc:
            self.python_tags.append(("!!" + node.tag.removeprefix(_TAG), _position(node.start_mark)))
            return None
        if isinstance(node, yaml.ScalarNode):
            value = self._scalar(node)
            if not node.style and loc:  # plain: None from PyYAML, "" from libyaml
                self._compare_with_yaml_1_1(node, value, loc)
            return value
        raise self._error(node, _UNSUPPORTED.format(node.tag))

    def _entry(self, node: yaml.Node, loc: Loc, marker: yaml.Node) -> object:
        if loc in self.positions:
            drop_subtree(self.positions, loc)  # type: ignore[arg-type]  # positions are plain values
        self.positions[loc] = _position(marker.start_mark)
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
            raise self._error(node, _UNSUPPORTED.format(node.tag))
        try:
            return convert(node.value)
        except (KeyError, ValueError) as err:
            reason = str(err) if "4,300" in str(err) else f"{node.value[:60]!r} is not a valid {kind}"
            raise self._error(node, reason) from err

    def _compare_with_yaml_1_1(self, node: yaml.ScalarNode, value: object, loc: Loc) -> None:
        if len(node.value) > _MEMO_CHARS:  # no number that long is written by hand; and repr() of it may fail
            return
        old = _yaml_1_1_value(node.value)
        if type(old) is type(value) and (old == value or _both_nan(old, value)):
            return
        message = (
            f"{node.value!r} reads as {_describe(value)} under YAML 1.2 (initspec, editors) but as "
            f"{_describe(old)} under YAML 1.1 (PyYAML, so mmengine); quote it or write it so both agree"
        )
        self.notices.append(Notice("IS401", "warning", *_position(node.start_mark), message, loc=loc))

    def _error(self, node: yaml.Node, message: str) -> DocumentError:
        return DocumentError(self.path, message, *_position(node.start_mark))


@lru_cache(maxsize=_MEMO_SIZE)  # the same plain scalars recur across files; the readings are immutable
def _yaml_1_1_value(text: str) -> object:
    """What PyYAML's SafeLoader (YAML 1.1) makes of a plain scalar."""
    import yaml

    resolver, constructor = _yaml_1_1()
    tag = resolver.resolve(yaml.ScalarNode, text, (True, False))
    if tag == _TAG + "str":
        return text
    try:
        return constructor.construct_object(yaml.ScalarNode(tag, text))
    except (ValueError, yaml.YAMLError):
        return text


@cache
def _yaml_1_1() -> tuple[Any, Any]:
    import yaml

    return yaml.resolver.Resolver(), yaml.constructor.SafeConstructor()


def _both_nan(old: object, new: object) -> bool:
    return isinstance(old, float) and isinstance(new, float) and math.isnan(old) and math.isnan(new)


def _describe(value: object) -> str:
    return f"{type(value).__name__} {value!r}"[:80]
