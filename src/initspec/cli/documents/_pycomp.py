"""Comprehensions, conditions and the few builtins a ``.py`` config calls, evaluated statically with bounded work.

Every iteration is charged to the file's value budget before it runs, and a ``range`` is charged for its length
before any list is built, so ``[i for i in range(10**9)]`` is a located IS005 error, never a hang.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from initspec.cli.documents._pyunsupported import Unsupported, describe, short

if TYPE_CHECKING:
    from initspec.cli.documents._pyexpr import Evaluator

__all__ = ["comprehension", "condition", "dict_method", "iterate", "iterates"]

_ITERATORS: Final = frozenset({"range", "enumerate", "zip"})
_VIEWS: Final = frozenset({"items", "keys", "values"})
_COMPARE: Final[dict[type[ast.cmpop], Callable[[Any, Any], object]]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: operator.contains(b, a),
    ast.NotIn: lambda a, b: not operator.contains(b, a),
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
}
_Comprehension = ast.ListComp | ast.DictComp | ast.GeneratorExp
_UNSET: Final = object()


def comprehension(ev: Evaluator, node: _Comprehension) -> object:
    """``[elt for x in items if cond]`` (and the dict form): a new container, its loop names local to it."""
    result: dict[str | int, object] | list[object] = (
        ev.table.new_dict(ev.at(node))
        if isinstance(node, ast.DictComp)
        else ev.table.new_list([], ev.at(node))
    )
    names = {n.id for gen in node.generators for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
    saved = {name: ev.variables.get(name, _UNSET) for name in names}
    try:
        _loop(ev, node, node.generators, result)
    finally:
        for name, value in saved.items():
            if value is _UNSET:
                ev.variables.pop(name, None)
            else:
                ev.variables[name] = value
    return result


def _loop(
    ev: Evaluator,
    node: _Comprehension,
    generators: list[ast.comprehension],
    result: dict[str | int, object] | list[object],
) -> None:
    if not generators:
        _emit(ev, node, result)
        return
    first = generators[0]
    if first.is_async:
        raise Unsupported(node, f"`{short(node)}` is asynchronous")
    for item in iterate(ev, first.iter):
        ev.table.charge(1, ev.at(node))
        _bind(ev, first.target, item)
        if all(condition(ev, test) for test in first.ifs):
            _loop(ev, node, generators[1:], result)


def _emit(ev: Evaluator, node: _Comprehension, result: dict[str | int, object] | list[object]) -> None:
    if isinstance(node, ast.DictComp):
        key = ev.evaluate(node.key)
        if not isinstance(key, str | int) or isinstance(key, bool) or not isinstance(result, dict):
            raise Unsupported(node.key, f"a dict key must be a string, got `{short(node.key)}`")
        ev.table.put(result, key, ev.evaluate(node.value), ev.where(node.key))
    else:
        ev.table.put(result, len(result), ev.evaluate(node.elt), ev.where(node.elt))


def _bind(ev: Evaluator, target: ast.expr, item: object) -> None:
    if isinstance(target, ast.Name):
        ev.variables[target.id] = item
    elif isinstance(target, ast.Tuple | ast.List) and isinstance(item, list | tuple):
        if len(item) != len(target.elts):
            msg = f"`{short(target)}` unpacks {len(item)} values into {len(target.elts)} names"
            raise Unsupported(target, msg)
        for name, value in zip(target.elts, item, strict=True):
            _bind(ev, name, value)
    else:
        raise Unsupported(target, f"`for {short(target)} in ...` is not evaluated statically")


def iterates(ev: Evaluator, node: ast.expr) -> bool:
    """Whether ``node`` is a ``range``/``enumerate``/``zip`` call or a generator (``list(...)`` takes them)."""
    if isinstance(node, ast.GeneratorExp):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _ITERATORS
        and node.func.id not in ev.variables
    )


def iterate(ev: Evaluator, node: ast.expr) -> list[object]:
    """The items a ``for`` over ``node`` sees: a known list or dict (its keys), ``range``, ``enumerate``..."""
    if isinstance(node, ast.GeneratorExp):
        made = comprehension(ev, node)
        return made if isinstance(made, list) else []
    if isinstance(node, ast.Call) and not node.keywords and iterates(ev, node):
        return _builtin(ev, node)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _VIEWS:
        owner = ev.evaluate(node.func.value)
        if isinstance(owner, dict) and not node.args and not node.keywords:
            if missing := ev.table.missing_in(owner):
                raise Unsupported(node, next(iter(missing.values()))[3])
            return _view(owner, node.func.attr)
    value = ev.evaluate(node)
    if missing := ev.table.missing_in(value):  # an item left out: the loop would see one value fewer
        raise Unsupported(node, next(iter(missing.values()))[3])
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value)
    raise Unsupported(node, f"cannot iterate over `{short(node)}` statically")


def _view(owner: dict[object, object], name: str) -> list[object]:
    if name == "keys":
        return list(owner)
    if name == "values":
        return list(owner.values())
    return [[key, value] for key, value in owner.items()]


def _builtin(ev: Evaluator, node: ast.Call) -> list[object]:
    name = node.func.id  # type: ignore[attr-defined]  # iterates() checked it is a Name
    if name == "range":
        values = [ev.evaluate(arg) for arg in node.args]
        bounds = [value for value in values if isinstance(value, int) and not isinstance(value, bool)]
        if not 1 <= len(bounds) == len(values) <= 3 or bounds[2:] == [0]:
            raise Unsupported(node, f"`{short(node)}` is not a range of integers")
        steps = range(*bounds)
        ev.table.charge(len(steps), ev.at(node))  # before the list exists
        return list(steps)
    lists = [iterate(ev, arg) for arg in node.args]
    ev.table.charge(sum(map(len, lists)), ev.at(node))
    if name == "enumerate" and len(lists) == 1:
        return [[index, item] for index, item in enumerate(lists[0])]
    if name == "zip" and lists:
        return [list(items) for items in zip(*lists, strict=False)]
    raise Unsupported(node, describe(node))


def condition(ev: Evaluator, node: ast.expr) -> bool:
    """The truth of a comprehension's ``if`` or a conditional expression's test."""
    match node:
        case ast.BoolOp(op=ast.And(), values=values):
            return all(condition(ev, value) for value in values)
        case ast.BoolOp(op=ast.Or(), values=values):
            return any(condition(ev, value) for value in values)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return not condition(ev, operand)
        case ast.Compare():
            return _compare(ev, node)
    return bool(ev.evaluate(node))


def _compare(ev: Evaluator, node: ast.Compare) -> bool:
    left = ev.evaluate(node.left)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = ev.evaluate(right_node)
        try:
            if not _COMPARE[type(op)](left, right):
                return False
        except TypeError as err:
            raise Unsupported(node, f"`{short(node)}` fails: {err}") from err
        left = right
    return True


def dict_method(ev: Evaluator, node: ast.Call, owner: dict[str | int, object], name: str) -> object:
    """``d.get(k[, default])`` and ``d.pop(k[, default])`` on a known dict, as Python runs them."""
    if not 1 <= len(node.args) <= 2 or node.keywords:
        raise Unsupported(node, describe(node))
    key = ev.evaluate(node.args[0])
    if not isinstance(key, str | int):
        raise Unsupported(node.args[0], f"`{short(node.args[0])}` is not a key")
    if key in owner:
        value = owner[key]
        if name == "pop":
            owner.pop(key)
            ev.table.forget(owner, key)
        return value
    if missing := ev.table.missing_in(owner).get(key):
        raise Unsupported(node, missing[3])
    if len(node.args) == 2:
        return ev.evaluate(node.args[1])
    if name == "get":
        return None
    raise Unsupported(node, f"`{short(node)}` pops a key the dict does not have")
