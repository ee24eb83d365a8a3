"""Tests for initspec.functional: bit-for-bit parity with mmengine, generators, fans and meta tensors."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from conftest import import_mmengine, import_mmengine_model
from initspec import functional as F
from initspec._errors import InitArgumentError, InitSpecError

Init = Callable[..., Any]
Primitive = Callable[[torch.Tensor, "torch.Generator | None"], torch.Tensor]


@pytest.fixture(scope="module")
def mm() -> dict[str, Init]:
    """mmengine's functional helpers by name; skips when mmengine is not installed."""
    mm_model = import_mmengine_model()
    trunc_normal_ = import_mmengine("mmengine.model.weight_init").trunc_normal_
    names = [name for name in F.__all__ if name.endswith("_init") or name == "bias_init_with_prob"]
    helpers: dict[str, Init] = {name: getattr(mm_model, name) for name in names}
    helpers["trunc_normal_"] = trunc_normal_
    return helpers


WEIGHTED_LAYERS: dict[str, Callable[[], nn.Module]] = {
    "linear": lambda: nn.Linear(8, 5),
    "conv2d": lambda: nn.Conv2d(3, 6, 3),
    "conv1d": lambda: nn.Conv1d(4, 7, 5),
    "embedding": lambda: nn.Embedding(10, 6),
    "conv2d_no_bias": lambda: nn.Conv2d(3, 6, 3, bias=False),
    "layernorm_no_affine": lambda: nn.LayerNorm(6, elementwise_affine=False),
}
ALL_LAYERS: dict[str, Callable[[], nn.Module]] = {**WEIGHTED_LAYERS, "layernorm": lambda: nn.LayerNorm(6)}

# (helper name, keyword arguments, needs a weight of at least 2 dimensions)
CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("constant_init", {"val": 0.5}, False),
    ("constant_init", {"val": 1, "bias": 0.3}, False),
    ("normal_init", {}, False),
    ("normal_init", {"mean": 0.1, "std": 0.02, "bias": -1}, False),
    ("uniform_init", {}, False),
    ("uniform_init", {"a": -0.5, "b": 0.5, "bias": 2}, False),
    ("trunc_normal_init", {"std": 0.02}, False),
    ("trunc_normal_init", {"mean": 0.0, "std": 0.02, "a": -2, "b": 2}, False),
    ("trunc_normal_init", {"mean": 0.5, "std": 1.0, "a": 0.3, "b": 0.7}, False),
    ("trunc_normal_init", {"mean": 0.1, "std": 0.5, "a": -0.05, "b": 0.2, "bias": 0.1}, False),
    ("xavier_init", {}, True),
    ("xavier_init", {"gain": 2.0, "distribution": "uniform"}, True),
    ("xavier_init", {"gain": 0.5, "bias": 1}, True),
    ("kaiming_init", {}, True),
    ("kaiming_init", {"mode": "fan_in"}, True),
    ("kaiming_init", {"distribution": "uniform"}, True),
    (
        "kaiming_init",
        {"a": 0.1, "mode": "fan_in", "nonlinearity": "leaky_relu", "distribution": "uniform"},
        True,
    ),
    ("kaiming_init", {"nonlinearity": "tanh", "bias": 0.2}, True),
    ("caffe2_xavier_init", {}, True),
    ("caffe2_xavier_init", {"bias": 0.5}, True),
]

PARITY_PARAMS = [
    pytest.param(
        name, kwargs, layer, id=f"{name}-{'-'.join(map(str, kwargs.values())) or 'defaults'}-{layer}"
    )
    for name, kwargs, needs_2d in CASES
    for layer in (WEIGHTED_LAYERS if needs_2d else ALL_LAYERS)
]


def _init_and_next_draw(
    init: Init, layer: str, kwargs: dict[str, Any]
) -> tuple[list[torch.Tensor], torch.Tensor]:
    torch.manual_seed(1234)
    module = ALL_LAYERS[layer]()
    init(module, **kwargs)
    return [p.detach().clone() for p in module.parameters()], torch.rand(16)


@pytest.mark.parametrize(("name", "kwargs", "layer"), PARITY_PARAMS)
def test_module_helper_matches_mmengine_bit_for_bit(
    mm: dict[str, Init], name: str, kwargs: dict[str, Any], layer: str
) -> None:
    """Each module helper gives mmengine's exact bits and leaves the global RNG where mmengine leaves it."""
    ours, our_next = _init_and_next_draw(getattr(F, name), layer, kwargs)
    theirs, their_next = _init_and_next_draw(mm[name], layer, kwargs)
    assert len(ours) == len(theirs)
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))
    assert torch.equal(our_next, their_next)


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"),
    [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (0.5, 1.0, 0.3, 0.7)],
)
def test_trunc_normal_matches_mmengine_tensor_function(
    mm: dict[str, Init], mean: float, std: float, a: float, b: float
) -> None:
    """trunc_normal_ reproduces mmengine's inverse-CDF sampler on a large tensor, bit for bit."""
    torch.manual_seed(0)
    ours = F.trunc_normal_(torch.empty(256, 256), mean, std, a, b)
    torch.manual_seed(0)
    theirs = mm["trunc_normal_"](torch.empty(256, 256), mean, std, a, b)
    assert torch.equal(ours, theirs)
    assert a <= ours.min().item() and ours.max().item() <= b


PRIMITIVES: dict[str, Primitive] = {
    "normal_": lambda t, g: F.normal_(t, 0.1, 0.5, generator=g),
    "uniform_": lambda t, g: F.uniform_(t, -1.0, 2.0, generator=g),
    "trunc_normal_": lambda t, g: F.trunc_normal_(t, std=0.02, generator=g),
    "xavier_normal": lambda t, g: F.xavier_(t, 1.5, generator=g),
    "xavier_uniform": lambda t, g: F.xavier_(t, distribution="uniform", generator=g),
    "xavier_fan": lambda t, g: F.xavier_(t, fan=(20, 30), generator=g),
    "kaiming_normal": lambda t, g: F.kaiming_(t, mode="fan_in", generator=g),
    "kaiming_uniform": lambda t, g: F.kaiming_(t, 0.2, "fan_out", "leaky_relu", "uniform", generator=g),
    "kaiming_fan": lambda t, g: F.kaiming_(t, distribution="uniform", fan=(20, 30), generator=g),
}
MODULE_HELPERS: dict[str, Init] = {
    "normal_init": F.normal_init,
    "uniform_init": F.uniform_init,
    "trunc_normal_init": F.trunc_normal_init,
    "xavier_init": F.xavier_init,
    "kaiming_init": F.kaiming_init,
    "caffe2_xavier_init": F.caffe2_xavier_init,
}


@pytest.mark.parametrize("name", PRIMITIVES)
def test_generator_matches_global_seed_and_leaves_global_rng_alone(name: str) -> None:
    """Generator().manual_seed(s) draws what global manual_seed(s) draws; the global RNG is untouched."""
    torch.manual_seed(7)
    expected = PRIMITIVES[name](torch.empty(6, 4, 3), None)
    torch.manual_seed(99)
    state = torch.get_rng_state()
    got = PRIMITIVES[name](torch.empty(6, 4, 3), torch.Generator().manual_seed(7))
    assert torch.equal(got, expected)
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("name", MODULE_HELPERS)
def test_module_helper_generator_matches_global_seed(name: str) -> None:
    """A module helper given a seeded generator matches the global seed would, globals untouched."""
    expected, got = nn.Linear(8, 5), nn.Linear(8, 5)
    torch.manual_seed(7)
    MODULE_HELPERS[name](expected)
    torch.manual_seed(99)
    state = torch.get_rng_state()
    MODULE_HELPERS[name](got, generator=torch.Generator().manual_seed(7))
    assert torch.equal(got.weight, expected.weight)
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("shape", [(8, 5), (6, 3, 3, 3), (7, 4, 5), (4, 2, 3, 3, 2)])
@pytest.mark.parametrize(
    "init",
    [
        pytest.param(lambda t, fan: F.xavier_(t, 1.3, "normal", fan=fan), id="xavier_normal"),
        pytest.param(lambda t, fan: F.xavier_(t, 0.7, "uniform", fan=fan), id="xavier_uniform"),
        pytest.param(lambda t, fan: F.kaiming_(t, mode="fan_in", fan=fan), id="kaiming_fan_in"),
        pytest.param(lambda t, fan: F.kaiming_(t, mode="fan_out", fan=fan), id="kaiming_fan_out"),
        pytest.param(
            lambda t, fan: F.kaiming_(t, 0.2, "fan_in", "leaky_relu", "uniform", fan=fan),
            id="kaiming_uniform",
        ),
        pytest.param(
            lambda t, fan: F.kaiming_(t, 0, "fan_out", "selu", "uniform", fan=fan), id="kaiming_selu"
        ),
    ],
)
def test_fan_override_equals_shape_derived_fans(init: Init, shape: tuple[int, ...]) -> None:
    """Passing fan=fan_in_and_fan_out(shape) gives the same bits as letting torch read the tensor's shape."""
    torch.manual_seed(3)
    from_shape = init(torch.empty(shape), None)
    torch.manual_seed(3)
    from_fan = init(torch.empty(shape), F.fan_in_and_fan_out(shape))
    assert torch.equal(from_shape, from_fan)


def test_fan_override_uses_the_given_global_fans_for_a_shard() -> None:
    """With fan= the std comes from the given (global) fans, not from the shard's own shape."""
    torch.manual_seed(5)
    shard = F.kaiming_(torch.empty(4, 5), fan=F.fan_in_and_fan_out((8, 5)))
    torch.manual_seed(5)
    expected = torch.empty(4, 5).normal_(0, math.sqrt(2.0) / math.sqrt(8))
    assert torch.equal(shard, expected)


@pytest.mark.parametrize(
    ("shape", "fans"),
    [((8, 5), (5, 8)), ((6, 3, 3, 3), (27, 54)), ((7, 4, 5), (20, 35)), (torch.Size([2, 3, 1, 4]), (12, 8))],
)
def test_fan_in_and_fan_out_follows_torch(shape: tuple[int, ...], fans: tuple[int, int]) -> None:
    """fan_in_and_fan_out multiplies the channel sizes by the receptive field, as torch does."""
    assert F.fan_in_and_fan_out(shape) == fans


@pytest.mark.parametrize("shape", [(), (5,)])
def test_fan_in_and_fan_out_rejects_fewer_than_two_dims(shape: tuple[int, ...]) -> None:
    """A shape with fewer than 2 dimensions has no fans."""
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        F.fan_in_and_fan_out(shape)


def test_xavier_and_kaiming_reject_one_dimensional_weights() -> None:
    """Xavier and Kaiming on a 1-D weight raise torch's fan error, as mmengine does."""
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        F.xavier_(torch.empty(5))
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        F.kaiming_init(nn.LayerNorm(5))


@pytest.mark.parametrize("name", [*PRIMITIVES, "constant_"])
@pytest.mark.parametrize("shape", [(6, 4, 3), (5,)])
def test_meta_tensors_are_left_untouched(name: str, shape: tuple[int, ...]) -> None:
    """Every primitive returns a meta tensor unchanged, without raising and without drawing."""
    tensor = torch.empty(shape, device="meta")
    state = torch.get_rng_state()
    out = F.constant_(tensor, 1.0) if name == "constant_" else PRIMITIVES[name](tensor, None)
    assert out is tensor
    assert out.is_meta
    assert torch.equal(torch.get_rng_state(), state)


def test_module_helpers_skip_meta_modules() -> None:
    """A module built on the meta device passes through every helper without error."""
    module = nn.Linear(8, 5, device="meta")
    for helper in MODULE_HELPERS.values():
        helper(module)
    F.constant_init(module, 1.0)
    assert module.weight.is_meta


def test_bias_init_with_prob_known_value() -> None:
    """bias_init_with_prob(0.01) is mmengine's documented -4.59511985013459 exactly."""
    assert F.bias_init_with_prob(0.01) == -4.59511985013459


def _probabilities() -> list[float]:
    rng = random.Random(0)
    return [i / 1000 for i in range(1, 1000)] + [rng.random() for _ in range(5000)] + [1e-12, 1 - 1e-12]


def test_bias_init_with_prob_matches_mmengine(mm: dict[str, Init]) -> None:
    """The bias is mmengine's float64 to the bit: both take numpy's log (whose SIMD loops vary by CPU)."""
    mismatches = [p for p in _probabilities() if F.bias_init_with_prob(p) != mm["bias_init_with_prob"](p)]
    assert mismatches == []


def test_bias_without_numpy_equals_numpy_once_rounded_to_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without numpy, math.log is used; it may differ in float64's last bit, never in the float32 tensor."""
    pytest.importorskip("numpy")
    from initspec.configs import _root

    with_numpy = [F.bias_init_with_prob(p) for p in _probabilities()]
    monkeypatch.setattr(_root, "_log", lambda: math.log)
    without = [F.bias_init_with_prob(p) for p in _probabilities()]
    assert torch.equal(
        torch.tensor(with_numpy, dtype=torch.float32), torch.tensor(without, dtype=torch.float32)
    )
    assert max(abs(a - b) for a, b in zip(with_numpy, without, strict=True)) <= 1e-14 * 30


def test_bias_log_falls_back_to_math_without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """When numpy cannot be imported, the bias comes from math.log."""
    import sys

    from initspec.configs import _root

    monkeypatch.setitem(sys.modules, "numpy", None)
    _root._log.cache_clear()
    try:
        assert _root._log() is math.log
    finally:
        _root._log.cache_clear()


@pytest.mark.parametrize("prob", [0, 1, 0.0, 1.0, -0.1, 1.5, math.nan])
def test_bias_init_with_prob_rejects_non_probabilities(prob: float) -> None:
    """A prior probability outside the open interval (0, 1) is rejected with a ValueError."""
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        F.bias_init_with_prob(prob)


def test_trunc_normal_warns_when_mean_is_far_outside_cutoffs() -> None:
    """trunc_normal_ warns, as mmengine does, when the mean is more than 2 std outside [a, b]."""
    with pytest.warns(UserWarning, match="distribution of values may be incorrect"):
        out = F.trunc_normal_(torch.empty(100), mean=5.0, std=1.0, a=-2.0, b=2.0)
    assert out.max().item() <= 2.0


UNKNOWN_DISTRIBUTION: Any = "gaussian"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: F.xavier_(torch.empty(3, 4), distribution=UNKNOWN_DISTRIBUTION), id="xavier_"),
        pytest.param(lambda: F.kaiming_(torch.empty(3, 4), distribution=UNKNOWN_DISTRIBUTION), id="kaiming_"),
        pytest.param(
            lambda: F.xavier_init(nn.ReLU(), distribution=UNKNOWN_DISTRIBUTION), id="xavier_init_no_weight"
        ),
        pytest.param(
            lambda: F.kaiming_init(nn.Linear(3, 4), distribution=UNKNOWN_DISTRIBUTION), id="kaiming_init"
        ),
    ],
)
def test_bad_distribution_raises(call: Callable[[], object]) -> None:
    """An unknown distribution raises ValueError, even for a module with no weight (as mmengine's assert)."""
    with pytest.raises(ValueError, match="distribution must be one of 'normal', 'uniform'"):
        call()


BAD_ARGUMENT_CALLS: dict[str, Callable[[], object]] = {
    "xavier_init distribution": lambda: F.xavier_init(nn.Linear(3, 4), distribution=UNKNOWN_DISTRIBUTION),
    "kaiming_init distribution": lambda: F.kaiming_init(nn.Linear(3, 4), distribution=UNKNOWN_DISTRIBUTION),
    "kaiming_init mode": lambda: F.kaiming_init(nn.Linear(3, 4), mode=UNKNOWN_DISTRIBUTION),
    "kaiming_init nonlinearity": lambda: F.kaiming_init(nn.Linear(3, 4), nonlinearity=UNKNOWN_DISTRIBUTION),
    "xavier_ 1-D": lambda: F.xavier_(torch.empty(5)),
    "kaiming_init 1-D": lambda: F.kaiming_init(nn.LayerNorm(5)),
    "caffe2_xavier_init 1-D": lambda: F.caffe2_xavier_init(nn.LayerNorm(5)),
    "bias_init_with_prob": lambda: F.bias_init_with_prob(1.5),
    "fan_in_and_fan_out": lambda: F.fan_in_and_fan_out((3,)),
}


@pytest.mark.parametrize("call", BAD_ARGUMENT_CALLS.values(), ids=BAD_ARGUMENT_CALLS)
@pytest.mark.parametrize("caught", [AssertionError, ValueError, InitArgumentError, InitSpecError])
def test_bad_arguments_are_caught_as_mmengine_or_python_expects(
    call: Callable[[], object], caught: type[Exception]
) -> None:
    """A bad argument raises InitArgumentError: `except AssertionError` (mmengine's) and `except ValueError` both catch it."""
    with pytest.raises(caught):
        call()


def test_bad_arguments_give_the_same_exception_kinds_as_mmengine(mm: dict[str, Init]) -> None:
    """Every bad call that mmengine rejects with AssertionError or ValueError, initspec rejects with a match."""
    for name in ("xavier_init", "kaiming_init"):
        for module in (nn.Linear(3, 4), nn.ReLU()):
            with pytest.raises(AssertionError):
                mm[name](module, distribution=UNKNOWN_DISTRIBUTION)
            with pytest.raises(AssertionError):
                getattr(F, name)(module, distribution=UNKNOWN_DISTRIBUTION)


def test_bad_mode_raises_and_mode_is_case_insensitive_like_torch() -> None:
    """kaiming_ rejects an unknown mode but accepts torch's case-insensitive spellings on both paths."""
    with pytest.raises(ValueError, match="mode must be one of 'fan_in', 'fan_out'"):
        F.kaiming_(torch.empty(3, 4), mode="fan_avg")  # type: ignore[arg-type]
    torch.manual_seed(1)
    upper = F.kaiming_(torch.empty(3, 4), mode="FAN_IN", fan=(4, 3))  # type: ignore[arg-type]
    torch.manual_seed(1)
    lower = F.kaiming_(torch.empty(3, 4), mode="fan_in")
    assert torch.equal(upper, lower)


def test_weight_that_is_not_a_tensor_is_reported() -> None:
    """A module whose weight attribute is neither a tensor nor None gets a TypeError naming it."""
    module = nn.Module()
    module.weight = 3  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"Module\.weight must be a tensor or None \(got int\)"):
        F.normal_init(module)
