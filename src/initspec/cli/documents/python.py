"""The ``.py`` reader: run through an OpenMMLab config's module-level statements statically, never executing.

Assignments (to names, keys and attributes), ``.update()``/``.merge()`` with mmengine's ConfigDict rules,
``_base_`` (its values reachable as ``_base_.x``), ``read_base()`` imports and ``{{_base_.x}}`` are followed;
anything else is left out and said so.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Final

from initspec.cli.documents._pybases import BaseImports
from initspec.cli.documents._pycomp import dict_method
from initspec.cli.documents._pyexpr import BASE_KEY, Evaluator
from initspec.cli.documents._pysites import SiteMap, attribute_at, find_sites
from initspec.cli.documents._pyunknown import Unknowns
from initspec.cli.documents._pyunsupported import Unsupported, short
from initspec.cli.documents._pyvalues import INIT_CLASSES, Imported, Table
from initspec.cli.documents.merge import merge_into, update_into
from initspec.cli.documents.model import (
    Bases,
    Document,
    DocumentError,
    Limits,
    Loc,
    Notice,
    line_col,
    too_long_int,
)

__all__ = ["PyConfig", "read_python"]

_LIST_METHODS: Final = frozenset({"append", "extend", "insert"})


class PyConfig:
    """A read ``.py`` config: its own variables, its ``_base_`` as the file left it (None: no base), its sites."""

    def __init__(self, own: Document, base: Document | None, sites: SiteMap) -> None:
        self.own, self.base, self.sites = own, base, sites


def read_python(path: Path, text: str, limits: Limits, bases: Bases) -> PyConfig:
    """Evaluate ``path``'s module-level statements; its bases come from ``bases``.

    Raises:
        DocumentError: the file does not parse, or a value is over a limit.
    """
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as err:
        if "4300 digits" in str(err.msg):  # an integer literal over sys.get_int_max_str_digits()
            raise _long_int(path, text) from err
        raise DocumentError(path, f"invalid Python: {err.msg}", err.lineno, err.offset) from err
    except ValueError as err:
        raise _long_int(path, text) from err
    except (RecursionError, MemoryError) as err:
        reason = "nested too deeply or too large to parse"
        raise DocumentError(path, f"invalid Python: {reason}", 1, 1, code="IS005") from err
    module = _Module(path, text, limits, bases)
    evaluator = module.eval
    evaluator.sites = find_sites(
        tree, evaluator.at, evaluator.at_end, lambda node: _attribute_at(evaluator, node)[1:]
    )
    try:
        module.run(tree.body)
    except RecursionError as err:
        raise DocumentError(path, "an expression is nested too deeply to evaluate", code="IS005") from err
    return module.result()


def _long_int(path: Path, text: str) -> DocumentError:
    offset = too_long_int(text)
    where = line_col(text, offset) if offset is not None else (1, 1)
    return DocumentError(path, "an integer with more than 4,300 digits; write a smaller number", *where)


class _Module:
    """The module-level statements of one file, evaluated in order."""

    def __init__(self, path: Path, text: str, limits: Limits, bases: Bases) -> None:
        self.path = path
        self.table = Table(path, limits)
        self.eval = Evaluator(path, text, self.table)
        self.notices: list[Notice] = []
        self.text = text
        self.unknowns = Unknowns(self.eval, self.table, self.notices)
        self.inherits = BaseImports(bases, self.eval, self.table, self.unknowns, self.notices)

    def run(self, body: list[ast.stmt]) -> None:
        for statement in body:
            try:
                self._statement(statement)
            except Unsupported as err:
                self.unknowns.unknown(statement, err.reason, err.node)

    def _statement(self, statement: ast.stmt) -> None:
        match statement:
            case ast.Assign(targets=targets, value=value):
                self._assign(targets, value, statement)
            case ast.AnnAssign(target=target, value=value) if value is not None:
                self._assign([target], value, statement)
            case ast.AugAssign():
                self._augment(statement)
            case ast.Expr(value=ast.Call(func=ast.Attribute() as method) as call):
                self._method(method, call)
            case ast.Expr(value=ast.Constant()) | ast.Pass():
                return  # a docstring or `pass`: nothing to evaluate
            case ast.With(items=[ast.withitem(context_expr=ast.Call(func=ast.Name(id="read_base")))]):
                self.inherits.read_base(statement.body)
            case ast.Import() | ast.ImportFrom():
                self.inherits.imports(statement)
            case ast.Delete(targets=deleted):
                for each in deleted:
                    self._delete(each)
            case _:
                self.unknowns.unknown(
                    statement, f"`{short(statement)}` is not evaluated statically", statement
                )

    # -- assignment ------------------------------------------------------------------------------------

    def _assign(self, targets: list[ast.expr], value: ast.expr, statement: ast.stmt) -> None:
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if BASE_KEY in names:
            self.inherits.set_base(value)
            return
        try:
            result = self.eval.evaluate(value)
        except Unsupported as err:
            self.eval.record(statement, err.reason)
            missing = (*self.eval.where(err.node), err.reason)
            lost = sum(self.unknowns.drop(target, statement, missing) for target in targets)
            self.unknowns.note(statement, err.reason, err.node, lost=lost, mutates=False)
            return
        for target in targets:
            self._store(target, result)

    def _store(self, target: ast.expr, value: object) -> None:
        match target:
            case ast.Name(id=name):
                self.eval.variables[name] = value
                self.table.put(self.eval.namespace, name, value, self.eval.where(target))
            case ast.Attribute(value=owner, attr=attr):
                self._put_into(
                    self.eval.evaluate(owner), attr, value, target, _attribute_at(self.eval, target)
                )
            case ast.Subscript(value=owner, slice=index):
                self._put_into(
                    self.eval.evaluate(owner),
                    self.eval.evaluate(index),
                    value,
                    target,
                    self.eval.where(index),
                )
            case _:
                raise Unsupported(
                    target, f"`{short(target)} = ...` unpacks, which is not evaluated statically"
                )

    def _put_into(
        self, owner: object, key: object, value: object, target: ast.expr, where: tuple[Path, int, int]
    ) -> None:
        if isinstance(owner, dict) and isinstance(key, str | int):
            self.table.put(owner, key, value, where)
        elif isinstance(owner, list) and isinstance(key, int) and -len(owner) <= key < len(owner):
            self.table.put(owner, key % len(owner), value, where)
        else:
            raise Unsupported(target, f"`{short(target)}` is not a key of a dict known statically")

    def _augment(self, statement: ast.AugAssign) -> None:
        combined = ast.BinOp(left=_load(statement.target), op=statement.op, right=statement.value)
        ast.copy_location(combined, statement)
        self._assign([statement.target], combined, statement)

    def _delete(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.eval.variables.pop(target.id, None)
            self.eval.namespace.pop(target.id, None)
            self.table.forget(self.eval.namespace, target.id)
        elif isinstance(target, ast.Subscript | ast.Attribute):
            owner = self.eval.evaluate(target.value)
            key = target.attr if isinstance(target, ast.Attribute) else self.eval.evaluate(target.slice)
            if isinstance(owner, dict) and isinstance(key, str | int):
                owner.pop(key, None)
                self.table.forget(owner, key)
            elif isinstance(owner, list) and isinstance(key, int) and -len(owner) <= key < len(owner):
                raise Unsupported(target, f"`del {short(target)}` shifts list items, which is not followed")

    # -- methods ---------------------------------------------------------------------------------------

    def _method(self, method: ast.Attribute, call: ast.Call) -> None:
        owner = self.eval.evaluate(method.value)
        if method.attr in {"update", "merge"} and isinstance(owner, dict):
            other = self.eval.dict_call(
                ast.Call(func=ast.Name("dict"), args=call.args, keywords=call.keywords)
            )
            if method.attr == "update":
                update_into(other, owner, self.table.moved)
            else:
                conflict = self._merge_conflict(call)
                merge_into(other, owner, allow_list_keys=True, conflict=conflict, moved=self.table.moved)
            return
        if method.attr in {"pop", "get"} and isinstance(owner, dict):
            dict_method(self.eval, call, owner, method.attr)
            return
        if method.attr in _LIST_METHODS and isinstance(owner, list) and not call.keywords:
            self._list_method(owner, method.attr, call)
            return
        raise Unsupported(call, f"`{short(call)}` calls a method, which is not evaluated statically")

    def _list_method(self, owner: list[object], name: str, call: ast.Call) -> None:
        values = [self.eval.evaluate(arg) for arg in call.args]
        where = self.eval.where(call)
        if name == "append" and len(values) == 1:
            self.table.put(owner, len(owner), values[0], where)
        elif name == "extend" and len(values) == 1 and isinstance(values[0], list):
            for item in values[0]:
                self.table.put(owner, len(owner), item, where)
        else:
            raise Unsupported(call, f"`{short(call)}` is not evaluated statically")

    def _merge_conflict(self, call: ast.Call) -> Callable[[Loc, object], Exception]:
        def conflict(loc: Loc, base_value: object) -> Exception:
            dotted = ".".join(map(str, loc))
            kind = type(base_value).__name__
            return Unsupported(
                call, f"`{short(call)}` merges a dict into `{dotted}`, a {kind}, which mmengine refuses"
            )

        return conflict

    def result(self) -> PyConfig:
        own = self.table.document(self.eval.namespace, _is_config_key, _resolve_class)
        own = Document(own.path, own.data, own.positions, own.skipped, own.origins, tuple(self.notices))
        base = self.eval.variables.get(BASE_KEY)
        if not isinstance(base, dict):  # never read, so never changed: the bases as they were merged
            return PyConfig(own, self.inherits.inherited, self.eval.sites)
        changed = self.table.document(base, lambda _name: True, _resolve_class)
        inherited = self.inherits.inherited
        notices = inherited.notices if inherited else ()
        return PyConfig(
            own,
            sites=self.eval.sites,
            base=Document(
                changed.path, changed.data, changed.positions, changed.skipped, changed.origins, notices
            ),
        )


def _resolve_class(value: object) -> object:
    """``PretrainedInit`` (from mmengine, mmcv or initspec) becomes ``'Pretrained'``, as its registry names it."""
    if isinstance(value, Imported):
        return INIT_CLASSES.get(value.dotted, value)
    return value


def _is_config_key(name: str) -> bool:
    return name != BASE_KEY and not name.startswith("__")


def _attribute_at(evaluator: Evaluator, node: ast.Attribute) -> tuple[Path, int, int]:
    """Where the attribute's name is written: ``x`` in ``_base_.model.x = ...``."""
    return attribute_at(evaluator.path, evaluator.lines, node)


def _load(target: ast.expr) -> ast.expr:
    copied = ast.parse(ast.unparse(target), mode="eval").body
    return ast.copy_location(copied, target)
