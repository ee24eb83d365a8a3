"""``initspec lsp``: the language server, on stdio, over the validate engine (pygls).

Each open buffer is checked as typed (the open buffers are the loader's overlay); findings are pushed on
open and change and answered on a pull. Nothing is ever executed: ``.py`` configs are read from their syntax
tree, as ``initspec validate`` reads them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from initspec import __version__
from initspec.cli._edits import Syntax, syntax_of
from initspec.cli.documents._bases import file_key
from initspec.cli.lsp import actions, catalog, completion, hover
from initspec.cli.lsp.board import Board, Entry
from initspec.cli.lsp.diagnostics import Checker, as_text, to_lsp
from initspec.cli.lsp.positions import Encoding, code_points, lsp_position

__all__ = ["InitspecServer", "build_server"]

_LOG: Final = logging.getLogger("initspec.lsp")


class InitspecServer(LanguageServer):
    """The server's state: the checker, what each document said, and what each one reads."""

    def __init__(self) -> None:
        super().__init__(
            "initspec", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.checker = Checker()
        self.board = Board()
        self.deps: dict[str, frozenset[Path]] = {}
        self.versions: dict[str, int | None] = {}  # the version of each open document last checked

    @property
    def pulls(self) -> bool:
        """Whether the client pulls diagnostics: then it gets no pushes, which it would show twice."""
        text_document = self.client_capabilities.text_document
        return text_document is not None and text_document.diagnostic is not None

    def current(self, uri: str) -> bool:
        """Whether what the board holds for open ``uri`` was found in the buffer as it is now."""
        document = self.workspace.text_documents.get(uri)
        return document is not None and uri in self.versions and self.versions[uri] == document.version

    @property
    def encoding(self) -> Encoding:
        return str(self.workspace.position_encoding or types.PositionEncodingKind.Utf16)

    def buffers(self) -> dict[Path, str]:
        """Every open buffer by file, as the readers see it."""
        found: dict[Path, str] = {}
        for uri, document in self.workspace.text_documents.items():
            path = _path(uri)
            if path is not None:
                found[file_key(path)] = as_text(document.source)
        return found

    def refresh(self, uri: str, *, dependents: bool) -> set[str]:
        """Check ``uri`` and publish what changed; with ``dependents``, also the open children that read it.

        Returns the URIs whose diagnostics may have changed.
        """
        path = _path(uri)
        if path is None or syntax_of(path.suffix) is None:
            return set()
        buffers = self.buffers()
        checked = self.checker.check(path, buffers)
        uris = self._uris()
        found: dict[str, list[Entry]] = {}
        for file, diagnostics in checked.by_file.items():
            lines = _lines(file, buffers)
            target = uris.get(file) or from_fs_path(str(file)) or file.as_uri()
            found[target] = [Entry(to_lsp(d, lines, self.encoding), d.fix) for d in diagnostics]
        self.deps[uri] = checked.deps
        document = self.workspace.text_documents.get(uri)
        self.versions[uri] = document.version if document is not None else None
        touched = self.board.replace(uri, found)
        if dependents:
            touched |= self.refresh_children(path, uri)
        self.publish(touched)
        return touched

    def refresh_children(self, path: Path, uri: str) -> set[str]:
        """Check again each open document that reads ``path`` through its ``_base_`` chain."""
        key = file_key(path)
        touched: set[str] = set()
        for child, deps in list(self.deps.items()):
            if child != uri and key in deps and child in self.workspace.text_documents:
                touched |= self.refresh(child, dependents=False)
        return touched

    def forget(self, uri: str) -> set[str]:
        """A document was closed: drop what it said, and let its open children read the file on disk."""
        self.deps.pop(uri, None)
        self.versions.pop(uri, None)
        touched = self.board.forget(uri)
        self.publish(touched)
        path = _path(uri)
        return touched | (self.refresh_children(path, uri) if path is not None else set())

    def ask_to_pull(self, touched: set[str], uri: str) -> None:
        """A pulling client re-pulls on its own the document it changed; for the others it is asked to."""
        workspace = self.client_capabilities.workspace
        refresh = (
            workspace is not None
            and workspace.diagnostics is not None
            and workspace.diagnostics.refresh_support
        )
        if self.pulls and refresh and touched - {uri}:
            self.workspace_diagnostic_refresh(None)

    def publish(self, targets: set[str]) -> None:
        if self.pulls:
            return
        for target in sorted(targets):
            diagnostics = [entry.diagnostic for entry in self.board.entries(target)]
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=target, diagnostics=diagnostics)
            )

    def _uris(self) -> dict[Path, str]:
        return {file_key(p): uri for uri in self.workspace.text_documents if (p := _path(uri)) is not None}

    def text_at(self, uri: str) -> tuple[str, Syntax, list[str]] | None:
        """The buffer of ``uri`` as the readers see it, its syntax and its lines; None for other files."""
        path = _path(uri)
        syntax = syntax_of(path.suffix) if path is not None else None
        if syntax is None:
            return None
        text = as_text(self.workspace.get_text_document(uri).source)
        return text, syntax, text.split("\n")

    def column(self, lines: list[str], position: types.Position) -> int:
        line = lines[position.line] if 0 <= position.line < len(lines) else ""
        return code_points(line, position.character, self.encoding)


def _path(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path) if path else None


def _lines(file: Path, buffers: dict[Path, str]) -> list[str]:
    text = buffers.get(file)
    if text is None:
        try:
            text = as_text(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            text = ""
    return text.split("\n")


def build_server() -> InitspecServer:
    """The server with every feature registered; ``start_io()`` runs it."""
    server = InitspecServer()

    @server.feature(types.INITIALIZED)
    def initialized(ls: InitspecServer, params: types.InitializedParams) -> None:
        catalog.initializers()  # the schema is built once, now, not on the first completion

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: InitspecServer, params: types.DidOpenTextDocumentParams) -> None:
        _guarded(ls, params.text_document.uri, dependents=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: InitspecServer, params: types.DidChangeTextDocumentParams) -> None:
        _guarded(ls, params.text_document.uri, dependents=True)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: InitspecServer, params: types.DidSaveTextDocumentParams) -> None:
        _guarded(ls, params.text_document.uri, dependents=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: InitspecServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.ask_to_pull(ls.forget(uri), uri)

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="initspec", inter_file_dependencies=True, workspace_diagnostics=False
        ),
    )
    def pull(ls: InitspecServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        uri = params.text_document.uri
        if not ls.current(uri):
            ls.refresh(uri, dependents=False)
        items = [entry.diagnostic for entry in ls.board.entries(uri)]
        return types.RelatedFullDocumentDiagnosticReport(items=items)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=completion.TRIGGERS)
    )
    def complete(ls: InitspecServer, params: types.CompletionParams) -> types.CompletionList:
        found = ls.text_at(params.text_document.uri)
        if found is None:
            return types.CompletionList(is_incomplete=False, items=[])
        text, syntax, lines = found
        column = ls.column(lines, params.position)
        items = completion.complete(text, syntax, params.position.line, column)
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: InitspecServer, params: types.HoverParams) -> types.Hover | None:
        found = ls.text_at(params.text_document.uri)
        if found is None:
            return None
        text, syntax, lines = found
        row = params.position.line
        shown = hover.hover_text(text, syntax, row, ls.column(lines, params.position))
        if shown is None:
            return None
        markdown, (start, end) = shown
        span = types.Range(
            start=lsp_position(lines, row + 1, start + 1, ls.encoding),
            end=lsp_position(lines, row + 1, end + 1, ls.encoding),
        )
        return hover.as_hover(markdown, span)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll]
        ),
    )
    def code_actions(ls: InitspecServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return _code_actions(ls, params)

    return server


def _guarded(ls: InitspecServer, uri: str, *, dependents: bool) -> None:
    """Check a document; a failure is logged (and shown in the client's log), and the server goes on."""
    try:
        ls.ask_to_pull(ls.refresh(uri, dependents=dependents), uri)
    except Exception as error:
        _LOG.exception("initspec lsp: checking %s failed", uri)
        message = f"initspec: checking {uri} failed: {type(error).__name__}: {error}"
        ls.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=message))


def _code_actions(ls: InitspecServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    found = ls.text_at(uri)
    path = _path(uri)
    if found is None or path is None:
        return []
    _, _, lines = found
    only = params.context.only
    wanted = {kind: only is None or any(kind.value.startswith(k) for k in only) for kind in _KINDS}
    entries = [e for e in ls.board.entries(uri) if e.fix is not None]
    result = []
    if wanted[types.CodeActionKind.QuickFix]:
        result += [
            actions.quick_fix(uri, e.fix, e.diagnostic, lines, ls.encoding)
            for e in entries
            if e.fix is not None and _overlaps(e.diagnostic.range, params.range)
        ]
    if wanted[types.CodeActionKind.SourceFixAll] and entries:
        buffers = ls.buffers()
        run, limits = ls.checker.runner(path)
        buffer = ls.workspace.get_text_document(uri).source
        every = actions.fix_all(uri, file_key(path), buffer, buffers, run, limits, ls.encoding)
        result += [every] if every is not None else []
    return result


_KINDS: Final = (types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def serve() -> int:
    """Run the server on stdin and stdout until the client exits it."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    build_server().start_io()
    return 0
