"""``initspec validate --build`` on real configs shipped in the mmdet, mmpretrain and mmseg wheels.

Each config is built by its package's registry on the meta device, in worker processes, with the stand-ins
of ``scripts/real/_shims.py`` (``--plugin shims_plugin``). The two dead rules known in shipped code are found,
each at the config line that builds the module whose class default holds it; the clean configs add nothing.
Without the packages this skips, and fails under ``INITSPEC_REQUIRE_REAL=1`` (CI).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from conftest import require_real

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mmengine", "mmcv", "mmdet", "mmpretrain", "mmseg")
CONFIGS = (
    ("mmpretrain", "hrnet/hrnet-w18_4xb32_in1k.py"),
    ("mmdet", "ssd/ssd300_coco.py"),
    ("mmdet", "retinanet/retinanet_r50_fpn_1x_coco.py"),
    ("mmseg", "pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py"),
)


def _configs_root(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / ".mim" / "configs"


def _short(line: str) -> str:
    """A finding's line with each package's config folder written ``<package>``."""
    for package in dict(CONFIGS):
        line = line.replace(str(_configs_root(package)), f"<{package}>")
    return line


def test_validate_build_finds_the_two_dead_rules_of_shipped_code(tmp_path: Path) -> None:
    """hrnet-w18's neck `Linear` and ssd300's neck `BatchNorm2d` are IS206 at their `neck=` lines; nothing else."""
    require_real(*PACKAGES)
    paths = [str(_configs_root(package) / config) for package, config in CONFIGS]
    env = {
        **os.environ,
        "INITSPEC_HOME": str(tmp_path),  # no checkpoint is cached, so no Pretrained is planned
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "scripts" / "real")]),
    }
    cmd = [sys.executable, "-m", "initspec", "validate", "--build", "--jobs", "2", "--plugin", "shims_plugin"]
    run = subprocess.run([*cmd, *paths], capture_output=True, text=True, env=env, timeout=900, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [_short(line) for line in run.stdout.splitlines()]
    assert lines == [
        "<mmdet>/_base_/models/ssd300.py:20:5: warning: IS206 model.neck: the default init_cfg of SSDNeck "
        "(mmdet.models.necks.ssd_neck, package code, not this config): layer='BatchNorm2d' of init_cfg[1] "
        "matches no module in 'neck' (SSDNeck), so its rule writes nothing; the classes there: SSDNeck, L2Norm, "
        "ModuleList, Sequential, ConvModule, Conv2d, ReLU",
        "<mmpretrain>/_base_/models/hrnet/hrnet-w18.py:6:9: warning: IS206 model.neck.0: the default init_cfg of "
        "HRFuseScales (mmpretrain.models.necks.hr_fuse, package code, not this config): layer='Linear' of "
        "init_cfg matches no module in 'neck.0' (HRFuseScales), so its rule writes nothing; the classes there: "
        "HRFuseScales, ModuleList, ResLayer, Bottleneck, Conv2d, BatchNorm2d, ReLU, Sequential and 2 more",
    ]
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1] == "checked 4 files, 2 init_cfgs: 0 errors, 2 warnings"
