"""What a ``.py`` config inherits: ``_base_ = [...]``, ``with read_base():`` imports, and plain imports."""

from __future__ import annotations

import ast

from initspec.cli.documents._pyexpr import BASE_KEY, Evaluator
from initspec.cli.documents._pyunknown import Unknowns
from initspec.cli.documents._pyunsupported import Unsupported, short
from initspec.cli.documents._pyvalues import Imported, Table
from initspec.cli.documents.model import Bases, Document, Notice, Position

__all__ = ["BaseImports"]


class BaseImports:
    """The statements of one file that bring in other files' values; ``inherited`` is its merged ``_base_``."""

    def __init__(
        self, bases: Bases, evaluator: Evaluator, table: Table, unknowns: Unknowns, notices: list[Notice]
    ) -> None:
        self.bases, self.eval, self.table = bases, evaluator, table
        self.unknowns, self.notices = unknowns, notices
        self.inherited: Document | None = None

    def set_base(self, value: ast.expr) -> None:
        """``_base_ = ...``: the listed files, merged, become what ``_base_.x`` reads."""
        entries = self._base_entries(value)
        if entries is None:
            return
        self.inherited = self.bases.inherit(entries)
        self.eval.pending_base = self.inherited
        self.eval.variables.pop(BASE_KEY, None)

    def _base_entries(self, value: ast.expr) -> list[tuple[str, Position]] | None:
        """The paths ``_base_`` lists, as mmengine evaluates them: literals, or strings and lists joined by ``+``."""
        elements = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
        entries = []
        for element in elements:
            try:
                found = self.eval.evaluate(element)
            except Unsupported:
                found = None
            paths = [found] if isinstance(found, str) else found if isinstance(found, list) else [None]
            if not all(isinstance(path, str) for path in paths):
                why = f"`_base_` must list its paths as strings, got `{short(element)}`"
                self.notices.append(Notice("IS003", "error", *self.eval.at(element), why))
                return None
            entries += [(str(path), self.eval.at(element)) for path in paths]
        return entries

    def read_base(self, body: list[ast.stmt]) -> None:
        """``with read_base():``: each ``from .x import y`` binds ``y`` from the config module ``x``."""
        for statement in body:
            if not isinstance(statement, ast.ImportFrom) or (
                statement.module is None and not statement.level
            ):
                self.unknowns.unknown(
                    statement,
                    f"`{short(statement)}` inside read_base() is not an import of a config",
                    statement,
                )
                continue
            found = self.bases.module(statement.module or "", statement.level, self.eval.at(statement))
            if found is None:
                self._bind_unknown(statement, "its config module could not be read")
                continue
            namespace = self.table.adopt(found)
            for alias in statement.names:
                self._bind_from(namespace, alias, statement)

    def _bind_from(
        self, namespace: dict[str | int, object], alias: ast.alias, statement: ast.ImportFrom
    ) -> None:
        names = (
            [str(k) for k in namespace if not str(k).startswith("_")] if alias.name == "*" else [alias.name]
        )
        for name in names:
            if name in namespace:
                bound = alias.asname or name
                self.eval.variables[bound] = namespace[name]
                self.table.put(
                    self.eval.namespace,
                    bound,
                    namespace[name],
                    self.table.where(namespace, name) or self.eval.where(statement),
                )
            elif missing := self.table.missing_in(namespace).get(name):
                self.table.miss(self.eval.namespace, alias.asname or name, missing)

    def _bind_unknown(self, statement: ast.ImportFrom, reason: str) -> None:
        for alias in statement.names:
            if alias.name != "*":
                name = alias.asname or alias.name
                self.table.miss(
                    self.eval.namespace, name, (*self.eval.where(statement), f"`{name}`: {reason}")
                )

    def imports(self, statement: ast.Import | ast.ImportFrom) -> None:
        """A plain import binds a name to what it names, never imported (``Imported``)."""
        for alias in statement.names:
            if isinstance(statement, ast.Import):
                bound = alias.asname or alias.name.split(".")[0]
                dotted = alias.name if alias.asname else bound
            else:
                dotted, bound = (
                    f"{'.' * statement.level}{statement.module or ''}.{alias.name}",
                    alias.asname or alias.name,
                )
            if alias.name != "*":
                self.eval.variables[bound] = Imported(dotted)
