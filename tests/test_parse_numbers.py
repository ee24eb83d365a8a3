"""Parse-time checks on numbers and on the size of messages: nan, infinities, huge ints, huge values."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import Field

from initspec import BaseInit, InitConfigError, parse_init_cfg, register_initializer
from initspec.configs import INITIALIZERS
from workbound import within

NON_FINITE = [math.nan, math.inf, -math.inf]
TOO_BIG = [10**400, -(10**400), 10**5000, 2**1024]


def _numeric_fields() -> list[tuple[str, str]]:
    """(type, field) for every number-valued field of every registered initializer."""
    found = []
    for name in INITIALIZERS.names:
        cls = INITIALIZERS.get(name)
        assert cls is not None
        for field, schema in cls.model_json_schema()["properties"].items():
            kinds = {schema.get("type"), *(s.get("type") for s in schema.get("anyOf", []))}
            if kinds & {"number", "integer"}:
                found.append((name, field))
    return found


def _minimal(type_name: str) -> dict[str, Any]:
    """A valid config of ``type_name``: its required fields filled with plain values."""
    cls = INITIALIZERS.get(type_name)
    assert cls is not None
    cfg: dict[str, Any] = {"type": type_name}
    for field, info in cls.model_fields.items():
        if info.is_required():
            cfg[field] = 0.5 if info.annotation is float else "x"
    return cfg


NUMERIC_FIELDS = _numeric_fields()


def test_every_builtin_numeric_field_is_covered() -> None:
    """The parametrized cases below reach the numeric fields of the built-in types (and any new ones)."""
    assert {("Constant", "val"), ("Uniform", "a"), ("Normal", "std"), ("Xavier", "gain")} <= set(
        NUMERIC_FIELDS
    )
    assert ("Constant", "bias_prob") in NUMERIC_FIELDS


@pytest.mark.parametrize(("type_name", "field"), NUMERIC_FIELDS)
@pytest.mark.parametrize("value", NON_FINITE, ids=["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused_in_every_field(type_name: str, field: str, value: float) -> None:
    """nan and ±inf are a located InitConfigError in every numeric field of every type."""
    with pytest.raises(InitConfigError) as caught:
        parse_init_cfg([_minimal(type_name) | {field: value}])
    assert any(p.loc == (0, field) for p in caught.value.problems), caught.value


@pytest.mark.parametrize(("type_name", "field"), NUMERIC_FIELDS)
@pytest.mark.parametrize("value", TOO_BIG, ids=["1e400", "-1e400", "1e5000", "2**1024"])
def test_ints_too_big_for_a_float_are_refused_in_every_field(type_name: str, field: str, value: int) -> None:
    """An int no float can hold is a located error with a short message, never a crash in repr."""
    with pytest.raises(InitConfigError) as caught:
        parse_init_cfg([_minimal(type_name) | {field: value}])
    assert any(p.loc == (0, field) for p in caught.value.problems)
    assert len(str(caught.value)) < 600


@pytest.mark.parametrize(("type_name", "field"), NUMERIC_FIELDS)
@pytest.mark.parametrize("value", NON_FINITE, ids=["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused_inside_overrides(type_name: str, field: str, value: float) -> None:
    """An override's arguments are checked the same way, at their own location."""
    override = {"name": "head"} | _minimal(type_name) | {field: value}
    with pytest.raises(InitConfigError) as caught:
        parse_init_cfg({"type": "Constant", "val": 1, "override": override})
    assert any(p.loc == ("override", field) for p in caught.value.problems), caught.value


@pytest.mark.parametrize(
    ("cfg", "match"),
    [
        (
            dict(type="Normal", std=math.inf, layer="Linear"),
            r"init_cfg\.std: expected a finite number, got float inf",
        ),
        (dict(type="Normal", mean=math.nan, layer="Linear"), r"init_cfg\.mean: expected a finite number"),
        (dict(type="Constant", val=1, bias=math.nan, layer="Linear"), r"init_cfg\.bias: expected a finite"),
        (dict(type="Xavier", gain=math.nan, layer="Linear"), r"init_cfg\.gain: expected a finite number"),
        (dict(type="Uniform", a=-math.inf, b=math.inf, layer="Linear"), r"init_cfg\.a: .*\n.*init_cfg\.b: "),
        (
            dict(type="Constant", val=10**5000, layer="Linear"),
            r"init_cfg\.val: expected a number that fits a float",
        ),
    ],
)
def test_issue_reproductions_of_non_finite_configs(cfg: dict[str, Any], match: str) -> None:
    """The configs the hardening issue found parsing (std=inf, mean=nan, bias=nan, ...) are now refused."""
    with pytest.raises(InitConfigError, match=match):
        parse_init_cfg(cfg)


def test_large_finite_numbers_still_parse() -> None:
    """Finite floats, however large, parse (whether a dtype can hold them is checked against the tensor)."""
    cfg = parse_init_cfg(dict(type="Uniform", a=-1e300, b=1e300, layer="Linear"))[0]
    assert cfg.to_dict()["b"] == 1e300


def test_user_float_fields_refuse_nan_too() -> None:
    """A registered type's plain ``float`` fields inherit the finite-number rule."""
    from typing import Literal

    class ScaledInit(BaseInit):
        type: Literal["ScaledHardening"] = "ScaledHardening"
        scale: float = Field(default=1.0)

    register_initializer(ScaledInit, lambda cfg, weight, generator: None)
    try:
        with pytest.raises(InitConfigError, match=r"init_cfg\.scale: expected a finite number"):
            parse_init_cfg(dict(type="ScaledHardening", scale=math.nan, layer="Linear"))
    finally:
        INITIALIZERS.remove("ScaledHardening")


def test_huge_int_as_the_whole_config_is_a_located_error() -> None:
    """parse_init_cfg(10**5000) is an InitConfigError, not a ValueError from repr."""
    with pytest.raises(
        InitConfigError, match=r"expected a dict or a list of dicts, got int <int of about 5001 digits>"
    ):
        parse_init_cfg(10**5000)


def test_huge_int_inside_a_list_value_is_described_briefly() -> None:
    """A list of huge ints where a number belongs gives a message of bounded size."""
    with pytest.raises(InitConfigError) as caught:
        parse_init_cfg(dict(type="Constant", val=[10**5000] * 1000, layer="Linear"))
    assert len(str(caught.value)) < 600


@pytest.mark.parametrize(
    "cfg",
    [
        {"type": "x" * 10_000_000},
        {"type": "Constant", "val": 1, "y" * 10_000_000: 1},
        {"type": "Kaiming", "mode": "z" * 10_000_000, "layer": "Linear"},
        {"type": "Constant", "val": "v" * 10_000_000, "layer": "Linear"},
        {"type": "Constant", "val": 1, "layer": ["Linear", 7 * 10**4999]},
    ],
    ids=["type", "key", "literal", "value", "huge int in a list"],
)
def test_huge_values_give_short_messages_quickly(cfg: dict[str, Any]) -> None:
    """A 10 MB type name, key or value gives a message of a few hundred characters, in bounded work.

    The bound is in function calls: one call per character (difflib, a per-character scan) would pass it by
    thousands of times.
    """
    message, _calls = within(50_000, _message, cfg)
    assert len(message) < 800


def _message(cfg: dict[str, Any]) -> str:
    with pytest.raises(InitConfigError) as caught:
        parse_init_cfg(cfg)
    return str(caught.value)


@pytest.mark.parametrize(
    "value", [10**5000, None, 3.5, ["Constant"]], ids=["huge int", "None", "float", "list"]
)
def test_a_type_that_is_not_a_str_is_named_without_unraisable_noise(value: object) -> None:
    """A non-str ``type``, top-level or in an override, is a located error, with nothing printed on stderr."""
    for cfg, loc in [
        ({"type": value}, ("type",)),
        ({"type": "Constant", "val": 1, "override": [{"name": "a", "type": value}]}, ("override", 0, "type")),
    ]:
        with pytest.raises(InitConfigError, match=r"expected the name of an initializer \(a str\)") as caught:
            parse_init_cfg(cfg)
        assert caught.value.problems[0].loc == loc
