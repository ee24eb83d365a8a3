"""What VS Code shows for the committed schema, through its own JSON language service (run under Node)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, get_args

import pytest

from initspec.configs import INITIALIZERS, Mode

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "editor" / "json_ls.mjs"
SCHEMA_FILE = ROOT / "schemas" / "init_cfg.schema.json"
CURSOR = "<|>"

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
}


def _arguments(name: str) -> set[str]:
    cls = INITIALIZERS.get(name)
    assert cls is not None
    return set(cls.model_fields) - {"type"}


def _as_case(case_id: str, text: str) -> dict[str, Any]:
    offset = text.find(CURSOR)
    return {"id": case_id, "text": text.replace(CURSOR, ""), "offset": offset if offset >= 0 else None}


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; these tests drive VS Code's JSON language service under Node")
    if not (ROOT / "node_modules" / "vscode-json-languageservice").is_dir():
        pytest.fail("node_modules is missing: run `npm ci` at the repository root (CI does, in .ci/run)")
    cases = tmp_path_factory.mktemp("editor") / "cases.json"
    cases.write_text(json.dumps([_as_case(k, v) for k, v in CASES.items()]))
    cmd = [node, str(SCRIPT), str(SCHEMA_FILE), str(cases)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    out: dict[str, dict[str, Any]] = json.loads(result.stdout)
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
