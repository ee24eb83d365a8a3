"""The root of every initializer config: a frozen pydantic model with a ``type`` and ``to_dict()``."""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Final, TypeAlias

from pydantic import BaseModel, ConfigDict, Strict

__all__ = ["MODEL_CONFIG", "InitializerConfig", "Number", "bias_from_prob"]

Number: TypeAlias = Annotated[float, Strict()]
"""A JSON number; strings such as ``"0"`` and booleans are rejected, as mmengine rejects ``bias='1'``."""

MODEL_CONFIG: Final = ConfigDict(frozen=True, extra="forbid", validate_default=False)


def bias_from_prob(prior_prob: float) -> float:
    """Return the bias whose sigmoid is ``prior_prob``: ``-log((1 - p) / p)``, as mmengine computes it."""
    if not 0.0 < prior_prob < 1.0:
        msg = (
            f"prior_prob must be strictly between 0 and 1 (got {prior_prob!r}); "
            "it is the probability the sigmoid output starts at, for example 0.01"
        )
        raise ValueError(msg)
    return -math.log((1 - prior_prob) / prior_prob)


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
    return value
