"""Read JSON, YAML, TOML and OpenMMLab ``.py`` configs into plain data that remembers source positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from initspec.cli._formats import READERS, DocumentError, Loc, Position, Positions, drop_subtree, has_path

__all__ = [
    "Document",
    "DocumentError",
    "Loc",
    "Position",
    "Positions",
    "Skipped",
    "drop_subtree",
    "find_init_cfgs",
    "has_path",
    "load_document",
    "location_of",
    "position_of",
    "read_source",
]


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
    origins: dict[Loc, Path] = field(default_factory=dict)


def load_document(path: Path) -> Document:
    """Read a ``.json``, ``.yaml``/``.yml``, ``.toml`` or ``.py`` config without executing anything in it.

    Raises:
        DocumentError: the file cannot be read, its type is unknown, or it does not parse.

    Example:
        >>> doc = load_document(Path("configs/resnet.yaml"))  # doctest: +SKIP
        >>> position_of(doc, ("model", "init_cfg", "mode"))  # doctest: +SKIP
        (7, 5)
    """
    suffix = path.suffix.lower()
    if suffix == ".py":
        from initspec.cli import _pyconfig

        return _pyconfig.load_py_config(path)
    reader = READERS.get(suffix)
    if reader is None:
        msg = f"cannot read {suffix or 'extension-less'!r} files; use .json, .yaml, .yml, .toml or .py"
        raise DocumentError(path, msg)
    data, positions = reader(path, read_source(path))
    return Document(path, data, positions)


def read_source(path: Path) -> str:
    """Return the text of a UTF-8 file (a leading BOM is dropped, newlines become ``\\n``)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        msg = f"not valid UTF-8 (byte {err.object[err.start]:#04x} at offset {err.start}); save it as UTF-8"
        raise DocumentError(path, msg) from err
    except OSError as err:
        raise DocumentError(path, f"cannot read the file: {err.strerror or err}") from err


def find_init_cfgs(data: object) -> list[tuple[Loc, object]]:
    """Every non-None value under an ``init_cfg`` key, in document order, with its loc.

    The search does not enter an ``init_cfg`` value. A root that is itself an init_cfg (a dict with a string
    ``type``, or a non-empty list of them) and holds no ``init_cfg`` key anywhere is returned with loc ``()``.
    """
    found: list[tuple[Loc, object]] = []
    _collect_init_cfgs(data, (), found)
    if not found and _looks_like_init_cfg(data):
        return [((), data)]
    return [(loc, value) for loc, value in found if value is not None]


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


def _collect_init_cfgs(node: object, loc: Loc, found: list[tuple[Loc, object]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "init_cfg":
                found.append(((*loc, key), value))
            else:
                _collect_init_cfgs(value, (*loc, key), found)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _collect_init_cfgs(item, (*loc, index), found)


def _looks_like_init_cfg(data: object) -> bool:
    def is_cfg(value: object) -> bool:
        return isinstance(value, dict) and isinstance(value.get("type"), str)

    return is_cfg(data) or (isinstance(data, list) and bool(data) and all(map(is_cfg, data)))
