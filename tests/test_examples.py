"""The scripts in examples/ run as a user runs them, warning-free, and print what their docstrings promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, cwd: Path) -> str:
    """Run ``examples/<name>`` with warnings as errors in ``cwd``; return its stdout (it must exit 0)."""
    result = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / name)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, f"{name} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("name", ["retinanet_head.py", "vit_cls_token.py", "finetune_pretrained.py"])
def test_example_runs_cleanly(name: str, tmp_path: Path) -> None:
    """Each example exits 0 without a warning and leaves no file behind in its working directory."""
    run_example(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_retinanet_head_gives_retina_cls_the_prior_bias(tmp_path: Path) -> None:
    """The RetinaNet override writes retina_cls's bias from bias_prob=0.01; the other convs get Normal(0.01)."""
    out = run_example("retinanet_head.py", tmp_path)
    assert "retina_cls.bias" in out
    assert "Normal(bias=-4.59511985013459)  init_cfg[0].override[0] (name='retina_cls')" in out
    assert "sigmoid(bias) = 0.0100" in out
    assert "initialized RetinaHead: 12 tensors (12 init_cfg)" in out


def test_vit_initializes_cls_token_and_pos_embed_by_parameter_overrides(tmp_path: Path) -> None:
    """cls_token and pos_embed come from name-only parameter overrides, and nothing is left untouched."""
    out = run_example("vit_cls_token.py", tmp_path)
    assert "init_cfg[0].override[0] (name='cls_token')   TruncNormal(std=0.02)" in out
    assert "init_cfg[0].override[1] (name='pos_embed')   TruncNormal(std=0.02)" in out
    assert "untouched: []" in out
    assert "logits: (2, 10)" in out


def test_finetune_loads_the_backbone_and_keeps_the_heads_own_init(tmp_path: Path) -> None:
    """The backbone's parameters come from the checkpoint (by prefix); the new head from its own config."""
    out = run_example("finetune_pretrained.py", tmp_path)
    assert "from the checkpoint: backbone.stem.0.weight," in out
    assert "from the head's init_cfg: head.fc.weight, head.fc.bias" in out
    assert "12 tensors loaded (parameters and BatchNorm buffers), missing: []" in out
    assert "backbone equals the pretrained backbone: True" in out
