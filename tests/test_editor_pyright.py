"""What Pylance shows for typed Python configs, through pyright (its engine): its CLI and its language server.

Most OpenMMLab configs are `.py` files, which no JSON Schema reaches; initspec's typed classes do. These tests
pin that pyright, not only mypy, reads the typed `__init__` signatures of every registered initializer.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic_core import to_jsonable_python

import initspec
from editor.lsp import LanguageServer, cursor, file_uri, require_node_package
from initspec.configs import INITIALIZERS, InitializerConfig, Override
from initspec.schema import init_cfg_json_schema
from test_docs import fenced_blocks

ROOT = Path(__file__).resolve().parents[1]
PYRIGHT = ROOT / "node_modules" / "pyright"
EDITOR_DOC = ROOT / "docs" / "editor.md"
PYTHON_SECTION = "## Python configs: pyright and Pylance"
PYRIGHT_VERSION = json.loads((ROOT / "package.json").read_text())["dependencies"]["pyright"]
# Values for required arguments, by the JSON Schema type of the field.
SAMPLE_BY_TYPE = {"number": "1", "integer": "1", "string": '"x"', "boolean": "False", "array": "[]"}

BAD = {
    'KaimingInit(layer="Conv2d", mode="fan_inn")': 'cannot be assigned to parameter "mode"',
    'NormalInit(layer="Linear", std0=0.01)': 'No parameter named "std0"',
    'NormalInit(layer="Linear", std="0.01")': 'cannot be assigned to parameter "std"',
    'Override(name="cls", init="Normal")': 'cannot be assigned to parameter "init"',
}


def _classes() -> list[type[InitializerConfig]]:
    found = [INITIALIZERS.get(name) for name in initspec.registered_types()]
    return [cls for cls in found if cls is not None]


def _import(cls: type[Any]) -> str:
    return f"from {cls.__module__} import {cls.__name__}"


def _sample(cls: type[InitializerConfig], key: str) -> str:
    """A Python literal for every argument: the default when there is one, else a value of its type."""
    field = cls.model_fields[key]
    if not field.is_required():
        for text in (repr(field.default), repr(to_jsonable_python(field.default))):
            try:
                ast.literal_eval(text)
            except (ValueError, SyntaxError):
                continue
            return text
    prop = init_cfg_json_schema()["definitions"][cls.model_fields["type"].default]["properties"][key]
    prop = prop.get("anyOf", [prop])[0]
    if "enum" in prop or "const" in prop:
        return repr(prop.get("enum", [prop.get("const")])[0])
    kind = prop.get("type", "string")
    return SAMPLE_BY_TYPE[kind if isinstance(kind, str) else kind[0]]


def _arguments(cls: type[InitializerConfig], *, required_only: bool = False) -> str:
    keys = [k for k, field in cls.model_fields.items() if field.is_required() or not required_only]
    return ", ".join(f"{key}={_sample(cls, key)}" for key in keys)


def every_argument_file() -> str:
    """One call per registered initializer that passes every one of its arguments by keyword."""
    lines = [_import(cls) for cls in _classes()] + [""]
    for i, cls in enumerate(_classes()):
        lines.append(f"cfg_{i} = {cls.__name__}({_arguments(cls)})")
    return "\n".join(lines) + "\n"


def unknown_keyword_file() -> tuple[str, list[int]]:
    """One call per registered initializer with its required arguments and one it does not take."""
    lines = [_import(cls) for cls in _classes()] + [""]
    bad_lines = []
    for i, cls in enumerate(_classes()):
        bad_lines.append(len(lines))
        required = _arguments(cls, required_only=True)
        lines.append(f"cfg_{i} = {cls.__name__}({required + ', ' if required else ''}not_an_argument=1)")
    return "\n".join(lines) + "\n", bad_lines


def bad_file() -> str:
    header = "from initspec import KaimingInit, NormalInit, Override\n\n"
    return header + "".join(f"cfg_{i} = {call}\n" for i, call in enumerate(BAD))


def docs_config() -> str:
    """The typed config shown in docs/editor.md's Python section (its first python block)."""
    text = EDITOR_DOC.read_text(encoding="utf-8")
    assert PYTHON_SECTION in text, f"docs/editor.md has no '{PYTHON_SECTION}' section"
    section = text[text.index(PYTHON_SECTION) :]
    return next(block.code for block in fenced_blocks(section) if block.lang == "python") + "\n"


def _workspace(folder: Path) -> Path:
    config = {
        "extraPaths": [str(ROOT / "src")],
        "pythonVersion": f"{sys.version_info.major}.{sys.version_info.minor}",
        "typeCheckingMode": "standard",
    }
    (folder / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """pyright's diagnostics for each file, from one CLI run over all of them."""
    node = require_node_package("pyright")
    folder = _workspace(tmp_path_factory.mktemp("pyright"))
    files = {
        "docs_config.py": docs_config(),
        "every_argument.py": every_argument_file(),
        "unknown_keyword.py": unknown_keyword_file()[0],
        "bad.py": bad_file(),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    cmd = [node, str(PYRIGHT / "index.js"), "--outputjson", "--pythonpath", sys.executable, *files]
    result = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 1: errors were found
    report = json.loads(result.stdout)
    assert report["version"] == PYRIGHT_VERSION
    by_file: dict[str, list[dict[str, Any]]] = {name: [] for name in files}
    for diagnostic in report["generalDiagnostics"]:
        by_file[Path(diagnostic["file"]).name].append(diagnostic)
    return by_file


def _errors(diagnostics: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(d["range"]["start"]["line"], d["message"]) for d in diagnostics if d["severity"] == "error"]


@pytest.mark.parametrize("name", ["docs_config.py", "every_argument.py"])
def test_valid_typed_configs_have_no_errors(checked: dict[str, list[dict[str, Any]]], name: str) -> None:
    """The docs' typed config and a call of every initializer with every argument type-check cleanly."""
    assert checked[name] == []


def test_each_mistake_is_an_error_on_its_line(checked: dict[str, list[dict[str, Any]]]) -> None:
    """A closed-set typo, an unknown keyword and wrong argument types are errors, on their own lines."""
    errors = _errors(checked["bad.py"])
    assert [line for line, _ in errors] == [2 + i for i in range(len(BAD))]
    for (_, message), expected in zip(errors, BAD.values(), strict=True):
        assert expected in message


def test_every_initializer_rejects_an_unknown_keyword(checked: dict[str, list[dict[str, Any]]]) -> None:
    """For every registered initializer, a keyword it does not take is an error."""
    _, lines = unknown_keyword_file()
    errors = _errors(checked["unknown_keyword.py"])
    assert errors == [(line, 'No parameter named "not_an_argument"') for line in lines]


@pytest.fixture(scope="module")
def langserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LanguageServer, Path]]:
    """pyright-langserver on a workspace that finds initspec, as Pylance does with the project's interpreter."""
    node = require_node_package("pyright")
    folder = _workspace(tmp_path_factory.mktemp("pyright-ls"))

    def section(name: str) -> Any:
        return {"pythonPath": sys.executable} if name == "python" else None

    server = LanguageServer(
        [node, str(PYRIGHT / "langserver.index.js"), "--stdio"], cwd=folder, settings=section
    )
    server.initialize(folder, {"workspace": {"configuration": True}, "textDocument": {"completion": {}}})
    yield server, folder
    server.close()


def _keyword_completions(langserver: tuple[LanguageServer, Path], cls: type[Any]) -> list[str]:
    server, folder = langserver
    text, line, character = cursor(f"{_import(cls)}\n\ncfg = {cls.__name__}(<|>)\n")
    uri = file_uri(folder / f"complete_{cls.__name__}.py")
    server.open(uri, "python", text)
    return [item["label"] for item in server.completion(uri, line, character) if item["label"].endswith("=")]


@pytest.mark.parametrize("cls", [*_classes(), Override], ids=lambda cls: cls.__name__)
def test_completion_inside_the_call_offers_exactly_the_arguments(
    langserver: tuple[LanguageServer, Path], cls: type[Any]
) -> None:
    """Completion inside `KaimingInit(` (and every other initializer's call) offers its fields as keywords."""
    offered = _keyword_completions(langserver, cls)
    assert sorted(offered) == sorted(f"{key}=" for key in cls.model_fields)
