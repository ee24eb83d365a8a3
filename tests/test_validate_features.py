"""``initspec validate``: problem codes, suppressions, [tool.initspec], --target mmengine, SARIF, YAML 1.1."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from conftest import write
from initspec.cli import main
from initspec.cli._codes import CODES

ROOT = Path(__file__).parents[1]


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, list[dict[str, object]]]]:
    code = main(["validate", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def _codes(report: dict[str, list[dict[str, object]]]) -> list[str]:
    return sorted(str(d["code"]) for key in ("errors", "warnings", "skipped") for d in report[key])


def test_every_code_is_listed_in_the_docs_table() -> None:
    """docs/cli.md's codes table lists exactly the codes the tool can report, with their severity."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(IS\d{3})` \| (error|warning|note) \|", text, flags=re.MULTILINE))
    assert rows == {code: known.severity for code, known in CODES.items()}


@pytest.mark.parametrize(
    ("cfg", "code"),
    [
        ({"type": "Kaimng", "layer": "Conv2d"}, "IS101"),
        ({"type": "Normal", "sdt": 1, "layer": "Conv2d"}, "IS102"),
        ({"type": "Constant", "layer": "Conv2d"}, "IS103"),
        ({"layer": "Conv2d"}, "IS103"),
        ({"type": "Normal", "override": {"name": "x", "std": 1}}, "IS104"),
        ({"type": "Normal", "std": -1, "layer": "Conv2d"}, "IS100"),
        ({"type": "Normal"}, "IS201"),
        ({"type": "Normal", "bias": 0, "bias_prob": 0.01, "layer": "Conv2d"}, "IS202"),
        ({"type": "Pretrained", "checkpoint": ""}, "IS205"),
    ],
)
def test_each_problem_gets_its_stable_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cfg: dict[str, object], code: str
) -> None:
    """Each kind of problem carries its own code in the output, not the catch-all."""
    path = write(tmp_path, "cfg.json", json.dumps({"model": {"init_cfg": cfg}}))
    _, report = _json(capsys, str(path))
    assert code in _codes(report)


def test_placeholder_checkpoint_is_a_warning_and_an_error_under_strict(tmp_path: Path) -> None:
    """``checkpoint=''`` (mmpretrain's benchmarks) warns; --strict fails on it."""
    path = write(
        tmp_path,
        "cfg.py",
        "model = dict(init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.'))\n",
    )
    assert main(["validate", str(path)]) == 0
    assert main(["validate", "--strict", str(path)]) == 1


def test_inline_ignore_suppresses_on_the_line_and_on_the_init_cfg_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``# initspec: ignore[IS103]`` on the init_cfg's line silences it; a bare ``ignore`` silences all."""
    path = write(
        tmp_path,
        "cfg.py",
        """
        model = dict(
            backbone=dict(init_cfg=dict(checkpoint='pvt.pth')),  # initspec: ignore[IS103]
            neck=dict(init_cfg=dict(type='Kaimng')),  # initspec: ignore
            head=dict(init_cfg=dict(type='Kaimng')),  # initspec: ignore[IS103]
        )
        """,
    )
    code, report = _json(capsys, str(path))
    assert code == 1
    assert [(d["code"], d["line"]) for d in report["errors"]] == [("IS101", 4)]


def test_unused_suppressions_are_reported_under_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A suppression that suppresses nothing is an IS901 finding with --strict, and silent without it."""
    path = write(
        tmp_path, "cfg.yaml", "init_cfg: {type: Constant, val: 1, layer: Linear}  # initspec: ignore[IS101]\n"
    )
    assert _json(capsys, str(path))[0] == 0
    code, report = _json(capsys, "--strict", str(path))
    assert code == 1
    assert [(d["code"], d["line"]) for d in report["errors"]] == [("IS901", 1)]


def test_pyproject_exclude_and_per_file_ignores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[tool.initspec]`` excludes globs from the search and turns codes off per file, as ruff does."""
    write(
        tmp_path,
        "pyproject.toml",
        """
        [tool.initspec]
        exclude = ["vendor"]
        per-file-ignores = {"configs/pvt/*.py" = ["IS103"]}
        """,
    )
    write(tmp_path, "vendor/bad.json", '{"init_cfg": {"type": "Nope"}}')
    write(tmp_path, "configs/pvt/pvt.py", "model = dict(init_cfg=dict(checkpoint='x.pth'))\n")
    write(tmp_path, "configs/other.py", "model = dict(init_cfg=dict(checkpoint='x.pth'))\n")
    monkeypatch.chdir(tmp_path)
    code, report = _json(capsys, ".")
    assert code == 1
    assert [(d["file"], d["code"]) for d in report["errors"]] == [("configs/other.py", "IS103")]


def test_a_bad_tool_initspec_table_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown key in ``[tool.initspec]`` exits 2 and names the known keys."""
    write(tmp_path, "pyproject.toml", "[tool.initspec]\nexclud = []\n")
    write(tmp_path, "cfg.json", "{}")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "cfg.json"]) == 2


def test_target_mmengine_reports_initspec_extensions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dotted override names, Pretrained ``strict`` and initspec-only types are IS301 under --target mmengine."""
    cfg = [
        {
            "type": "Normal",
            "std": 0.01,
            "layer": "Conv2d",
            "override": {"name": "head.cls", "bias_prob": 0.01, "type": "Normal"},
        },
        {"type": "Pretrained", "checkpoint": "a.pth", "strict": True},
    ]
    path = write(tmp_path, "cfg.json", json.dumps({"init_cfg": cfg}))
    assert _json(capsys, str(path))[0] == 0
    code, report = _json(capsys, "--target", "mmengine", str(path))
    assert code == 1
    assert [d["location"] for d in report["errors"]] == ["init_cfg[0].override.name", "init_cfg[1].strict"]
    assert (
        main(["validate", "--target", "mmengine", str(ROOT / "examples" / "configs" / "retinanet_head.json")])
        == 1
    )


@pytest.mark.parametrize(
    ("text", "yaml_1_1"),
    [
        ("1e-3", "str '1e-3'"),
        ("off", "bool False"),
        ("yes", "bool True"),
        ("0o17", "str '0o17'"),
        ("017", "int 15"),
        ("1_000", "int 1000"),
    ],
)
def test_yaml_values_read_differently_by_yaml_1_1_warn_with_both_readings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, yaml_1_1: str
) -> None:
    """A value PyYAML (YAML 1.1, mmengine) reads otherwise than YAML 1.2 is an IS401 warning giving both."""
    path = write(tmp_path, "cfg.yaml", f"init_cfg:\n  type: Constant\n  val: {text}\n  layer: Linear\n")
    _, report = _json(capsys, str(path))
    [warning] = [d for d in report["warnings"] if d["code"] == "IS401"]
    assert warning["line"] == 3
    assert "under YAML 1.1 (PyYAML, so mmengine)" in str(warning["message"])
    assert yaml_1_1 in str(warning["message"])


def test_sarif_output_is_valid_sarif_2_1_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--format sarif prints a log that the SARIF 2.1.0 schema (vendored in tests/data) accepts."""
    write(tmp_path, "bad.yaml", "init_cfg:\n  type: Kaimng\n  layer: Conv2d\n")
    write(tmp_path, "lint.json", '{"init_cfg": {"type": "Normal"}}')
    assert main(["validate", "--format", "sarif", str(tmp_path)]) == 1
    log = json.loads(capsys.readouterr().out)
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("IS101", "error"), ("IS201", "warning")]
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 3}


def test_the_validator_installs_and_runs_without_torch(tmp_path: Path) -> None:
    """torch is an extra; with torch absent, validate works and the torch half names the install command."""
    import subprocess
    import sys

    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any(dep.startswith("torch") for dep in project["dependencies"])
    assert project["optional-dependencies"]["torch"] == ["torch>=2.1"]
    cfg = write(tmp_path, "cfg.py", "model = dict(init_cfg=dict(type='Kaiming', layer='Conv2d'))\n")
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from initspec.cli import main\n"
        f"assert main(['validate', {str(cfg)!r}]) == 0\n"
        "import initspec\n"
        "try:\n    initspec.initialize\nexcept ImportError as err:\n    print(err)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert 'install it with `pip install "initspec[torch]"`' in result.stdout


@pytest.mark.parametrize(
    ("entry", "location"),
    [
        (
            {"type": "Pretrained", "checkpoint": "a.pth", "revise_keys": [["^module\\.", ""]]},
            "init_cfg.revise_keys",
        ),
        ({"type": "Normal", "std": 0.01, "override": {"name": "blocks.*.attn"}}, "init_cfg.override.name"),
        ({"type": "Orthogonal", "layer": "Linear"}, "init_cfg.type"),
    ],
    ids=["revise_keys", "glob", "new-type"],
)
def test_target_mmengine_reports_the_beyond_mmengine_features(
    entry: dict[str, object], location: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """revise_keys, glob override names and the six new types are initspec-only under --target mmengine."""
    path = write(tmp_path, "cfg.json", json.dumps({"init_cfg": entry}))
    assert _json(capsys, str(path))[0] == 0
    code, report = _json(capsys, "--target", "mmengine", str(path))
    assert code == 1
    assert [(d["code"], d["location"]) for d in report["errors"]] == [("IS301", location)]
