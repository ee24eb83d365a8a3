"""``initspec lsp`` over real stdio with a real LSP client (pytest-lsp): every capability on every format.

Each request is answered after the notifications sent before it (the server handles messages in order, and
publishes while it handles a notification), so awaiting a request is the barrier that makes a push visible:
no test waits on the clock.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from initspec.cli._edits import apply_edits
from initspec.cli._validate import Options, check
from initspec.cli.documents import Loader
from initspec.cli._settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "initspec", "lsp"],
    server_env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])},
)
LANGUAGES = {".py": "python", ".json": "json", ".yaml": "yaml", ".toml": "toml"}
TYPO = {
    ".py": "model = dict(\n    init_cfg=dict(type='Kaimng', layer='Conv2d'))\n",
    ".json": '{\n  "type": "Kaimng",\n  "layer": "Conv2d"\n}\n',
    ".yaml": "type: Kaimng\nlayer: Conv2d\n",
    ".toml": 'type = "Kaimng"\nlayer = "Conv2d"\n',
}
TYPO_AT = {".py": (1, 18), ".json": (1, 10), ".yaml": (0, 6), ".toml": (0, 7)}  # where 'Kaimng' starts


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """A client with an initialized session; shut down after the test."""
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


def _write(folder: Path, name: str, text: str) -> tuple[Path, str]:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path, path.as_uri()


def _open(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    language = LANGUAGES.get(Path(uri).suffix, "plaintext")
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, version, text)))


def _change(client: LanguageClient, uri: str, version: int, *changes: types.TextDocumentContentChangeEvent) -> None:
    document = types.VersionedTextDocumentIdentifier(uri=uri, version=version)
    client.text_document_did_change(types.DidChangeTextDocumentParams(document, list(changes)))


def _edit(line: int, col: int, end_col: int, text: str) -> types.TextDocumentContentChangePartial:
    span = types.Range(types.Position(line, col), types.Position(line, end_col))
    return types.TextDocumentContentChangePartial(range=span, text=text)


async def _barrier(client: LanguageClient, uri: str) -> None:
    """A request answered after every notification sent before it, and after what the server sent back."""
    await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 0)))


def _codes(client: LanguageClient, uri: str) -> list[tuple[str, int, int]]:
    return [(str(d.code), d.range.start.line, d.range.start.character) for d in client.diagnostics.get(uri, [])]


async def _complete(client: LanguageClient, uri: str, line: int, col: int) -> list[types.CompletionItem]:
    params = types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(line, col))
    result = await client.text_document_completion_async(params)
    assert isinstance(result, types.CompletionList)
    return list(result.items)


@pytest.mark.asyncio
@pytest.mark.parametrize("suffix", list(TYPO))
async def test_push_diagnostics_on_open_locate_the_typo(client: LanguageClient, tmp_path: Path, suffix: str) -> None:
    """An unknown type is pushed on open, as IS101 over the misspelt value, in every format."""
    path, uri = _write(tmp_path, f"cfg{suffix}", "")
    _open(client, uri, TYPO[suffix])
    await _barrier(client, uri)
    [diagnostic] = client.diagnostics[uri]
    assert (diagnostic.code, diagnostic.range.start.line) == ("IS101", TYPO_AT[suffix][0])
    assert "did you mean 'Kaiming'" in diagnostic.message
    assert diagnostic.severity == types.DiagnosticSeverity.Error


@pytest.mark.asyncio
@pytest.mark.parametrize("suffix", list(TYPO))
async def test_pull_diagnostics_answer_the_unsaved_buffer(client: LanguageClient, tmp_path: Path, suffix: str) -> None:
    """textDocument/diagnostic answers for the buffer as typed, not the file on disk (which is valid)."""
    path, uri = _write(tmp_path, f"cfg{suffix}", TYPO[suffix].replace("Kaimng", "Kaiming"))
    _open(client, uri, TYPO[suffix])
    report = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri))
    )
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    assert [(d.code, d.range.start.line) for d in report.items] == [("IS101", TYPO_AT[suffix][0])]


@pytest.mark.asyncio
async def test_incremental_changes_replace_the_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    """An incremental edit that fixes the typo clears it; one that breaks the syntax gives IS002 only."""
    path, uri = _write(tmp_path, "cfg.py", "")
    _open(client, uri, TYPO[".py"])
    await _barrier(client, uri)
    assert _codes(client, uri) == [("IS101", 1, 18)]
    _change(client, uri, 2, _edit(1, 24, 30, "Kaiming"))  # 'Kaimng' -> 'Kaiming'
    await _barrier(client, uri)
    assert _codes(client, uri) == []
    end = len("    init_cfg=dict(type='Kaiming', layer='Conv2d')")
    _change(client, uri, 3, _edit(1, end, end + 1, ""))  # a closing bracket deleted mid-edit
    await _barrier(client, uri)
    assert [code for code, _, _ in _codes(client, uri)] == ["IS002"]
    _change(client, uri, 4, _edit(1, end, end, ")"))
    await _barrier(client, uri)
    assert _codes(client, uri) == []


@pytest.mark.asyncio
async def test_full_sync_change_and_close(client: LanguageClient, tmp_path: Path) -> None:
    """A whole-text change is checked like an edit, and closing the document clears its diagnostics."""
    path, uri = _write(tmp_path, "cfg.yaml", "")
    _open(client, uri, "type: Kaiming\n")
    _change(client, uri, 2, types.TextDocumentContentChangeWholeDocument(text="type: Kaiming\nmodee: fan_in\n"))
    await _barrier(client, uri)
    assert _codes(client, uri) == [("IS102", 1, 0)]
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await _barrier(client, uri)  # closed: hover reads the file on disk
    assert list(client.diagnostics[uri]) == []


@pytest.mark.asyncio
async def test_a_base_problem_is_shown_in_the_base_and_an_unsaved_base_is_seen(
    client: LanguageClient, tmp_path: Path
) -> None:
    """A child reports its base's problem in the base file; editing the open base re-checks the child."""
    base, base_uri = _write(tmp_path, "base.py", "init_cfg = dict(type='Normal', stdd=0.01)\n")
    child, child_uri = _write(tmp_path, "child.py", "_base_ = ['base.py']\nmodel = dict(depth=50)\n")
    _open(client, child_uri, child.read_text(encoding="utf-8"))
    await _barrier(client, child_uri)
    assert _codes(client, base_uri) == [("IS102", 0, 31)]
    assert _codes(client, child_uri) == []
    _open(client, base_uri, "init_cfg = dict(type='Normal', std=0.01)\n")
    _change(client, base_uri, 2, _edit(0, 22, 28, "Nrmal"))
    await _barrier(client, child_uri)
    assert [code for code, _, _ in _codes(client, base_uri)] == ["IS101"]


@pytest.mark.asyncio
async def test_a_suppression_comment_hides_the_finding(client: LanguageClient, tmp_path: Path) -> None:
    """`# initspec: ignore[IS101]` on the line suppresses it in the editor as in validate."""
    path, uri = _write(tmp_path, "cfg.py", "")
    _open(client, uri, "init_cfg = dict(type='Kaimng')  # initspec: ignore[IS101]\n")
    await _barrier(client, uri)
    assert list(client.diagnostics[uri]) == []


@pytest.mark.asyncio
async def test_a_buffer_over_the_byte_cap_is_refused_with_one_diagnostic(client: LanguageClient, tmp_path: Path) -> None:
    """A 10 MB buffer is not parsed: one IS001 says why."""
    path, uri = _write(tmp_path, "big.json", "")
    _open(client, uri, '{"type": "Kaiming", "pad": "' + "x" * 10_000_001 + '"}')
    await _barrier(client, uri)
    [diagnostic] = client.diagnostics[uri]
    assert diagnostic.code == "IS001" and "over the 10,000,000-byte cap" in diagnostic.message


@pytest.mark.asyncio
async def test_a_py_config_is_never_executed(client: LanguageClient, tmp_path: Path) -> None:
    """A .py config whose code would write a file is read, not run: the file never appears."""
    marker = tmp_path / "ran"
    path, uri = _write(tmp_path, "cfg.py", "")
    _open(client, uri, f"open({str(marker)!r}, 'w').close()\ninit_cfg = dict(type='Kaiming', layer='Conv2d')\n")
    await _barrier(client, uri)
    assert not marker.exists()
    assert list(client.diagnostics[uri]) == []


@pytest.mark.asyncio
async def test_a_failing_request_answers_an_error_and_the_server_lives(client: LanguageClient, tmp_path: Path) -> None:
    """Hover on a document that is neither open nor on disk answers an error; the next request works."""
    missing = (tmp_path / "gone.py").as_uri()
    with pytest.raises(JsonRpcException, match="gone.py"):
        await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(missing), types.Position(0, 0)))
    path, uri = _write(tmp_path, "cfg.py", "")
    _open(client, uri, "init_cfg = dict(type='Kaiming', mode='')\n")
    labels = [item.label for item in await _complete(client, uri, 0, 38)]
    assert labels == ["fan_in", "fan_out"]
