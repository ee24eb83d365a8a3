"""Tests for ``initspec diff``: two ``explain --format json`` plans compared tensor by tensor, without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from initspec.cli import main
from initspec.cli._diff import diff_plans

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FACTORY = f"{EXAMPLES / 'model.py'}:build_model"


def _explain_json(config: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["explain", str(config), "--model", FACTORY, "--format", "json"]) == 0
    out.write_text(capsys.readouterr().out, encoding="utf-8")
    return out


@pytest.fixture
def plans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """The example config's plan, and the plan of a copy whose override has bias_prob 0.05 instead of 0.01."""
    config = EXAMPLES / "configs" / "retinanet_head.json"
    changed = json.loads(config.read_text(encoding="utf-8"))
    changed["override"]["bias_prob"] = 0.05
    del changed["$schema"]
    other = tmp_path / "changed.json"
    other.write_text(json.dumps(changed), encoding="utf-8")
    return _explain_json(config, tmp_path / "a.json", capsys), _explain_json(
        other, tmp_path / "b.json", capsys
    )


def test_one_changed_override_is_the_one_difference(
    plans: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Changing one override's bias_prob changes one tensor: diff names it with the old and new bias, exit 1."""
    assert main(["diff", *map(str, plans)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "~ head.cls.bias: Normal bias: -4.59511985013459 -> -2.9444389791664403",
        "1 tensor(s) differ, 21 the same",
    ]


def test_json_and_github_formats(plans: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """--format json lists each change with both records; --format github prints one warning annotation each."""
    assert main(["diff", *map(str, plans), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["same"] == 21
    [change] = data["changes"]
    assert (change["tensor"], change["kind"], change["fields"]) == ("head.cls.bias", "changed", ["args"])
    assert change["b"]["args"] == {"bias": -2.9444389791664403}
    assert main(["diff", *map(str, plans), "--format", "github"]) == 1
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(
        f"::warning file={str(plans[1]).replace(':', '%3A')},title=initspec diff::~ head.cls.bias"
    )


def test_same_plan_exits_0(plans: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """A plan compared with itself has no difference and exits 0."""
    assert main(["diff", str(plans[0]), str(plans[0])]) == 0
    assert capsys.readouterr().out == "0 tensor(s) differ, 22 the same\n"


def test_added_removed_and_changed_sources() -> None:
    """A tensor only in B is added, only in A removed; a changed source or shape is named as such."""
    a = {
        "parameters": {
            "w": {"initializer": "Normal", "args": {"std": 1}, "source": "init_cfg[0]", "shape": [2]},
            "gone": {"initializer": "", "args": {}, "source": "untouched", "shape": [1]},
        }
    }
    b = {
        "parameters": {
            "w": {"initializer": "Normal", "args": {"std": 1}, "source": "init_cfg[1]", "shape": [3]},
            "new": {"initializer": "Constant", "args": {"val": 1}, "source": "init_cfg[0]", "shape": [1]},
        }
    }
    changes, same = diff_plans(a, b)
    assert same == 0
    assert [c.text() for c in changes] == [
        "~ w: Normal(std=1) [init_cfg[0]] -> Normal(std=1) [init_cfg[1]] (source, shape changed)",
        "+ new: Constant(val=1) [init_cfg[0]] (only in B)",
        "- gone: - [untouched] (only in A)",
    ]


def test_unreadable_or_foreign_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file, a file that is not JSON, or JSON that is no explain plan exits 2 with the fix."""
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    (tmp_path / "other.json").write_text('{"tensors": {}}', encoding="utf-8")
    assert main(["diff", str(tmp_path / "missing.json"), str(tmp_path / "bad.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["diff", str(tmp_path / "bad.json"), str(tmp_path / "bad.json")]) == 2
    assert "is not JSON" in capsys.readouterr().err
    assert main(["diff", str(tmp_path / "other.json"), str(tmp_path / "other.json")]) == 2
    assert (
        'has no "parameters" object; give the output of `initspec explain --format json`'
        in capsys.readouterr().err
    )


def test_diff_does_not_import_torch(plans: tuple[Path, Path]) -> None:
    """`python -X importtime -m initspec diff` imports no torch module."""
    cmd = [sys.executable, "-X", "importtime", "-m", "initspec", "diff", *map(str, plans)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1, result.stderr[-2000:]
    modules = [
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    ]
    assert "initspec.cli._diff" in modules
    assert [m for m in modules if m == "torch" or m.startswith("torch.")] == []
