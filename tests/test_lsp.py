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
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from initspec.cli._edits import Syntax, apply_edits
from initspec.cli._settings import Settings
from initspec.cli._validate import Options, check
from initspec.cli.documents import Loader
from initspec.cli.lsp.completion import complete
from initspec.cli.lsp.hover import hover_text

ROOT = Path(__file__).resolve().parents[1]
SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "initspec", "lsp"],
    server_env={
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    },
)
PLUGINS = ROOT / "tests" / "data" / "plugins"
WITH_PLUGIN = ClientServerConfig(
    server_command=[sys.executable, "-m", "initspec", "lsp", "--plugin", "lsp_demo_inits"],
    server_env={**SERVER.server_env, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(PLUGINS)])},
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


@pytest_lsp.fixture(config=WITH_PLUGIN)
async def plugin_client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """A client of a server started with ``--plugin lsp_demo_inits`` (it registers ``Hadamard``)."""
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


PULL_CAPABILITIES = types.ClientCapabilities(
    text_document=types.TextDocumentClientCapabilities(diagnostic=types.DiagnosticClientCapabilities()),
    workspace=types.WorkspaceClientCapabilities(
        diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    ),
)


@pytest_lsp.fixture(config=SERVER)
async def pull_client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """A client that pulls diagnostics, as VS Code's does (it counts the server's refresh requests)."""
    await lsp_client.initialize_session(types.InitializeParams(capabilities=PULL_CAPABILITIES))
    yield
    await lsp_client.shutdown_session()


def _write(folder: Path, name: str, text: str) -> tuple[Path, str]:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path, path.as_uri()


def _uri(folder: Path, name: str, text: str = "") -> str:
    return _write(folder, name, text)[1]


def _open(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    language = LANGUAGES.get(Path(uri).suffix, "plaintext")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, version, text))
    )


async def _checked(client: LanguageClient, folder: Path, name: str, text: str) -> str:
    """Open ``text`` as an (unsaved) buffer of ``folder/name`` and wait until its diagnostics are in."""
    uri = _uri(folder, name)
    _open(client, uri, text)
    await _barrier(client, uri)
    return uri


def _change(
    client: LanguageClient, uri: str, version: int, *changes: types.TextDocumentContentChangeEvent
) -> None:
    document = types.VersionedTextDocumentIdentifier(uri=uri, version=version)
    client.text_document_did_change(types.DidChangeTextDocumentParams(document, list(changes)))


def _edit(line: int, col: int, end_col: int, text: str) -> types.TextDocumentContentChangePartial:
    span = types.Range(types.Position(line, col), types.Position(line, end_col))
    return types.TextDocumentContentChangePartial(range=span, text=text)


async def _barrier(client: LanguageClient, uri: str) -> None:
    """A request answered after every notification sent before it, and after what the server sent back."""
    await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 0))
    )


def _codes(client: LanguageClient, uri: str) -> list[tuple[str, int, int]]:
    return [
        (str(d.code), d.range.start.line, d.range.start.character) for d in client.diagnostics.get(uri, [])
    ]


async def _complete(client: LanguageClient, uri: str, line: int, col: int) -> list[types.CompletionItem]:
    params = types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(line, col))
    result = await client.text_document_completion_async(params)
    assert isinstance(result, types.CompletionList)
    return list(result.items)


@pytest.mark.asyncio
@pytest.mark.parametrize("suffix", list(TYPO))
async def test_push_diagnostics_on_open_locate_the_typo(
    client: LanguageClient, tmp_path: Path, suffix: str
) -> None:
    """An unknown type is pushed on open, as IS101 over the misspelt value, in every format."""
    uri = await _checked(client, tmp_path, f"cfg{suffix}", TYPO[suffix])
    [diagnostic] = client.diagnostics[uri]
    assert (diagnostic.code, diagnostic.range.start.line) == ("IS101", TYPO_AT[suffix][0])
    assert "did you mean 'Kaiming'" in diagnostic.message
    assert diagnostic.severity == types.DiagnosticSeverity.Error


@pytest.mark.asyncio
@pytest.mark.parametrize("suffix", list(TYPO))
async def test_pull_diagnostics_answer_the_unsaved_buffer(
    client: LanguageClient, tmp_path: Path, suffix: str
) -> None:
    """textDocument/diagnostic answers for the buffer as typed, not the file on disk (which is valid)."""
    uri = _uri(tmp_path, f"cfg{suffix}", TYPO[suffix].replace("Kaimng", "Kaiming"))
    _open(client, uri, TYPO[suffix])
    report = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri))
    )
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    assert [(d.code, d.range.start.line) for d in report.items] == [("IS101", TYPO_AT[suffix][0])]


@pytest.mark.asyncio
async def test_incremental_changes_replace_the_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    """An incremental edit that fixes the typo clears it; one that breaks the syntax gives IS002 only."""
    uri = await _checked(client, tmp_path, "cfg.py", TYPO[".py"])
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
    uri = _uri(tmp_path, "cfg.yaml", "")
    _open(client, uri, "type: Kaiming\n")
    _change(
        client, uri, 2, types.TextDocumentContentChangeWholeDocument(text="type: Kaiming\nmodee: fan_in\n")
    )
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
    base_uri = _uri(tmp_path, "base.py", "init_cfg = dict(type='Normal', stdd=0.01)\n")
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
    uri = await _checked(
        client, tmp_path, "cfg.py", "init_cfg = dict(type='Kaimng')  # initspec: ignore[IS101]\n"
    )
    assert list(client.diagnostics[uri]) == []


@pytest.mark.asyncio
async def test_a_buffer_over_the_byte_cap_is_refused_with_one_diagnostic(
    client: LanguageClient, tmp_path: Path
) -> None:
    """A 10 MB buffer is not parsed: one IS001 says why."""
    uri = await _checked(
        client, tmp_path, "big.json", '{"type": "Kaiming", "pad": "' + "x" * 10_000_001 + '"}'
    )
    [diagnostic] = client.diagnostics[uri]
    assert diagnostic.code == "IS001" and "over the 10,000,000-byte cap" in diagnostic.message


@pytest.mark.asyncio
async def test_a_py_config_is_never_executed(client: LanguageClient, tmp_path: Path) -> None:
    """A .py config whose code would write a file is read, not run: the file never appears."""
    marker = tmp_path / "ran"
    uri = _uri(tmp_path, "cfg.py", "")
    _open(
        client, uri, f"open({str(marker)!r}, 'w').close()\ninit_cfg = dict(type='Kaiming', layer='Conv2d')\n"
    )
    await _barrier(client, uri)
    assert not marker.exists()
    assert list(client.diagnostics[uri]) == []


@pytest.mark.asyncio
async def test_a_failing_request_answers_an_error_and_the_server_lives(
    client: LanguageClient, tmp_path: Path
) -> None:
    """Hover on a document that is neither open nor on disk answers an error; the next request works."""
    missing = (tmp_path / "gone.py").as_uri()
    with pytest.raises(JsonRpcException, match=r"gone\.py"):
        await client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(missing), types.Position(0, 0))
        )
    uri = _uri(tmp_path, "cfg.py", "")
    _open(client, uri, "init_cfg = dict(type='Kaiming', mode='')\n")
    labels = [item.label for item in await _complete(client, uri, 0, 38)]
    assert labels == ["fan_in", "fan_out"]


def _cursor(text: str) -> tuple[str, int, int]:
    """``text`` without its ``|``, and the 0-based line and column where it was."""
    before, _, after = text.partition("|")
    return before + after, before.count("\n"), len(before) - (before.rfind("\n") + 1)


async def _complete_at(
    client: LanguageClient, folder: Path, suffix: str, marked: str
) -> list[types.CompletionItem]:
    text, line, col = _cursor(marked)
    uri = _uri(folder, f"cfg{suffix}", "")
    _open(client, uri, text)
    return await _complete(client, uri, line, col)


TYPE_VALUE = {
    ".py": "model = dict(init_cfg=dict(type='|'))\n",
    ".json": '{"type": "|"}\n',
    ".yaml": "init_cfg:\n  - type: |\n",
    ".toml": '[[init_cfg]]\ntype = "|"\n',
}
KEYS = {
    ".py": "init_cfg = [dict(type='Kaiming', mode='fan_in', |)]\n",
    ".json": '[{"type": "Kaiming", "mode": "fan_in", |}]\n',
    ".yaml": "type: Kaiming\n|\nmode: fan_in\n",
    ".toml": '[model.init_cfg]\ntype = "Kaiming"\nmode = "fan_in"\n|\n',
}
CLOSED = {
    ".py": "init_cfg = dict(type='Kaiming', nonlinearity='|')\n",
    ".json": '{"type": "Kaiming", "nonlinearity": "|"}\n',
    ".yaml": "type: Kaiming\nnonlinearity: |\n",
    ".toml": 'init_cfg = {type = "Kaiming", nonlinearity = "|"}\n',
}
KAIMING_ARGS = ["layer", "bias", "bias_prob", "override", "a", "mode", "nonlinearity", "distribution"]


@pytest.mark.asyncio
@pytest.mark.parametrize("suffix", list(TYPE_VALUE))
async def test_type_completion_offers_every_registered_initializer(
    client: LanguageClient, tmp_path: Path, suffix: str
) -> None:
    """After `type`, every registered type is offered with its one-line summary."""
    from initspec.configs import INITIALIZERS

    items = await _complete_at(client, tmp_path, suffix, TYPE_VALUE[suffix])
    assert [item.label for item in items] == list(INITIALIZERS.names)
    kaiming = next(item for item in items if item.label == "Kaiming")
    assert kaiming.detail is not None and kaiming.detail.startswith("Kaiming (He) initialization")


@pytest.mark.asyncio
@pytest.mark.parametrize("suffix", list(KEYS))
async def test_key_completion_offers_the_arguments_not_yet_set(
    client: LanguageClient, tmp_path: Path, suffix: str
) -> None:
    """At a key, the type's arguments not yet set are offered, each with its default."""
    items = await _complete_at(client, tmp_path, suffix, KEYS[suffix])
    assert [item.label for item in items] == [name for name in KAIMING_ARGS if name != "mode"]
    assert next(item.detail for item in items if item.label == "distribution") == 'default: "normal"'


@pytest.mark.asyncio
@pytest.mark.parametrize("suffix", list(CLOSED))
async def test_closed_set_completion_offers_its_values(
    client: LanguageClient, tmp_path: Path, suffix: str
) -> None:
    """At the value of a closed-set argument, exactly its values are offered."""
    items = await _complete_at(client, tmp_path, suffix, CLOSED[suffix])
    assert "leaky_relu" in [item.label for item in items] and len(items) == 12


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("init_cfg = dict(|)\n", ["type"]),
        ("init_cfg = dict(type='Normal', layer='Linear', override=dict(|))\n", ["type", "name"]),
        (
            "init_cfg = dict(type='Normal', override=[dict(name='fc', type='Constant', |)])\n",
            ["layer", "bias", "bias_prob", "val"],
        ),
    ],
)
async def test_type_comes_first_and_an_override_offers_name_and_its_keys(
    client: LanguageClient, tmp_path: Path, marked: str, expected: list[str]
) -> None:
    """`type` is offered first when missing; an override offers `name` and its type's keys, never `override`."""
    items = await _complete_at(client, tmp_path, ".py", marked)
    ordered = sorted(items, key=lambda item: item.sort_text or "")
    assert [item.label for item in ordered] == expected


@pytest.mark.asyncio
async def test_no_completion_outside_an_init_cfg(client: LanguageClient, tmp_path: Path) -> None:
    """A dict that is not an init_cfg gets no initializer keys."""
    assert await _complete_at(client, tmp_path, ".py", "model = dict(type='ResNet', |)\n") == []


HOVER = {
    ".py": "init_cfg = dict(type='Kaiming', mode='fan_in')\n",
    ".json": '{"type": "Kaiming", "mode": "fan_in"}\n',
    ".yaml": "type: Kaiming\nmode: fan_in\n",
    ".toml": 'type = "Kaiming"\nmode = "fan_in"\n',
}


async def _hover(client: LanguageClient, uri: str, text: str, word: str) -> str | None:
    offset = text.index(word) + 1
    line = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1)
    found = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line, col))
    )
    if found is None:
        return None
    assert isinstance(found.contents, types.MarkupContent)
    return found.contents.value


@pytest.mark.asyncio
@pytest.mark.parametrize("suffix", list(HOVER))
async def test_hover_shows_the_schema_text_of_a_type_and_an_argument(
    client: LanguageClient, tmp_path: Path, suffix: str
) -> None:
    """Hover on the type shows its description; on an argument, its description, default and values."""
    from initspec.schema import init_cfg_json_schema

    definitions = init_cfg_json_schema()["definitions"]
    uri = _uri(tmp_path, f"cfg{suffix}", "")
    _open(client, uri, HOVER[suffix])
    on_type = await _hover(client, uri, HOVER[suffix], "Kaiming")
    on_mode = await _hover(client, uri, HOVER[suffix], "mode")
    assert on_type is not None and definitions["Kaiming"]["description"] in on_type
    assert on_mode is not None and definitions["Kaiming"]["properties"]["mode"]["description"] in on_mode
    assert 'Default: `"fan_out"`' in on_mode and "`fan_in`, `fan_out`" in on_mode


@pytest.mark.asyncio
async def test_hover_shows_a_range(client: LanguageClient, tmp_path: Path) -> None:
    """An argument with bounds shows them."""
    text = "init_cfg = dict(type='Kaiming', bias_prob=0.01)\n"
    uri = _uri(tmp_path, "cfg.py", "")
    _open(client, uri, text)
    assert "Range: > 0, < 1" in (await _hover(client, uri, text, "bias_prob") or "")


FIXABLE = {
    ".py": "init_cfg = dict(type='Kaimng', layer='Conv2d', modee='fan_in')\n",
    ".json": '{"type": "Kaimng", "layer": "Conv2d", "modee": "fan_in"}\n',
    ".yaml": "type: Kaimng\nlayer: Conv2d\nmodee: fan_in\n",
    ".toml": 'type = "Kaimng"\nlayer = "Conv2d"\nmodee = "fan_in"\n',
}


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (ASCII text, so columns are code points) to ``text``."""
    lines = text.split("\n")
    starts = [sum(len(line) + 1 for line in lines[:row]) for row in range(len(lines))]
    spans = sorted(
        (
            (
                starts[e.range.start.line] + e.range.start.character,
                starts[e.range.end.line] + e.range.end.character,
                e.new_text,
            )
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


async def _actions(
    client: LanguageClient, uri: str, span: types.Range, only: list[str]
) -> list[types.CodeAction]:
    context = types.CodeActionContext(diagnostics=list(client.diagnostics.get(uri, [])), only=only)
    found = await client.text_document_code_action_async(
        types.CodeActionParams(types.TextDocumentIdentifier(uri), span, context)
    )
    return [action for action in found or [] if isinstance(action, types.CodeAction)]


@pytest.mark.asyncio
@pytest.mark.parametrize("suffix", list(FIXABLE))
async def test_quick_fix_makes_exactly_the_validate_fix(
    client: LanguageClient, tmp_path: Path, suffix: str
) -> None:
    """The quick fix for the misspelt type makes the same edit `validate --fix` makes, and nothing else."""
    text = FIXABLE[suffix]
    path, uri = _write(tmp_path, f"cfg{suffix}", text)
    _open(client, uri, text)
    await _barrier(client, uri)
    [typo] = [d for d in client.diagnostics[uri] if d.code == "IS101"]
    [fix] = [
        a
        for a in await _actions(client, uri, typo.range, [types.CodeActionKind.QuickFix])
        if a.diagnostics and a.diagnostics[0].code == "IS101"
    ]
    assert fix.kind == types.CodeActionKind.QuickFix and fix.edit is not None and fix.edit.changes is not None
    results = check([path], Loader(), Settings(root=tmp_path), Options())
    [expected] = [d.fix for d in results.diagnostics if d.code == "IS101"]
    assert expected is not None
    assert _apply(text, list(fix.edit.changes[uri])) == apply_edits(text, expected.edits)[0]
    assert _apply(text, list(fix.edit.changes[uri])) == text.replace("Kaimng", "Kaiming")


@pytest.mark.asyncio
@pytest.mark.parametrize("suffix", list(FIXABLE))
async def test_fix_all_applies_every_fix_in_the_file(
    client: LanguageClient, tmp_path: Path, suffix: str
) -> None:
    """source.fixAll fixes both the type and the key it reveals, as `validate --fix` does."""
    text = FIXABLE[suffix]
    uri = await _checked(client, tmp_path, f"cfg{suffix}", text)
    [action] = await _actions(
        client,
        uri,
        types.Range(types.Position(0, 0), types.Position(0, 0)),
        [types.CodeActionKind.SourceFixAll],
    )
    assert action.edit is not None and action.edit.changes is not None
    assert _apply(text, list(action.edit.changes[uri])) == text.replace("Kaimng", "Kaiming").replace(
        "modee", "mode"
    )


@pytest.mark.asyncio
async def test_positions_count_utf16_units_after_a_non_bmp_character(
    client: LanguageClient, tmp_path: Path
) -> None:
    """An emoji before a finding on its line moves the LSP column by two UTF-16 units, not one."""
    uri = _uri(tmp_path, "cfg.py", "")
    text = "model = dict(note='😀', init_cfg=dict(type='Kaimng', layer='Conv2d'))\n"
    _open(client, uri, text)
    await _barrier(client, uri)
    [diagnostic] = client.diagnostics[uri]
    assert diagnostic.range.start.character == text.index("type") + 1
    assert diagnostic.range.end.character == text.index("type") + 1 + len("type")


def test_the_latency_benchmark_runs_and_reports_both_figures(tmp_path: Path) -> None:
    """``benchmarks/lsp_latency.py --smoke`` edits, completes, and reports the samples (nothing timed here)."""
    import json
    import subprocess

    out = tmp_path / "latency.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "lsp_latency.py"), "--smoke", "--json", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["lines"] >= 300 and result["edits"] == 3
    assert len(result["diagnostics_ms"]) == 3 and len(result["completion_ms"]) == 3
    assert "didChange -> publishDiagnostics: median" in done.stdout and "completion: median" in done.stdout


@pytest.mark.asyncio
async def test_a_plugin_initializer_is_completed_checked_and_hovered(
    plugin_client: LanguageClient, tmp_path: Path
) -> None:
    """With --plugin, a registered type is offered after `type`, its keys are offered, and it validates."""
    client = plugin_client
    names = [
        item.label for item in await _complete_at(client, tmp_path, ".py", "init_cfg = dict(type='|')\n")
    ]
    assert names[-1] == "Hadamard"
    keys = await _complete_at(
        client, tmp_path, ".py", "init_cfg = dict(type='Hadamard', layer='Linear', |)\n"
    )
    assert "gain" in [item.label for item in keys]
    text = "init_cfg = dict(type='Hadamard', layer='Linear', gain=2.0)\n"
    uri = _uri(tmp_path, "valid.py")
    _open(client, uri, text)
    await _barrier(client, uri)
    assert list(client.diagnostics[uri]) == []
    assert "A Hadamard-like orthogonal weight" in (await _hover(client, uri, text, "Hadamard") or "")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("suffix", "marked"),
    [
        (
            ".yaml",
            "init_cfg:\n  - type: Normal\n    layer: Linear\n    override:\n      name: head\n      type: Constant\n      |\n",
        ),
        (
            ".json",
            '{"model": {"init_cfg": {"type": "Normal", "override": [{"name": "head", "type": "Constant", |}]}}}\n',
        ),
        (
            ".toml",
            '[[init_cfg]]\ntype = "Normal"\n[init_cfg.override]\nname = "head"\ntype = "Constant"\n|\n',
        ),
    ],
)
async def test_override_keys_in_data_formats(
    client: LanguageClient, tmp_path: Path, suffix: str, marked: str
) -> None:
    """Inside an override written in YAML, JSON or TOML, the keys of its own type are offered, never `override`."""
    labels = [item.label for item in await _complete_at(client, tmp_path, suffix, marked)]
    assert labels == ["layer", "bias", "bias_prob", "val"]


@pytest.mark.asyncio
async def test_per_file_ignores_in_pyproject_are_honoured(client: LanguageClient, tmp_path: Path) -> None:
    """`[tool.initspec] per-file-ignores` in the nearest pyproject.toml drops the code there, as validate does."""
    _write(tmp_path, "pyproject.toml", '[tool.initspec]\nper-file-ignores = { "legacy_*.py" = ["IS101"] }\n')
    ignored, kept = _uri(tmp_path, "legacy_a.py"), _uri(tmp_path, "new_a.py")
    for uri in (ignored, kept):
        _open(client, uri, "init_cfg = dict(type='Kaimng')\n")
    await _barrier(client, kept)
    assert list(client.diagnostics[ignored]) == []
    assert [code for code, _, _ in _codes(client, kept)] == ["IS101"]


@pytest.mark.asyncio
async def test_fix_all_keeps_the_buffers_crlf_line_ends(client: LanguageClient, tmp_path: Path) -> None:
    """A CRLF buffer is checked as the readers see it, and fix all writes CRLF back."""
    text = "x = 1\r\ninit_cfg = dict(type='Kaimng', layer='Conv2d')\r\n"
    uri = _uri(tmp_path, "crlf.py")
    _open(client, uri, text)
    await _barrier(client, uri)
    assert _codes(client, uri) == [("IS101", 1, 16)]
    whole = types.Range(types.Position(0, 0), types.Position(0, 0))
    [action] = await _actions(client, uri, whole, [types.CodeActionKind.SourceFixAll])
    assert action.edit is not None and action.edit.changes is not None
    [edit] = action.edit.changes[uri]
    assert edit.new_text == text.replace("Kaimng", "Kaiming")


async def _pull(client: LanguageClient, uri: str) -> list[tuple[str, int]]:
    report = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri))
    )
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    return [(str(d.code), d.range.start.line) for d in report.items]


@pytest.mark.asyncio
async def test_a_pulling_client_gets_no_pushes_and_is_asked_to_pull_a_base(
    pull_client: LanguageClient, tmp_path: Path
) -> None:
    """A client that pulls gets nothing pushed (it would show it twice); a child's edit that changes what its
    base shows asks it to pull again, and the pull answers it.
    """
    client = pull_client
    base = "init_cfg = dict(type='Normal', layer='Linear', std=0.01)\n"
    base_uri = _uri(tmp_path, "base.py", base)
    child_uri = await _checked(client, tmp_path, "child.py", "_base_ = ['base.py']\n")
    assert await _pull(client, child_uri) == [] and await _pull(client, base_uri) == []
    _change(client, child_uri, 2, _edit(0, 0, 0, "init_cfg = dict(type='Nrmal')\n"))
    await _barrier(client, child_uri)
    assert await _pull(client, child_uri) == [("IS101", 0)]
    await _checked(client, tmp_path, "base.py", base)
    asked = client.diagnostic_refresh_count
    _change(client, base_uri, 2, _edit(0, base.index("std"), base.index("std") + 3, "stdd"))
    await _barrier(client, base_uri)
    assert client.diagnostic_refresh_count == asked + 1  # the child's view of the base changed
    assert await _pull(client, base_uri) == [("IS102", 0)]
    assert client.diagnostics == {}


def test_without_the_lsp_extra_the_command_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`initspec lsp` without pygls exits 2 and names the extra to install."""
    from initspec.cli import main

    monkeypatch.setitem(sys.modules, "pygls", None)
    monkeypatch.setitem(sys.modules, "pygls.lsp.server", None)
    monkeypatch.setitem(sys.modules, "initspec.cli.lsp.server", None)
    assert main(["lsp"]) == 2
    assert "pip install 'initspec[lsp]'" in capsys.readouterr().err


_ALPHABET = "ab_ ='\"\n:,()[]{}#-type init_cfg override dict mode Kaiming\t\\😀"


@given(
    text=st.text(alphabet=_ALPHABET, max_size=120),
    syntax=st.sampled_from(["python", "json", "yaml", "toml"]),
    line=st.integers(0, 8),
    col=st.integers(0, 40),
)
@settings(max_examples=300, deadline=None)
def test_completion_and_hover_never_raise_on_any_text(text: str, syntax: Syntax, line: int, col: int) -> None:
    """Half-typed text of any shape gives completions or none, a hover or none, and never an exception."""
    assert isinstance(complete(text, syntax, line, col), list)
    found = hover_text(text, syntax, line, col)
    assert found is None or isinstance(found[0], str)
