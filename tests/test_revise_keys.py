"""Pretrained ``revise_keys``: regex key rewrites after the prefix, validated at parse time; mismatch hints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from initspec import (
    CheckpointError,
    InitConfigError,
    InitPlanError,
    InitWarning,
    PretrainedInit,
    initialize,
    parse_init_cfg,
)


class _Blocks(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))


class _Wrapped(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = _Blocks()


def _distinct(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: torch.full_like(v, float(i + 1)) for i, (k, v) in enumerate(model.state_dict().items())}


def _checkpoint(tmp_path: Path, state: dict[str, torch.Tensor]) -> str:
    path = tmp_path / "ck.pth"
    torch.save({"state_dict": state}, path)
    return str(path)


def test_revise_keys_apply_in_order_after_the_prefix(tmp_path: Path) -> None:
    """prefix='model' strips first, then each (pattern, replacement) rewrites the keys in list order."""
    want = _distinct(_Blocks())
    saved = {"model." + k.replace("layers.", "stages.").replace(".weight", ".w"): v for k, v in want.items()}
    model = _Blocks()
    cfg = dict(
        type="Pretrained",
        checkpoint=_checkpoint(tmp_path, saved),
        prefix="model",
        revise_keys=[[r"^stages\.", "blocks."], [r"^blocks\.", "layers."], [r"\.w$", ".weight"]],
    )
    report = initialize(model, cfg)
    for key, value in want.items():
        assert torch.equal(model.state_dict()[key], value), key
    assert report.checkpoints[0].missing == () and report.checkpoints[0].unexpected == ()


def test_revise_keys_equal_mmengine_on_a_clean_rename(tmp_path: Path) -> None:
    """A rename that keeps keys unique loads exactly what mmengine's load_checkpoint loads."""
    mm_checkpoint = pytest.importorskip("mmengine.runner.checkpoint")
    saved = {k.replace("layers.", "stages."): v for k, v in _distinct(_Blocks()).items()}
    path = _checkpoint(tmp_path, saved)
    ours, theirs = _Blocks(), _Blocks()
    initialize(ours, dict(type="Pretrained", checkpoint=path, revise_keys=[[r"^stages\.", "layers."]]))
    mm_checkpoint.load_checkpoint(theirs, path, revise_keys=[(r"^stages\.", "layers.")])
    for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
        assert torch.equal(a, b), key


def test_two_keys_revised_onto_one_raise_before_any_write(tmp_path: Path) -> None:
    """revise_keys that map two checkpoint keys to one name is a CheckpointError naming both; nothing changes."""
    saved = _distinct(_Blocks())
    model = _Blocks()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = dict(type="Pretrained", checkpoint=_checkpoint(tmp_path, saved), revise_keys=[[r"\.\d\.", ".0."]])
    with pytest.raises(CheckpointError, match=r"maps both 'layers\.0\.weight' and 'layers\.1\.weight' to"):
        initialize(model, cfg)
    for key, value in before.items():
        assert torch.equal(model.state_dict()[key], value), key


@pytest.mark.parametrize(
    ("revise_keys", "location", "message"),
    [
        ([["(unclosed", ""]], r"revise_keys\[0\]", "is not a valid regular expression"),
        ([["a", "b"], ["^x", r"\2"]], r"revise_keys\[1\]", "does not fit pattern"),
        ([["^a"]], r"revise_keys\[0\]", r"expected a \[pattern, replacement\] pair of strings"),
        ([["a", 1]], r"revise_keys\[0\]\[1\]", "expected a valid string"),
        ("^a", "revise_keys", "expected a list of"),
    ],
    ids=["pattern", "group-reference", "pair", "string", "not-a-list"],
)
def test_bad_revise_keys_are_located_config_errors(revise_keys: object, location: str, message: str) -> None:
    """Each entry must be a [pattern, replacement] pair of strings whose pattern and replacement compile."""
    with pytest.raises(InitConfigError, match=rf"init_cfg\.{location}: .*{message}"):
        parse_init_cfg(dict(type="Pretrained", checkpoint="a.pth", revise_keys=revise_keys))


def test_revise_keys_round_trip_through_to_dict() -> None:
    """to_dict gives lists of [pattern, replacement], and parsing them back gives an equal config."""
    cfg = PretrainedInit(checkpoint="a.pth", revise_keys=[(r"^backbone\.", "")])
    assert cfg.to_dict() == {
        "type": "Pretrained",
        "checkpoint": "a.pth",
        "revise_keys": [[r"^backbone\.", ""]],
    }
    assert parse_init_cfg(cfg.to_dict()) == (cfg,)
    assert "revise_keys" not in PretrainedInit(checkpoint="a.pth").to_dict()


def test_mismatch_suggests_the_prefix_most_keys_carry(tmp_path: Path) -> None:
    """When most checkpoint keys are unexpected under one head, the warning suggests prefix=that head."""
    saved = {"backbone." + k: v for k, v in _distinct(_Blocks()).items()} | {"neck.w": torch.zeros(1)}
    with pytest.warns(
        InitWarning, match=r"80% of the checkpoint's keys start with 'backbone\.'; add prefix='backbone'"
    ):
        initialize(_Blocks(), dict(type="Pretrained", checkpoint=_checkpoint(tmp_path, saved)))


def test_strict_mismatch_suggests_a_revise_rule_that_adds_a_head(tmp_path: Path) -> None:
    """When the model's keys are the checkpoint's under one more head, the error suggests revise_keys."""
    path = _checkpoint(tmp_path, _distinct(_Blocks()))
    with pytest.raises(InitPlanError, match=r"add revise_keys=\[\['\^', 'backbone\.'\]\]"):
        initialize(_Wrapped(), dict(type="Pretrained", checkpoint=path, strict=True))
    model = _Wrapped()
    initialize(model, dict(type="Pretrained", checkpoint=path, strict=True, revise_keys=[["^", "backbone."]]))


def test_a_mostly_matching_checkpoint_gives_no_hint(tmp_path: Path) -> None:
    """With most keys matching, the mismatch lists keys and suggests nothing."""
    saved = _distinct(_Blocks()) | {"extra.weight": torch.zeros(1)}
    with pytest.warns(InitWarning) as caught:
        initialize(_Blocks(), dict(type="Pretrained", checkpoint=_checkpoint(tmp_path, saved)))
    assert "hint" not in str(caught[0].message)
