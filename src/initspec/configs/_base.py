"""Shared config machinery: the initializer registry, the root config classes and ``Override``."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Literal, TypeAlias, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Strict,
    TypeAdapter,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

__all__ = [
    "INITIALIZERS",
    "BaseInit",
    "InitConfig",
    "InitializerConfig",
    "InitializerRegistry",
    "Number",
    "Override",
    "bias_from_prob",
]

Number: TypeAlias = Annotated[float, Strict()]
"""A JSON number; strings such as ``"0"`` and booleans are rejected, as mmengine rejects ``bias='1'``."""

_MODEL_CONFIG: Final = ConfigDict(frozen=True, extra="forbid", validate_default=False)


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

    model_config = _MODEL_CONFIG
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
        items = [o.to_dict() for o in value if isinstance(o, Override)]
        return items[0] if len(items) == 1 else items
    return value


class InitializerRegistry:
    """Maps a ``type`` name to its config class and apply function; the union grows at run time.

    Used as ``Annotated`` metadata, it validates through a discriminated union of the classes registered
    *now*, so a type registered after this module was imported parses with no model rebuild.
    """

    def __init__(self) -> None:
        self._classes: dict[str, type[InitializerConfig]] = {}
        self._appliers: dict[str, Callable[..., None] | None] = {}
        self._version = 0
        self._adapter: TypeAdapter[Any] | None = None
        self._adapter_version = -1
        self._validate_one: Callable[[Any], Any] = _unbuilt
        self._validate_many: Callable[[Any], Any] = _unbuilt

    def add(self, cls: type[InitializerConfig], apply_fn: Callable[..., None] | None) -> None:
        """Register ``cls`` under its ``type`` literal; a name already taken is an error."""
        name = type_name_of(cls)
        if name in self._classes:
            owner = self._classes[name].__qualname__
            msg = f'initializer type "{name}" is already registered by {owner}; choose another type name'
            raise ValueError(msg)
        self._classes[name] = cls
        self._appliers[name] = apply_fn
        self._version += 1

    def remove(self, name: str) -> None:
        """Forget a registered type (for tests and plugin reloads)."""
        del self._classes[name]
        del self._appliers[name]
        self._version += 1

    @property
    def names(self) -> tuple[str, ...]:
        """The registered type names, in registration order."""
        return tuple(self._classes)

    def get(self, name: str) -> type[InitializerConfig] | None:
        """The config class registered as ``name``, or ``None``."""
        return self._classes.get(name)

    def applier(self, name: str) -> Callable[..., None] | None:
        """The apply function registered with ``name`` (``None`` for the built-in types)."""
        return self._appliers.get(name)

    @property
    def version(self) -> int:
        """Bumped on every registration, so derived caches know when to rebuild."""
        return self._version

    @property
    def union(self) -> Any:
        """The discriminated union of the registered classes, as a type expression."""
        members = tuple(self._classes.values())
        union: Any = members[0] if len(members) == 1 else _union_of(members)
        return Annotated[union, Field(discriminator="type")]

    @property
    def adapter(self) -> TypeAdapter[Any]:
        """A cached ``TypeAdapter`` over the current union."""
        self._refresh()
        assert self._adapter is not None  # set by _refresh
        return self._adapter

    def validate_many(self, items: list[object]) -> tuple[InitializerConfig, ...]:
        """Validate a list of configs straight through the current union (the ``parse_init_cfg`` hot path)."""
        if self._adapter_version != self._version:
            self._refresh()
        result: tuple[InitializerConfig, ...] = self._validate_many(items)
        return result

    def _refresh(self) -> None:
        """Rebuild the union adapters if the registry changed since they were built."""
        if self._adapter is not None and self._adapter_version == self._version:
            return
        self._adapter = TypeAdapter(self.union)
        many: TypeAdapter[Any] = TypeAdapter(tuple[self.union, ...])  # type: ignore[name-defined]
        self._validate_one = self._adapter.validator.validate_python
        self._validate_many = many.validator.validate_python
        self._adapter_version = self._version

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        classes = self._classes

        def dispatch(value: Any) -> Any:
            if (
                type(value) is not dict
                and isinstance(value, InitializerConfig)
                and type(value) in classes.values()
            ):
                return value
            if self._adapter_version != self._version:
                self._refresh()
            return self._validate_one(value)

        return core_schema.no_info_plain_validator_function(
            dispatch, serialization=core_schema.simple_ser_schema("any")
        )

    def __get_pydantic_json_schema__(self, cs: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(self.adapter.core_schema)


def _unbuilt(value: Any) -> Any:
    raise AssertionError("the registry's adapters are built before first use")  # pragma: no cover


def _union_of(members: tuple[type[InitializerConfig], ...]) -> Any:
    from typing import Union

    return Union[members]  # noqa: UP007 - built from a run-time tuple


def type_name_of(cls: type[InitializerConfig]) -> str:
    """The ``type`` literal of a config class; a class without a single-literal ``type`` is an error."""
    field = cls.model_fields.get("type")
    names = get_args(field.annotation) if field is not None else ()
    if len(names) != 1 or not isinstance(names[0], str):
        msg = f'{cls.__qualname__} must declare `type: Literal["Name"] = "Name"` to be registered'
        raise TypeError(msg)
    return names[0]


INITIALIZERS: Final = InitializerRegistry()
"""The process-wide registry behind ``InitConfig`` and ``parse_init_cfg``."""

InitConfig: TypeAlias = Annotated[InitializerConfig, INITIALIZERS]
"""Any registered initializer config, validated as a discriminated union on ``type``."""


def _to_layers(value: object) -> object:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


def _to_overrides(value: object) -> object:
    if type(value) is dict or isinstance(value, Mapping | Override):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


Layers: TypeAlias = Annotated[
    tuple[str, ...], BeforeValidator(_to_layers, json_schema_input_type=str | list[str])
]


class Override(BaseModel):
    """Re-initializes one named submodule (or parameter) after the main rule, whatever its layer type.

    In a config file it is flat: ``{"name": "cls", "type": "Normal", "std": 0.01}``. With only ``name`` it
    inherits the parent's type and arguments (minus ``layer``); with any other key it must carry ``type``.
    """

    model_config = _MODEL_CONFIG
    name: str = Field(
        min_length=1,
        description="Attribute name of the submodule or parameter to re-initialize; dotted paths "
        "such as `neck.lateral_convs.0` are allowed.",
    )
    init: InitConfig | None = Field(
        default=None, description="The initializer to apply; None inherits the parent's."
    )

    if TYPE_CHECKING:

        def __init__(self, *, name: str, init: InitializerConfig | None = None) -> None: ...

    @model_validator(mode="before")
    @classmethod
    def _split_flat_form(cls, data: Any) -> Any:
        if type(data) is not dict and isinstance(data, Override):
            return data
        if type(data) is not dict and not isinstance(data, Mapping):
            raise PydanticCustomError(
                "override_type",
                "an override must be a dict with a 'name', got {got}",
                {"got": type(data).__name__},
            )
        if "init" in data and _is_typed_form(data):
            _refuse_nested(data.get("init") is not None and "override" in data["init"].model_fields_set)
            return data
        if "name" not in data:
            raise PydanticCustomError(
                "override_name",
                "an override needs 'name', the submodule to re-initialize (got keys: {keys})",
                {"keys": ", ".join(map(str, data)) or "none"},
            )
        rest = {k: v for k, v in data.items() if k != "name"}
        if rest and "type" not in rest:
            raise PydanticCustomError(
                "override_type_missing",
                "'type' is required when an override sets arguments (got keys: {keys}); add a 'type' "
                "or keep only 'name' to inherit the parent's initializer",
                {"keys": ", ".join(map(str, rest))},
            )
        _refuse_nested("override" in rest)
        return {"name": data["name"], "init": rest or None}

    def resolve(self, parent: InitializerConfig) -> InitializerConfig:
        """The initializer this override applies: its own, or ``parent`` minus ``layer`` and ``override``."""
        if self.init is not None:
            return self.init
        drop: dict[str, Any] = {k: () for k in ("layer", "override") if k in type(parent).model_fields}
        return parent.model_copy(update=drop)

    def to_dict(self) -> dict[str, Any]:
        """The flat mmengine form: ``{"name": ..., "type": ..., **arguments}``."""
        return {"name": self.name, **(self.init.to_dict() if self.init is not None else {})}


def _refuse_nested(nested: bool) -> None:
    if nested:
        raise PydanticCustomError(
            "override_nested", "an override cannot carry its own 'override'; list it at the top level"
        )


def _is_typed_form(data: Mapping[Any, Any]) -> bool:
    init = data.get("init")
    return set(data) <= {"name", "init"} and (init is None or isinstance(init, InitializerConfig))


Overrides: TypeAlias = Annotated[
    tuple[Override, ...],
    BeforeValidator(_to_overrides, json_schema_input_type=dict[str, Any] | list[dict[str, Any]]),
]

OverrideInput: TypeAlias = Override | Mapping[str, Any] | Sequence[Override | Mapping[str, Any]]
LayerInput: TypeAlias = str | Sequence[str]
Mode: TypeAlias = Literal["fan_in", "fan_out"]
Distribution: TypeAlias = Literal["normal", "uniform"]
Nonlinearity: TypeAlias = Literal[
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
]


class BaseInit(InitializerConfig):
    """Fields shared by the weight initializers: which layers, the bias, and overrides.

    Subclass it (with a ``type`` literal) to register your own weight initializer.
    """

    layer: Layers = Field(
        default=(),
        description="Class names of the layers to initialize, matched against each module's class name "
        "and its direct base-class names, e.g. `Conv2d` or `_ConvNd`.",
    )
    bias: Number = Field(default=0, description="Constant written to each matched layer's bias.")
    bias_prob: Number | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Prior probability; sets the bias to -log((1-p)/p). Takes precedence over `bias`.",
    )
    override: Overrides = Field(
        default=(),
        description="Submodules to re-initialize after the main rule, by attribute name.",
    )

    @property
    def bias_value(self) -> float:
        """The bias actually written: from ``bias_prob`` when it is set, else ``bias``."""
        return bias_from_prob(self.bias_prob) if self.bias_prob is not None else self.bias
