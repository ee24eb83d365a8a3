"""Config files as data with positions: one reader per format over one document model, one loader above.

model.py          Document, positions, DocumentError, Limits (no reader imports another reader)
json.py  yaml.py  toml.py  python.py   one reader per format
_pyexpr.py        the ``.py`` reader's expressions, evaluated statically
_pyvalues.py      its values (the Table): containers, where each key was written, what is missing
_pypositions.py   where each loc of a read ``.py`` config was written, looked up when asked
_pysize.py        the size and depth limits on a read ``.py`` config's values
_pybases.py       the ``.py`` reader's ``_base_``, ``read_base()`` imports and plain imports
_pyunknown.py     ``.py`` statements it cannot evaluate: their names forgotten, a possible init_cfg noted
merge.py          mmengine's merge and update rules
layers.py         a child's document over its bases' documents, merged
packages.py       where an installed package keeps its configs
_bases.py         every format's ``_base_``: the files it names, read, merged, ``{{_base_.x}}`` substituted
load.py           the Loader: picks a reader, reads each file once, keeps each result (or error)
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
    plain,
    position_of,
    read_source,
    skipped_inside,
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
    "plain",
    "position_of",
    "read_source",
    "skipped_inside",
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
