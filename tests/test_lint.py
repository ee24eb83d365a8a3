"""Tests for lint_init_cfg: legal configs that do nothing or contradict themselves."""

from __future__ import annotations

import warnings
from types import ModuleType
from typing import Any

import pytest

from initspec import (
    ConstantInit,
    KaimingInit,
    NormalInit,
    Override,
    PretrainedInit,
    Problem,
    TruncNormalInit,
    lint_init_cfg,
    parse_init_cfg,
)

TYPICAL = [
    dict(type="Kaiming", layer="Conv2d"),
    dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm"]),
    dict(
        type="Normal",
        std=0.01,
        layer="Linear",
        override=dict(name="fc_cls", type="Normal", std=0.01, bias_prob=0.01),
    ),
]


def _locs(problems: list[Problem]) -> list[tuple[str | int, ...]]:
    return [p.loc for p in problems]


def test_typical_config_is_clean() -> None:
    """A config whose rules all have a layer or an override, and one bias source each, has no lints."""
    assert lint_init_cfg(parse_init_cfg(TYPICAL)) == []


def test_lints_are_not_parse_errors() -> None:
    """Every config linted below parses: lints are warnings, not rejections."""
    cfgs = parse_init_cfg(
        [
            dict(type="Constant", val=7, bias=8),
            dict(type="Normal", layer="Linear", bias=1, bias_prob=0.01),
            dict(type="TruncNormal", layer="Linear", mean=5, std=0.1),
        ]
    )
    assert _locs(lint_init_cfg(cfgs)) == [(0,), (1, "bias"), (2, "mean")]


# ---- does nothing


def test_no_layer_and_no_override_does_nothing() -> None:
    """A weight rule with neither layer nor override is flagged: it initializes nothing (mmengine: silent)."""
    problems = lint_init_cfg([KaimingInit()])
    assert _locs(problems) == [(0,)]
    assert "neither 'layer' nor 'override'" in problems[0].message
    assert "add layer=" in problems[0].message


def test_empty_layer_list_does_nothing_too() -> None:
    """``layer=[]`` is the same no-op as no layer at all."""
    assert _locs(lint_init_cfg(parse_init_cfg(dict(type="Kaiming", layer=[])))) == [(0,)]


@pytest.mark.parametrize(
    "cfg",
    [
        pytest.param(KaimingInit(layer="Conv2d"), id="layer"),
        pytest.param(ConstantInit(val=1, bias=2, override=Override(name="reg")), id="override-only"),
        pytest.param(PretrainedInit(checkpoint="ckpt.pth"), id="pretrained"),
    ],
)
def test_rule_that_reaches_something_is_not_flagged(cfg: Any) -> None:
    """A layer, an override alone (the seeds' name-only form) or a Pretrained load all do something."""
    assert lint_init_cfg([cfg]) == []


def test_lint_location_is_the_list_index() -> None:
    """The lint of the second rule is located at index 1 and renders as ``init_cfg[1]``."""
    problems = lint_init_cfg([KaimingInit(layer="Conv2d"), NormalInit(std=0.01)])
    assert _locs(problems) == [(1,)]
    assert str(problems[0]).startswith("init_cfg[1]: ")


def test_seed_component_without_layer_is_flagged() -> None:
    """The seed's ``dict(type='Constant', val=7, bias=8)`` is legal but, as mmcv's tests show, a no-op."""
    assert _locs(lint_init_cfg(parse_init_cfg(dict(type="Constant", val=7, bias=8)))) == [(0,)]


# ---- bias and bias_prob


def test_bias_and_bias_prob_conflict() -> None:
    """Setting both bias and bias_prob is flagged at ``bias``: bias_prob wins and bias is ignored."""
    problems = lint_init_cfg([NormalInit(layer="Linear", bias=1.0, bias_prob=0.01)])
    assert _locs(problems) == [(0, "bias")]
    assert "bias_prob wins" in problems[0].message
    assert "bias=1.0" in problems[0].message


def test_bias_written_as_its_default_still_conflicts() -> None:
    """``bias=0`` written next to bias_prob is flagged too: the lint looks at what was written."""
    (cfg,) = parse_init_cfg(dict(type="Normal", layer="Linear", bias=0, bias_prob=0.01))
    assert _locs(lint_init_cfg([cfg])) == [(0, "bias")]


@pytest.mark.parametrize(
    "cfg",
    [
        pytest.param(NormalInit(layer="Linear", bias=1.0), id="bias"),
        pytest.param(NormalInit(layer="Linear", bias_prob=0.01), id="bias_prob"),
    ],
)
def test_one_bias_source_is_fine(cfg: Any) -> None:
    """bias alone or bias_prob alone is not flagged."""
    assert lint_init_cfg([cfg]) == []


# ---- overrides


def test_layer_inside_an_override_is_ignored() -> None:
    """A ``layer`` inside an override is flagged: an override initializes its whole named module."""
    (cfg,) = parse_init_cfg(
        dict(
            type="Kaiming", layer="Conv2d", override=dict(name="cls", type="Normal", std=0.01, layer="Linear")
        )
    )
    problems = lint_init_cfg([cfg])
    assert _locs(problems) == [(0, "override", 0, "layer")]
    assert "ignored inside an override" in problems[0].message


def test_override_without_layer_is_not_a_no_op() -> None:
    """An override's own init needs no layer, so it is not flagged as doing nothing."""
    cfg = KaimingInit(
        layer="Conv2d", override=[Override(name="a"), Override(name="b", init=NormalInit(std=0.01))]
    )
    assert lint_init_cfg([cfg]) == []


def test_conflicts_inside_an_override_are_located_there() -> None:
    """bias plus bias_prob inside the second override is located at ``[0].override[1].bias``."""
    (cfg,) = parse_init_cfg(
        dict(
            type="Kaiming",
            layer="Conv2d",
            override=[dict(name="a"), dict(name="b", type="Normal", bias=1, bias_prob=0.01)],
        )
    )
    assert _locs(lint_init_cfg([cfg])) == [(0, "override", 1, "bias")]


# ---- TruncNormal mean


# (mean, std, a, b): mmengine warns exactly when mean < a - 2 std or mean > b + 2 std.
TRUNC_CASES = [
    pytest.param(0.0, 1.0, -2.0, 2.0, False, id="centred"),
    pytest.param(5.0, 0.1, -2.0, 2.0, True, id="far-above"),
    pytest.param(-5.0, 0.1, -2.0, 2.0, True, id="far-below"),
    pytest.param(2.2, 0.1, -2.0, 2.0, False, id="exactly-2-std-above"),
    pytest.param(2.3, 0.1, -2.0, 2.0, True, id="just-over-2-std"),
    pytest.param(100.0, 1e-5, 0.0, 200.0, False, id="mmcv-test-inside"),
]


@pytest.mark.parametrize(("mean", "std", "a", "b", "flagged"), TRUNC_CASES)
def test_truncnormal_mean_far_outside_bounds(
    mean: float, std: float, a: float, b: float, flagged: bool
) -> None:
    """A TruncNormal mean more than 2 std outside the absolute [a, b] is flagged at ``mean``."""
    problems = lint_init_cfg([TruncNormalInit(layer="Linear", mean=mean, std=std, a=a, b=b)])
    assert _locs(problems) == ([(0, "mean")] if flagged else [])
    if flagged:
        assert "absolute bounds" in problems[0].message


@pytest.mark.parametrize(("mean", "std", "a", "b", "flagged"), TRUNC_CASES)
def test_truncnormal_lint_matches_mmengine_warning(
    mm: ModuleType, mean: float, std: float, a: float, b: float, flagged: bool
) -> None:
    """The lint fires exactly when mmengine's trunc_normal_ warns that the distribution may be incorrect."""
    import torch
    from mmengine.model.weight_init import trunc_normal_  # type: ignore[import-untyped]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trunc_normal_(torch.empty(4, 4), mean, std, a, b)
    warned = any("mean is more than 2 std" in str(w.message) for w in caught)
    linted = bool(lint_init_cfg([TruncNormalInit(layer="Linear", mean=mean, std=std, a=a, b=b)]))
    assert warned == linted == flagged
