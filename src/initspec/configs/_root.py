"""The root of every initializer config: a frozen pydantic model with a ``type`` and ``to_dict()``."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Final, TypeAlias

from pydantic import AllowInfNan, BaseModel, ConfigDict, Strict

from initspec._errors import InitArgumentError

__all__ = ["MODEL_CONFIG", "InitializerConfig", "Number", "bias_from_prob"]

Number: TypeAlias = Annotated[float, Strict(), AllowInfNan(False)]
"""A finite JSON number that fits a float.

Strings such as ``"0"`` and booleans are rejected, as mmengine rejects ``bias='1'``; so are nan, the
infinities and integers too large for a float (``10**400``), which no tensor can hold.
"""

MODEL_CONFIG: Final = ConfigDict(frozen=True, extra="forbid", validate_default=False, allow_inf_nan=False)
"""Shared by every config class, user ones too: plain ``float`` fields refuse nan and infinities as well."""


def bias_from_prob(prior_prob: float) -> float:
    """Return the bias whose sigmoid is ``prior_prob``: ``-log((1 - p) / p)``, as mmengine computes it.

    mmengine takes the log with ``numpy.log``, whose SIMD loops (AVX-512, for one) can differ from
    ``math.log`` in the last bit of a float64. So numpy's log is used whenever numpy is importable, which it
    always is beside mmengine, and the bias equals mmengine's in every dtype; without numpy, ``math.log``
    is used, which agrees with it once rounded to float32 (the dtype the bias almost always has).

    Raises:
        InitArgumentError: ``prior_prob`` is not strictly between 0 and 1 (it is a ``ValueError``).
    """
    if not 0.0 < prior_prob < 1.0:
        msg = (
            f"prior_prob must be strictly between 0 and 1 (got {prior_prob!r}); "
            "it is the probability the sigmoid output starts at, for example 0.01"
        )
        raise InitArgumentError(msg)
    return -_log()((1 - prior_prob) / prior_prob)


@functools.cache
def _log() -> Callable[[float], float]:
    """numpy's ``log`` as a float function when numpy is installed (imported on first use), else ``math.log``."""
    try:
        import numpy
    except ImportError:
        return math.log
    log = numpy.log
    return lambda x: float(log(x))


class InitializerConfig(BaseModel):
    """Root of every initializer config: a frozen model with a ``type`` discriminator."""

    model_config = MODEL_CONFIG
    type: str

    fixed_arguments: ClassVar[str] = ""
    """Why this type rejects arguments its relatives take (used in error messages)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the plain mmengine ``init_cfg`` dict, with defaults omitted.

        Example:
            >>> from initspec import KaimingInit
            >>> KaimingInit(layer="Conv2d", mode="fan_in").to_dict()
            {'type': 'Kaiming', 'layer': 'Conv2d', 'mode': 'fan_in'}
        """
        out: dict[str, Any] = {"type": self.type}
        fields = type(self).model_fields
        for name in _dump_order(type(self)):
            value = getattr(self, name)
            if value != fields[name].default:
                out[name] = _plain(name, value)
        return out


_SHARED_LAST = ("bias", "bias_prob", "override")
_ORDERS: dict[type, tuple[str, ...]] = {}


def _dump_order(cls: type[InitializerConfig]) -> tuple[str, ...]:
    """Keys in the order people write them: ``layer``, the type's own arguments, then bias and overrides."""
    order = _ORDERS.get(cls)
    if order is None:
        names = [n for n in cls.model_fields if n != "type"]
        first = [n for n in names if n == "layer"]
        last = [n for n in _SHARED_LAST if n in names]
        order = _ORDERS[cls] = (*first, *(n for n in names if n not in first and n not in last), *last)
    return order


def _plain(name: str, value: object) -> object:
    if name == "layer" and isinstance(value, tuple):
        return value[0] if len(value) == 1 else list(value)
    if name == "override" and isinstance(value, tuple):
        items = [o.to_dict() for o in value]
        return items[0] if len(items) == 1 else items
    if name == "revise_keys":
        return [list(pair) for pair in value]  # type: ignore[attr-defined]
    return value
