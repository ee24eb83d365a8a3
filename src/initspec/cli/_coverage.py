"""How many ``init_cfg`` sites of each file a ``validate`` run checked, and how many it named in a note.

A site of a ``.py`` file is a place in its syntax tree that sets an init_cfg (``SiteMap``); a site of a JSON,
YAML or TOML file is each ``init_cfg`` key in it. A site is *checked* when a checked init_cfg holds what it
wrote (its key, or a key inside its value: ``update`` merges keep both), else *noted*: a note at its line, or
the note added here that says which statement stopped it (IS503) or that nothing keeps its value (IS506).
``checked + noted == sites`` on every file, by construction.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from initspec.cli.documents import Document, Loc, location_of
from initspec.cli.documents._pysites import SiteMap

__all__ = ["Coverage", "Fallback", "RunCoverage", "measure"]

_NOT_HELD: Final = (
    "not checked: the config as read does not hold the init_cfg set here (a later statement replaces or "
    "removes it, or no config variable keeps the value it is in)"
)


@dataclass(frozen=True)
class Coverage:
    """One file's init_cfg sites: how many, how many checked, how many named in a note."""

    sites: int = 0
    checked: int = 0
    noted: int = 0

    def __add__(self, other: Coverage) -> Coverage:
        return Coverage(self.sites + other.sites, self.checked + other.checked, self.noted + other.noted)

    def as_dict(self) -> dict[str, int]:
        return {"sites": self.sites, "checked": self.checked, "noted": self.noted}


@dataclass
class RunCoverage:
    """The coverage of each file a run validated (by the path it reports), and their sum."""

    files: dict[str, Coverage] = field(default_factory=dict)

    def total(self) -> Coverage:
        return sum(self.files.values(), Coverage())

    def as_dict(self) -> dict[str, object]:
        """``{"sites", "checked", "noted", "files": {path: {"sites", "checked", "noted"}}}``."""
        files = {path: counts.as_dict() for path, counts in self.files.items()}
        return {**self.total().as_dict(), "files": files}


@dataclass(frozen=True)
class Fallback:
    """A note ``measure`` adds for a site nothing else names: at the site, with the reason it was stopped."""

    line: int
    col: int
    code: str
    message: str


def measure(
    doc: Document,
    path: str,
    sites: SiteMap | None,
    found: Iterable[tuple[Loc, object, bool]],
    note_lines: set[int],
) -> tuple[Coverage, list[Fallback]]:
    """Count the sites of ``doc``'s own file (``path``, as reported); ``found``: each init_cfg, checked or not.

    ``note_lines`` are the lines of this file that already carry a note; a site on one counts as noted.
    """
    checked: list[tuple[int, int]] = []
    unchecked: list[tuple[int, int]] = []
    keys = SiteMap()  # a data file's sites: each init_cfg key in it
    for loc, raw, was_checked in found:
        positions = _positions(doc, path, loc, raw)
        (checked if was_checked else unchecked).extend(positions)
        if positions and positions[0] == _position(doc, loc):
            keys.add(positions[0], positions[0])
    sites = keys if sites is None else sites
    checked.sort()
    unchecked.sort()
    counts = [0, 0]
    fallbacks: list[Fallback] = []
    for start, end in sorted(sites.spans.items()):
        if _inside(checked, start, end):
            counts[0] += 1
        elif start in sites.noted or _inside(unchecked, start, end) or start[0] in note_lines:
            counts[1] += 1
        else:
            counts[1] += 1
            stopped = sites.stopped.get(start)
            message = f"not checked: {stopped}" if stopped else _NOT_HELD
            fallbacks.append(Fallback(*start, "IS503" if stopped else "IS506", message))
    return Coverage(len(sites.spans), *counts), fallbacks


def _positions(doc: Document, path: str, loc: Loc, raw: object) -> list[tuple[int, int]]:
    """Where in ``path`` the init_cfg at ``loc`` and each key inside it were written."""
    if loc == () and doc.path.suffix == ".py":
        return []
    found: list[tuple[int, int]] = []
    stack: list[tuple[Loc, object]] = [(loc, raw)]
    while stack:  # an init_cfg is small: a few dicts, never shared with itself
        at, value = stack.pop()
        file, line, col = location_of(doc, at)
        if os.path.normpath(file) == path:
            found.append((line, col))
        elif at == loc:
            return []  # written in a base: a site of that file, counted when it is validated
        items = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        )
        stack.extend(((*at, key), item) for key, item in items)
    return found


def _position(doc: Document, loc: Loc) -> tuple[int, int]:
    _file, line, col = location_of(doc, loc)
    return line, col


def _inside(positions: list[tuple[int, int]], start: tuple[int, int], end: tuple[int, int]) -> bool:
    index = bisect.bisect_left(positions, start)
    return index < len(positions) and positions[index] <= end
