"""Glob override names: ``*`` is one dotted segment, ``**`` any depth, matched over modules and parameters."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from initspec import BaseModule, InitPlanError, initialize, plan_init
from initspec._walker.globs import expand, is_glob


class _Attn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(4, 12)
        self.proj = nn.Linear(4, 4)


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = _Attn()
        self.mlp = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 4))


class _ViT(nn.Module):
    def __init__(self, depth: int = 3) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 4))
        self.pos_embed = nn.Parameter(torch.zeros(5, 4))
        self.blocks = nn.ModuleList([_Block() for _ in range(depth)])
        self.head = nn.Linear(4, 2)


def _cfg(*overrides: dict[str, object]) -> dict[str, object]:
    return dict(type="Normal", std=0.02, layer="Linear", override=list(overrides))


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("blocks.*.attn.proj", ["blocks.0.attn.proj", "blocks.1.attn.proj"]),
        ("blocks.*.attn.proj.weight", ["blocks.0.attn.proj.weight", "blocks.1.attn.proj.weight"]),
        ("**.proj", ["blocks.0.attn.proj", "blocks.1.attn.proj"]),
        ("blocks.**.2", ["blocks.0.mlp.2", "blocks.1.mlp.2"]),
        ("*_token", ["cls_token"]),
        ("*", ["cls_token", "pos_embed", "blocks", "head"]),
        ("blocks.**", ["blocks"]),
        (
            "blocks.1.**.bias",
            [
                "blocks.1.attn.qkv.bias",
                "blocks.1.attn.proj.bias",
                "blocks.1.mlp.0.bias",
                "blocks.1.mlp.2.bias",
            ],
        ),
    ],
)
def test_glob_matches_dotted_paths_outermost_first(pattern: str, expected: list[str]) -> None:
    """``*`` spans one segment, ``**`` zero or more; a match under another match is covered by it."""
    assert expand(_ViT(depth=2), pattern) == expected


def test_only_patterns_are_globs() -> None:
    """A name with *, ? or [ is a glob; a dotted path is not."""
    assert is_glob("blocks.*.proj") and is_glob("layer?") and is_glob("a.[01]")
    assert not is_glob("neck.lateral_convs.0")


def test_glob_override_writes_every_match_after_the_main_rule() -> None:
    """Each matched module gets the override, everything else the main rule, and the source names the match."""
    model = _ViT()
    report = initialize(model, _cfg(dict(name="blocks.*.attn.proj", type="Constant", val=0.5)))
    for i, block in enumerate(model.blocks):
        assert torch.all(block.attn.proj.weight == 0.5)
        assert not torch.all(block.attn.qkv.weight == 0.5)
        assert report[f"blocks.{i}.attn.proj.weight"].source == (
            f"init_cfg[0].override[0] (name='blocks.*.attn.proj' -> 'blocks.{i}.attn.proj')"
        )
    assert report["blocks.0.attn.qkv.weight"].source == "init_cfg[0]"


def test_glob_on_parameters_applies_the_weight_rule() -> None:
    """A glob that matches nn.Parameters (cls_token, pos_embed) writes them as a named parameter override does."""
    model = _ViT()
    report = initialize(model, _cfg(dict(name="*_*", type="Constant", val=3.0)))
    assert torch.all(model.cls_token == 3.0) and torch.all(model.pos_embed == 3.0)
    assert report["pos_embed"].source == "init_cfg[0].override[0] (name='*_*' -> 'pos_embed')"


def test_later_overrides_win_in_list_order() -> None:
    """Overrides run after the main rule in list order: a later glob rewrites what an earlier one wrote."""
    model = _ViT()
    report = initialize(
        model,
        _cfg(
            dict(name="blocks.**", type="Constant", val=1.0), dict(name="**.proj", type="Constant", val=2.0)
        ),
    )
    assert torch.all(model.blocks[0].attn.proj.weight == 2.0)
    assert torch.all(model.blocks[0].mlp[0].weight == 1.0)
    assert report["blocks.2.attn.proj.bias"].source.startswith("init_cfg[0].override[1]")


def test_glob_matching_nothing_is_a_plan_error_with_the_closest_paths() -> None:
    """A glob with no match raises InitPlanError naming it and the closest paths, and writes nothing."""
    model = _ViT()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(
        InitPlanError,
        match=r"override\[0\]: the glob 'blocks\.\*\.atn\.proj' matches no .*did you mean 'blocks\.\d\.attn\.proj'",
    ):
        initialize(model, _cfg(dict(name="blocks.*.atn.proj", type="Constant", val=0)))
    for key, value in before.items():
        assert torch.equal(model.state_dict()[key], value), key


def test_glob_in_a_base_module_init_cfg_is_relative_to_that_module() -> None:
    """Inside init_weights, a child's glob matches paths under the child, and the source names its owner."""

    class Backbone(BaseModule):
        def __init__(self) -> None:
            super().__init__(init_cfg=_cfg(dict(name="**.qkv", type="Constant", val=4.0)))
            self.blocks = nn.ModuleList([_Block() for _ in range(2)])

    class Net(BaseModule):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = Backbone()

    net = Net()
    report = net.init_weights()
    assert torch.all(net.backbone.blocks[1].attn.qkv.weight == 4.0)
    assert report["backbone.blocks.1.attn.qkv.weight"].source == (
        "backbone.init_cfg[0].override[0] (name='**.qkv' -> 'blocks.1.attn.qkv')"
    )


def test_plan_lists_one_step_per_matched_tensor() -> None:
    """plan_init expands a glob at plan time: its steps are the matched modules' weights and biases."""
    plan = plan_init(_ViT(depth=4), _cfg(dict(name="blocks.*.attn.qkv", type="Constant", val=0)))
    glob_steps = [s.name for s in plan.steps if "override" in str(s.source)]
    assert glob_steps == [f"blocks.{i}.attn.qkv.{r}" for i in range(4) for r in ("weight", "bias")]
