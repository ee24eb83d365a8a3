"""Tests for register_initializer: user types parse at once, everywhere, and names stay unique."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from initspec import (
    BaseInit,
    ConstantInit,
    InitConfigError,
    InitializerConfig,
    Override,
    parse_init_cfg,
    register_initializer,
    registered_types,
)
from initspec.configs import INITIALIZERS


class OrthogonalInit(BaseInit):
    """Orthogonal weights (a user initializer for these tests)."""

    type: Literal["Orthogonal"] = "Orthogonal"
    gain: float = Field(default=1.0, description="Scaling factor of the orthogonal matrix.")


class ImpostorConstantInit(BaseInit):
    """A user class that tries to take the built-in name ``Constant``."""

    type: Literal["Constant"] = "Constant"


def apply_orthogonal(cfg: Any, weight: Any, generator: Any) -> None:
    """Stand-in apply function (the walker, not the registry, calls it)."""


@pytest.fixture(autouse=True)
def restore_registry() -> Iterator[None]:
    """Remove whatever a test registered, so registrations never leak into other tests."""
    before = set(INITIALIZERS.names)
    yield
    for name in set(INITIALIZERS.names) - before:
        INITIALIZERS.remove(name)


@pytest.fixture
def orthogonal() -> type[OrthogonalInit]:
    """OrthogonalInit, registered with its apply function (removed again by restore_registry)."""
    return register_initializer(OrthogonalInit, apply_orthogonal)


def test_unregistered_type_is_unknown() -> None:
    """Before registration, the user type name is rejected like any unknown type."""
    assert "Orthogonal" not in registered_types()
    with pytest.raises(InitConfigError, match="unknown initializer type 'Orthogonal'"):
        parse_init_cfg(dict(type="Orthogonal", layer="Linear"))


def test_registered_type_parses_with_no_rebuild(orthogonal: type[OrthogonalInit]) -> None:
    """Right after register_initializer, a dict with the new type parses to the user's class."""
    assert orthogonal is OrthogonalInit
    assert registered_types()[-1] == "Orthogonal"
    assert parse_init_cfg(dict(type="Orthogonal", layer="Linear", gain=2)) == (
        OrthogonalInit(layer="Linear", gain=2.0),
    )


def test_registered_type_parses_inside_overrides(orthogonal: type[OrthogonalInit]) -> None:
    """The new type is accepted as an override's type too, next to the built-ins."""
    (cfg,) = parse_init_cfg(
        dict(type="Constant", val=1, layer="Conv2d", override=dict(name="fc", type="Orthogonal", gain=0.5))
    )
    assert cfg.override == (Override(name="fc", init=OrthogonalInit(gain=0.5)),)


def test_registered_type_model_parses(orthogonal: type[OrthogonalInit]) -> None:
    """A model of the registered class parses, alone, in a list and as a typed override's init."""
    cfg = OrthogonalInit(layer="Linear")
    assert parse_init_cfg([cfg, ConstantInit(val=1)]) == (cfg, ConstantInit(val=1))
    typed = ConstantInit(val=1, override=Override(name="fc", init=cfg))
    assert parse_init_cfg(typed) == (typed,)


def test_model_of_an_unregistered_class_is_rejected() -> None:
    """A model whose class is not registered does not slip through parse_init_cfg."""
    with pytest.raises(InitConfigError, match="unknown initializer type 'Orthogonal'"):
        parse_init_cfg(OrthogonalInit(layer="Linear"))


def test_registered_type_round_trips(orthogonal: type[OrthogonalInit]) -> None:
    """A user config serialises with to_dict and parses back equal."""
    cfg = OrthogonalInit(layer=["Linear", "Conv2d"], gain=2.0, bias_prob=0.01)
    assert cfg.to_dict() == {
        "type": "Orthogonal",
        "layer": ["Linear", "Conv2d"],
        "gain": 2.0,
        "bias_prob": 0.01,
    }
    assert parse_init_cfg(cfg.to_dict()) == (cfg,)


def test_registered_type_joins_the_error_messages(orthogonal: type[OrthogonalInit]) -> None:
    """Unknown-type and unknown-key messages offer the user type and its fields."""
    with pytest.raises(
        InitConfigError, match=r"did you mean 'Orthogonal'\? Allowed types: .*Orthogonal, Pretrained"
    ):
        parse_init_cfg(dict(type="Orthogonall"))
    with pytest.raises(
        InitConfigError, match=r"init_cfg.gian: unknown key 'gian' for Orthogonal; did you mean 'gain'"
    ):
        parse_init_cfg(dict(type="Orthogonal", gian=2))


def test_registered_type_keeps_base_validation(orthogonal: type[OrthogonalInit]) -> None:
    """A user type inherits BaseInit's checks: a string bias is rejected at its location."""
    with pytest.raises(InitConfigError, match=r"init_cfg.bias: expected a valid number, got str '0'"):
        parse_init_cfg(dict(type="Orthogonal", bias="0"))


def test_apply_function_is_stored(orthogonal: type[OrthogonalInit]) -> None:
    """The apply function given with the class is what the registry hands to the walker."""
    assert INITIALIZERS.applier("Orthogonal") is apply_orthogonal
    assert INITIALIZERS.get("Orthogonal") is OrthogonalInit


def test_decorator_form_registers_and_returns_the_function() -> None:
    """``@register_initializer(Cls)`` registers the decorated function and returns it unchanged."""

    @register_initializer(OrthogonalInit)
    def apply(cfg: Any, weight: Any, generator: Any) -> None:
        """Decorated apply function."""

    assert apply.__name__ == "apply"
    assert INITIALIZERS.applier("Orthogonal") is apply
    assert isinstance(parse_init_cfg(dict(type="Orthogonal"))[0], OrthogonalInit)


def test_removal_takes_effect_at_once(orthogonal: type[OrthogonalInit]) -> None:
    """After INITIALIZERS.remove, the name is unknown again (the teardown relies on this)."""
    INITIALIZERS.remove("Orthogonal")
    assert "Orthogonal" not in registered_types()
    with pytest.raises(InitConfigError, match="unknown initializer type 'Orthogonal'"):
        parse_init_cfg(dict(type="Orthogonal"))


# ---- rejected registrations


def test_duplicate_user_name_is_rejected(orthogonal: type[OrthogonalInit]) -> None:
    """Registering a name twice is a ValueError naming the owner; the first registration stays."""
    with pytest.raises(
        ValueError, match='initializer type "Orthogonal" is already registered by OrthogonalInit'
    ):
        register_initializer(OrthogonalInit, lambda cfg, weight, generator: None)
    assert INITIALIZERS.applier("Orthogonal") is apply_orthogonal


def test_builtin_name_cannot_be_taken() -> None:
    """A user class may not reuse a built-in name such as Constant; Constant still parses to ConstantInit."""
    with pytest.raises(ValueError, match='"Constant" is already registered by ConstantInit; choose another'):
        register_initializer(ImpostorConstantInit, apply_orthogonal)
    assert type(parse_init_cfg(dict(type="Constant", val=1))[0]) is ConstantInit


def test_duplicate_rejected_in_decorator_form(orthogonal: type[OrthogonalInit]) -> None:
    """The decorator form rejects a duplicate name too."""
    with pytest.raises(ValueError, match="already registered"):

        @register_initializer(OrthogonalInit)
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
        pytest.param(OrthogonalInit(), id="instance"),
        pytest.param("Orthogonal", id="name"),
    ],
)
def test_non_base_init_is_rejected(candidate: Any) -> None:
    """Only a BaseInit subclass can be registered; anything else is a TypeError and registers nothing."""
    before = registered_types()
    with pytest.raises(TypeError, match=r"needs a subclass of initspec\.BaseInit"):
        register_initializer(candidate, apply_orthogonal)
    assert registered_types() == before


def test_base_init_without_type_literal_is_rejected() -> None:
    """A BaseInit subclass must declare a single-literal ``type``; otherwise registration is a TypeError."""

    class Untyped(BaseInit):
        gain: float = 1.0

    with pytest.raises(TypeError, match=r'must declare `type: Literal\["Name"\] = "Name"`'):
        register_initializer(Untyped, apply_orthogonal)
    assert "Untyped" not in registered_types()
