"""Statements the ``.py`` reader cannot evaluate: the names they bind are forgotten, a possible init_cfg noted."""

from __future__ import annotations

import ast
from typing import Final

from initspec.cli.documents._pyexpr import Evaluator, short
from initspec.cli.documents._pyvalues import Table
from initspec.cli.documents.model import Notice

__all__ = ["Unknowns"]

_SCOPES: Final = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


class Unknowns:
    """What one file's reader does with a statement it cannot evaluate; notices go to ``notices``."""

    def __init__(self, evaluator: Evaluator, table: Table, notices: list[Notice]) -> None:
        self.eval, self.table, self.notices = evaluator, table, notices

    def unknown(self, statement: ast.stmt, reason: str, node: ast.AST) -> None:
        """Forget the names a statement binds, and say so when it may set an init_cfg."""
        for name in _bound_names(statement):
            self.eval.variables.pop(name.id, None)
            why = f"`{name.id}` is assigned by `{short(statement)}`, which is not evaluated statically"
            self.table.miss(self.eval.namespace, name.id, (*self.eval.where(name), why))
        self.note_if_init_cfg(statement, reason, node)

    def note_if_init_cfg(self, statement: ast.stmt, reason: str, node: ast.AST) -> None:
        segment = "\n".join(self.eval.lines[statement.lineno - 1 : statement.end_lineno or statement.lineno])
        if "init_cfg" in segment or _mutates_init_cfg_holder(statement, self.eval.variables):
            message = f"may set an init_cfg, but is not checked: {reason}"
            self.notices.append(Notice("IS503", "note", *self.eval.at(node), message))


def _bound_names(statement: ast.stmt) -> list[ast.Name]:
    """Module-level names a statement binds, including ``x`` in ``x[0] = ...``."""
    names: dict[str, ast.Name] = {}
    if isinstance(statement, _SCOPES):
        return [ast.Name(statement.name, lineno=statement.lineno, col_offset=statement.col_offset)]
    for node in ast.walk(statement):
        target = _root_name(node) if isinstance(node, ast.Subscript | ast.Attribute) else node
        if isinstance(target, ast.Name) and isinstance(getattr(node, "ctx", None), ast.Store):
            names.setdefault(target.id, target)
    return list(names.values())


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
        if isinstance(node, dict) and "init_cfg" in node:
            return True
        stack.extend(node.values() if isinstance(node, dict) else node)
    return False
