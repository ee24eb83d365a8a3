"""What VS Code shows for the committed schema, through its own JSON language service (run under Node)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any, get_args

import pytest

import initspec
from editor.lsp import NODE_MODULES, expand_snippet, require_node_package
from initspec import parse_init_cfg
from initspec.cli import main
from initspec.configs import INITIALIZERS, Mode
from initspec.schema import DRAFT_07, init_cfg_json_schema
from test_docs import fenced_blocks
from test_schema import DRAFT_07_KEYWORDS, EDITOR_KEYWORDS, schema_keywords

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "editor" / "json_ls.mjs"
SCHEMA_FILE = ROOT / "schemas" / "init_cfg.schema.json"
EDITOR_DOC = ROOT / "docs" / "editor.md"
CURSOR = "<|>"
# Each service's own model of a schema: the keywords it reads.
SCHEMA_MODELS = {
    "vscode-json-languageservice": NODE_MODULES
    / "vscode-json-languageservice"
    / "lib"
    / "umd"
    / "jsonSchema.d.ts",
    "yaml-language-server": NODE_MODULES
    / "yaml-language-server"
    / "out"
    / "server"
    / "src"
    / "languageservice"
    / "jsonSchema.d.ts",
}

KAIMING = '{"type": "Kaiming", "layer": "Conv2d"'
CASES = {
    "type-value": '{"type": <|>}',
    "kaiming-keys": KAIMING + ", <|>}",
    "mode-value": '{"type": "Kaiming", "mode": <|>}',
    "override-args-without-type": KAIMING + ', "override": {"name": "fc", "val": 0}}',
    "unknown-key": KAIMING + ', "modee": "fan_in"}',
    "numeric-string": '{"type": "Normal", "layer": "Linear", "std": "0.01"}',
    "valid-list": "[" + KAIMING + ', "override": [{"name": "fc"}]}, {"type": "Constant", "val": 1}]',
    "schema-key-at-root": '{"$schema": "../schemas/init_cfg.schema.json", "type": "Xavier"}',
    **{f"keys-{name}": '[{"type": "' + name + '", <|>}]' for name in INITIALIZERS.names},
    **{
        f"override-keys-{name}": KAIMING + ', "override": {"name": "fc", "type": "' + name + '", <|>}}'
        for name in INITIALIZERS.names
    },
    "snippets-first-item": "[<|>]",
    "snippets-next-item": "[" + KAIMING + "}, <|>]",
}


def _docs_json_blocks() -> list[str]:
    """The JSON config files shown in docs/editor.md (the blocks with a root "$schema")."""
    blocks = [b.code for b in fenced_blocks(EDITOR_DOC.read_text(encoding="utf-8")) if b.lang == "json"]
    return [code for code in blocks if '"$schema"' in code]


CASES.update({f"docs-json-{i}": text for i, text in enumerate(_docs_json_blocks())})


def _arguments(name: str) -> set[str]:
    cls = INITIALIZERS.get(name)
    assert cls is not None
    return set(cls.model_fields) - {"type"}


def _as_case(case_id: str, text: str) -> dict[str, Any]:
    offset = text.find(CURSOR)
    return {"id": case_id, "text": text.replace(CURSOR, ""), "offset": offset if offset >= 0 else None}


def run_json_service(cases: list[dict[str, Any]], folder: Path, workspace: Path | None = None) -> Any:
    """The results of json_ls.mjs for ``cases`` (schemas from ``workspace``'s settings, when given)."""
    node = require_node_package("vscode-json-languageservice")
    path = folder / "cases.json"
    path.write_text(json.dumps(cases))
    cmd = [node, str(SCRIPT), str(SCHEMA_FILE), str(path), *([str(workspace)] if workspace else [])]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    cases = [_as_case(k, v) for k, v in CASES.items()]
    out: dict[str, dict[str, Any]] = run_json_service(cases, tmp_path_factory.mktemp("editor"))
    return out


def _labels(result: dict[str, Any]) -> list[str]:
    return [label.strip('"') for label in result["completions"]]


def _messages(result: dict[str, Any]) -> list[str]:
    return [d["message"] for d in result["diagnostics"] if d["message"] != "Trailing comma"]


def test_type_completion_offers_every_initializer(editor: dict[str, dict[str, Any]]) -> None:
    """Completing the value of "type" offers every registered initializer name, once each."""
    labels = _labels(editor["type-value"])
    assert sorted(labels) == sorted(INITIALIZERS.names)


def test_kaiming_key_completion_offers_exactly_its_arguments(editor: dict[str, dict[str, Any]]) -> None:
    """Inside a Kaiming object, key completion offers its arguments minus the keys already written."""
    assert set(_labels(editor["kaiming-keys"])) == _arguments("Kaiming") - {"layer"}


@pytest.mark.parametrize("name", INITIALIZERS.names)
def test_key_completion_matches_the_model_fields(editor: dict[str, dict[str, Any]], name: str) -> None:
    """For every initializer, key completion offers exactly the model's fields (never `$schema`)."""
    labels = _labels(editor[f"keys-{name}"])
    assert sorted(labels) == sorted(_arguments(name))


@pytest.mark.parametrize("name", INITIALIZERS.names)
def test_override_key_completion_offers_no_override(editor: dict[str, dict[str, Any]], name: str) -> None:
    """Inside an override of every type, key completion offers its fields minus `override`."""
    labels = _labels(editor[f"override-keys-{name}"])
    assert sorted(labels) == sorted(_arguments(name) - {"override"})


def test_mode_completion_offers_the_closed_set(editor: dict[str, dict[str, Any]]) -> None:
    """Completing Kaiming's "mode" offers fan_in and fan_out."""
    assert sorted(_labels(editor["mode-value"])) == sorted(get_args(Mode)) == ["fan_in", "fan_out"]


def test_override_arguments_without_type_are_flagged(editor: dict[str, dict[str, Any]]) -> None:
    """An override that sets arguments but no "type" gets a diagnostic on the override."""
    text = CASES["override-args-without-type"]
    found = [d for d in editor["override-args-without-type"]["diagnostics"] if '"type"' in d["message"]]
    assert found and all(d["offset"] >= text.index('"override"') for d in found)


def test_unknown_key_is_flagged(editor: dict[str, dict[str, Any]]) -> None:
    """A key the initializer does not take is flagged, on that key."""
    diagnostics = editor["unknown-key"]["diagnostics"]
    assert [(d["message"], d["text"]) for d in diagnostics] == [("Property modee is not allowed.", '"modee"')]


def test_numeric_string_is_flagged(editor: dict[str, dict[str, Any]]) -> None:
    """A number written as a string is flagged as the wrong type."""
    assert any("number" in m for m in _messages(editor["numeric-string"]))


@pytest.mark.parametrize("case_id", ["valid-list", "schema-key-at-root"])
def test_valid_configs_have_no_diagnostics(editor: dict[str, dict[str, Any]], case_id: str) -> None:
    """Valid configs, including one with a root "$schema", get no diagnostics."""
    assert _messages(editor[case_id]) == []


def test_docs_json_examples_have_no_diagnostics(editor: dict[str, dict[str, Any]]) -> None:
    """Every JSON config shown in docs/editor.md is valid in VS Code (its "$schema" path resolves)."""
    ids = [key for key in CASES if key.startswith("docs-json-")]
    assert ids
    for case_id in ids:
        assert _messages(editor[case_id]) == [], case_id


def _snippet_bodies() -> dict[str, Any]:
    return {
        s["label"]: s["body"] for s in init_cfg_json_schema()["definitions"]["InitConfig"]["defaultSnippets"]
    }


@pytest.mark.parametrize("case_id", ["snippets-first-item", "snippets-next-item"])
def test_snippets_are_offered_for_a_new_entry(editor: dict[str, dict[str, Any]], case_id: str) -> None:
    """A new list entry offers exactly the schema's snippets, and each one inserts a valid config."""
    result = editor[case_id]
    assert sorted(result["completions"]) == sorted(_snippet_bodies())
    for label in _snippet_bodies():
        inserted = CASES[case_id].replace(CURSOR, expand_snippet(result["insertTexts"][label]))
        parse_init_cfg(json.loads(inserted))


def test_snippets_cover_the_common_skeletons() -> None:
    """The snippets are Kaiming on Conv2d, Normal with bias_prob, Constant on norms and Pretrained."""
    bodies = {label: body["type"] for label, body in _snippet_bodies().items()}
    assert bodies == {
        "Kaiming on Conv2d": "Kaiming",
        "Normal with bias_prob on a head": "Normal",
        "Constant on norms": "Constant",
        "Pretrained with prefix": "Pretrained",
    }


def test_vscode_settings_written_by_the_command_associate_json_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The json.schemas that `initspec schema --editor vscode` writes give *.init_cfg.json files the schema."""
    monkeypatch.chdir(tmp_path)
    assert main(["schema", "--editor", "vscode"]) == 0
    cases = [
        {"id": "named", "path": "configs/head.init_cfg.json", "text": '{"type": }', "offset": 9},
        {"id": "plain", "path": "configs/head.json", "text": '{"type": }', "offset": 9},
        {"id": "unknown-key", "path": "model.init_cfg.json", "text": '{"type": "Kaiming", "modee": 1}'},
    ]
    out = run_json_service([{"offset": None, **case} for case in cases], tmp_path, tmp_path)
    assert sorted(_labels(out["named"])) == sorted(initspec.registered_types())
    assert _labels(out["plain"]) == []
    assert _messages(out["unknown-key"]) == ["Property modee is not allowed."]


def _schema_model(path: Path) -> set[str]:
    """The property names of the ``JSONSchema`` interface in a service's type declarations."""
    require_node_package(path.relative_to(NODE_MODULES).parts[0])
    text = path.read_text(encoding="utf-8")
    body = text[text.index("export interface JSONSchema {") :]
    return set(re.findall(r"^ {4}(\$?\w+)\?:", body[: body.index("\n}")], re.MULTILINE))


def _refs(node: object) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    if not isinstance(node, dict):
        return []
    own = [node] if "$ref" in node else []
    return own + [
        ref for key, value in node.items() if key not in ("enum", "default", "const") for ref in _refs(value)
    ]


@pytest.mark.parametrize("service", SCHEMA_MODELS)
def test_schema_uses_only_constructs_both_services_honour(service: str) -> None:
    """Every keyword of the schema is draft-07 (or an editor annotation) and in each service's schema model."""
    schema = init_cfg_json_schema()
    assert schema["$schema"] == DRAFT_07
    used = set(schema_keywords(schema))
    assert used <= DRAFT_07_KEYWORDS | EDITOR_KEYWORDS
    assert used - _schema_model(SCHEMA_MODELS[service]) == set()


def test_every_ref_is_a_bare_local_definition() -> None:
    """Each `$ref` stands alone (draft-07 ignores a `$ref`'s siblings) and names an existing definition."""
    schema = init_cfg_json_schema()
    refs = _refs(schema)
    assert refs
    for ref in refs:
        assert list(ref) == ["$ref"], ref
        prefix, _, key = ref["$ref"].partition("#/definitions/")
        assert prefix == "" and key.replace("~1", "/").replace("~0", "~") in schema["definitions"], ref


def test_a_missing_node_package_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without its npm package an editor test fails when CI is set, and only skips on a developer machine."""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"node_modules/no-such-package is missing.*npm ci"):
        require_node_package("no-such-package")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="fail instead of skipping when CI is set"):
        require_node_package("no-such-package")


def test_docs_json_schemas_setting_associates_its_globs(tmp_path: Path) -> None:
    """The `json.schemas` setting shown in docs/editor.md gives the files under its globs the schema."""
    blocks = [b.code for b in fenced_blocks(EDITOR_DOC.read_text(encoding="utf-8")) if b.lang == "json"]
    [settings] = [code for code in blocks if '"json.schemas"' in code and "./schemas/" in code]
    (tmp_path / ".vscode").mkdir()
    (tmp_path / ".vscode" / "settings.json").write_text(settings, encoding="utf-8")
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / SCHEMA_FILE.name).write_bytes(SCHEMA_FILE.read_bytes())
    paths = ["configs/init/retinanet.json", "configs/init/heads/fcos.json", "configs/other.json"]
    cases = [{"id": p, "path": p, "text": '[{"type": }]', "offset": 10} for p in paths]
    out = run_json_service(cases, tmp_path, tmp_path)
    assert [sorted(_labels(out[p])) for p in paths] == [sorted(initspec.registered_types())] * 2 + [[]]


def test_docs_snippet_table_shows_what_each_snippet_inserts() -> None:
    """docs/editor.md lists every snippet with the config it inserts when its tab stops keep their defaults."""
    text = EDITOR_DOC.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| ([^|`]+?) \| `(\{.*\})` \|$", text, re.MULTILINE))
    bodies = {
        label: json.loads(expand_snippet(_raw(json.dumps(body)))) for label, body in _snippet_bodies().items()
    }
    assert {label: json.loads(shown) for label, shown in rows.items()} == bodies


def _raw(text: str) -> str:
    """A snippet body's JSON with its ``"^..."`` strings inserted raw, as both services do."""
    return re.sub(r'"\^((?:[^"\\]|\\.)*)"', r"\1", text)
