"""Tests for ``InitReport.verify``: every initializer verified clean, and each planted fault caught."""

from __future__ import annotations

import json
import math
import re
import socket
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import initspec
from conftest import run_ranks
from initspec import (
    BaseModule,
    InitCheck,
    InitPlanError,
    InitWarning,
    initialize,
    plan_init,
    registered_types,
)
from initspec._maths import TRUNCATED_NORMAL_STD
from initspec._verify.stats import Spread, truncated_normal, variance_p_value

SEEDS = range(20)
WORKERS = Path(__file__).parent / "workers"


def _linears() -> nn.Module:
    return nn.Sequential(nn.Linear(24, 16), nn.Linear(10, 1), nn.Linear(48, 40))


def _convs() -> nn.Module:
    return nn.Sequential(nn.Conv2d(4, 6, 3), nn.Conv1d(3, 3, 5), nn.Conv3d(2, 4, 3))


# One config per registered type (Pretrained has its own tests): a model, and a config over its layers.
CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "Constant": (_linears, dict(val=0.3, bias=0.1, layer="Linear")),
    "Xavier": (_linears, dict(gain=2.0, distribution="uniform", bias=-0.5, layer="Linear")),
    "Normal": (_linears, dict(mean=0.5, std=0.2, layer="Linear")),
    "TruncNormal": (_linears, dict(mean=0.1, std=0.5, a=-0.4, b=0.6, layer="Linear", bias_prob=0.01)),
    "Uniform": (_linears, dict(a=-0.3, b=0.7, layer="Linear")),
    "Kaiming": (
        _convs,
        dict(mode="fan_in", nonlinearity="leaky_relu", a=0.1, layer=["Conv1d", "Conv2d", "Conv3d"]),
    ),
    "Caffe2Xavier": (_convs, dict(layer=["Conv1d", "Conv2d", "Conv3d"])),
    "Orthogonal": (_convs, dict(gain=1.5, layer=["Conv1d", "Conv2d", "Conv3d"])),
    "Dirac": (_convs, dict(groups=1, layer=["Conv1d", "Conv2d", "Conv3d"])),
    "Eye": (_linears, dict(layer="Linear", bias=2)),
    "Sparse": (_linears, dict(sparsity=0.3, std=0.05, layer="Linear")),
    "VarianceScaling": (_convs, dict(scale=2.0, mode="fan_avg", distribution="uniform", layer="Conv2d")),
    "LecunNormal": (_linears, dict(layer="Linear")),
}


def test_every_registered_type_has_a_case() -> None:
    """The clean-run table covers every registered initializer (Pretrained is tested on its own below)."""
    assert set(CASES) | {"Pretrained"} == set(registered_types())


@pytest.mark.parametrize("kind", sorted(CASES))
def test_every_initializer_verifies_clean_over_20_seeds(kind: str) -> None:
    """A correctly initialized model passes at the default alpha on 20 seeds, seeded and unseeded draws alike."""
    build, args = CASES[kind]
    for seed in SEEDS:
        model = build()
        cfg = dict(type=kind, **args)
        if seed % 2:
            torch.manual_seed(seed)
            report = initialize(model, cfg)
        else:
            report = initialize(model, cfg, seed=seed)
        check = report.verify(model)
        verdicts = {name: c.verdict for name, c in check.items() if report[name].source != "untouched"}
        assert check.failures() == [], f"{kind} seed {seed}: {check}"
        assert verdicts and set(verdicts.values()) == {"pass"}, verdicts


def test_other_variants_verify_clean() -> None:
    """Kaiming uniform, Xavier normal and the truncated and untruncated VarianceScaling pass too."""
    for cfg in (
        dict(type="Kaiming", distribution="uniform", layer="Linear"),
        dict(type="Xavier", layer="Linear"),
        dict(type="VarianceScaling", distribution="untruncated_normal", mode="fan_out", layer="Linear"),
        dict(type="VarianceScaling", scale=0.1, layer="Linear"),
        dict(type="Normal", std=0, mean=0.25, layer="Linear"),
    ):
        for seed in range(5):
            model = _linears()
            check = initialize(model, cfg, seed=seed).verify(model)
            assert check.failures() == [], check


def _weight(model: nn.Module, name: str) -> torch.Tensor:
    tensor = dict(model.named_parameters())[name]
    return tensor


def _planted(cfg: dict[str, Any], model: nn.Module, name: str, fault: Any) -> InitCheck:
    report = initialize(model, cfg, seed=3)
    assert report.verify(model).failures() == []
    with torch.no_grad():
        fault(_weight(model, name))
    return report.verify(model)


def test_std_times_1_1_on_a_512_by_512_weight_fails() -> None:
    """A weight whose std is 10% off (512 x 512) fails, and the reason names the std ratio."""
    check = _planted(
        dict(type="Kaiming", layer="Linear"), nn.Linear(512, 512), "weight", lambda w: w.mul_(1.1)
    )
    [failed] = check.failures()
    assert failed.name == "weight" and failed.verdict == "fail"
    ratio = re.search(r"is (\d\.\d+)x the promised", failed.reason)
    assert ratio is not None and float(ratio.group(1)) == pytest.approx(1.1, abs=0.01)


def test_one_percent_std_error_on_a_million_elements_fails() -> None:
    """A 1% std error on a 1000 x 1000 weight is caught: the tolerance shrinks with the element count."""
    check = _planted(
        dict(type="Normal", std=0.02, layer="Linear"), nn.Linear(1000, 1000), "weight", lambda w: w.mul_(1.01)
    )
    assert [c.name for c in check.failures()] == ["weight"]


def test_same_std_error_on_ten_elements_passes() -> None:
    """The same 10% error on a 10-element weight is within chance, so it is not flagged."""
    model = nn.Linear(1, 10)
    check = _planted(dict(type="Normal", std=0.02, layer="Linear"), model, "weight", lambda w: w.mul_(1.1))
    assert check.failures() == []
    assert check["weight"].verdict == "pass"


def test_one_nan_fails() -> None:
    """A single NaN fails the tensor, whatever wrote it, and is counted."""
    check = _planted(
        dict(type="Normal", std=0.02, layer="Linear"),
        nn.Linear(64, 64),
        "weight",
        lambda w: w[3, 5].fill_(math.nan),
    )
    [failed] = check.failures()
    assert failed.reason == "1 of 4096 elements are NaN or inf"


def test_inf_in_an_untouched_tensor_fails() -> None:
    """NaN and inf are checked everywhere, also in tensors that get no other verdict."""
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
    report = initialize(model, dict(type="Normal", layer="Linear"), seed=0)
    with torch.no_grad():
        model[1].weight[0] = math.inf
    assert [(c.name, c.source) for c in report.verify(model).failures()] == [("1.weight", "untouched")]


def test_element_outside_trunc_normal_bounds_fails() -> None:
    """One element just outside TruncNormal's [a, b] fails, though the mean and std barely move."""
    cfg = dict(type="TruncNormal", std=0.02, a=-0.03, b=0.05, layer="Linear")
    check = _planted(cfg, nn.Linear(256, 256), "weight", lambda w: w[0, 0].fill_(0.0501))
    [failed] = check.failures()
    assert "above the upper bound 0.05" in failed.reason


def test_constant_bias_off_by_1e_6_fails() -> None:
    """A Constant's bias off by 1e-6 in one element fails: exact values are compared exactly."""
    check = _planted(
        dict(type="Constant", val=1, bias=0.5, layer="Linear"),
        nn.Linear(8, 10),
        "bias",
        lambda b: b[7].add_(1e-6),
    )
    [failed] = check.failures()
    assert failed.name == "bias" and "expected every element = 0.5" in failed.reason


def test_pretrained_tensor_in_the_wrong_module_fails(tmp_path: Path) -> None:
    """A checkpoint tensor that ends up in the wrong module fails against the file, read again; the rest pass."""
    source = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))
    path = tmp_path / "ckpt.pth"
    torch.save(source.state_dict(), path)
    model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))
    report = initialize(model, dict(type="Pretrained", checkpoint=str(path)))
    assert report.verify(model).failures() == []
    with torch.no_grad():
        model[0].weight.copy_(source[1].weight)  # what a key mix-up in a loader does
    check = report.verify(model)
    assert [c.name for c in check.failures()] == ["0.weight"]
    assert check["0.weight"].reason == f"differs from '0.weight' in {path}"
    assert check["1.weight"].verdict == "pass"


def test_pretrained_checkpoint_gone_fails_with_the_reason(tmp_path: Path) -> None:
    """A checkpoint that cannot be read again fails its tensors, saying why, instead of stopping the check."""
    path = tmp_path / "ckpt.pth"
    torch.save(nn.Linear(3, 3).state_dict(), path)
    model = nn.Linear(3, 3)
    report = initialize(model, dict(type="Pretrained", checkpoint=str(path)))
    path.unlink()
    check = report.verify(model)
    assert [c.name for c in check.failures()] == ["weight", "bias"]
    assert check["weight"].reason.startswith("the checkpoint could not be read again: ")
    assert "ckpt.pth" in check["weight"].reason


def test_pretrained_under_a_prefix_and_revised_keys_verifies(tmp_path: Path) -> None:
    """A load with a prefix and revise_keys finds each tensor's key again, and the report keeps revise_keys."""
    source = nn.Sequential(nn.Linear(4, 4))
    path = tmp_path / "ckpt.pth"
    torch.save({"state_dict": {f"backbone.layers.{k}": v for k, v in source.state_dict().items()}}, path)
    model = nn.Sequential(nn.Linear(4, 4))
    cfg = dict(type="Pretrained", checkpoint=str(path), prefix="backbone", revise_keys=[["^layers[.]", ""]])
    report = initialize(model, cfg)
    assert report["0.weight"].args["revise_keys"] == (("^layers[.]", ""),)
    check = report.verify(model)
    assert {c.verdict for c in check.values()} == {"pass"}


def test_rule_that_matched_nothing_leaves_tensors_unchecked_and_untouched() -> None:
    """A layer rule matching no module writes nothing: its tensors get statistics, no verdict, listed as untouched."""
    model = nn.Sequential(nn.Linear(6, 5))
    with pytest.warns(InitWarning, match="no module matches layer=.'Conv2d'. under '<root>'"):
        report = initialize(model, dict(type="Kaiming", layer="Conv2d"), seed=0)
    check = report.verify(model)
    assert check.failures() == []
    assert check.untouched() == ["0.weight", "0.bias"]
    assert check["0.weight"].verdict == "unchecked"
    assert check["0.weight"].stats is not None and check["0.weight"].stats.numel == 30


def test_model_code_gets_statistics_only() -> None:
    """Tensors written by a module's own init_weights get statistics and no verdict."""

    class Own(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def init_weights(self) -> None:
            nn.init.normal_(self.fc.weight, std=3.0)

    class Net(BaseModule):
        def __init__(self) -> None:
            super().__init__(init_cfg=dict(type="Constant", val=0, layer="Linear"))
            self.own = Own()
            self.fc = nn.Linear(4, 4)

    model = Net()
    check = model.init_weights(seed=0).verify(model)
    assert check["own.fc.weight"].verdict == "unchecked"
    assert check["own.fc.weight"].reason == "written by model code"
    assert check["fc.weight"].verdict == "pass"


def test_meta_tensors_are_not_materialized() -> None:
    """A model planned on the meta device is reported as not materialized, not failed."""
    with torch.device("meta"):
        model = nn.Linear(4, 4)
    check = plan_init(model, dict(type="Normal", layer="Linear")).report().verify(model)
    assert {c.verdict for c in check.values()} == {"not materialized"}
    assert check.failures() == []


def test_table_and_dict() -> None:
    """str() is a table with one row per tensor and the failure reasons; to_dict() is plain JSON data."""
    model = nn.Linear(16, 4)
    report = initialize(model, dict(type="Normal", std=0.1, bias=0.0, layer="Linear"), seed=1)
    with torch.no_grad():
        model.bias[0] = 1.0
    check = report.verify(model)
    lines = str(check).splitlines()
    assert lines[0].split() == ["tensor", "initializer", "expected", "observed", "verdict"]
    assert lines[2].startswith("weight ") and lines[2].endswith("pass")
    assert lines[3].startswith("bias ") and lines[3].endswith("fail")
    assert lines[-2] == "bias: expected every element = 0, found values in [0 .. 1]"
    data = json.loads(json.dumps(check.to_dict()))
    assert data["failures"] == ["bias"]
    assert data["tensors"]["weight"]["stats"]["numel"] == 64
    assert data["tensors"]["weight"]["expected_std"] == pytest.approx(0.1)


def test_bad_alpha_and_wrong_model_are_refused() -> None:
    """alpha outside (0, 1) and a model that lacks the report's tensors raise errors naming the fix."""
    model = nn.Linear(2, 2)
    report = initialize(model, dict(type="Constant", val=1, layer="Linear"))
    with pytest.raises(ValueError, match=r"expected 0 < alpha < 1, got 0"):
        report.verify(model, alpha=0)
    with pytest.raises(
        InitPlanError, match=r"does not have: weight, bias; pass the model the report was made for"
    ):
        report.verify(nn.Sequential(nn.Linear(2, 2)))


def test_exported_lazily() -> None:
    """InitCheck and TensorCheck are public names of the torch half."""
    assert initspec.InitCheck is InitCheck
    assert initspec.TensorCheck.__name__ == "TensorCheck"


def test_truncated_moments_match_known_values() -> None:
    """N(0,1) cut to [-2, 2] has the std the writers divide by; no cut gives N(0,1)'s moments."""
    assert truncated_normal(-2, 2).std == pytest.approx(TRUNCATED_NORMAL_STD, rel=1e-12)
    full = truncated_normal(-math.inf, math.inf)
    assert (full.mean, full.std, full.kurtosis) == pytest.approx((0, 1, 3))
    for low, high in ((-0.5, 1.0), (-3.0, 0.2), (0.5, 4.0)):
        grid = torch.linspace(low, high, 200_001, dtype=torch.float64)
        density = torch.exp(-(grid**2) / 2)
        weight = density / torch.trapezoid(density, grid)
        mean = float(torch.trapezoid(grid * weight, grid))
        var = float(torch.trapezoid((grid - mean) ** 2 * weight, grid))
        kurtosis = float(torch.trapezoid((grid - mean) ** 4 * weight, grid)) / var**2
        got = truncated_normal(low, high)
        assert (got.mean, got.std, got.kurtosis) == pytest.approx((mean, math.sqrt(var), kurtosis), rel=1e-6)


def test_variance_p_value_is_the_chi_square_tail() -> None:
    """For normal draws the variance test is chi-square with n - 1 degrees: 18.307 is the 5% point of 10."""
    assert variance_p_value(11, 18.307 / 10, Spread.normal(0, 1)) == pytest.approx(0.10, abs=1e-4)
    assert variance_p_value(11, 1.0, Spread.normal(0, 1)) > 0.5


def test_bonferroni_level_is_split_over_tests() -> None:
    """alpha is for the whole model: a model of many tensors tests each at alpha / (2 T)."""
    model = nn.Sequential(*(nn.Linear(8, 8) for _ in range(5)))
    report = initialize(model, dict(type="Normal", std=1.0, layer="Linear"), seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check = report.verify(model, alpha=0.5)
    assert check.alpha == 0.5 and len(check) == 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not built in")
def test_sharded_tensors_combine_shard_statistics(tmp_path: Path) -> None:
    """On 2 gloo ranks shard statistics combine to the single-process ones, and faults on one shard fail everywhere."""
    sys.path.insert(0, str(WORKERS))
    from verify_worker import CFG, SEED

    prefix = tmp_path / "check"
    run = run_ranks(
        [sys.executable, str(WORKERS / "verify_worker.py"), "2", str(_free_port()), str(prefix)], timeout=300
    )
    assert run.returncode == 0, run.stderr[-4000:]
    reference = nn.Linear(301, 257)
    check = initialize(reference, CFG, seed=SEED).verify(reference)
    for rank in (0, 1):
        results = torch.load(f"{prefix}.{rank}.pt")
        for name in ("weight", "bias"):
            verdict, numel, mean, std, low, high = results["clean"][name]
            stats = check[name].stats
            assert stats is not None and (verdict, numel) == ("pass", stats.numel)
            expected = (stats.mean, stats.std, stats.min, stats.max)  # nan: not needed by the promise
            assert (mean, std, low, high) == pytest.approx(expected, rel=1e-6, abs=1e-7, nan_ok=True)
        assert results["faulty"]["weight"][0] == "fail"
        assert results["faulty"]["bias"][0] == "pass"
        assert results["exact"] == {"eye": "pass", "pretrained": "pass", "pretrained_faulty": "fail"}
