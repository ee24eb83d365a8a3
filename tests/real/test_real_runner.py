"""A real mmengine Runner on mmdet's RetinaNet R-50 with ``load_from``: initspec downloads nothing, and with
``skip_overwritten=False`` the weights after the load are stock mmengine's, bit for bit.

Each side runs ``scripts/real/runner_case.py`` in its own process (the stand-ins it installs must precede
every OpenMMLab import). Skips without mmdet, unless ``INITSPEC_REQUIRE_REAL=1``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from conftest import require_real

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "scripts" / "real" / "runner_case.py"


def _case(*args: str | Path) -> None:
    done = subprocess.run(
        [sys.executable, str(CASE), *map(str, args)], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Stock and initspec (skip_overwritten=False) on one load_from that lacks the classification branch."""
    require_real("mmdet")
    work = tmp_path_factory.mktemp("runner")
    _case("prepare", work, "--drop", "bbox_head.retina_cls")
    out: dict[str, Any] = {}
    for side in ("stock", "initspec"):
        _case("run", work, side, work / f"{side}.pt")
        out[side] = torch.load(work / f"{side}.pt", weights_only=True)
    out["work"] = work
    return out


def test_initspec_downloads_nothing_that_load_from_overwrites(sides: dict[str, Any]) -> None:
    """Stock downloads the ResNet-50 backbone once; initspec never (load_from holds all of it)."""
    assert sides["stock"]["requests"] == 1
    assert sides["initspec"]["requests"] == 0


def test_weights_after_load_from_are_stock_bit_for_bit(sides: dict[str, Any]) -> None:
    """Every tensor after the load, the drawn retina_cls included, equals stock mmengine's bit for bit."""
    stock, ours = sides["stock"]["state"], sides["initspec"]["state"]
    assert stock.keys() == ours.keys()
    assert [k for k in stock if not torch.equal(stock[k], ours[k])] == []


def test_report_credits_load_from_and_the_drawn_head(sides: dict[str, Any]) -> None:
    """The report says load_from for what the checkpoint supplies, the config for the drawn retina_cls."""
    sources = sides["initspec"]["sources"]
    load_from = f"load_from: {sides['work'] / 'load_from.pth'}"
    assert sources["backbone.conv1.weight"] == load_from
    assert sources["bbox_head.retina_cls.weight"].startswith("bbox_head.init_cfg")
    assert sum(source == load_from for source in sources.values()) == len(sources) - 2
