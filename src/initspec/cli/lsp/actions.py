"""Code actions: a quick fix per finding that has one (its exact edits), and "fix all" for the file.

Fix all is ``validate --fix`` on the buffer: every fix, round after round, through the same ``fixed_texts``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from lsprotocol import types

from initspec.cli._edits import Edit, TextFix
from initspec.cli._fix import fixed_texts
from initspec.cli.documents import Limits, Loader
from initspec.cli.findings import Results
from initspec.cli.lsp.positions import Encoding, lsp_range

__all__ = ["FIX_ALL_TITLE", "fix_all", "quick_fix"]

FIX_ALL_TITLE: Final = "initspec: fix all in file"


def quick_fix(
    uri: str, fix: TextFix, diagnostic: types.Diagnostic, lines: list[str], encoding: Encoding
) -> types.CodeAction:
    """The quick fix that makes exactly ``fix``'s edits, for ``diagnostic``."""
    edits = [_text_edit(edit, lines, encoding) for edit in fix.edits]
    return types.CodeAction(
        title=fix.title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=True,
        edit=types.WorkspaceEdit(changes={uri: edits}),
    )


def fix_all(
    uri: str,
    key: Path,
    buffer: str,
    buffers: Mapping[Path, str],
    check: Callable[[Loader], Results],
    limits: Limits,
    encoding: Encoding,
) -> types.CodeAction | None:
    """Every fix in the file at ``key``, as one edit of the whole buffer; None when there is none."""
    overlay, made = fixed_texts(check, limits, buffers)
    fixed = overlay.get(key)
    if not made.get(key) or fixed is None or fixed == buffers.get(key):
        return None
    lines = buffer.split("\n")
    whole = lsp_range(lines, (1, 1), (len(lines), len(lines[-1]) + 1), encoding)
    text = _as_buffer(fixed, buffer)
    return types.CodeAction(
        title=FIX_ALL_TITLE,
        kind=types.CodeActionKind.SourceFixAll,
        edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=whole, new_text=text)]}),
    )


def _as_buffer(text: str, buffer: str) -> str:
    """``text`` with the buffer's own BOM and line ends (the readers saw ``\\n`` and no BOM)."""
    newline = "\r\n" if "\r\n" in buffer else "\n"
    bom = "\ufeff" if buffer.startswith("\ufeff") else ""
    return bom + text.replace("\n", newline)


def _text_edit(edit: Edit, lines: Sequence[str], encoding: Encoding) -> types.TextEdit:
    span = lsp_range(list(lines), (edit.line, edit.col), (edit.end_line, edit.end_col), encoding)
    return types.TextEdit(range=span, new_text=edit.text)
