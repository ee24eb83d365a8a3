"""Statements the ``.py`` reader cannot evaluate: only what they could change is left out, a possible init_cfg noted.

``model['heads'][0]['k'] = f()`` leaves out ``model['heads'][0]['k']`` (or the nearest value above it that is
known), never all of ``model``, ``_base_`` or the rest of the file. Each init_cfg site a statement stops gets
the statement's line and reason (``SiteMap.stopped``), which ``validate`` puts in its note.
"""

from __future__ import annotations

import ast
from typing import Final

from initspec.cli.documents._pyexpr import Evaluator
from initspec.cli.documents._pysites import KEY
from initspec.cli.documents._pyunsupported import Unsupported, short
from initspec.cli.documents._pyvalues import Imported, Missing, Table, value_at
from initspec.cli.documents.model import Notice

__all__ = ["Unknowns"]

_SCOPES: Final = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_LOCAL: Final = (ast.Lambda, ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp)
_ASSIGNS: Final = (ast.Assign, ast.AugAssign, ast.AnnAssign)
_UNKNOWN: Final = object()
_MAX_LINES: Final = 5


class Unknowns:
    """What one file's reader does with a statement it cannot evaluate; notices go to ``notices``."""

    def __init__(self, evaluator: Evaluator, table: Table, notices: list[Notice]) -> None:
        self.eval, self.table, self.notices = evaluator, table, notices

    def unknown(self, statement: ast.stmt, reason: str, node: ast.AST) -> None:
        """Leave out what the statement could change (its targets, the names it binds), and note it."""
        self.eval.record(statement, reason)
        names, targets = _stores(statement)
        lost = sum(self.drop(name, statement) for name in names)  # loop names first: keys may use them
        lost += sum(self.drop(target, statement) for target in targets)
        self.note(statement, reason, node, lost=lost, mutates=not isinstance(statement, _ASSIGNS))

    def drop(self, target: ast.expr, statement: ast.stmt, missing: Missing | None = None) -> int:
        """Leave out the value ``target`` names (or the nearest known one holding it); count init_cfgs lost."""
        why = f"`{short(target)}` is assigned by `{short(statement)}`, which is not evaluated statically"
        match target:
            case ast.Name(id=name):
                lost = self._lost(self.eval.namespace, name, statement)
                self.eval.variables.pop(name, None)
                self.table.miss(self.eval.namespace, name, missing or (*self.eval.where(target), why))
                return lost
            case ast.Starred(value=inner):
                return self.drop(inner, statement, missing)
            case ast.Tuple(elts=items) | ast.List(elts=items):
                return sum(self.drop(item, statement, missing) for item in items)
            case ast.Subscript(value=holder) | ast.Attribute(value=holder):
                owner, key = self._resolve(target)
                if isinstance(owner, Imported):
                    return 0
                if isinstance(owner, list) and isinstance(key, int) and -len(owner) <= key < len(owner):
                    key %= len(owner)
                    lost = self._lost(owner, key, statement)
                    owner[key] = None  # an item cannot be removed: later items would move
                    self.table.miss(owner, key, missing or (*self.eval.where(target), why))
                    return lost
                if not isinstance(owner, dict) or not isinstance(key, str | int):
                    return self.drop(holder, statement)  # any key of the holder may change
                if key in self.table.missing_in(owner):
                    return 0  # already left out, with the reason it was
                lost = self._lost(owner, key, statement)
                self.table.miss(owner, key, missing or (*self.eval.where(target), why))
                return lost
        return 0

    def _resolve(self, target: ast.Subscript | ast.Attribute) -> tuple[object, object]:
        try:
            owner = self.eval.evaluate(target.value)
        except Unsupported:
            return _UNKNOWN, _UNKNOWN
        if isinstance(target, ast.Attribute):
            return owner, target.attr
        try:
            return owner, self.eval.evaluate(target.slice)
        except Unsupported:
            return owner, _UNKNOWN

    def _lost(self, owner: object, key: str | int, statement: ast.stmt) -> int:
        """The init_cfgs in ``owner[key]`` (the slot itself included); this file's sites get the reason."""
        value = value_at(owner, key)
        slots: list[tuple[object, str | int]] = [(owner, key)] if key == KEY else []
        seen: set[int] = set()
        stack = [value]
        while stack:  # each container once; the walk is charged to the file's value budget
            node = stack.pop()
            if id(node) in seen or not isinstance(node, dict | list):
                continue
            seen.add(id(node))
            self.table.charge(1, self.eval.at(statement))
            if isinstance(node, dict) and KEY in node:
                slots.append((node, KEY))
            stack.extend(node.values() if isinstance(node, dict) else node)
        why = f"stopped at line {statement.lineno}: `{short(statement)}` may change it and is not evaluated"
        for holder, slot in slots:
            where = self.table.where(holder, slot)
            if where is not None and where[0] == self.eval.path:
                self.eval.sites.stop(where[1:], where[1:], why)
        return len(slots)

    def note(self, statement: ast.stmt, reason: str, node: ast.AST, *, lost: int = 0, mutates: bool) -> None:
        """An IS503 note when the statement may set an init_cfg: it holds a site, or changes a value that does."""
        inside = self.eval.sites.within(self.eval.at(statement), self.eval.at_end(statement))
        holder = mutates and _mutates_init_cfg_holder(statement, self.eval.variables)
        if not (inside or lost or holder or _mentions(self.eval.lines, statement)):
            return
        lines = sorted({line for line, _col in inside})
        named = ", ".join(map(str, lines[:_MAX_LINES])) + (", ..." if len(lines) > _MAX_LINES else "")
        where = f" (init_cfg at line{'s' if len(lines) > 1 else ''} {named})" if lines else ""
        message = f"may set an init_cfg, but is not checked: {reason}{where}"
        self.notices.append(Notice("IS503", "note", *self.eval.at(node), message))
        self.eval.sites.noted.update(inside)


def _mentions(lines: list[str], statement: ast.stmt) -> bool:
    return KEY in "\n".join(lines[statement.lineno - 1 : statement.end_lineno or statement.lineno])


def _stores(statement: ast.stmt) -> tuple[list[ast.expr], list[ast.expr]]:
    """What a statement may assign at module level: names it binds, and keys or attributes it sets."""
    if isinstance(statement, _SCOPES):
        return [ast.Name(statement.name, lineno=statement.lineno, col_offset=statement.col_offset)], []
    if isinstance(statement, ast.Assign):
        return [], list(statement.targets)
    if isinstance(statement, ast.AugAssign | ast.AnnAssign):
        return [], [statement.target]
    names: dict[str, ast.expr] = {}
    targets: list[ast.expr] = []
    stack: list[ast.AST] = [statement]
    while stack:  # a nested def, class, lambda or comprehension binds its own names, not the module's
        node = stack.pop()
        if isinstance(node, _SCOPES):
            names.setdefault(node.name, ast.Name(node.name, lineno=node.lineno, col_offset=node.col_offset))
            continue
        if isinstance(node, _LOCAL):
            continue
        if isinstance(getattr(node, "ctx", None), ast.Store):
            if isinstance(node, ast.Name):
                names.setdefault(node.id, node)
            elif isinstance(node, ast.Subscript | ast.Attribute):
                targets.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return list(names.values()), targets


def _root_name(node: ast.expr) -> ast.Name | None:
    while isinstance(node, ast.Subscript | ast.Attribute):
        node = node.value
    return node if isinstance(node, ast.Name) else None


def _mutates_init_cfg_holder(statement: ast.stmt, variables: dict[str, object]) -> bool:
    """Whether the statement changes a variable that holds an ``init_cfg`` somewhere (``model.x(...)``)."""
    for node in ast.walk(statement):
        root = _root_name(node) if isinstance(node, ast.Attribute | ast.Subscript) else None
        if root is not None and _holds_init_cfg(variables.get(root.id)):
            return True
    return False


def _holds_init_cfg(value: object) -> bool:
    seen: set[int] = set()
    stack = [value]
    while stack:  # each container once: values may share containers (``a = dict(x=a, y=a)``)
        node = stack.pop()
        if id(node) in seen or not isinstance(node, dict | list):
            continue
        seen.add(id(node))
        if isinstance(node, dict) and KEY in node:
            return True
        stack.extend(node.values() if isinstance(node, dict) else node)
    return False
