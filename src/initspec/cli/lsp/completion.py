"""Completion inside an init_cfg dict: type names, the keys not yet set, and the values of closed sets."""

from __future__ import annotations

from typing import Final

from lsprotocol import types

from initspec.cli._edits import Syntax
from initspec.cli.lsp import catalog
from initspec.cli.lsp.context import Context, context_at

__all__ = ["TRIGGERS", "complete"]

TRIGGERS: Final = ["'", '"', "=", ":", "(", "{", ",", " "]
_VALUE_QUOTE: Final[dict[Syntax, str]] = {"python": "'", "json": '"', "toml": '"', "yaml": ""}


def complete(text: str, syntax: Syntax, line: int, col: int) -> list[types.CompletionItem]:
    """The completions at 0-based ``line``:``col`` (code points); none outside an init_cfg dict."""
    context = context_at(text, syntax, line, col)
    if context is None or not context.init_cfg:
        return []
    if context.key == "type":
        return [_type_item(found, context, syntax) for found in catalog.initializers()]
    if context.key is not None:
        argument = catalog.argument(context.type_name, context.key, override=context.override)
        values = argument.values if argument is not None else ()
        return [_value_item(value, context, syntax) for value in values]
    return _key_items(context, syntax)


def _quoted(value: str, context: Context, syntax: Syntax) -> str:
    quote = "" if context.quote else _VALUE_QUOTE[syntax]
    return f"{quote}{value}{quote}"


def _type_item(found: catalog.Initializer, context: Context, syntax: Syntax) -> types.CompletionItem:
    return types.CompletionItem(
        label=found.name,
        kind=types.CompletionItemKind.Class,
        detail=found.summary,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=found.markdown()),
        insert_text=_quoted(found.name, context, syntax),
    )


def _value_item(value: str, context: Context, syntax: Syntax) -> types.CompletionItem:
    return types.CompletionItem(
        label=value, kind=types.CompletionItemKind.EnumMember, insert_text=_quoted(value, context, syntax)
    )


def _key_items(context: Context, syntax: Syntax) -> list[types.CompletionItem]:
    owner = context.type_name or "init_cfg"
    found = list(catalog.arguments(context.type_name, override=context.override))
    items = []
    if "type" not in context.keys:
        items.append(_type_key(context, syntax))
    for rank, argument in enumerate(found, 1):
        if argument.name in context.keys:
            continue
        items.append(
            types.CompletionItem(
                label=argument.name,
                kind=types.CompletionItemKind.Property,
                detail=f"default: {argument.default}" if argument.default is not None else "required",
                documentation=types.MarkupContent(
                    kind=types.MarkupKind.Markdown, value=argument.markdown(owner)
                ),
                sort_text=f"{rank:03d}",
                insert_text=_key_text(argument.name, context, syntax),
            )
        )
    return items


def _type_key(context: Context, syntax: Syntax) -> types.CompletionItem:
    return types.CompletionItem(
        label="type",
        kind=types.CompletionItemKind.Property,
        detail="the initializer to apply (required)",
        sort_text="000",
        preselect=True,
        insert_text=_key_text("type", context, syntax),
    )


def _key_text(name: str, context: Context, syntax: Syntax) -> str:
    """``name=`` in ``dict(``, ``'name': `` in a Python dict, ``"name": `` in JSON, and so on."""
    if context.style == "call":
        return f"{name}="
    if context.style == "yaml":
        return f"{name}: "
    if context.style == "toml" or syntax == "toml":
        return f"{name} = "
    quote = "" if context.quote else _VALUE_QUOTE[syntax]
    return f"{quote}{name}{quote}: " if not context.quote else name
