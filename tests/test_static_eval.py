"""Static evaluation of what real OpenMMLab configs do (issue 14): each construct from a small fixture tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write
from initspec.cli import main
from initspec.cli.documents import load_document

BASE = """
model = dict(
    type='Detector',
    backbone=dict(type='ResNet', init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    bbox_head=dict(type='Head', init_cfg=dict(type='Normal', std=0.01, layer='Conv2d')),
)
optim_wrapper = dict(type='OptimWrapper')
"""


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]]]:
    code = main(["validate", "--format", "json", *args])
    report = json.loads(capsys.readouterr().out)
    return code, report["errors"] + report["warnings"] + report["skipped"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(tmp_path, "_base_/detector.py", BASE)
    return tmp_path


def test_assignment_into_base_attributes_is_followed(tree: Path) -> None:
    """``_base_.optim_wrapper.type = 'Amp'`` changes the inherited value; the file is still checked."""
    child = write(
        tree, "amp.py", "_base_ = './_base_/detector.py'\n_base_.optim_wrapper.type = 'AmpOptimWrapper'\n"
    )
    assert load_document(child).data["optim_wrapper"] == {"type": "AmpOptimWrapper"}  # type: ignore[index]


@pytest.mark.parametrize(
    "body",
    [
        "detector = _base_.model\ndetector['init_cfg'] = dict(type='Kaimng', layer='Conv2d')\nmodel = dict(detector=detector)\n",
        "detector = _base_.model\ndetector['backbone'].update(dict(init_cfg=dict(type='Kaimng', layer='Conv2d')))\n"
        "model = dict(detector=detector)\n",
        "detector = _base_.model\ndetector.backbone = dict(init_cfg=dict(type='Kaimng', layer='Conv2d'))\n"
        "model = dict(detector=detector)\n",
        "model = _base_.model\nmodel.merge(dict(bbox_head=dict(init_cfg=dict(type='Kaimng'))))\n",
        "model = _base_.model\nmodel.bbox_head.init_cfg = dict(type='Kaimng', layer='Conv2d')\n",
        "model = dict(init_cfg='{{_base_.model.bbox_head.init_cfg}}')\nmodel['init_cfg']['type'] = 'Kaimng'\n",
    ],
    ids=["item", "update", "attribute", "merge", "nested-attribute", "base-reference"],
)
def test_a_typo_set_through_any_construct_is_caught(
    tree: Path, body: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The qdtrack/sort/deepsort/bytetrack/soft_teacher constructs: an injected typo is an IS101 error."""
    child = write(tree, "child.py", "_base_ = './_base_/detector.py'\n" + body)
    typo_line = 1 + next(n for n, line in enumerate(body.splitlines(), 1) if "Kaimng" in line)
    code, found = _run(capsys, str(child))
    assert code == 1
    # an alias reaches the value from several keys (detector, model.detector), each at the typo's line
    assert {(d["code"], d["line"]) for d in found if d["code"] == "IS101"} == {("IS101", typo_line)}


def test_update_and_merge_follow_configdict_semantics(tree: Path) -> None:
    """``update`` merges nested dicts key by key; ``merge`` honours ``_delete_`` and digit keys into lists."""
    child = write(
        tree,
        "child.py",
        """
        _base_ = './_base_/detector.py'
        model = _base_.model
        model.update(dict(bbox_head=dict(init_cfg=dict(std=0.02))))
        model.merge(dict(backbone=dict(_delete_=True, type='Swin')))
        layers = [dict(a=1), dict(a=2)]
        wrap = dict(layers=layers)
        wrap.merge(dict(layers={'1': dict(a=3)}))
        """,
    )
    data = load_document(child).data
    assert data["model"]["bbox_head"]["init_cfg"] == {"type": "Normal", "std": 0.02, "layer": "Conv2d"}  # type: ignore[index]
    assert data["model"]["backbone"] == {"type": "Swin"}  # type: ignore[index]
    assert data["wrap"]["layers"] == [{"a": 1}, {"a": 3}]  # type: ignore[index]


def test_read_base_imports_relative_modules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``with read_base(): from .._base_.x import *`` and ``import name`` bring the values in, and are checked."""
    write(
        tmp_path,
        "_base_/models/net.py",
        "model = dict(init_cfg=dict(type='Normal', std=0.01, layer='Conv2d'))\nother = 1\n",
    )
    child = write(
        tmp_path,
        "det/child.py",
        """
        from mmengine.config import read_base
        with read_base():
            from .._base_.models.net import *
            from .._base_.models.net import other as renamed
        model.merge(dict(init_cfg=dict(std=-1)))
        model.bbox_head = dict(init_cfg=dict(type='Kaimng'))
        """,
    )
    data = load_document(child).data
    assert data["renamed"] == 1  # type: ignore[index]
    code, found = _run(capsys, str(child))
    assert code == 1
    assert sorted(str(d["code"]) for d in found) == ["IS100", "IS101"]


def test_dict_pop_removes_the_key(tree: Path) -> None:
    """``detector.pop('data_preprocessor')`` (mmdet's trackers) removes the key, as Python would."""
    child = write(
        tree, "child.py", "_base_ = './_base_/detector.py'\ndetector = _base_.model\ndetector.pop('type')\n"
    )
    assert "type" not in load_document(child).data["detector"]  # type: ignore[index,operator]


def test_initializer_classes_resolve_to_their_registered_names(tmp_path: Path) -> None:
    """``type=PretrainedInit`` imported from mmengine, mmcv or initspec becomes ``'Pretrained'``."""
    child = write(
        tmp_path,
        "cfg.py",
        """
        from mmengine.model.weight_init import PretrainedInit
        from mmcv.cnn import KaimingInit
        import initspec
        from mmdet.models import RetinaNet
        model = dict(
            type=RetinaNet,
            backbone=dict(init_cfg=dict(type=PretrainedInit, checkpoint='a.pth')),
            neck=dict(init_cfg=dict(type=KaimingInit, layer='Conv2d')),
            head=dict(init_cfg=dict(type=initspec.NormalInit, std=0.01, layer='Conv2d')),
        )
        """,
    )
    model = load_document(child).data["model"]  # type: ignore[index]
    assert model["backbone"]["init_cfg"]["type"] == "Pretrained"
    assert model["neck"]["init_cfg"]["type"] == "Kaiming"
    assert model["head"]["init_cfg"]["type"] == "Normal"
    assert "type" not in model  # an unknown class is left out, never imported


def test_package_scoped_bases_resolve_through_the_package_configs(tmp_path: Path) -> None:
    """``mmdet::x.py`` resolves against ``<mmdet>/.mim/configs`` found on sys.path, never imported."""
    package = tmp_path / "site" / "fakepkg"
    write(package, "__init__.py", "raise RuntimeError('imported')\n")
    write(
        package,
        ".mim/configs/base.py",
        "model = dict(init_cfg=dict(type='Normal', std=0.01, layer='Conv2d'))\n",
    )
    import sys

    sys.path.insert(0, str(tmp_path / "site"))
    try:
        doc = load_document(write(tmp_path, "child.py", "_base_ = 'fakepkg::base.py'\n"))
        missing = load_document(write(tmp_path, "absent.py", "_base_ = 'nopkg_xyz::base.py'\nx = 1\n"))
    finally:
        sys.path.remove(str(tmp_path / "site"))
    assert doc.data["model"]["init_cfg"]["std"] == 0.01  # type: ignore[index]
    [notice] = missing.notices
    assert (notice.code, notice.severity) == ("IS004", "warning")
    assert "'nopkg_xyz' is not installed" in notice.message


def test_an_unevaluable_statement_that_may_set_an_init_cfg_is_a_note_with_its_line(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A statement that cannot be evaluated but mentions init_cfg is an IS503 note; the rest is checked."""
    child = write(
        tree,
        "child.py",
        """
        _base_ = './_base_/detector.py'
        for name in ['a']:
            model[name] = dict(init_cfg=dict(type='Normal'))
        model = dict(bbox_head=dict(init_cfg=dict(type='Kaimng')))
        """,
    )
    code, found = _run(capsys, str(child))
    assert code == 1
    assert [(d["code"], d["line"]) for d in found if d["code"] == "IS503"] == [("IS503", 2)]
    assert any(d["code"] == "IS101" for d in found)


def test_no_config_construct_exits_2(tree: Path) -> None:
    """A non-literal ``_base_`` is an IS003 error (exit 1), and the file's own init_cfgs are still checked."""
    child = write(tree, "child.py", "_base_ = make_bases()\nmodel = dict(init_cfg=dict(type='Kaimng'))\n")
    assert main(["validate", str(child)]) == 1
