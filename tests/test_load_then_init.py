"""Load, then draw only what the checkpoint lacks: with skip_overwritten, no loaded element is ever drawn."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from initspec import InitWarning, initialize, plan_init
from initspec._walker.seeded import BLOCK, THREADS_ENV

_DRAWS = {torch.Tensor.normal_, torch.Tensor.uniform_, torch.Tensor.bernoulli_, torch.Tensor.random_}


class _Draws(TorchFunctionMode):
    """Every in-place random fill, as (storage pointer, first byte, last byte) of the tensor it fills."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[tuple[int, int, int]] = []

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if func in _DRAWS:
            self.spans.append(_span(args[0]))
        return func(*args, **(kwargs or {}))


def _span(t: torch.Tensor) -> tuple[int, int, int]:
    start = t.storage_offset() * t.element_size()
    return t.untyped_storage().data_ptr(), start, start + t.numel() * t.element_size()


@contextmanager
def _counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Draws]:
    monkeypatch.setenv(THREADS_ENV, "1")  # a TorchFunctionMode is per thread: keep every draw on this one
    with _Draws() as draws:
        yield draws


class _Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(
            *(nn.Linear(256, 300) if i == 0 else nn.Linear(300, 300) for i in range(4))
        )
        self.head = nn.Linear(300, 10)


CFG = [dict(type="Kaiming", layer="Linear"), dict(type="TruncNormal", std=0.02, override=dict(name="head"))]


def _checkpoint(tmp_path: Path, keep: str = "backbone.") -> str:
    path = tmp_path / "backbone.pth"
    torch.save({k: v for k, v in _Model().state_dict().items() if k.startswith(keep)}, path)
    return str(path)


def _drawn_elements(draws: _Draws, tensors: dict[str, torch.Tensor]) -> dict[str, int]:
    """For each tensor, how many of its bytes' elements were drawn into."""
    out = {}
    for name, t in tensors.items():
        ptr, lo, hi = _span(t)
        hit = sum(max(0, min(hi, b) - max(lo, a)) for p, a, b in draws.spans if p == ptr)
        out[name] = hit // t.element_size()
    return out


@pytest.mark.parametrize("seed", [None, 0])
def test_no_loaded_element_is_drawn(
    seed: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With skip_overwritten=True, only the head's weight is drawn; every backbone element is only copied."""
    model = _Model()
    cfg = [*CFG, dict(type="Pretrained", checkpoint=_checkpoint(tmp_path))]
    with _counting(monkeypatch) as draws, _head_missing():
        report = initialize(model, cfg, seed=seed)
    drawn = _drawn_elements(draws, dict(model.named_parameters()))
    assert {k: v for k, v in drawn.items() if v} == {"head.weight": 3000}
    assert all(report[k].initializer == "Pretrained" for k in drawn if k.startswith("backbone"))


def test_loaded_tensors_have_no_earlier_write_in_the_plan(tmp_path: Path) -> None:
    """The steps apply runs hold one write per backbone tensor, the load; the head gets its override."""
    cfg = [*CFG, dict(type="Pretrained", checkpoint=_checkpoint(tmp_path))]
    with _head_missing():
        steps = plan_init(_Model(), cfg).effective_steps()
    roles = {}
    for step in steps:
        roles.setdefault(step.name, []).append(step.role)  # type: ignore[union-attr]
    assert all(r == ["load"] for name, r in roles.items() if name.startswith("backbone"))
    assert roles["head.weight"] == ["weight"] and roles["head.bias"] == ["bias"]


def test_skip_overwritten_false_draws_everything_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mmengine's stream (skip_overwritten=False) draws every Linear, then the checkpoint overwrites the backbone."""
    model = _Model()
    cfg = [*CFG, dict(type="Pretrained", checkpoint=_checkpoint(tmp_path))]
    with _counting(monkeypatch) as draws, _head_missing():
        initialize(model, cfg, skip_overwritten=False)
    drawn = _drawn_elements(draws, {k: p for k, p in model.named_parameters() if k.endswith("weight")})
    assert all(drawn[k] >= p.numel() for k, p in model.named_parameters() if k.endswith("weight"))


def test_seeded_head_does_not_depend_on_what_the_checkpoint_holds(tmp_path: Path) -> None:
    """With seed=, the head's values are the same with a full backbone checkpoint, half of one, or none."""
    heads = []
    for keep in ("backbone.", "backbone.0.", None):
        model = _Model()
        cfg: list[dict[str, object]] = list(CFG)
        if keep is not None:
            (tmp_path / keep).mkdir()
            cfg.append(dict(type="Pretrained", checkpoint=_checkpoint(tmp_path / keep, keep)))
        with _head_missing() if keep is not None else _nothing():
            initialize(model, cfg, seed=7)
        heads.append((model.head.weight.detach().clone(), model.head.bias.detach().clone()))
    for weight, bias in heads[1:]:
        assert torch.equal(weight, heads[0][0]) and torch.equal(bias, heads[0][1])


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _head_missing() -> Any:
    """The checkpoint has no head: the one mismatch warning says so."""
    return pytest.warns(InitWarning, match=r"missing keys in the checkpoint: .*head\.weight, head\.bias")


def test_counter_sees_seeded_block_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    """The draw counter is not blind: a seeded multi-block fill is counted element for element."""
    layer = nn.Linear(BLOCK // 100 + 1, 300, bias=False)
    with _counting(monkeypatch) as draws:
        initialize(layer, dict(type="Normal", layer="Linear"), seed=0)
    assert _drawn_elements(draws, {"w": layer.weight})["w"] == layer.weight.numel()
