"""``initspec explain`` on real OpenMMLab configs: each nested init_cfg lands on the real module, offline.

The factory is ``scripts/real/explain_models.py:build`` (the config's model, built with its package's registry
under ``initspec.mmengine.install()``). Like the differential suite, this needs ``scripts/real/install.sh``:
without the packages it skips, and fails under ``INITSPEC_REQUIRE_REAL=1`` (CI).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from conftest import require_real

ROOT = Path(__file__).resolve().parents[2]
FACTORY = "scripts/real/explain_models.py:build"
PACKAGES = ("mmengine", "mmcv", "mmdet", "mmseg")


def _explain(
    case: str, config: str | Path, package: str, home: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    require_real(*PACKAGES)
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None
    path = Path(spec.origin).parent / ".mim" / "configs" / config
    env = {**os.environ, "INITSPEC_REAL_CASE": case, "INITSPEC_HOME": str(home), "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "initspec", "explain", str(path), "--model", FACTORY, *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600, check=False)


def _rows(stdout: str) -> dict[str, list[str]]:
    table = stdout.split("\n\n", 1)[0]
    return {line.split()[0]: line.split() for line in table.splitlines()[2:]}


def test_retinanet_places_its_backbone_config_and_downloads_nothing(tmp_path: Path) -> None:
    """RetinaNet's `model.backbone.init_cfg` (torchvision://resnet50) is named as not downloaded; the rest runs."""
    result = _explain("retinanet-r50", "retinanet/retinanet_r50_fpn_1x_coco.py", "mmdet", tmp_path)
    assert result.returncode == 0, result.stderr
    notes = result.stderr.splitlines()
    backbone = next(line for line in notes if "model.backbone.init_cfg" in line)
    assert "_base_/models/retinanet_r50_fpn.py:" in backbone
    assert "is not applied: its checkpoint torchvision://resnet50" in backbone
    assert notes[-1].endswith(
        "keep the init_cfg they were built with, as the config sets none for them: neck, bbox_head"
    )
    rows = _rows(result.stdout)
    assert rows["backbone.conv1.weight"][-1] == "untouched"
    assert rows["neck.fpn_convs.0.conv.weight"][-2:] == ["Xavier(distribution='uniform')", "neck.init_cfg[0]"]


def test_pspnet_built_in_pretrained_is_not_fetched(tmp_path: Path) -> None:
    """mmseg turns `pretrained=` into the backbone's Pretrained: explain names it instead of downloading."""
    result = _explain("pspnet-r50", "pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py", "mmseg", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "'backbone' (ResNetV1c) is shown with no init_cfg of its own" in result.stderr
    assert "open-mmlab://resnet50_v1c" in result.stderr
    rows = _rows(result.stdout)
    assert rows["decode_head.conv_seg.weight"][-3:] == [
        "Normal(std=0.01)",
        "decode_head.init_cfg[0].override[0]",
        "(name='conv_seg')",
    ]


def test_pvt_free_form_backbone_config_goes_to_its_own_init_weights(tmp_path: Path) -> None:
    """PVT's `init_cfg=dict(checkpoint=...)` has no type: it is placed for PVT's own code, not refused."""
    result = _explain("retinanet-pvt-t", "pvt/retinanet_pvt-t_fpn_1x_coco.py", "mmdet", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        "model.backbone.init_cfg is applied to 'backbone' (PyramidVisionTransformer), whose own init_weights"
        in (result.stderr)
    )
    rows = _rows(result.stdout)
    row = " ".join(rows["backbone.layers.0.0.projection.weight"])
    assert row.endswith("user-defined init_weights of PyramidVisionTransformer (backbone)")


def test_diff_of_retinanet_and_a_child_config_names_the_changed_neck(tmp_path: Path) -> None:
    """`initspec diff` of RetinaNet's plan and a child config that sets the neck's Xavier to normal lists
    exactly the neck's 8 convolution weights, with the argument that changed, and exits 1."""
    base = "retinanet/retinanet_r50_fpn_1x_coco.py"
    before = _explain("retinanet-r50", base, "mmdet", tmp_path, "--format", "json")
    assert before.returncode == 0, before.stderr
    spec = importlib.util.find_spec("mmdet")
    assert spec is not None and spec.origin is not None
    parent = Path(spec.origin).parent / ".mim" / "configs" / base
    child = tmp_path / "child.py"
    child.write_text(
        f"_base_ = [{str(parent)!r}]\n"
        'model = dict(neck=dict(init_cfg=dict(type="Xavier", layer="Conv2d", distribution="normal")))\n',
        encoding="utf-8",
    )
    after = _explain("retinanet-r50", child, "mmdet", tmp_path, "--format", "json")
    assert after.returncode == 0, after.stderr
    (tmp_path / "a.json").write_text(before.stdout, encoding="utf-8")
    (tmp_path / "b.json").write_text(after.stdout, encoding="utf-8")
    cmd = [sys.executable, "-m", "initspec", "diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")]
    diff = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert diff.returncode == 1, diff.stderr
    lines = diff.stdout.splitlines()
    convs = [f"lateral_convs.{i}" for i in range(3)] + [f"fpn_convs.{i}" for i in range(5)]
    assert lines[:-1] == [
        f"~ neck.{conv}.conv.weight: Xavier distribution: 'uniform' -> 'normal'" for conv in convs
    ]
    assert lines[-1].startswith("8 tensor(s) differ, ")
