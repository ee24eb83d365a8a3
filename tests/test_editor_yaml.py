"""What YAML editors show for the committed schema, through Red Hat's yaml-language-server over LSP (stdio).

VS Code's YAML extension, Neovim and JetBrains all run this server. Documents are associated with the schema
both ways users do it: a `# yaml-language-server: $schema=` modeline, and the `yaml.schemas` setting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

import initspec
from conftest import LocalServer
from editor.lsp import (
    LanguageServer,
    cursor,
    expand_snippet,
    file_uri,
    poll,
    require_node_package,
    unescape_markdown,
)
from initspec import parse_init_cfg
from initspec.cli import main
from initspec.configs import INITIALIZERS, Mode
from initspec.schema import init_cfg_json_schema
from test_docs import fenced_blocks

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "schemas" / "init_cfg.schema.json"
CATALOG_ENTRY = ROOT / "schemas" / "catalog-entry.json"
EDITOR_DOC = ROOT / "docs" / "editor.md"
YAML_SECTION = "## YAML files: yaml-language-server"
SERVER = ROOT / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
MODELINE = "# yaml-language-server: $schema=../schemas/init_cfg.schema.json\n"
SETTINGS_GLOB = "*.init_cfg.yaml"
ASSOCIATIONS = ("modeline", "settings")
CAPABILITIES = {
    "workspace": {"configuration": True},
    "textDocument": {
        "completion": {"completionItem": {"snippetSupport": True}},
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "publishDiagnostics": {},
    },
}


def start_server(workspace: Path, yaml_settings: dict[str, Any]) -> LanguageServer:
    """yaml-language-server on ``workspace``, answering its settings requests with ``yaml_settings``."""
    node = require_node_package("yaml-language-server")
    settings = {"validate": True, "hover": True, "completion": True, "schemaStore": {"enable": False}}
    settings.update(yaml_settings)

    def section(name: str) -> Any:
        return settings if name == "yaml" else None

    server = LanguageServer([node, str(SERVER), "--stdio"], cwd=workspace, settings=section)
    server.initialize(workspace, CAPABILITIES)
    return server


def type_names(server: LanguageServer, path: Path) -> list[str]:
    """The values offered after `type: ` in a new document at ``path``, once the server has its settings."""
    uri = file_uri(path)
    server.open(uri, "yaml", "type: \n")
    items = poll(lambda: server.completion(uri, 0, 6), bool)
    return sorted(_labels(items))


@pytest.fixture(scope="module")
def yls() -> Iterator[LanguageServer]:
    """One server on the checkout; `yaml.schemas` maps *.init_cfg.yaml to the committed schema."""
    server = start_server(ROOT, {"schemas": {file_uri(SCHEMA_FILE): SETTINGS_GLOB}})
    assert type_names(server, ROOT / "configs" / "warm-up.init_cfg.yaml") == sorted(
        initspec.registered_types()
    )
    yield server
    server.close()


_counter = iter(range(1_000_000))


def _open(server: LanguageServer, association: str, text: str) -> tuple[str, str]:
    """Open ``text`` as a new document under configs/ associated by ``association``; its URI and text."""
    n = next(_counter)
    if association == "modeline":
        text, name = MODELINE + text, f"case{n}.yaml"
    else:
        name = f"case{n}.init_cfg.yaml"
    uri = file_uri(ROOT / "configs" / name)
    server.open(uri, "yaml", text.replace("<|>", ""))
    return uri, text


def _complete(server: LanguageServer, association: str, text: str) -> list[dict[str, Any]]:
    uri, text = _open(server, association, text)
    _, line, character = cursor(text)
    return server.completion(uri, line, character)


def _labels(items: list[dict[str, Any]], kind: int | None = None) -> list[str]:
    return [item["label"] for item in items if kind is None or item.get("kind") == kind]


PROPERTY = 10  # CompletionItemKind.Property; snippets and required-key skeletons have other kinds


def _arguments(name: str) -> set[str]:
    cls = INITIALIZERS.get(name)
    assert cls is not None
    return set(cls.model_fields) - {"type"}


@pytest.mark.parametrize("association", ASSOCIATIONS)
def test_type_completion_offers_every_registered_initializer(yls: LanguageServer, association: str) -> None:
    """Completing `type:` offers exactly the registered initializer names, once each."""
    labels = _labels(_complete(yls, association, "type: <|>\n"))
    assert sorted(labels) == sorted(initspec.registered_types())


@pytest.mark.parametrize("association", ASSOCIATIONS)
def test_kaiming_keys_are_kaimings_arguments(yls: LanguageServer, association: str) -> None:
    """Inside a Kaiming mapping, key completion offers its arguments minus the keys already written."""
    labels = _labels(_complete(yls, association, "type: Kaiming\nlayer: Conv2d\n<|>\n"), PROPERTY)
    assert sorted(labels) == sorted(_arguments("Kaiming") - {"layer"})


@pytest.mark.parametrize("name", initspec.registered_types())
def test_key_completion_matches_the_model_fields(yls: LanguageServer, name: str) -> None:
    """For every registered initializer, key completion offers exactly its model's fields."""
    labels = _labels(_complete(yls, "settings", f"- type: {name}\n  <|>\n"), PROPERTY)
    assert sorted(labels) == sorted(_arguments(name))


@pytest.mark.parametrize("association", ASSOCIATIONS)
def test_mode_completion_offers_its_enum(yls: LanguageServer, association: str) -> None:
    """Completing Kaiming's `mode:` offers exactly the values of the Mode literal."""
    labels = _labels(_complete(yls, association, "type: Kaiming\nmode: <|>\n"))
    assert sorted(labels) == sorted(get_args(Mode))


INVALID = """\
- type: Kaiming
  layer: Conv2d
  modee: fan_in
  override:
    - val: 0
    - name: fc
      val: 0
- type: Normal
  layer: Linear
"""


def _line_of(text: str, needle: str, start: int = 0) -> int:
    return text[: text.index(needle, start)].count("\n")


@pytest.mark.parametrize("association", ASSOCIATIONS)
def test_each_broken_rule_gets_a_diagnostic_on_its_line(yls: LanguageServer, association: str) -> None:
    """An unknown key, an override without `name` and one with arguments but no `type`: one error each."""
    uri, text = _open(yls, association, INVALID)
    found = sorted((d["range"]["start"]["line"], d["message"]) for d in yls.wait_for_diagnostics(uri))
    assert found == [
        (_line_of(text, "modee"), "Property modee is not allowed."),
        (_line_of(text, "- val: 0"), 'Missing property "name".'),
        (_line_of(text, "- name: fc"), 'Missing property "type".'),
    ]
    assert {d["severity"] for d in yls.diagnostics[uri]} == {1}


@pytest.mark.parametrize("association", ASSOCIATIONS)
def test_a_valid_config_has_no_diagnostics(yls: LanguageServer, association: str) -> None:
    """A valid list (with an inheriting override and a Pretrained) gets no diagnostics."""
    valid = (
        INVALID.replace("  modee: fan_in\n", "").replace("    - val: 0\n", "").replace("      val: 0\n", "")
    )
    valid += "- type: Pretrained\n  checkpoint: torchvision://resnet50\n  prefix: backbone\n"
    parse_init_cfg(yaml.safe_load(valid))
    uri, _ = _open(yls, association, valid)
    assert yls.wait_for_diagnostics(uri) == []


@pytest.mark.parametrize("association", ASSOCIATIONS)
def test_hover_shows_the_field_description(yls: LanguageServer, association: str) -> None:
    """Hovering over `mode` shows its title, its description and its values."""
    uri, text = _open(yls, association, "type: Kaiming\nmode: fan_in\n")
    hover = yls.hover(uri, _line_of(text, "mode:"), 1)
    shown = unescape_markdown(hover["contents"]["value"])
    description = initspec.KaimingInit.model_fields["mode"].description
    assert description and description in shown
    assert "#### Mode" in shown and all(f"`{v}`" in shown for v in get_args(Mode))


def _snippets() -> dict[str, dict[str, Any]]:
    root = init_cfg_json_schema()
    return {s["label"]: s for s in root["definitions"]["InitConfig"]["defaultSnippets"]}


@pytest.mark.parametrize(
    "where", ["empty-document", "next-list-item"], ids=["empty-document", "next-list-item"]
)
def test_snippets_are_offered_and_insert_valid_configs(yls: LanguageServer, where: str) -> None:
    """Every snippet is offered for a new init_cfg entry, and inserting it gives a valid config."""
    text = "<|>" if where == "empty-document" else "- type: Kaiming\n  layer: Conv2d\n- <|>\n"
    items = {item["label"]: item for item in _complete(yls, "settings", text)}
    expected = _snippets()
    assert expected and set(expected) <= set(items)
    for label in expected:
        inserted = text.replace("<|>", expand_snippet(items[label]["insertText"]))
        parse_init_cfg(yaml.safe_load(inserted))


def test_vscode_settings_written_by_the_command_associate_yaml_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The yaml.schemas that `initspec schema --editor vscode` writes make the server use the schema."""
    monkeypatch.chdir(tmp_path)
    assert main(["schema", "--editor", "vscode"]) == 0
    settings = json.loads((tmp_path / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    server = start_server(tmp_path, {"schemas": settings["yaml.schemas"]})
    try:
        for name in ("model.init_cfg.yaml", "nested/head.init_cfg.yml"):
            assert type_names(server, tmp_path / name) == sorted(initspec.registered_types()), name
        plain = file_uri(tmp_path / "model.yaml")
        server.open(plain, "yaml", "type: \n")
        assert server.completion(plain, 0, 6) == []
    finally:
        server.close()


def test_catalog_entry_associates_yaml_files(server: LocalServer) -> None:
    """With schemas/catalog-entry.json in a SchemaStore catalog, *.init_cfg.yaml files get the schema."""
    (server.root / "init_cfg.schema.json").write_bytes(SCHEMA_FILE.read_bytes())
    entry = {
        **json.loads(CATALOG_ENTRY.read_text(encoding="utf-8")),
        "url": server.url("init_cfg.schema.json"),
    }
    (server.root / "catalog.json").write_text(json.dumps({"schemas": [entry]}), encoding="utf-8")
    store = {"schemaStore": {"enable": True, "url": server.url("catalog.json")}}
    yls = start_server(server.root, store)
    try:
        names = type_names(yls, server.root / "retinanet.init_cfg.yaml")
        assert names == sorted(initspec.registered_types())
    finally:
        yls.close()
    assert "/catalog.json" in server.requests and "/init_cfg.schema.json" in server.requests


def _docs_section(heading: str) -> list[tuple[str, str]]:
    """The (language, code) blocks under ``heading`` in docs/editor.md, up to the next section."""
    text = EDITOR_DOC.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    section = section[: section.find("\n## ", 1)]
    return [(block.lang, block.code) for block in fenced_blocks(section)]


def test_docs_yaml_example_has_no_diagnostics(yls: LanguageServer) -> None:
    """The modeline example of docs/editor.md is valid for the server (its relative schema path resolves)."""
    [example] = [code for lang, code in _docs_section(YAML_SECTION) if lang == "yaml"]
    assert example.startswith("# yaml-language-server: $schema=")
    uri = file_uri(ROOT / "configs" / "docs-example.yaml")
    yls.open(uri, "yaml", example + "\n")
    assert yls.wait_for_diagnostics(uri) == []
    parse_init_cfg(yaml.safe_load(example))


def test_docs_yaml_schemas_setting_associates_its_globs() -> None:
    """The `yaml.schemas` setting shown in docs/editor.md gives the files under its globs the schema."""
    [settings] = [json.loads(code) for lang, code in _docs_section(YAML_SECTION) if lang == "json"]
    server = start_server(ROOT, {"schemas": settings["yaml.schemas"]})
    try:
        for name in ("configs/init/retinanet.yaml", "configs/init/heads/fcos.yml"):
            assert type_names(server, ROOT / name) == sorted(initspec.registered_types()), name
    finally:
        server.close()
