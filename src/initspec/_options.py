"""Checks of the walker's keyword options, shared by ``initialize``, ``plan_init``, ``apply`` and ``init_weights``."""

from __future__ import annotations

import numbers
from typing import Final

from initspec._errors import InitArgumentError, short_repr

__all__ = ["SEED_RANGE", "check_seed"]

SEED_RANGE: Final = (-(2**63), 2**64 - 1)
"""The seeds ``torch.manual_seed`` accepts; initspec accepts the same ones."""


def check_seed(seed: object) -> int | None:
    """Return ``seed`` as an ``int`` (or ``None``), refusing floats, strings, booleans and out-of-range ints.

    Integral types such as ``numpy.int64`` are accepted and converted; ``True`` is refused although it is an
    ``int``, since it is almost always a mistake for ``seed=0``/``seed=1``.

    Raises:
        InitArgumentError: ``seed`` is not an int or ``None``, or lies outside ``SEED_RANGE``. It is a
            ``TypeError`` and a ``ValueError`` too.

    Example:
        >>> check_seed(7), check_seed(None)
        (7, None)
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        msg = (
            f"seed must be an int or None, got {type(seed).__name__} {short_repr(seed)}; "
            "pass a whole number such as seed=0"
        )
        raise InitArgumentError(msg)
    value = int(seed)
    low, high = SEED_RANGE
    if not low <= value <= high:
        msg = (
            f"seed must be between -2**63 and 2**64 - 1, as for torch.manual_seed, got {short_repr(value)}; "
            "pass a smaller int"
        )
        raise InitArgumentError(msg)
    return value
