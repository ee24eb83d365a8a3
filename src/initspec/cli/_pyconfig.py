"""Read an OpenMMLab-style ``.py`` config from its syntax tree, without ever running it."""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final, TypeAlias

from initspec.cli._documents import (
    Document,
    DocumentError,
    Loc,
    Position,
    Positions,
    Skipped,
    drop_subtree,
    has_path,
    load_document,
    position_of,
    read_source,
)

__all__ = ["load_py_config"]

BASE_KEY: Final = "_base_"
DELETE_KEY: Final = "_delete_"
_Dict: TypeAlias = dict[str | int, object]
_SCOPES: Final = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
_KINDS: Final[dict[type[ast.AST], str]] = {
    ast.Attribute: "attribute access",
    ast.BinOp: "the operation",
    ast.JoinedStr: "the f-string",
    ast.Lambda: "the lambda",
    ast.ListComp: "the comprehension",
    ast.DictComp: "the comprehension",
    ast.Subscript: "the subscript",
}


def load_py_config(path: Path) -> Document:
    """Evaluate the module-level assignments of ``path`` statically, then merge its ``_base_`` configs.

    Literals, ``dict(k=v)``, displays, tuples (as lists), unary signs, ``**spread`` of known dicts, earlier
    variables, and ``+`` of two lists or two strings are evaluated. Anything else is left out of the data and
    listed in ``Document.skipped`` (a skipped list item is dropped, so later items move up, while its path
    keeps its index in the source). Bases merge like mmengine: dicts merge key by key, ``_delete_=True``
    replaces the base value, every other value (lists included) replaces, and two bases may not define the
    same variable.

    Raises:
        DocumentError: the file does not parse, or a base is missing, cyclic or conflicting.

    Example:
        >>> doc = load_py_config(Path("configs/retinanet_r50.py"))  # doctest: +SKIP
        >>> doc.data["model"]["backbone"]["init_cfg"]  # doctest: +SKIP
        {'type': 'Pretrained', 'checkpoint': 'torchvision://resnet50'}
    """
    return _load(path, (path.resolve(),))


class _Unsupported(Exception):
    """An expression that cannot be evaluated without running code."""

    def __init__(self, node: ast.expr | ast.keyword, reason: str) -> None:
        super().__init__(reason)
        self.node, self.reason = node, reason


@dataclass
class _Value:
    """An evaluated expression; its positions and skipped pieces are relative to it."""

    data: object
    positions: Positions = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)

    def copy(self) -> _Value:
        return _Value(copy.deepcopy(self.data), dict(self.positions), list(self.skipped))

    def nest(self, key: str | int, child: _Value, at: Position) -> None:
        """Record ``child``'s positions and skipped pieces under ``key``."""
        self.positions[(key,)] = at
        self.positions.update({(key, *loc): pos for loc, pos in child.positions.items()})
        self.skipped.extend(replace(piece, path=(key, *piece.path)) for piece in child.skipped)

    def forget(self, key: str | int) -> None:
        drop_subtree(self.positions, (key,))
        self.skipped = [piece for piece in self.skipped if piece.path[:1] != (key,)]


class _Evaluator:
    """Evaluates expressions of one file; names refer to its earlier module-level variables."""

    def __init__(self, source: str) -> None:
        self.lines = source.split("\n")
        self.variables: dict[str, tuple[_Value, Position]] = {}

    def at(self, node: ast.expr | ast.keyword) -> Position:
        """The 1-based (line, col) of ``node``, counting characters rather than UTF-8 bytes."""
        prefix = self.lines[node.lineno - 1].encode()[: node.col_offset]
        return node.lineno, len(prefix.decode(errors="replace")) + 1

    def evaluate(self, node: ast.expr) -> _Value:
        match node:
            case ast.Constant():
                return self._constant(node)
            case ast.UnaryOp(op=ast.USub() | ast.UAdd()):
                return self._signed(node)
            case ast.Call(func=ast.Name(id="dict"), args=[]):
                return self._dict_call(node.keywords)
            case ast.Dict():
                return self._dict_display(node)
            case ast.List() | ast.Tuple():
                return self._list(node.elts)
            case ast.Name() if node.id in self.variables and node.id != BASE_KEY:
                return self.variables[node.id][0].copy()
            case ast.BinOp(op=ast.Add()):
                return self._concatenate(node)
        raise _Unsupported(node, _describe(node))

    def _constant(self, node: ast.Constant) -> _Value:
        if isinstance(node.value, str) and "{{" in node.value and BASE_KEY in node.value:
            raise _Unsupported(node, _describe(node))
        if node.value is None or isinstance(node.value, str | int | float):
            return _Value(node.value)
        raise _Unsupported(node, f"a {type(node.value).__name__} constant is not plain config data")

    def _signed(self, node: ast.UnaryOp) -> _Value:
        number = self.evaluate(node.operand).data
        if not isinstance(number, int | float) or isinstance(number, bool):
            raise _Unsupported(node, f"a sign applies to numbers, not to `{ast.unparse(node.operand)}`")
        return _Value(-number if isinstance(node.op, ast.USub) else number)

    def _dict_call(self, keywords: list[ast.keyword]) -> _Value:
        result = _Value({})
        for keyword in keywords:
            if keyword.arg is None:
                self._spread(result, keyword.value)
            else:
                self._put(result, keyword.arg, keyword.value, self.at(keyword))
        return result

    def _dict_display(self, node: ast.Dict) -> _Value:
        result = _Value({})
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                self._spread(result, value)
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                self._put(result, key.value, value, self.at(key))
            else:
                raise _Unsupported(key, f"a dict key must be a string literal, got `{ast.unparse(key)}`")
        return result

    def _put(self, result: _Value, key: str, node: ast.expr, at: Position) -> None:
        data = _as_dict(result.data)
        data.pop(key, None)
        result.forget(key)
        try:
            child = self.evaluate(node)
        except _Unsupported as err:
            result.skipped.append(Skipped((key,), *self.at(err.node), err.reason))
            return
        data[key] = child.data
        result.nest(key, child, at)

    def _spread(self, result: _Value, node: ast.expr) -> None:
        spread = self.evaluate(node)
        if not isinstance(spread.data, dict):
            raise _Unsupported(
                node, f"`**{ast.unparse(node)}` spreads a {type(spread.data).__name__}, not a dict"
            )
        for key in spread.data:
            result.forget(key)
        _as_dict(result.data).update(spread.data)
        result.positions.update(spread.positions)
        result.skipped.extend(spread.skipped)

    def _list(self, elements: list[ast.expr]) -> _Value:
        items: list[object] = []
        result = _Value(items)
        for index, element in enumerate(elements):
            try:
                child = self.evaluate(element)
            except _Unsupported as err:
                result.skipped.append(Skipped((index,), *self.at(err.node), err.reason))
                continue
            result.nest(len(items), child, self.at(element))
            items.append(child.data)
        return result

    def _concatenate(self, node: ast.BinOp) -> _Value:
        left, right = self.evaluate(node.left), self.evaluate(node.right)
        if isinstance(left.data, str) and isinstance(right.data, str):
            return _Value(left.data + right.data)
        if not (isinstance(left.data, list) and isinstance(right.data, list)):
            raise _Unsupported(node, f"`{_short(node)}` adds values other than two lists or two strings")
        shift = len(left.data)
        positions = {_shifted(loc, shift): pos for loc, pos in right.positions.items()}
        moved = [replace(piece, path=_shifted(piece.path, shift)) for piece in right.skipped]
        return _Value(left.data + right.data, {**left.positions, **positions}, left.skipped + moved)


class _Module:
    """Runs through module-level statements, evaluating plain assignments and never executing anything."""

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.evaluator = _Evaluator(source)
        self.skipped: dict[str, Skipped] = {}  # module-level names whose value is unknown

    def run(self, module: ast.Module) -> None:
        for statement in module.body:
            if isinstance(statement, ast.Assign) and all(isinstance(t, ast.Name) for t in statement.targets):
                self._assign([t for t in statement.targets if isinstance(t, ast.Name)], statement.value)
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                if statement.value is not None:
                    self._assign([statement.target], statement.value)
            elif isinstance(statement, ast.Delete):
                for name in _assigned_names(statement, ast.Del):
                    self._forget(name.id)
            else:
                self._mark_unknown(statement)

    def _assign(self, targets: list[ast.Name], node: ast.expr) -> None:
        evaluator = self.evaluator
        try:
            value = evaluator.evaluate(node)
        except _Unsupported as err:
            for target in targets:
                self._forget(target.id)
                self.skipped[target.id] = Skipped((target.id,), *evaluator.at(err.node), err.reason)
            return
        for number, target in enumerate(targets):
            self.skipped.pop(target.id, None)
            evaluator.variables[target.id] = (value if number == 0 else value.copy(), evaluator.at(target))

    def _mark_unknown(self, statement: ast.stmt) -> None:
        """Forget the names bound by a statement that is not a plain assignment (``a, b = ...``, ``for``)."""
        for name in _assigned_names(statement, ast.Store):
            self._forget(name.id)
            reason = f"`{name.id}` is assigned by `{_short(statement)}`, which is not evaluated statically"
            self.skipped[name.id] = Skipped((name.id,), *self.evaluator.at(name), reason)

    def _forget(self, name: str) -> None:
        self.evaluator.variables.pop(name, None)
        self.skipped.pop(name, None)

    def document(self) -> Document:
        """The file's own variables, without ``_base_`` and ``__dunder__`` names (as mmengine drops them)."""
        data: dict[str | int, object] = {}
        root = _Value(data, {(): (1, 1)})
        for name, (value, at) in self.evaluator.variables.items():
            if _is_config_key(name):
                data[name] = value.data
                root.nest(name, value, at)
        skipped = root.skipped + [s for name, s in self.skipped.items() if _is_config_key(name)]
        return Document(
            self.path, data, root.positions, tuple(sorted(skipped, key=lambda s: (s.line, s.col)))
        )

    def base_entries(self) -> list[tuple[str, Position]]:
        """The ``_base_`` paths with the position of each, or an error when they are not literal strings."""
        if BASE_KEY not in self.evaluator.variables and BASE_KEY not in self.skipped:
            return []
        value, at = self.evaluator.variables.get(BASE_KEY, (_Value(None), (1, 1)))
        if pieces := [self.skipped[BASE_KEY]] if BASE_KEY in self.skipped else value.skipped:
            msg = f"`_base_` must list its paths as string literals: {pieces[0].reason}"
            raise DocumentError(self.path, msg, pieces[0].line, pieces[0].col)
        if isinstance(value.data, str):
            return [(value.data, at)]
        if isinstance(value.data, list) and all(isinstance(entry, str) for entry in value.data):
            return [(str(entry), value.positions[(index,)]) for index, entry in enumerate(value.data)]
        msg = f"`_base_` must be a path or a list of paths, got {value.data!r}"
        raise DocumentError(self.path, msg, *at)


def _load(path: Path, chain: tuple[Path, ...]) -> Document:
    source = read_source(path)
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as err:
        raise DocumentError(path, f"invalid Python: {err.msg}", err.lineno, err.offset) from err
    except (ValueError, RecursionError) as err:
        raise DocumentError(path, f"invalid Python: {err}") from err
    module = _Module(path, source)
    try:
        module.run(tree)
    except RecursionError as err:
        raise DocumentError(path, "an expression is nested too deeply to evaluate") from err
    bases = [(_load_base(path, entry, at, chain), at) for entry, at in module.base_entries()]
    return _inherit(module.document(), bases) if bases else module.document()


def _load_base(child: Path, entry: str, at: Position, chain: tuple[Path, ...]) -> Document:
    if "::" in entry:
        msg = f"package-scoped base {entry!r} is not supported; give a path relative to {child.parent}"
        raise DocumentError(child, msg, *at)
    base = child.parent / entry
    if not base.is_file():
        raise DocumentError(child, f"base config {entry!r} not found (looked for {base})", *at)
    if base.resolve() in chain:
        cycle = " -> ".join(str(link) for link in (*chain, base.resolve()))
        raise DocumentError(child, f"`_base_` files include each other: {cycle}", *at)
    document = _load(base, (*chain, base.resolve())) if base.suffix == ".py" else load_document(base)
    if not isinstance(document.data, dict):
        msg = f"a base config must hold a mapping of variables, got {type(document.data).__name__}"
        raise DocumentError(base, msg)
    return document


def _inherit(child: Document, bases: list[tuple[Document, Position]]) -> Document:
    """Merge ``child`` over its bases as mmengine does; each position follows the value it describes."""
    located: dict[Loc, tuple[Path, Position]] = {}
    base_data: dict[str | int, object] = {}
    skipped: list[Skipped] = []
    for base, at in bases:
        if duplicates := sorted(map(str, _as_dict(base.data).keys() & base_data.keys())):
            msg = f"{base.path} defines {duplicates} again, and mmengine forbids a key in two bases"
            raise DocumentError(child.path, msg, *at)
        base_data.update(_as_dict(base.data))
        located.update({loc: (base.origins.get(loc, base.path), pos) for loc, pos in base.positions.items()})
        skipped.extend(replace(piece, file=piece.file or base.path) for piece in base.skipped)
    merged = _merge(_as_dict(child.data), base_data, (), child)
    located.update({loc: (child.path, pos) for loc, pos in child.positions.items()})
    kept = {loc: where for loc, where in located.items() if has_path(merged, loc)}
    live = [piece for piece in skipped if _still_missing(merged, piece.path)]
    origins = {loc: file for loc, (file, _) in kept.items() if file != child.path}
    positions = {loc: pos for loc, (_, pos) in kept.items()}
    return Document(child.path, merged, positions, (*child.skipped, *live), origins)


def _merge(child: _Dict, base: _Dict, loc: Loc, doc: Document) -> _Dict:
    merged = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and key in merged and not value.pop(DELETE_KEY, False):
            inherited = merged[key]
            if not isinstance(inherited, dict):
                raise _merge_conflict(doc, (*loc, key), inherited)
            merged[key] = _merge(value, inherited, (*loc, key), doc)
        else:
            merged[key] = value
    return merged


def _merge_conflict(doc: Document, loc: Loc, base_value: object) -> DocumentError:
    dotted = ".".join(map(str, loc))
    msg = (
        f"`{dotted}` is a dict here but a {type(base_value).__name__} in the base config, so the two cannot "
        "be merged; add `_delete_=True` to the dict to replace the base value"
    )
    return DocumentError(doc.path, msg, *position_of(doc, loc))


def _still_missing(merged: _Dict, loc: Loc) -> bool:
    """Whether a base's skipped piece still matters: the child neither set it nor replaced its container."""
    return not has_path(merged, loc) and has_path(merged, loc[:-1])


def _assigned_names(statement: ast.stmt, context: type[ast.expr_context]) -> list[ast.Name]:
    """Module-level names a statement binds (or deletes), including ``x`` in ``x[0] = ...``."""
    names: dict[str, ast.Name] = {}
    stack: list[ast.AST] = [] if isinstance(statement, _SCOPES) else [statement]
    while stack:
        node = stack.pop()
        target = _root_name(node) if isinstance(node, ast.Subscript | ast.Attribute) else node
        if isinstance(target, ast.Name) and isinstance(getattr(node, "ctx", None), context):
            names.setdefault(target.id, target)
        stack.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, _SCOPES))
    return list(names.values())


def _root_name(node: ast.expr) -> ast.Name | None:
    while isinstance(node, ast.Subscript | ast.Attribute):
        node = node.value
    return node if isinstance(node, ast.Name) else None


def _describe(node: ast.expr) -> str:
    """Why an expression cannot be evaluated, for ``Skipped.reason``."""
    text = _short(node)
    if BASE_KEY in text:
        return f"`{text}` refers to a variable of a base config, which is not resolved statically"
    if isinstance(node, ast.Call):
        return f"cannot evaluate a call to `{_short(node.func)}` statically"
    if isinstance(node, ast.Name):
        return f"`{node.id}` is not a variable assigned earlier in this file"
    return f"cannot evaluate {_KINDS.get(type(node), 'the expression')} `{text}` statically"


def _short(node: ast.AST) -> str:
    text = ast.unparse(node).split("\n")[0]
    return text if len(text) <= 60 else text[:57] + "..."


def _shifted(loc: Loc, shift: int) -> Loc:
    head = loc[0]
    return (head + shift, *loc[1:]) if isinstance(head, int) else loc


def _is_config_key(name: str) -> bool:
    return name != BASE_KEY and not name.startswith("__")


def _as_dict(data: object) -> _Dict:
    if not isinstance(data, dict):
        raise TypeError(f"expected a dict, got {type(data).__name__}")
    return data
