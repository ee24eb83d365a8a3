"""The transaction: every write is checked against its tensor before the first one, and code initspec does
not control (model ``init_weights``, registered writers) is undone when it fails part-way."""

from __future__ import annotations

from typing import Any, Literal

import pytest
import torch
from torch import nn

from initspec import BaseInit, BaseModule, InitPlanError, initialize, register_initializer
from initspec.configs import INITIALIZERS


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _assert_unchanged(model: nn.Module, before: dict[str, torch.Tensor]) -> None:
    after = model.state_dict()
    assert [k for k, v in before.items() if not torch.equal(v, after[k])] == []


def _conv_then(layer: nn.Module) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 4, 3), layer)


@pytest.mark.parametrize(
    ("layer", "cfg", "match"),
    [
        (
            nn.Linear(4, 4),
            dict(type="Uniform", a=-1e39, b=1e39, layer="Linear"),
            r"Uniform value -1e\+39 overflows float32",
        ),
        (
            nn.Linear(4, 4),
            dict(type="Constant", val=1e39, layer="Linear"),
            r"Constant value 1e\+39 overflows float32",
        ),
        (nn.Linear(4, 4).half(), dict(type="Uniform", a=-1e5, b=1e5, layer="Linear"), r"overflows float16"),
        (
            nn.Linear(4, 4),
            dict(type="Uniform", a=-3e38, b=3e38, layer="Linear"),
            r"Uniform value 6e\+38 overflows",
        ),
        (
            nn.Linear(4, 4),
            dict(type="Normal", bias=1e39, layer="Linear"),
            r"Normal's bias value 1e\+39 overflows",
        ),
    ],
)
@pytest.mark.parametrize("seed", [None, 0])
def test_unrepresentable_values_are_refused_before_any_write(
    layer: nn.Module, cfg: dict[str, Any], match: str, seed: int | None
) -> None:
    """A value the tensor's dtype cannot hold is an InitPlanError, and the conv written first stays as it was."""
    model = _conv_then(layer)
    before = _snapshot(model)
    with pytest.raises(InitPlanError, match=match):
        initialize(model, [dict(type="Kaiming", layer="Conv2d"), cfg], seed=seed)
    _assert_unchanged(model, before)


class IntParams(nn.Module):
    def __init__(self, dtype: torch.dtype) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(3, 3, dtype=dtype), requires_grad=False)


RANDOM = ["Normal", "Uniform", "TruncNormal", "Kaiming", "Xavier", "Caffe2Xavier", "Orthogonal", "Sparse"]


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.complex64])
@pytest.mark.parametrize("type_name", RANDOM)
@pytest.mark.parametrize("seed", [None, 0])
def test_random_initializers_refuse_non_floating_tensors(
    type_name: str, dtype: torch.dtype, seed: int | None
) -> None:
    """Integer, boolean and complex parameters under a random initializer are refused at plan time."""
    extra = {"sparsity": 0.5} if type_name == "Sparse" else {}
    model = nn.Sequential(nn.Linear(2, 2), IntParams(dtype))
    before = _snapshot(model)
    with pytest.raises(InitPlanError, match=rf"{type_name} draws floating-point values, but '1\.weight' is"):
        initialize(
            model,
            [dict(type="Constant", val=2, layer="Linear"), dict(type=type_name, layer="IntParams", **extra)],
            seed=seed,
        )
    _assert_unchanged(model, before)


@pytest.mark.parametrize(
    ("dtype", "val", "ok"),
    [
        (torch.int64, 3, True),
        (torch.int64, 2.5, False),
        (torch.bool, 1, True),
        (torch.bool, 2, False),
        (torch.int8, 300, False),
    ],
)
def test_constant_on_integer_tensors_needs_a_value_they_can_hold(
    dtype: torch.dtype, val: float, ok: bool
) -> None:
    """Constant fills integer and boolean tensors, but only with a whole value in range (0 or 1 for bool)."""
    model = IntParams(dtype)
    cfg = dict(type="Constant", val=val, layer="IntParams")
    if ok:
        initialize(model, cfg)
        assert torch.equal(model.weight, torch.full_like(model.weight, val))
    else:
        with pytest.raises(InitPlanError, match=r"Constant value"):
            initialize(model, cfg)


def test_inference_and_expanded_tensors_are_refused() -> None:
    """Inference-mode and stride-0 (expanded) parameters cannot be written in place: refused before writing."""
    with torch.inference_mode():
        frozen = nn.Linear(2, 2)
    model = nn.Sequential(nn.Conv2d(1, 1, 1), frozen)
    with pytest.raises(InitPlanError, match=r"'1\.weight' is an inference-mode tensor"):
        initialize(model, [dict(type="Constant", val=1, layer="Conv2d"), dict(type="Normal", layer="Linear")])
    expanded = nn.Linear(3, 3)
    expanded.weight = nn.Parameter(torch.zeros(1, 3).expand(3, 3))
    with pytest.raises(InitPlanError, match=r"'weight' is an expanded tensor"):
        initialize(expanded, dict(type="Constant", val=1, layer="Linear"))


def test_sparse_layout_parameters_are_refused() -> None:
    """A sparse-layout weight is refused, naming its layout."""
    layer = nn.Linear(3, 3)
    layer.weight = nn.Parameter(torch.eye(3).to_sparse())
    with pytest.raises(InitPlanError, match=r"'weight' is a sparse_coo tensor"):
        initialize(layer, dict(type="Normal", layer="Linear"))


class FlakyInit(BaseInit):
    """A registered initializer whose writer fails on its third tensor."""

    type: Literal["Flaky"] = "Flaky"
    error: Literal["value", "interrupt"] = "value"


@pytest.fixture
def flaky() -> Any:
    calls: list[int] = []

    def apply(cfg: Any, weight: torch.Tensor, generator: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise (ValueError("boom") if cfg.error == "value" else KeyboardInterrupt())
        weight.fill_(5)

    register_initializer(FlakyInit, apply)
    yield calls
    INITIALIZERS.remove("Flaky")


@pytest.mark.parametrize(("error", "raised"), [("value", ValueError), ("interrupt", KeyboardInterrupt)])
def test_a_registered_writer_failing_part_way_leaves_the_model_as_it_was(
    flaky: list[int], error: str, raised: type[BaseException]
) -> None:
    """A user writer raising on its 3rd tensor (or KeyboardInterrupt) restores every tensor written so far."""
    model = nn.Sequential(*(nn.Linear(2, 2) for _ in range(4)))
    before = _snapshot(model)
    with pytest.raises(raised):
        initialize(
            model,
            [
                dict(type="Constant", val=1, bias=2, layer="Linear"),
                dict(type="Flaky", layer="Linear", error=error),
            ],
        )
    assert len(flaky) == 3
    _assert_unchanged(model, before)


class Raising(BaseModule):
    """Model code that writes one tensor and then fails."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def init_weights(self, **kwargs: Any) -> None:  # type: ignore[override]
        with torch.no_grad():
            self.fc.weight.fill_(9)
        raise RuntimeError("model code failed")


def test_model_code_failing_part_way_leaves_the_model_as_it_was() -> None:
    """A child's own init_weights raising after a write restores it and everything written before it."""

    class Root(BaseModule):
        def __init__(self) -> None:
            super().__init__(init_cfg=dict(type="Constant", val=3, layer="Linear"))
            self.first = nn.Linear(2, 2)
            self.child = Raising()

    model = Root()
    before = _snapshot(model)
    with pytest.raises(RuntimeError, match="model code failed"):
        model.init_weights()
    _assert_unchanged(model, before)
    assert not model.is_init


@pytest.mark.parametrize(
    ("stored", "match"),
    [
        (torch.ones(2, 2, dtype=torch.complex64), r"complex"),
        (torch.eye(2).to_sparse(), r"sparse|strided"),
    ],
    ids=["complex-into-float", "sparse"],
)
def test_checkpoint_tensors_that_cannot_load_are_refused_before_any_write(
    stored: torch.Tensor, match: str, tmp_path: Any
) -> None:
    """A checkpoint tensor of the right shape that cannot be copied without loss stops the plan, strict or not."""
    path = tmp_path / "ck.pth"
    torch.save({"1.weight": stored, "1.bias": torch.zeros(2)}, path)
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    before = _snapshot(model)
    with pytest.raises(InitPlanError, match=rf"cannot load.*{match}"):
        initialize(
            model,
            [dict(type="Constant", val=3, layer="Linear"), dict(type="Pretrained", checkpoint=str(path))],
        )
    _assert_unchanged(model, before)


def test_float_checkpoint_into_bool_buffer_is_refused(tmp_path: Any) -> None:
    """A float checkpoint tensor loaded into a bool buffer is refused instead of being truncated."""

    class Masked(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mask", torch.zeros(3, dtype=torch.bool))

    path = tmp_path / "mask.pth"
    torch.save({"mask": torch.tensor([0.2, 0.0, 1.5])}, path)
    with pytest.raises(InitPlanError, match=r"mask"):
        initialize(Masked(), dict(type="Pretrained", checkpoint=str(path)))


class _Writes(BaseModule):
    """Model code that writes its own way (``how``) into fc.weight only, and then fails."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.fc = nn.Linear(2, 2)
        self.untouched = nn.Linear(3, 3)

    def init_weights(self, **kwargs: Any) -> None:  # type: ignore[override]
        with torch.no_grad():
            if self.how == "data":
                self.fc.weight.data = torch.full((2, 2), 9.0)
            elif self.how == "out":
                torch.full((2, 2), 9.0, out=self.fc.weight.data)
            else:
                self.fc.weight.data[0].fill_(9)
        raise RuntimeError("model code failed")


@pytest.mark.parametrize("how", ["view", "data", "out"])
def test_model_code_writes_through_views_data_and_out_are_undone(how: str) -> None:
    """A write through a view, ``.data = ...`` or ``out=`` is restored when the model code then fails."""
    root = BaseModule()
    root.body = _Writes(how)
    before = _snapshot(root)
    with pytest.raises(RuntimeError, match="model code failed"):
        root.init_weights()
    _assert_unchanged(root, before)


def test_only_the_tensors_written_are_copied(monkeypatch: pytest.MonkeyPatch) -> None:
    """The transaction copies a tensor just before its first write: unwritten tensors are never copied."""
    from initspec._walker import transaction

    copied: list[tuple[int, ...]] = []
    original = transaction._copy

    def counting(tensor: torch.Tensor) -> torch.Tensor:
        copied.append(tuple(tensor.shape))
        return original(tensor)

    monkeypatch.setattr(transaction, "_copy", counting)

    class Root(BaseModule):
        def __init__(self) -> None:
            super().__init__(init_cfg=dict(type="Constant", val=3, layer="Conv2d"))
            self.conv = nn.Conv2d(1, 1, 1)
            self.child = _Writes("view")

    model = Root()
    before = _snapshot(model)
    with pytest.raises(RuntimeError, match="model code failed"):
        model.init_weights()
    _assert_unchanged(model, before)
    # conv.weight and conv.bias (the plan's writes), fc.weight (written by model code); never fc.bias or
    # the untouched layer's tensors
    assert sorted(copied) == [(1,), (1, 1, 1, 1), (2, 2)]
