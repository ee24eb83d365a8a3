"""Evaluate the expressions of a ``.py`` config statically: literals, containers, names, no calls to code."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

from initspec.cli.documents import _pycomp
from initspec.cli.documents._pypositions import Where
from initspec.cli.documents._pysites import KEY, SiteMap
from initspec.cli.documents._pyunsupported import Unsupported, describe, short
from initspec.cli.documents._pyvalues import Imported, Table
from initspec.cli.documents.model import MAX_INT_DIGITS, Document, DocumentError, Position

__all__ = ["BASE_KEY", "Evaluator"]

BASE_KEY: Final = "_base_"
_BASE_REFERENCE: Final = re.compile(r"\{\{\s*_base_\.([A-Za-z0-9_.]+)\s*\}\}")
_MAX_BITS: Final = int(MAX_INT_DIGITS * 3.32)
_PLAIN: Final = (str, int, float)  # a tuple: cheaper in isinstance than a union, built on each call
_ARITHMETIC: Final[dict[type[ast.operator], Callable[[object, object], object]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


class Evaluator:
    """Evaluates expressions of one file; a name refers to the value of an earlier module-level variable."""

    def __init__(self, path: Path, source: str, table: Table) -> None:
        self.path, self.table = path, table
        self.lines = source.split("\n")
        self._ascii = [line.isascii() for line in self.lines]
        self.variables: dict[str, object] = {}
        self.pending_base: Document | None = None  # adopted on first use: most children never read `_base_`
        self.namespace = table.new_dict((1, 1))  # the module's variables, as a container with positions
        self.sites = SiteMap()  # the file's init_cfg sites, set by the reader once it has the tree

    def at(self, node: ast.AST) -> Position:
        """The 1-based (line, col) of ``node``, counting characters rather than UTF-8 bytes."""
        line, offset = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        if line <= len(self.lines) and self._ascii[line - 1]:
            return line, offset + 1
        prefix = self.lines[line - 1].encode()[:offset] if line <= len(self.lines) else b""
        return line, len(prefix.decode(errors="replace")) + 1

    def at_end(self, node: ast.AST) -> Position:
        """The 1-based (line, col) just past ``node``'s last character."""
        line, col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        if not isinstance(line, int) or not isinstance(col, int):  # a stand-in node: its start will do
            return self.at(node)
        return self.at(ast.Pass(lineno=line, col_offset=col))

    def where(self, node: ast.AST) -> Where:
        return (self.path, *self.at(node))

    def record(self, node: ast.AST, reason: str, site: ast.AST | None = None) -> None:
        """``node`` is not evaluated: the init_cfg sites inside it (and ``site``) are stopped there, for ``reason``."""
        why = f"stopped at line {getattr(node, 'lineno', 1)}: {reason}"
        self.sites.stop(self.at(node), self.at_end(node), why)
        if site is not None:
            self.sites.stop(self.at(site), self.at(site), why)

    def evaluate(self, node: ast.expr) -> object:
        match node:  # the commonest kinds first: each case is one isinstance check, and no two overlap
            case ast.Constant():
                return self._constant(node)
            case ast.Call():
                return self._call(node)
            case ast.List() | ast.Tuple():
                return self._list(node, node.elts)
            case ast.Name():
                return self._name(node)
            case ast.UnaryOp(op=ast.USub() | ast.UAdd()):
                return self._signed(node)
            case ast.Dict():
                return self._dict_display(node)
            case ast.Attribute():
                return self._attribute(node)
            case ast.Subscript():
                return self.item(self.evaluate(node.value), node.slice, node)
            case ast.BinOp():
                return self._binary(node)
            case ast.Set(elts=[ast.Set(elts=[ast.Attribute() as inner])]):  # {{_base_.x}}, unquoted
                return self._attribute(inner)
            case ast.ListComp() | ast.DictComp():
                return _pycomp.comprehension(self, node)
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return self.evaluate(body if _pycomp.condition(self, test) else orelse)
        raise Unsupported(node, describe(node))

    def _constant(self, node: ast.Constant) -> object:
        value = node.value
        if (
            isinstance(value, str)
            and "{{" in value
            and (reference := _BASE_REFERENCE.fullmatch(value.strip()))
        ):
            return self.base_reference(reference[1], node)
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_BITS:
            msg = "an integer with more than 4,300 digits; write a smaller number"
            raise DocumentError(self.path, msg, *self.at(node))
        if value is None or isinstance(value, _PLAIN):
            return value
        raise Unsupported(node, f"a {type(value).__name__} constant is not plain config data")

    def base_reference(self, dotted: str, node: ast.AST) -> object:
        """The value ``{{_base_.a.b}}`` stands for, as mmengine substitutes it."""
        value = self._name(ast.Name(BASE_KEY, lineno=getattr(node, "lineno", 1)))
        for part in dotted.split("."):
            value = self._key(value, part, node)
        return value

    def _signed(self, node: ast.UnaryOp) -> object:
        number = self.evaluate(node.operand)
        if not isinstance(number, int | float) or isinstance(number, bool):
            raise Unsupported(node, f"a sign applies to numbers, not to `{short(node.operand)}`")
        return -number if isinstance(node.op, ast.USub) else number

    def _dict_display(self, node: ast.Dict) -> dict[str | int, object]:
        result = self.table.new_dict(self.at(node))
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                self.spread(result, value)
            elif isinstance(key, ast.Constant) and isinstance(key.value, str | int):
                self.put(result, key.value, value, key)
            else:
                raise Unsupported(key, f"a dict key must be a string literal, got `{short(key)}`")
        return result

    def dict_call(self, node: ast.Call) -> dict[str | int, object]:
        result = self.table.new_dict(self.at(node))
        for arg in node.args:
            self.spread(result, arg)
        for keyword in node.keywords:
            if keyword.arg is None:
                self.spread(result, keyword.value)
            else:
                self.put(result, keyword.arg, keyword.value, keyword)
        return result

    def put(self, result: dict[str | int, object], key: str | int, node: ast.expr, at: ast.AST) -> None:
        """Evaluate ``node`` into ``result[key]``, or leave the key out with the reason when it cannot be."""
        try:
            value = self.evaluate(node)
        except Unsupported as err:
            self.record(err.node, err.reason, at if key == KEY else None)
            self.table.miss(result, key, (*self.where(err.node), err.reason))
            return
        self.table.put(result, key, value, self.where(at))

    def spread(self, result: dict[str | int, object], node: ast.expr) -> None:
        """``**other`` into ``result``: each key keeps the position it has in ``other``."""
        spread = self.evaluate(node)
        if not isinstance(spread, dict):
            raise Unsupported(node, f"`**{short(node)}` spreads a {type(spread).__name__}, not a dict")
        for key, value in spread.items():
            self.table.put(result, key, value, self.table.where(spread, key) or self.where(node))
        for key, missing in self.table.missing_in(spread).items():
            self.table.miss(result, key, missing)

    def _list(self, node: ast.expr, elements: list[ast.expr]) -> list[object]:
        result = self.table.new_list([], self.at(node))
        for index, element in enumerate(elements):
            try:
                value = self.evaluate(element)
            except Unsupported as err:
                self.record(err.node, err.reason)
                self.table.miss(result, index, (*self.where(err.node), err.reason))
                continue
            line, col = self.at(element)
            self.table.charge(1, (line, col))
            self.table.put(result, len(result), value, (self.path, line, col))
        return result

    def _name(self, node: ast.Name) -> object:
        if node.id == BASE_KEY and self.pending_base is not None:
            self.variables[BASE_KEY] = self.table.adopt(self.pending_base)
            self.pending_base = None
        if node.id in self.variables:
            return self.variables[node.id]
        if node.id == BASE_KEY:
            raise Unsupported(node, "`_base_` is used but the file sets no `_base_` before this line")
        if missing := self.table.missing_in(self.namespace).get(node.id):
            raise Unsupported(node, missing[3])
        raise Unsupported(node, f"`{node.id}` is not a variable assigned earlier in this file")

    def _attribute(self, node: ast.Attribute) -> object:
        owner = self.evaluate(node.value)
        if isinstance(owner, Imported):
            return owner.attribute(node.attr)
        return self._key(owner, node.attr, node)

    def _key(self, owner: object, key: str, node: ast.AST) -> object:
        if isinstance(owner, dict) and key in owner:
            return owner[key]
        if isinstance(owner, dict) and (missing := self.table.missing_in(owner).get(key)):
            raise Unsupported(node, missing[3])
        raise Unsupported(node, f"`{short(node)}` names no value known statically")

    def item(self, owner: object, index: ast.expr, node: ast.AST) -> object:
        """``owner[index]`` for a literal key of a dict or a literal index of a list."""
        if isinstance(owner, Imported):
            raise Unsupported(node, describe(node))
        key = self.evaluate(index)
        if isinstance(owner, dict) and isinstance(key, str | int):
            return self._key(owner, key, node)  # type: ignore[arg-type]  # int keys are looked up too
        if isinstance(owner, list) and isinstance(key, int) and -len(owner) <= key < len(owner):
            return owner[key]
        raise Unsupported(node, f"`{short(node)}` names no value known statically")

    def _binary(self, node: ast.BinOp) -> object:
        left, right = self.evaluate(node.left), self.evaluate(node.right)
        if isinstance(node.op, ast.Add) and isinstance(left, list) and isinstance(right, list):
            joined = self._copied_list(left, node)
            for index, item in enumerate(right):
                self.table.charge(1, self.at(node))
                self.table.put(joined, len(joined), item, self.table.where(right, index) or self.where(node))
            return joined
        if isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str):
            self.table.charge((len(left) + len(right)) // 64, self.at(node))
            return left + right
        return self._arithmetic(node, left, right)

    def _arithmetic(self, node: ast.BinOp, left: object, right: object) -> object:
        numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (left, right))
        apply = _ARITHMETIC.get(type(node.op))
        if not numbers or apply is None:
            raise Unsupported(node, describe(node))
        try:
            result = apply(left, right)
        except (ArithmeticError, ValueError) as err:
            raise Unsupported(node, f"`{short(node)}` fails: {err}") from err
        if isinstance(result, int) and result.bit_length() > _MAX_BITS:
            raise Unsupported(node, f"`{short(node)}` is an integer with more than 4,300 digits")
        return result

    def _call(self, node: ast.Call) -> object:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "dict" and "dict" not in self.variables:
            return self.dict_call(node)
        if isinstance(func, ast.Name) and func.id in {"list", "tuple"} and len(node.args) == 1:
            arg = node.args[0]
            items = _pycomp.iterate(self, arg) if _pycomp.iterates(self, arg) else self.evaluate(arg)
            if isinstance(items, list):
                return self._copied_list(items, node)
        if _is_copy(func, self.variables) and len(node.args) == 1 and not node.keywords:
            return self.table.copy(self.evaluate(node.args[0]), self.at(node))
        if isinstance(func, ast.Attribute) and func.attr == "copy" and not node.args:
            return self.table.copy(self.evaluate(func.value), self.at(node))
        if isinstance(func, ast.Attribute) and func.attr in {"get", "pop"}:
            owner = self.evaluate(func.value)
            if isinstance(owner, dict):
                return _pycomp.dict_method(self, node, owner, func.attr)
        raise Unsupported(node, describe(node))

    def _copied_list(self, items: list[object], node: ast.AST) -> list[object]:
        copied = self.table.new_list([], self.at(node))
        self.table.charge(len(items), self.at(node))
        for index, item in enumerate(items):
            self.table.put(copied, index, item, self.table.where(items, index) or self.where(node))
        return copied


def _is_copy(func: ast.expr, variables: dict[str, object]) -> bool:
    if isinstance(func, ast.Name):
        return variables.get(func.id) == Imported("copy.deepcopy")
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "deepcopy"
        and isinstance(func.value, ast.Name)
        and variables.get(func.value.id) == Imported("copy")
    )
