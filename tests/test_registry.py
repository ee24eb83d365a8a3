"""Tests for register_initializer: user types parse at once, everywhere, and names stay unique."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import pytest
import torch
from pydantic import BaseModel, Field
from torch import nn

from initspec import (
    BaseInit,
    ConstantInit,
    InitConfigError,
    InitializerConfig,
    InitPlanError,
    Override,
    initialize,
    parse_init_cfg,
    register_initializer,
    registered_types,
)
from initspec.configs import INITIALIZERS


class HadamardInit(BaseInit):
    """Hadamard weights (a user initializer for these tests)."""

    type: Literal["Hadamard"] = "Hadamard"
    gain: float = Field(default=1.0, description="Scaling factor of the orthogonal matrix.")


class ImpostorConstantInit(BaseInit):
    """A user class that tries to take the built-in name ``Constant``."""

    type: Literal["Constant"] = "Constant"


def apply_hadamard(cfg: Any, weight: Any, generator: Any) -> None:
    """Stand-in apply function (the walker, not the registry, calls it)."""


@pytest.fixture(autouse=True)
def restore_registry() -> Iterator[None]:
    """Remove whatever a test registered, so registrations never leak into other tests."""
    before = set(INITIALIZERS.names)
    yield
    for name in set(INITIALIZERS.names) - before:
        INITIALIZERS.remove(name)


@pytest.fixture
def orthogonal() -> type[HadamardInit]:
    """HadamardInit, registered with its apply function (removed again by restore_registry)."""
    return register_initializer(HadamardInit, apply_hadamard)


def test_unregistered_type_is_unknown() -> None:
    """Before registration, the user type name is rejected like any unknown type."""
    assert "Hadamard" not in registered_types()
    with pytest.raises(InitConfigError, match="unknown initializer type 'Hadamard'"):
        parse_init_cfg(dict(type="Hadamard", layer="Linear"))


def test_registered_type_parses_with_no_rebuild(orthogonal: type[HadamardInit]) -> None:
    """Right after register_initializer, a dict with the new type parses to the user's class."""
    assert orthogonal is HadamardInit
    assert registered_types()[-1] == "Hadamard"
    assert parse_init_cfg(dict(type="Hadamard", layer="Linear", gain=2)) == (
        HadamardInit(layer="Linear", gain=2.0),
    )


def test_registered_type_parses_inside_overrides(orthogonal: type[HadamardInit]) -> None:
    """The new type is accepted as an override's type too, next to the built-ins."""
    (cfg,) = parse_init_cfg(
        dict(type="Constant", val=1, layer="Conv2d", override=dict(name="fc", type="Hadamard", gain=0.5))
    )
    assert cfg.override == (Override(name="fc", init=HadamardInit(gain=0.5)),)


def test_registered_type_model_parses(orthogonal: type[HadamardInit]) -> None:
    """A model of the registered class parses, alone, in a list and as a typed override's init."""
    cfg = HadamardInit(layer="Linear")
    assert parse_init_cfg([cfg, ConstantInit(val=1)]) == (cfg, ConstantInit(val=1))
    typed = ConstantInit(val=1, override=Override(name="fc", init=cfg))
    assert parse_init_cfg(typed) == (typed,)


def test_model_of_an_unregistered_class_is_rejected() -> None:
    """A model whose class is not registered does not slip through parse_init_cfg."""
    with pytest.raises(InitConfigError, match="unknown initializer type 'Hadamard'"):
        parse_init_cfg(HadamardInit(layer="Linear"))


def test_registered_type_round_trips(orthogonal: type[HadamardInit]) -> None:
    """A user config serialises with to_dict and parses back equal."""
    cfg = HadamardInit(layer=["Linear", "Conv2d"], gain=2.0, bias_prob=0.01)
    assert cfg.to_dict() == {
        "type": "Hadamard",
        "layer": ["Linear", "Conv2d"],
        "gain": 2.0,
        "bias_prob": 0.01,
    }
    assert parse_init_cfg(cfg.to_dict()) == (cfg,)


def test_registered_type_joins_the_error_messages(orthogonal: type[HadamardInit]) -> None:
    """Unknown-type and unknown-key messages offer the user type and its fields."""
    with pytest.raises(
        InitConfigError, match=r"did you mean 'Hadamard'\? Allowed types: .*Eye, Hadamard, Kaiming"
    ):
        parse_init_cfg(dict(type="Hadamardl"))
    with pytest.raises(
        InitConfigError, match=r"init_cfg.gian: unknown key 'gian' for Hadamard; did you mean 'gain'"
    ):
        parse_init_cfg(dict(type="Hadamard", gian=2))


def test_registered_type_keeps_base_validation(orthogonal: type[HadamardInit]) -> None:
    """A user type inherits BaseInit's checks: a string bias is rejected at its location."""
    with pytest.raises(InitConfigError, match=r"init_cfg.bias: expected a valid number, got str '0'"):
        parse_init_cfg(dict(type="Hadamard", bias="0"))


def test_apply_function_is_stored(orthogonal: type[HadamardInit]) -> None:
    """The apply function given with the class is what the registry hands to the walker."""
    assert INITIALIZERS.writer("Hadamard").fill is apply_hadamard  # type: ignore[union-attr]
    assert INITIALIZERS.get("Hadamard") is HadamardInit


def test_decorator_form_registers_and_returns_the_function() -> None:
    """``@register_initializer(Cls)`` registers the decorated function and returns it unchanged."""

    @register_initializer(HadamardInit)
    def apply(cfg: Any, weight: Any, generator: Any) -> None:
        """Decorated apply function."""

    assert apply.__name__ == "apply"
    assert INITIALIZERS.writer("Hadamard").fill is apply  # type: ignore[union-attr]
    assert isinstance(parse_init_cfg(dict(type="Hadamard"))[0], HadamardInit)


def test_removal_takes_effect_at_once(orthogonal: type[HadamardInit]) -> None:
    """After INITIALIZERS.remove, the name is unknown again (the teardown relies on this)."""
    INITIALIZERS.remove("Hadamard")
    assert "Hadamard" not in registered_types()
    with pytest.raises(InitConfigError, match="unknown initializer type 'Hadamard'"):
        parse_init_cfg(dict(type="Hadamard"))


# ---- rejected registrations


def test_duplicate_user_name_is_rejected(orthogonal: type[HadamardInit]) -> None:
    """Registering a name twice is a ValueError naming the owner; the first registration stays."""
    with pytest.raises(ValueError, match='initializer type "Hadamard" is already registered by HadamardInit'):
        register_initializer(HadamardInit, lambda cfg, weight, generator: None)
    assert INITIALIZERS.writer("Hadamard").fill is apply_hadamard  # type: ignore[union-attr]


def test_builtin_name_cannot_be_taken() -> None:
    """A user class may not reuse a built-in name such as Constant; Constant still parses to ConstantInit."""
    with pytest.raises(ValueError, match='"Constant" is already registered by ConstantInit; choose another'):
        register_initializer(ImpostorConstantInit, apply_hadamard)
    assert type(parse_init_cfg(dict(type="Constant", val=1))[0]) is ConstantInit


def test_duplicate_rejected_in_decorator_form(orthogonal: type[HadamardInit]) -> None:
    """The decorator form rejects a duplicate name too."""
    with pytest.raises(ValueError, match="already registered"):

        @register_initializer(HadamardInit)
        def apply(cfg: Any, weight: Any, generator: Any) -> None:
            """Never registered."""


class PlainModel(BaseModel):
    """A pydantic model that is not an initializer."""

    type: Literal["Plain"] = "Plain"


class LoaderInit(InitializerConfig):
    """An InitializerConfig that is not a weight initializer (like Pretrained)."""

    type: Literal["Loader"] = "Loader"


@pytest.mark.parametrize(
    "candidate",
    [
        pytest.param(dict, id="dict"),
        pytest.param(PlainModel, id="pydantic-model"),
        pytest.param(LoaderInit, id="initializer-config-not-base-init"),
        pytest.param(HadamardInit(), id="instance"),
        pytest.param("Hadamard", id="name"),
    ],
)
def test_non_base_init_is_rejected(candidate: Any) -> None:
    """Only a BaseInit subclass can be registered; anything else is a TypeError and registers nothing."""
    before = registered_types()
    with pytest.raises(TypeError, match=r"needs a subclass of initspec\.BaseInit"):
        register_initializer(candidate, apply_hadamard)
    assert registered_types() == before


def test_base_init_without_type_literal_is_rejected() -> None:
    """A BaseInit subclass must declare a single-literal ``type``; otherwise registration is a TypeError."""

    class Untyped(BaseInit):
        gain: float = 1.0

    with pytest.raises(TypeError, match=r'must declare `type: Literal\["Name"\] = "Name"`'):
        register_initializer(Untyped, apply_hadamard)
    assert "Untyped" not in registered_types()


class WidthNormalInit(BaseInit):
    """A registered initializer that needs fans: N(0, 1 / fan_in)."""

    type: Literal["WidthNormal"] = "WidthNormal"


def test_registered_type_that_needs_fans_is_refused_at_plan_time_on_a_1d_weight() -> None:
    """register_initializer(needs_fans=True) makes the plan refuse a 1-D weight, with nothing written."""
    calls: list[torch.Tensor] = []

    def apply(cfg: Any, weight: torch.Tensor, generator: Any) -> None:
        calls.append(weight)
        weight.normal_(0, weight.shape[1] ** -0.5, generator=generator)

    register_initializer(WidthNormalInit, apply, needs_fans=True)
    try:
        model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
        before = {k: v.clone() for k, v in model.state_dict().items()}
        with pytest.raises(InitPlanError, match=r"WidthNormal computes fans.*'1\.weight' has shape \(4,\)"):
            initialize(model, dict(type="WidthNormal", layer=["Linear", "LayerNorm"]))
        assert calls == []
        assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
        initialize(model, dict(type="WidthNormal", layer="Linear"), seed=0)
        assert len(calls) == 1
    finally:
        INITIALIZERS.remove("WidthNormal")


def test_each_registry_change_bumps_the_version_once() -> None:
    """Adding, re-attaching and removing a type each bump ``InitializerRegistry.version`` by exactly one."""
    from initspec.configs._registry import InitializerRegistry

    registry = InitializerRegistry()
    registry.add(HadamardInit, None)
    assert registry.version == 1
    registry.remove("Hadamard")
    assert registry.version == 2
