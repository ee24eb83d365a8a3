"""Tests for initspec._errors: the exception tree and the helpers every message uses."""

from __future__ import annotations

import pytest

from initspec._errors import (
    VALUE_LIMIT,
    InitArgumentError,
    InitSpecError,
    Problem,
    did_you_mean,
    format_loc,
    short_repr,
)
from workbound import within


@pytest.mark.parametrize(
    "value",
    [10**5000, -(10**5000), "x" * 10_000_000, b"y" * 10_000_000, [10**5000] * 10_000, {"k": "v" * 10**6}],
    ids=["int", "negative int", "str", "bytes", "list", "dict"],
)
def test_short_repr_is_short_and_never_fails(value: object) -> None:
    """Huge ints (past Python's 4,300-digit limit), strings and containers are quoted in ~200 characters."""
    assert len(short_repr(value)) <= VALUE_LIMIT + 5


def test_short_repr_keeps_small_values_exact() -> None:
    """Small values are quoted exactly as repr quotes them."""
    assert [short_repr(v) for v in (1, 1.5, "a", None, [1, 2])] == ["1", "1.5", "'a'", "None", "[1, 2]"]


def test_short_repr_survives_a_failing_repr() -> None:
    """An object whose __repr__ raises is named by its type."""

    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert short_repr(Hostile()).startswith("<Hostile instance at ")


def test_format_loc_truncates_long_keys_and_huge_indices() -> None:
    """A 10 MB key or a huge int in a location renders briefly."""
    text = format_loc(("k" * 10_000_000, 10**5000, 0))
    assert len(text) < 2 * VALUE_LIMIT + 50
    assert text.endswith("[0]")
    assert Problem(("override", 1, "std"), "bad").render() == "init_cfg.override[1].std: bad"


def test_did_you_mean_skips_hopelessly_long_words_without_difflib() -> None:
    """A 10 MB word gets no suggestion, in a few calls: difflib's quadratic work is never entered."""
    hint, calls = within(100, did_you_mean, "Kaiming" + "x" * 10_000_000, ["Kaiming", "Xavier"])
    assert hint == ""
    hint, calls = within(10_000, did_you_mean, "Kaimng", ["Kaiming", "Xavier"])
    assert hint == "; did you mean 'Kaiming'?"
    assert calls > 100  # the control: a word of normal length goes through difflib, over the first bound


def test_init_argument_error_is_every_builtin_kind_a_caller_may_catch() -> None:
    """InitArgumentError is an InitSpecError, TypeError, ValueError and AssertionError."""
    assert issubclass(InitArgumentError, InitSpecError | TypeError)
    for base in (InitSpecError, TypeError, ValueError, AssertionError):
        assert issubclass(InitArgumentError, base)
