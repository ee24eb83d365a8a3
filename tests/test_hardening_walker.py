"""Issue 15's walker reproductions (items 1 and 11): refused before any write, and seeds checked."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from initspec import InitSpecError, initialize


def _model(dtype: torch.dtype = torch.float32) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Linear(4, 4)).to(dtype)


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


HALF_WRITES: dict[str, tuple[list[dict[str, Any]], dict[str, Any], torch.dtype]] = {
    "Uniform ±1e39 on float32": (
        [dict(type="Kaiming", layer="Conv2d"), dict(type="Uniform", a=-1e39, b=1e39, layer="Linear")],
        {},
        torch.float32,
    ),
    "Constant 1e39 on float32": (
        [dict(type="Kaiming", layer="Conv2d"), dict(type="Constant", val=1e39, layer="Linear")],
        {},
        torch.float32,
    ),
    "Uniform ±1e5 on float16": (
        [dict(type="Kaiming", layer="Conv2d"), dict(type="Uniform", a=-1e5, b=1e5, layer="Linear")],
        {},
        torch.float16,
    ),
    "seeded Uniform ±1e300": (
        [dict(type="Kaiming", layer="Conv2d"), dict(type="Uniform", a=-1e300, b=1e300, layer="Linear")],
        {"seed": 0},
        torch.float32,
    ),
}


@pytest.mark.parametrize(("cfg", "options", "dtype"), HALF_WRITES.values(), ids=HALF_WRITES)
def test_values_the_dtype_cannot_hold_are_refused_before_any_write(
    cfg: list[dict[str, Any]], options: dict[str, Any], dtype: torch.dtype
) -> None:
    """A bound or constant outside torch.finfo(dtype) is an InitSpecError, and the model is unchanged."""
    model = _model(dtype)
    before = _snapshot(model)
    with pytest.raises(InitSpecError, match=r"1\.weight"):
        initialize(model, cfg, **options)
    after = _snapshot(model)
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("seed", [1.5, "7", True], ids=["float", "str", "bool"])
def test_a_seed_that_is_not_an_int_is_refused(seed: Any) -> None:
    """seed=1.5, seed="7" and seed=True are refused, as check_seed refuses them."""
    with pytest.raises(TypeError, match="seed must be an int"):
        initialize(nn.Linear(2, 2), dict(type="Normal", layer="Linear"), seed=seed)
