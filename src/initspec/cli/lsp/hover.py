"""Hover on an initializer's name or on one of its arguments: the schema's description, default and range."""

from __future__ import annotations

from lsprotocol import types

from initspec.cli._edits import Syntax
from initspec.cli.lsp import catalog
from initspec.cli.lsp.context import context_at
from initspec.cli.lsp.positions import word_at

__all__ = ["as_hover", "hover_text"]


def hover_text(text: str, syntax: Syntax, line: int, col: int) -> tuple[str, tuple[int, int]] | None:
    """The Markdown to show for the word at 0-based ``line``:``col``, and that word's span; None if none."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        return None
    span = word_at(lines[line], col)
    if span is None:
        return None
    word = lines[line][span[0] : span[1]]
    context = context_at(text, syntax, line, span[0])
    if context is None or not context.init_cfg:
        return None
    if context.key == "type":
        found = catalog.initializer(word)
        return (found.markdown(), span) if found else None
    name = word if context.key is None else context.key
    if name == "type":
        names = ", ".join(f"`{found.name}`" for found in catalog.initializers())
        return (
            f"**type**\n\nThe initializer to apply; the other keys are its arguments. One of {names}.",
            span,
        )
    argument = catalog.argument(context.type_name, name, override=context.override)
    owner = context.type_name or "init_cfg"
    return (argument.markdown(owner), span) if argument is not None else None


def as_hover(markdown: str, span: types.Range) -> types.Hover:
    """The LSP answer: ``markdown`` shown for the word over ``span``."""
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown), range=span
    )
