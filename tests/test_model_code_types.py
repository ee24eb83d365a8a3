"""``model-code-types`` in ``[tool.initspec]`` or ``.initspec.toml``: types a project's own model code reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write
from initspec.cli import main

CONFIG = """
model = dict(
    gen=dict(type='G', init_cfg=dict(type='ortho')),
    disc=dict(type='D', init_cfg=[dict(type='N02', layer='Conv2d'), dict(type='orthoo')]),
)
"""


def _validate(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, list[dict[str, object]]]]:
    code = main(["validate", "--format", "json", *args])
    out = capsys.readouterr().out
    assert out, "validate printed no JSON"
    return code, json.loads(out)


def _found(report: dict[str, list[dict[str, object]]], key: str) -> list[tuple[object, object, object]]:
    return [(d["code"], d["line"], d["location"]) for d in report[key]]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder, the current directory, holding the config."""
    write(tmp_path, "configs/gan.py", CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_without_the_setting_a_free_form_type_is_an_unknown_type(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: with nothing declared, 'ortho' and 'N02' are IS101 errors like any unknown type."""
    code, report = _validate(capsys, "configs")
    assert code == 1
    assert [c for c, _, _ in _found(report, "errors")] == ["IS101", "IS101", "IS101"]


def test_declared_types_are_notes_and_a_typo_stays_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A declared type is an IS504 note; an undeclared one stays IS101, with did-you-mean into the declared."""
    write(project, "pyproject.toml", '[tool.initspec]\nmodel-code-types = ["ortho", "N02", "studio"]\n')
    code, report = _validate(capsys, "configs")
    assert code == 1
    assert _found(report, "skipped") == [
        ("IS504", 2, "model.gen.init_cfg.type"),
        ("IS504", 3, "model.disc.init_cfg[0].type"),
    ]
    assert "type 'ortho' is read by the project's own model code" in str(report["skipped"][0]["message"])
    [error] = report["errors"]
    assert (error["code"], error["location"]) == ("IS101", "model.disc.init_cfg[1].type")
    assert str(error["message"]).endswith("did you mean 'ortho' from model-code-types?")
    assert error["fix"] is None  # 'Orthogonal' or 'ortho': no longer one candidate, so no fix


def test_a_typo_far_from_every_declared_type_keeps_its_fix(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: with only 'N02' declared, 'orthoo' keeps its one candidate and the fix to it."""
    write(project, "pyproject.toml", '[tool.initspec]\nmodel-code-types = ["N02"]\n')
    _, report = _validate(capsys, "configs")
    [typo] = [e for e in report["errors"] if e["location"] == "model.disc.init_cfg[1].type"]
    assert "model-code-types" not in str(typo["message"])
    assert typo["fix"] is not None


def test_initspec_toml_declares_them_too_and_wins_in_its_folder(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``.initspec.toml`` holds the same keys at its top level, and wins over pyproject.toml beside it."""
    write(project, "pyproject.toml", '[tool.initspec]\nmodel-code-types = ["studio"]\n')
    write(project, ".initspec.toml", 'model-code-types = ["ortho", "N02", "orthoo"]\n')
    code, report = _validate(capsys, "configs")
    assert code == 0
    assert [c for c, _, _ in _found(report, "skipped")] == ["IS504", "IS504", "IS504"]


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            "pyproject.toml",
            '[tool.ruff]\nline-length = 1\n\n[tool.initspec]\nmodel-code-types = "ortho"\n',
            5,
        ),
        ("pyproject.toml", "[tool.initspec]\nexclude = []\nmodel-code-types = ['ortho', 2]\n", 3),
        (".initspec.toml", "# GAN types\nmodel-code-types = [['ortho']]\n", 2),
    ],
    ids=["a string", "a number in the list", "a nested list"],
)
def test_a_malformed_setting_is_a_located_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, where: int
) -> None:
    """model-code-types that is not a list of strings is exit 2, naming the file, the line and the key."""
    write(project, name, text)
    assert main(["validate", "configs"]) == 2
    err = capsys.readouterr().err
    assert f"{project / name}:{where}: " in err
    assert "model-code-types must be a list of non-empty strings" in err


def test_an_unknown_key_in_initspec_toml_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt key in ``.initspec.toml`` is exit 2 with the known keys, as in pyproject.toml."""
    write(project, ".initspec.toml", 'model-code-type = ["ortho"]\n')
    assert main(["validate", "configs"]) == 2
    assert "unknown keys ['model-code-type']; known: " in capsys.readouterr().err
