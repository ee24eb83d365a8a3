"""Config files as data with positions: one reader per format over one document model, one loader above.

model.py     Document, positions, DocumentError, Limits (no reader imports another reader)
json.py  yaml.py  toml.py  python.py   one reader per format
_pyexpr.py   the ``.py`` reader's expressions;  _pyvalues.py  its values, with where each key was written
_pybases.py  the ``.py`` reader's ``_base_``, ``read_base()`` and imports
_pyunknown.py  the ``.py`` statements it cannot evaluate: names forgotten, a possible init_cfg noted
_pypositions.py  where each key of a read ``.py`` config was written;  _pysize.py  its size and depth limits
merge.py     mmengine's merge and update rules
packages.py  where an installed package keeps its configs
load.py      the Loader: picks a reader, merges ``_base_`` for every format, reads each file once
"""

from __future__ import annotations

from pathlib import Path

from initspec.cli.documents.load import SUFFIXES, Loader
from initspec.cli.documents.model import (
    Document,
    DocumentError,
    Limits,
    Loc,
    Notice,
    Position,
    Positions,
    Skipped,
    find_init_cfgs,
    location_of,
    position_of,
)

__all__ = [
    "SUFFIXES",
    "Document",
    "DocumentError",
    "Limits",
    "Loader",
    "Loc",
    "Notice",
    "Position",
    "Positions",
    "Skipped",
    "find_init_cfgs",
    "load_document",
    "location_of",
    "position_of",
]


def load_document(path: Path, limits: Limits | None = None) -> Document:
    """Read one config file (and its ``_base_`` chain) without executing anything in it.

    Raises:
        DocumentError: the file cannot be read, its type is unknown, or it does not parse.

    Example:
        >>> doc = load_document(Path("configs/resnet.yaml"))  # doctest: +SKIP
        >>> position_of(doc, ("model", "init_cfg", "mode"))  # doctest: +SKIP
        (7, 5)
    """
    return Loader(limits).load(path)
