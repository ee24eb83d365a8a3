"""YAML ``!!python/...`` tags: tuples (mmengine's ``Config.dump``) read as lists, other tags left out, never run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import import_mmengine, write
from initspec.cli import main
from initspec.cli.documents import load_document


def _report(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, dict[str, list[dict[str, object]]]]:
    code = main(["validate", "--format", "json", str(path)])
    out = capsys.readouterr().out
    assert out, "validate printed no JSON"
    return code, json.loads(out)


def test_a_config_dumped_by_mmengine_reads_with_its_tuples_as_lists(tmp_path: Path) -> None:
    """``Config.dump`` writes every tuple as ``!!python/tuple``: each reads as a list, at its own position."""
    config = import_mmengine("mmengine.config").Config
    cfg = {
        "model": {
            "type": "M",
            "img_scale": (1333, 800),
            "backbone": {"init_cfg": {"type": "Normal", "std": 0.01, "layer": ("Conv2d", "Linear")}},
        }
    }
    path = tmp_path / "dumped.yaml"
    config(cfg).dump(str(path))
    assert "!!python/tuple" in path.read_text(encoding="utf-8")
    doc = load_document(path)
    model = doc.data["model"]  # type: ignore[index]
    assert model["img_scale"] == [1333, 800]
    assert model["backbone"]["init_cfg"]["layer"] == ["Conv2d", "Linear"]
    assert doc.notices == ()
    assert main(["validate", str(path)]) == 0


def test_a_typo_in_a_dumped_config_with_tuples_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tuple no longer hides the file: the init_cfg beside it is checked and its typo reported."""
    path = write(
        tmp_path,
        "cfg.yaml",
        """
        model:
          img_scale: !!python/tuple
          - 1333
          - 800
          init_cfg:
            type: Kaimng
            layer: !!python/tuple [Conv2d]
        """,
    )
    code, report = _report(capsys, path)
    assert code == 1
    assert [(e["code"], e["line"]) for e in report["errors"]] == [("IS101", 6)]


def test_a_python_tag_in_a_file_without_init_cfg_is_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A detectron2 YAML with ``!!python/object/apply:eval`` and no init_cfg is a note, exit 0, nothing run."""
    marker = tmp_path / "pwned"
    path = write(
        tmp_path,
        "d2.yaml",
        f"""
        MODEL:
          WEIGHTS: detectron2://ImageNetPretrained/MSRA/R-50.pkl
          PIXEL_MEAN: !!python/object/apply:eval ['[103.5, 116.3, 123.7]']
          HOOK: !!python/object/apply:os.system ['touch {marker}']
        """,
    )
    code, report = _report(capsys, path)
    assert code == 0
    assert [(n["code"], n["line"], n["col"]) for n in report["skipped"]] == [
        ("IS402", 3, 15),
        ("IS402", 4, 9),
    ]
    assert "`!!python/object/apply:eval` left out, never constructed" in str(report["skipped"][0]["message"])
    assert not marker.exists()


def test_a_python_tag_beside_an_init_cfg_is_an_error_and_the_rest_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In a file with an init_cfg, the tag is still an IS002 error at its line, and the init_cfg is checked."""
    marker = tmp_path / "pwned"
    path = write(
        tmp_path,
        "cfg.yaml",
        f"""
        hook: !!python/object/apply:os.system ['touch {marker}']
        model:
          init_cfg: {{type: Kaimng, layer: Conv2d}}
        """,
    )
    code, report = _report(capsys, path)
    assert code == 1
    assert [(e["code"], e["line"]) for e in report["errors"]] == [("IS002", 1), ("IS101", 3)]
    assert "`!!python/object/apply:os.system`" in str(report["errors"][0]["message"])
    assert not marker.exists()
