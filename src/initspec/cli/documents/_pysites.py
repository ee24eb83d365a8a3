"""Where a ``.py`` config sets an ``init_cfg`` (its sites), and what stopped each site the reader cannot follow.

A site is an ``init_cfg=`` keyword, an ``'init_cfg'`` dict key, or an assignment target named ``init_cfg``
(``init_cfg = ...``, ``x['init_cfg'] = ...``, ``x.init_cfg = ...``), anywhere in the file's syntax tree.
``validate`` counts each as checked or noted (``Coverage``); the reasons recorded here go into its notes.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from initspec.cli.documents.model import Position

__all__ = ["KEY", "SiteMap", "attribute_at", "find_sites"]

KEY: Final = "init_cfg"


@dataclass
class SiteMap:
    """The sites of one file: where each starts and where its value ends; why the reader stopped some."""

    spans: dict[Position, Position] = field(default_factory=dict)
    stopped: dict[Position, str] = field(default_factory=dict)  # site -> "line N: `stmt`: reason"
    noted: set[Position] = field(default_factory=set)  # sites a reader note already names
    _starts: list[Position] = field(default_factory=list, repr=False)

    def add(self, start: Position, end: Position) -> None:
        self.spans[start] = max(end, self.spans.get(start, end))
        if len(self._starts) == len(self.spans) - 1:  # a new site, not one seen again
            bisect.insort(self._starts, start)

    def within(self, start: Position, end: Position) -> list[Position]:
        """The sites that start inside ``[start, end]``."""
        low = bisect.bisect_left(self._starts, start)
        high = bisect.bisect_right(self._starts, end)
        return self._starts[low:high]

    def stop(self, start: Position, end: Position, why: str) -> list[Position]:
        """Record ``why`` for each site inside ``[start, end]`` not stopped before; return them."""
        found = [site for site in self.within(start, end) if site not in self.stopped]
        for site in found:
            self.stopped[site] = why
        return found


def find_sites(
    tree: ast.Module,
    at: Callable[[ast.AST], Position],
    at_end: Callable[[ast.AST], Position],
    attribute: Callable[[ast.Attribute], Position],
) -> SiteMap:
    """Every init_cfg site in ``tree``; ``at``/``at_end`` give a node's first and last character."""
    sites = SiteMap()
    for node in ast.walk(tree):
        match node:
            case ast.keyword(arg="init_cfg", value=value):
                sites.add(at(node), at_end(value))
            case ast.Dict(keys=keys, values=values):
                for key, value in zip(keys, values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == KEY:
                        sites.add(at(key), at_end(value))
            case ast.Assign(targets=targets, value=value):
                _targets(sites, targets, at_end(value), at, attribute)
            case ast.AugAssign(target=target, value=value) | ast.AnnAssign(target=target, value=value):
                _targets(sites, [target], at_end(value or target), at, attribute)
            case ast.NamedExpr(target=target, value=value) | ast.For(target=target, iter=value):
                _targets(sites, [target], at_end(value), at, attribute)
            case ast.withitem(optional_vars=ast.expr() as target):
                _targets(sites, [target], at_end(target), at, attribute)
    return sites


def _targets(
    sites: SiteMap,
    targets: list[ast.expr],
    end: Position,
    at: Callable[[ast.AST], Position],
    attribute: Callable[[ast.Attribute], Position],
) -> None:
    for target in targets:
        for node in ast.walk(target):
            if not isinstance(getattr(node, "ctx", None), ast.Store):
                continue
            match node:
                case ast.Name(id="init_cfg"):
                    sites.add(at(node), end)
                case ast.Attribute(attr="init_cfg"):
                    sites.add(attribute(node), end)
                case ast.Subscript(slice=ast.Constant(value="init_cfg") as key):
                    sites.add(at(key), end)


def attribute_at(path: Path, lines: list[str], node: ast.Attribute) -> tuple[Path, int, int]:
    """Where the attribute's name is written: ``x`` in ``_base_.model.x = ...``."""
    line = node.end_lineno or node.lineno
    text = lines[line - 1].encode() if line <= len(lines) else b""
    start = (node.end_col_offset or 0) - len(node.attr.encode())
    return path, line, len(text[: max(start, 0)].decode(errors="replace")) + 1
