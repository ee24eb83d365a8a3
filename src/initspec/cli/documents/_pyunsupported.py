"""What the `.py` reader raises for an expression it cannot evaluate statically, and how it quotes one."""

from __future__ import annotations

import ast
from typing import Final

__all__ = ["Unsupported", "describe", "short"]

_KINDS: Final[dict[type[ast.AST], str]] = {
    ast.BinOp: "the operation",
    ast.JoinedStr: "the f-string",
    ast.Lambda: "the lambda",
    ast.ListComp: "the comprehension",
    ast.DictComp: "the comprehension",
    ast.Subscript: "the subscript",
}


class Unsupported(Exception):
    """An expression that cannot be evaluated without running code."""

    def __init__(self, node: ast.AST, reason: str) -> None:
        super().__init__(reason)
        self.node, self.reason = node, reason


def short(node: ast.AST) -> str:
    """The expression's source on one line, at most 60 characters, for a message."""
    try:
        text = ast.unparse(node).split("\n")[0]
    except (ValueError, RecursionError, AttributeError):  # a huge literal, or a stand-in node
        text = type(node).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def describe(node: ast.AST) -> str:
    """Why an expression cannot be evaluated, for ``Skipped.reason``."""
    text = short(node)
    if isinstance(node, ast.Call):
        return f"cannot evaluate a call to `{short(node.func)}` statically"
    if isinstance(node, ast.Name):
        return f"`{node.id}` is not a variable assigned earlier in this file"
    return f"cannot evaluate {_KINDS.get(type(node), 'the expression')} `{text}` statically"
