"""The six initializers beyond OpenMMLab: torch's values, Keras' formulas and distributions, plan-time shapes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from initspec import InitConfigError, InitPlanError, initialize, parse_init_cfg
from initspec import functional as F
from initspec._maths import TRUNCATED_NORMAL_STD, fan_in_and_fan_out, variance_scaling_std
from initspec._walker.writers import trunc_normal_map

TORCH_TWINS: list[tuple[dict[str, Any], nn.Module, Callable[[torch.Tensor], object]]] = [
    (dict(type="Orthogonal", gain=1.5), nn.Linear(7, 5), lambda w: nn.init.orthogonal_(w, gain=1.5)),
    (dict(type="Orthogonal"), nn.Conv2d(3, 4, 3), nn.init.orthogonal_),
    (dict(type="Dirac", groups=2), nn.Conv2d(3, 4, 3), lambda w: nn.init.dirac_(w, 2)),
    (dict(type="Eye"), nn.Linear(4, 6), nn.init.eye_),
    (dict(type="Sparse", sparsity=0.4, std=0.2), nn.Linear(9, 8), lambda w: nn.init.sparse_(w, 0.4, 0.2)),
]


@pytest.mark.parametrize(("cfg", "layer", "torch_fn"), TORCH_TWINS, ids=lambda v: str(v)[:40])
def test_unseeded_values_are_torchs(
    cfg: dict[str, Any], layer: nn.Module, torch_fn: Callable[..., Any]
) -> None:
    """Under the same torch.manual_seed, the weight is bit-identical to torch.nn.init's function."""
    expected = layer.weight.detach().clone()
    torch.manual_seed(7)
    torch_fn(expected)
    torch.manual_seed(7)
    initialize(layer, {**cfg, "layer": type(layer).__name__, "bias": 0.5})
    assert torch.equal(layer.weight.detach(), expected)
    assert torch.equal(layer.bias.detach(), torch.full_like(layer.bias, 0.5))


def _keras_fans(shape: tuple[int, ...]) -> tuple[float, float]:
    """Keras 3's compute_fans, written for torch's layout (out, in, *kernel)."""
    receptive = 1
    for k in shape[2:]:
        receptive *= k
    return float(shape[1] * receptive), float(shape[0] * receptive)


@pytest.mark.parametrize("shape", [(64, 32), (16, 8, 3, 3), (5, 1), (1, 1)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("scale", [1.0, 2.0, 0.1])
def test_variance_scaling_std_is_keras_formula(shape: tuple[int, ...], mode: str, scale: float) -> None:
    """The std is sqrt(scale / max(1, fan)) exactly as Keras computes it, within 1 ulp."""
    fan_in, fan_out = _keras_fans(shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    keras_std = math.sqrt(scale / max(1.0, fan))
    ours = variance_scaling_std(fan_in_and_fan_out(shape), scale, mode)  # type: ignore[arg-type]
    assert abs(ours - keras_std) <= math.ulp(keras_std)


def test_truncated_normal_correction_constant_is_keras() -> None:
    """0.87962566103423978 is the std of a standard normal truncated to [-2, 2]."""
    phi = math.exp(-2.0) / math.sqrt(2 * math.pi)  # density at 2
    mass = math.erf(2 / math.sqrt(2))
    variance = 1 - 2 * 2 * phi / mass
    assert abs(math.sqrt(variance) - TRUNCATED_NORMAL_STD) <= 4 * math.ulp(TRUNCATED_NORMAL_STD)


def _normal_cdf(x: float, std: float) -> float:
    return 0.5 * (1 + math.erf(x / std / math.sqrt(2)))


def _cdf(distribution: str, std: float) -> Callable[[float], float]:
    if distribution == "uniform":
        limit = math.sqrt(3) * std
        return lambda x: min(1.0, max(0.0, (x + limit) / (2 * limit)))
    if distribution == "untruncated_normal":
        return lambda x: _normal_cdf(x, std)
    sigma = std / TRUNCATED_NORMAL_STD
    lo, hi = _normal_cdf(-2 * sigma, sigma), _normal_cdf(2 * sigma, sigma)
    return lambda x: min(1.0, max(0.0, (_normal_cdf(x, sigma) - lo) / (hi - lo)))


def _ks(values: torch.Tensor, cdf: Callable[[float], float]) -> float:
    xs = sorted(values.flatten().tolist())
    n = len(xs)
    return max(max(abs((i + 1) / n - cdf(x)), abs(i / n - cdf(x))) for i, x in enumerate(xs))


@pytest.mark.parametrize("seed", [None, 3])
@pytest.mark.parametrize(
    "cfg",
    [
        dict(type="VarianceScaling", scale=2.0, mode="fan_in", distribution="truncated_normal"),
        dict(type="VarianceScaling", scale=0.5, mode="fan_out", distribution="untruncated_normal"),
        dict(type="VarianceScaling", scale=1.0, mode="fan_avg", distribution="uniform"),
        dict(type="LecunNormal"),
    ],
    ids=lambda c: c.get("distribution", c["type"]),
)
def test_variance_scaling_passes_a_ks_test(cfg: dict[str, Any], seed: int | None) -> None:
    """40,000 draws match the intended distribution (Kolmogorov-Smirnov at alpha = 0.001), seeded or not."""
    layer = nn.Linear(100, 400)
    torch.manual_seed(0)
    initialize(layer, {**cfg, "layer": "Linear"}, seed=seed)
    scale, mode = cfg.get("scale", 1.0), cfg.get("mode", "fan_in")
    std = variance_scaling_std((100, 400), scale, mode)
    statistic = _ks(layer.weight.detach(), _cdf(cfg.get("distribution", "truncated_normal"), std))
    assert statistic < 1.95 / math.sqrt(40000), statistic


def test_variance_scaling_truncates_at_two_std() -> None:
    """truncated_normal never goes past 2 std of the corrected normal, and its std is the target one."""
    w = F.variance_scaling_(
        torch.empty(300, 200), scale=1.0, mode="fan_in", generator=torch.Generator().manual_seed(1)
    )
    sigma = math.sqrt(1 / 200) / TRUNCATED_NORMAL_STD
    assert float(w.abs().max()) <= 2 * sigma
    assert abs(float(w.std()) - math.sqrt(1 / 200)) < 0.01 * math.sqrt(1 / 200)


@pytest.mark.parametrize(
    ("cfg", "match"),
    [
        (
            dict(type="Sparse", sparsity=1.0, layer="Linear"),
            r"init_cfg\.sparsity: expected a value less than 1",
        ),
        (
            dict(type="Sparse", sparsity=-0.1, layer="Linear"),
            r"init_cfg\.sparsity: expected a value greater than",
        ),
        (
            dict(type="VarianceScaling", scale=0, layer="Linear"),
            r"init_cfg\.scale: expected a value greater than 0",
        ),
        (
            dict(type="Dirac", groups=0, layer="Conv2d"),
            r"init_cfg\.groups: expected a value greater than or equal",
        ),
        (dict(type="Dirac", groups=2.0, layer="Conv2d"), r"init_cfg\.groups: expected a valid integer"),
        (
            dict(type="VarianceScaling", mode="fan_sum"),
            r"init_cfg\.mode: expected 'fan_in', 'fan_out' or 'fan_avg'",
        ),
        (
            dict(type="VarianceScaling", distribution="normal"),
            r"init_cfg\.distribution: expected 'truncated_normal'",
        ),
    ],
)
def test_parse_time_ranges_and_closed_sets(cfg: dict[str, Any], match: str) -> None:
    """0 <= sparsity < 1, scale > 0, integer groups >= 1, and the closed sets, at parse time."""
    with pytest.raises(InitConfigError, match=match):
        parse_init_cfg(cfg)


@pytest.mark.parametrize(
    ("model", "cfg", "match"),
    [
        (
            nn.Linear(4, 4),
            dict(type="Dirac", layer="Linear"),
            r"Dirac needs a weight of 3 to 5 dimensions.*\(4, 4\)",
        ),
        (nn.Conv2d(3, 5, 3), dict(type="Dirac", groups=2, layer="Conv2d"), r"divide by groups=2"),
        (nn.Conv2d(3, 4, 3), dict(type="Eye", layer="Conv2d"), r"Eye needs a weight of 2 dimensions"),
        (
            nn.Conv1d(3, 4, 3),
            dict(type="Sparse", sparsity=0.5, layer="Conv1d"),
            r"Sparse needs a weight of 2",
        ),
        (
            nn.LayerNorm(4),
            dict(type="Orthogonal", layer="LayerNorm"),
            r"Orthogonal needs a weight of at least 2",
        ),
        (nn.LayerNorm(4), dict(type="LecunNormal", layer="LayerNorm"), r"LecunNormal computes fans"),
    ],
)
def test_shapes_are_checked_before_any_write(model: nn.Module, cfg: dict[str, Any], match: str) -> None:
    """A weight of the wrong shape for the initializer is an InitPlanError, and nothing is written."""
    wrapped = nn.Sequential(nn.Embedding(2, 2), model)
    before = {k: v.clone() for k, v in wrapped.state_dict().items()}
    with pytest.raises(InitPlanError, match=match):
        initialize(wrapped, [dict(type="Constant", val=3, layer="Embedding"), cfg])
    assert all(torch.equal(before[k], v) for k, v in wrapped.state_dict().items())


@pytest.mark.parametrize(
    "fill",
    [
        lambda w, g: F.orthogonal_(w, 2.0, generator=g),
        lambda w, g: F.sparse_(w, 0.3, 0.1, generator=g),
        lambda w, g: F.variance_scaling_(w, 2.0, "fan_avg", "uniform", generator=g),
        lambda w, g: F.lecun_normal_(w, generator=g),
    ],
    ids=["orthogonal", "sparse", "variance_scaling", "lecun_normal"],
)
def test_functional_helpers_draw_only_from_their_generator(fill: Callable[..., Any]) -> None:
    """The same generator seed gives the same values, and the global RNG is neither used nor moved."""
    state = torch.random.get_rng_state()
    first, second = torch.empty(6, 9), torch.empty(6, 9)
    fill(first, torch.Generator().manual_seed(5))
    fill(second, torch.Generator().manual_seed(5))
    assert torch.equal(first, second)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_sparse_zeroes_the_fraction_of_each_column() -> None:
    """Each column of a seeded Sparse weight has ceil(sparsity * rows) zeros, as torch's sparse_."""
    w = F.sparse_(torch.empty(10, 6), 0.25, generator=torch.Generator().manual_seed(0))
    assert (w == 0).sum(dim=0).tolist() == [3] * 6


def test_dirac_and_eye_need_no_seed_on_any_tensor() -> None:
    """Dirac and Eye draw nothing: seeded and unseeded runs give the identity."""
    for seed in (None, 1):
        conv, lin = nn.Conv1d(2, 2, 3), nn.Linear(3, 3)
        initialize(
            nn.Sequential(conv, lin),
            [dict(type="Dirac", layer="Conv1d"), dict(type="Eye", layer="Linear")],
            seed=seed,
        )
        assert torch.equal(lin.weight.detach(), torch.eye(3))
        assert torch.equal(conv.weight.detach()[:, :, 1], torch.eye(2))


def test_seeded_trunc_normal_never_sits_on_a_bound_from_erfinv_of_one() -> None:
    """With bounds 100 std out, a base draw of exactly 0 maps into the tail, not to erfinv(-1) = -inf -> a."""
    values = torch.zeros(4)
    values[1] = 1 - 2**-24  # the largest float32 uniform draw
    trunc_normal_map(values, mean=0.0, std=0.02, a=-2.0, b=2.0)
    assert torch.isfinite(values).all()
    assert float(values[0]) > -2.0 and float(values[1]) < 2.0
    assert -6 * 0.02 < float(values[0]) < -4 * 0.02  # the 2^-24 quantile of N(0, 0.02^2), about -5.4 std


def test_seeded_trunc_normal_has_no_100_sigma_outlier_on_a_large_weight() -> None:
    """The issue's reproduction: 8192 x 8192, std=0.02, default bounds, seed=0 puts nothing at -2 or 2."""
    layer = nn.Linear(8192, 8192, bias=False)
    initialize(layer, dict(type="TruncNormal", std=0.02, layer="Linear"), seed=0)
    assert float(layer.weight.detach().abs().max()) < 10 * 0.02
