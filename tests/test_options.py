"""Tests for initspec._options.check_seed: the one check of the walker's ``seed`` option."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from initspec._errors import InitArgumentError, InitSpecError
from initspec._options import SEED_RANGE, check_seed


@pytest.mark.parametrize("seed", [0, 7, -1, 2**64 - 1, -(2**63), np.int64(5), np.uint8(3)])
def test_whole_numbers_are_seeds(seed: Any) -> None:
    """Ints in torch.manual_seed's range, numpy integers included, come back as plain ints."""
    value = check_seed(seed)
    assert type(value) is int
    assert value == int(seed)


def test_none_means_unseeded() -> None:
    """None passes through: the global RNG is used."""
    assert check_seed(None) is None


@pytest.mark.parametrize("seed", [1.5, 7.0, "7", True, False, np.float32(1), [1], np.bool_(True)])
def test_non_ints_are_refused(seed: Any) -> None:
    """Floats, strings, booleans and containers are refused, naming the type and the value."""
    with pytest.raises(InitArgumentError, match=rf"seed must be an int or None, got {type(seed).__name__} "):
        check_seed(seed)


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1, 10**5000], ids=["2**64", "-2**63-1", "10**5000"])
def test_out_of_range_ints_are_refused_briefly(seed: int) -> None:
    """Ints torch.manual_seed would refuse are refused too, with a short message even for 10**5000."""
    with pytest.raises(InitArgumentError, match="seed must be between") as caught:
        check_seed(seed)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("caught", [TypeError, ValueError, InitSpecError])
def test_a_bad_seed_is_a_type_error_and_a_value_error(caught: type[Exception]) -> None:
    """The error is catchable as TypeError, ValueError and InitSpecError."""
    with pytest.raises(caught):
        check_seed("7")


def test_seed_range_is_torch_manual_seed_range() -> None:
    """SEED_RANGE's ends are accepted by torch.Generator.manual_seed."""
    import torch

    for end in SEED_RANGE:
        torch.Generator().manual_seed(end)
