"""IS207: a legacy ``pretrained=`` beside an ``init_cfg`` in one module dict, which mmdet and mmseg refuse."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from conftest import require_real, write
from initspec.cli import main
from initspec.cli._project import _PRETRAINED

MMDET_ASSERTION = "init_cfg and pretrained cannot be specified at the same time"

CONFIGS = {
    "cfg.py": (
        "model = dict(\n"
        "    backbone=dict(type='ResNet', pretrained='torchvision://resnet50',\n"
        "                  init_cfg=dict(type='Kaiming', layer='Conv2d')))\n",
        2,
    ),
    "cfg.json": (
        '{"model": {\n  "backbone": {\n    "pretrained": "x.pth",\n'
        '    "init_cfg": {"type": "Kaiming", "layer": "Conv2d"}}}}\n',
        3,
    ),
    "cfg.yaml": (
        "model:\n  backbone:\n    init_cfg: {type: Kaiming, layer: Conv2d}\n    pretrained: x.pth\n",
        4,
    ),
    "cfg.toml": (
        '[model.backbone]\npretrained = "x.pth"\n\n[model.backbone.init_cfg]\ntype = "Kaiming"\nlayer = "Conv2d"\n',
        2,
    ),
}


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, list[dict[str, object]]]]:
    code = main(["validate", "--format", "json", *args])
    out = capsys.readouterr().out
    assert out, "validate printed no JSON"
    return code, json.loads(out)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_pretrained_beside_init_cfg_is_a_warning_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """In .py, JSON, YAML and TOML alike: an IS207 warning at the `pretrained` key; --strict fails on it."""
    text, line = CONFIGS[name]
    path = write(tmp_path, name, text)
    code, report = _report(capsys, str(path))
    assert code == 0
    assert [(w["code"], w["line"], w["location"]) for w in report["warnings"]] == [
        ("IS207", line, "model.backbone.pretrained")
    ]
    assert MMDET_ASSERTION in str(report["warnings"][0]["message"])
    assert main(["validate", "--strict", str(path)]) == 1


@pytest.mark.parametrize(
    "model",
    [
        "dict(backbone=dict(pretrained=None, init_cfg=dict(type='Kaiming', layer='Conv2d')))",
        "dict(backbone=dict(pretrained='x.pth', init_cfg=None))",
        "dict(pretrained='x.pth', backbone=dict(init_cfg=dict(type='Kaiming', layer='Conv2d')))",
    ],
    ids=["pretrained None", "init_cfg None", "pretrained on the parent"],
)
def test_only_both_set_on_one_module_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str
) -> None:
    """As mmdet's ``assert not (init_cfg and pretrained)``: None on either side, or another dict, is fine."""
    path = write(tmp_path, "cfg.py", f"model = {model}\n")
    code, report = _report(capsys, str(path))
    assert code == 0
    assert report["warnings"] == []


def test_the_warning_is_reported_once_at_the_base_that_holds_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two children of one base: the base's line, once."""
    write(tmp_path, "base.py", CONFIGS["cfg.py"][0])
    write(tmp_path, "a.py", "_base_ = './base.py'\n")
    write(tmp_path, "b.py", "_base_ = './base.py'\nmodel = dict(neck=dict(type='N'))\n")
    _, report = _report(capsys, str(tmp_path))
    assert [(w["file"], w["line"]) for w in report["warnings"]] == [(str(tmp_path / "base.py"), 2)]


def test_the_message_quotes_what_mmdet_asserts() -> None:
    """The quoted assertion is mmdet's own text (read from the installed source, never imported)."""
    require_real("mmdet")
    spec = importlib.util.find_spec("mmdet")
    assert spec is not None and spec.origin is not None
    source = (Path(spec.origin).parent / "models" / "backbones" / "resnet.py").read_text(encoding="utf-8")
    assert MMDET_ASSERTION in source
    assert f"`AssertionError: {MMDET_ASSERTION}`" in _PRETRAINED
