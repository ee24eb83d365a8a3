"""``BaseInit``, the fields every weight initializer shares, and ``Override``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from initspec.configs._registry import INITIALIZERS, InitConfig, InitializerRegistry, Writer, type_name_of
from initspec.configs._root import MODEL_CONFIG, InitializerConfig, Number, bias_from_prob

__all__ = [
    "INITIALIZERS",
    "BaseInit",
    "InitConfig",
    "InitializerConfig",
    "InitializerRegistry",
    "Number",
    "Override",
    "Writer",
    "bias_from_prob",
    "type_name_of",
]


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

    model_config = MODEL_CONFIG
    name: str = Field(
        min_length=1,
        description="Attribute name of the submodule or parameter to re-initialize; dotted paths "
        "such as `neck.lateral_convs.0` and globs such as `blocks.*.attn.proj` (`*` one segment, `**` any "
        "depth) are allowed.",
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
