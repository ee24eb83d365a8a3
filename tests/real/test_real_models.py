"""Real OpenMMLab models: initspec inside mmengine initializes them bit for bit as stock mmengine does.

The harness is ``scripts/real/models.py`` (each side of each model runs in its own process; see its docstring
for the checkpoints it makes and what it stubs). These tests need mmpretrain, mmdet, mmseg and their imports
(``scripts/real/install.sh``). Without them the tests skip, unless ``INITSPEC_REQUIRE_REAL=1`` (set by CI),
where they fail. ``INITSPEC_REAL_JOBS`` sets how many models run at once (default 1).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import require_real

ROOT = Path(__file__).resolve().parents[2]
JOBS = int(os.environ.get("INITSPEC_REAL_JOBS", "1"))
REPORT_MODELS = ("retinanet-r50", "vit-b16", "swin-t")
# Stock against stock, in two processes: the harness itself is deterministic (the CLI's --self-check runs all).
SELF_CHECK_MODELS = ("retinanet-r50", "upernet-swin-t", "deit-t")
# Tensors whose report source must name the rule's owner: a config of that module, or its own init_weights.
CREDITS: dict[str, dict[str, str]] = {
    "retinanet-r50": {"bbox_head.retina_cls.bias": "bbox_head", "neck.fpn_convs.0.conv.weight": "neck"},
    "vit-b16": {"backbone.pos_embed": "backbone", "backbone.layers.0.ffn.layers.0.0.weight": "backbone"},
    "swin-t": {
        "backbone.stages.0.blocks.0.attn.w_msa.relative_position_bias_table": "w_msa",
        "head.fc.weight": "init_cfg[0]",  # the config sets head.init_cfg=None: the root's TruncNormal writes it
    },
}


def _harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("real_models", ROOT / "scripts" / "real" / "models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _harness()


def _require_real_packages() -> None:
    require_real(*harness.PACKAGES)


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    """Every model of the harness, stock mmengine against initspec, run once for the module."""
    _require_real_packages()
    return {r.name: r for r in harness.run_cases(harness.CASES, jobs=JOBS)}


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    """A report run under initspec of each model in REPORT_MODELS."""
    _require_real_packages()
    return harness.report_runs([harness.BY_NAME[name] for name in REPORT_MODELS], jobs=JOBS)


def test_harness_is_deterministic() -> None:
    """Stock mmengine twice, each in a fresh process: every tensor is bit-identical, checkpoints fully load."""
    _require_real_packages()
    cases = [harness.BY_NAME[name] for name in SELF_CHECK_MODELS]
    for result in harness.run_cases(cases, self_check=True, jobs=JOBS):
        assert not result.error, f"{result.name}: {result.error}"
        assert result.identical == result.total > 0, f"{result.name}: differ: {result.differing[:20]}"
        assert all(n == m for n, m in result.loaded), f"{result.name}: {result.loaded}"


@pytest.mark.parametrize("name", [case.name for case in harness.CASES])
def test_initializes_like_stock_mmengine(results: dict[str, Any], name: str) -> None:
    """Under the same seed, every parameter and buffer is bit-identical to stock mmengine's."""
    result = results[name]
    assert not result.error, result.error
    assert result.identical == result.total, f"{name}: tensors that differ: {result.differing[:20]}"
    assert all(n == m for n, m in result.loaded), f"{name}: a checkpoint did not fully load: {result.loaded}"


@pytest.mark.parametrize("name", REPORT_MODELS)
def test_report_names_every_write(reports: dict[str, dict[str, Any]], name: str) -> None:
    """The report covers every tensor; untouched() is exactly the tensors init_weights left alone."""
    run = reports[name]
    assert "error" not in run, run.get("error")
    assert run["returned_is_report"], "model.init_weights() should return the init_options() report"
    assert run["reported"] == run["tensors"]
    unchanged = sorted(set(run["tensors"]) - set(run["changed"]))
    assert run["untouched"] == unchanged
    blank = [k for k in run["changed"] if not run["sources"][k] or run["sources"][k] == "untouched"]
    assert not blank, f"written tensors without a source: {blank[:20]}"


@pytest.mark.parametrize("name", REPORT_MODELS)
def test_report_credits_sources(reports: dict[str, dict[str, Any]], name: str) -> None:
    """A loaded tensor is credited to its checkpoint file, a written one to the module whose rule wrote it."""
    run = reports[name]
    assert "error" not in run, run.get("error")
    for checkpoint in run["checkpoints"]:
        owned = [k for k in run["changed"] if k.startswith(checkpoint["module"] + ".")]
        uncredited = [k for k in owned if checkpoint["path"] not in run["records"][k]]
        assert owned and not uncredited, f"not credited to {checkpoint['path']}: {uncredited[:10]}"
    for tensor, owner in CREDITS[name].items():
        assert tensor in run["changed"], f"{tensor} was not written"
        assert owner in run["sources"][tensor], f"{tensor}: source {run['sources'][tensor]!r} lacks {owner!r}"
