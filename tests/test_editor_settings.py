"""`initspec schema --editor vscode` and the SchemaStore catalog entry: zero-setup editor association."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from initspec.cli import main
from initspec.cli._editor import FILE_MATCH, SETTINGS_FILE, VSCODE_SCHEMA_FILE, merge_settings
from initspec.schema import render_schema
from test_docs import fenced_blocks

ROOT = Path(__file__).resolve().parents[1]
CATALOG_ENTRY = ROOT / "schemas" / "catalog-entry.json"
ZERO_SETUP = "## Zero setup: `initspec schema --editor vscode`"
URL = "./" + VSCODE_SCHEMA_FILE.as_posix()
JSON_GLOBS = [g for g in FILE_MATCH if g.endswith(".json")]
YAML_GLOBS = [g for g in FILE_MATCH if not g.endswith(".json")]
EXPECTED = {"json.schemas": [{"fileMatch": JSON_GLOBS, "url": URL}], "yaml.schemas": {URL: YAML_GLOBS}}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _settings(workspace: Path) -> object:
    return json.loads((workspace / SETTINGS_FILE).read_text(encoding="utf-8"))


def _editor(*args: str) -> int:
    return main(["schema", "--editor", "vscode", *args])


def test_writes_the_schema_and_both_associations(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In an empty workspace it writes the schema and json.schemas/yaml.schemas for the *.init_cfg.* globs."""
    assert _editor() == 0
    assert (workspace / VSCODE_SCHEMA_FILE).read_text(encoding="utf-8") == render_schema()
    assert _settings(workspace) == EXPECTED
    assert (
        capsys.readouterr().out == f"wrote {VSCODE_SCHEMA_FILE.as_posix()}; .vscode/settings.json updated\n"
    )


def test_is_idempotent(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second run leaves the settings file byte for byte as the first run wrote it."""
    assert _editor() == 0
    first = (workspace / SETTINGS_FILE).read_bytes()
    assert _editor() == 0
    assert (workspace / SETTINGS_FILE).read_bytes() == first
    assert capsys.readouterr().out.splitlines()[-1].endswith(".vscode/settings.json already up to date")


def test_keeps_every_other_setting_and_the_indentation(workspace: Path) -> None:
    """Other settings, other schemas' entries and their order survive; the file's indentation is kept."""
    other_json = {"fileMatch": ["/.babelrc"], "url": "https://json.schemastore.org/babelrc"}
    existing = {
        "editor.tabSize": 2,
        "json.schemas": [other_json],
        "yaml.schemas": {"https://json.schemastore.org/github-workflow": ".github/workflows/*.yml"},
        "files.exclude": {"**/.git": True},
    }
    (workspace / ".vscode").mkdir()
    (workspace / SETTINGS_FILE).write_text(json.dumps(existing, indent=2) + "\n", encoding="utf-8")
    assert _editor() == 0
    text = (workspace / SETTINGS_FILE).read_text(encoding="utf-8")
    assert text.startswith('{\n  "editor.tabSize": 2,\n')
    assert _settings(workspace) == {
        **existing,
        "json.schemas": [other_json, *EXPECTED["json.schemas"]],
        "yaml.schemas": {**existing["yaml.schemas"], **EXPECTED["yaml.schemas"]},
    }
    assert list(json.loads(text)) == list(existing)


def test_adds_new_globs_to_the_existing_entry(workspace: Path) -> None:
    """--match adds globs to the schema's own entries instead of repeating them; json/yaml go by suffix."""
    assert _editor() == 0
    assert _editor("--match", "configs/init/*.json", "--match", "configs/init/**") == 0
    assert _settings(workspace) == {
        "json.schemas": [{"fileMatch": [*JSON_GLOBS, "configs/init/*.json", "configs/init/**"], "url": URL}],
        "yaml.schemas": {URL: [*YAML_GLOBS, "configs/init/**"]},
    }


def test_yaml_association_given_as_one_glob_is_extended() -> None:
    """A yaml.schemas value written as one glob string becomes a list that keeps it."""
    merged = merge_settings({"yaml.schemas": {URL: "a.yaml"}}, URL, ["b.yaml"])
    assert merged == {"yaml.schemas": {URL: ["a.yaml", "b.yaml"]}}


def test_output_file_is_the_schema_the_settings_point_to(workspace: Path) -> None:
    """With -o FILE the schema goes to FILE and the settings point to it, relative to the workspace."""
    assert _editor("-o", "schemas/init_cfg.schema.json") == 0
    assert (workspace / "schemas" / "init_cfg.schema.json").read_text(encoding="utf-8") == render_schema()
    assert not (workspace / VSCODE_SCHEMA_FILE).exists()
    assert "./schemas/init_cfg.schema.json" in _settings(workspace)["yaml.schemas"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{\n  // my settings\n  "editor.tabSize": 2\n}\n', r"settings\.json:2:3: cannot parse it as JSON"),
        ('{"editor.tabSize": 2,}\n', r"settings\.json:1:22: cannot parse it as JSON"),
        ("[1, 2]\n", r"expected a JSON object of settings, got list"),
        ('{"json.schemas": {}}\n', r'"json\.schemas" must be a list of \{fileMatch, url\} objects, got dict'),
        (
            '{"yaml.schemas": []}\n',
            r'"yaml\.schemas" must be an object mapping a schema to its globs, got list',
        ),
    ],
    ids=["comments", "trailing-comma", "not-an-object", "json-schemas-not-a-list", "yaml-schemas-not-a-dict"],
)
def test_refuses_a_settings_file_it_cannot_merge(
    workspace: Path, capsys: pytest.CaptureFixture[str], text: str, match: str
) -> None:
    """A settings file that is not plain JSON of the expected shape is left as it was, with the reason."""
    (workspace / ".vscode").mkdir()
    (workspace / SETTINGS_FILE).write_text(text, encoding="utf-8")
    assert _editor() == 2
    assert (workspace / SETTINGS_FILE).read_text(encoding="utf-8") == text
    assert not (workspace / VSCODE_SCHEMA_FILE).exists()
    err = capsys.readouterr().err
    assert err.startswith("initspec schema: error: .vscode/settings.json")
    assert re.search(match, err), err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schema", "--editor", "vscode", "--check", "x.json"], "--editor cannot be combined with --check"),
        (["schema", "--match", "*.yaml"], "--match needs --editor"),
    ],
)
def test_editor_usage_errors(
    workspace: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """--editor with --check, or --match without --editor, is a usage error (exit 2) that writes nothing."""
    assert main(args) == 2
    assert capsys.readouterr().err == f"initspec schema: error: {message}\n"
    assert not (workspace / ".vscode").exists()


def test_catalog_entry_is_schemastore_ready() -> None:
    """schemas/catalog-entry.json has SchemaStore's keys and the same distinctive globs as --editor."""
    entry = json.loads(CATALOG_ENTRY.read_text(encoding="utf-8"))
    assert list(entry) == ["name", "description", "fileMatch", "url"]
    assert entry["name"] and entry["description"] and not entry["description"].endswith(".")
    assert entry["fileMatch"] == list(FILE_MATCH)
    assert all(".init_cfg." in glob for glob in entry["fileMatch"])
    assert entry["url"].startswith("https://") and entry["url"].endswith("/schemas/init_cfg.schema.json")


def test_docs_show_what_the_command_writes(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/editor.md's zero-setup section shows the command's exact output and settings file."""
    text = (ROOT / "docs" / "editor.md").read_text(encoding="utf-8")
    section = text[text.index(ZERO_SETUP) :]
    blocks = fenced_blocks(section[: section.find("\n## ", 1)])
    command, output, settings = (b.code for b in blocks[:3])
    assert command == "initspec schema --editor vscode"
    assert main(command.split()[1:]) == 0
    assert capsys.readouterr().out == output + "\n"
    assert (workspace / SETTINGS_FILE).read_text(encoding="utf-8") == settings + "\n"
