"""A bounded hypothesis fuzz of parse_init_cfg: any value gives configs or a located InitConfigError."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initspec import InitConfigError, parse_init_cfg
from initspec.configs import INITIALIZERS

FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,  # the same cases on every run, so CI never flakes
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
KEYS = sorted(
    {"type", "name", "init"} | {f for n in INITIALIZERS.names for f in INITIALIZERS.get(n).model_fields}  # type: ignore[union-attr]
)


def _huge(exponent_and_sign: tuple[int, int]) -> int:
    exponent, sign = exponent_and_sign
    return sign * 10**exponent


# Ints past float range and past Python's 4,300-digit str() limit (built by map: hypothesis reprs constants).
HUGE_INTS = st.tuples(st.sampled_from([19, 309, 400, 5000]), st.sampled_from([1, -1])).map(_huge)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    HUGE_INTS,
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(INITIALIZERS.names),
    st.sampled_from(["fan_in", "fan_out", "normal", "uniform", "relu", "Conv2d", "x" * 5000]),
    st.binary(max_size=10),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=10), st.integers(), HUGE_INTS)
    return st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(keys, children, max_size=5),
    )


values = st.recursive(scalars, _containers, max_leaves=25)


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    """Dicts close to real configs: a real type, real keys, and random values (overrides nest them)."""
    cfg: dict[str, Any] = {"type": draw(st.sampled_from([*INITIALIZERS.names, "Kaimng", ""]))}
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=6)):
        cfg[key] = draw(values)
    if draw(st.booleans()):
        cfg["override"] = draw(
            st.lists(st.fixed_dictionaries({"name": values}, optional={"type": values}), max_size=2)
        )
    return cfg


def _check(obj: object) -> None:
    try:
        parsed = parse_init_cfg(obj)
    except InitConfigError as err:
        assert err.problems, "an InitConfigError always lists its problems"
        for problem in err.problems:
            assert isinstance(problem.loc, tuple)
            assert len(problem.render()) < 1500, "every problem is short, whatever the value"
        return
    assert parse_init_cfg([c.to_dict() for c in parsed]) == parsed, "to_dict round-trips"


@FUZZ
@given(values)
def test_random_values_parse_or_raise_located_errors(obj: object) -> None:
    """Random nested values never crash: they parse, or raise InitConfigError with located, short problems."""
    _check(obj)


@FUZZ
@given(st.one_of(configs(), st.lists(configs(), max_size=3)))
def test_config_like_dicts_parse_or_raise_located_errors(obj: object) -> None:
    """Dicts with real types and keys but random values never crash, and what parses round-trips."""
    _check(obj)
