"""The eight OpenMMLab initializers as frozen pydantic models, with mmengine's names and defaults."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, TypeAlias

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from initspec._errors import short_repr
from initspec.configs._base import (
    BaseInit,
    Distribution,
    InitializerConfig,
    LayerInput,
    Mode,
    Nonlinearity,
    Number,
    OverrideInput,
    Overrides,
)

__all__ = [
    "BUILTIN_TYPES",
    "Caffe2XavierInit",
    "ConstantInit",
    "KaimingInit",
    "NormalInit",
    "PretrainedInit",
    "TruncNormalInit",
    "UniformInit",
    "XavierInit",
]

_TYPE = "The initializer's registered name; it decides which other keys are allowed."
_STD = "Standard deviation of the normal distribution."
_DISTRIBUTION = "Draw from a `normal` or a `uniform` distribution."


class ConstantInit(BaseInit):
    """Fill the weight with `val` and the bias with a constant."""

    type: Literal["Constant"] = Field("Constant", description=_TYPE)
    val: Number = Field(description="The value written to every element of the weight.")

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            val: float,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["Constant"] = ...,
        ) -> None: ...


class XavierInit(BaseInit):
    """Xavier (Glorot) initialization of the weight: std = gain * sqrt(2 / (fan_in + fan_out))."""

    type: Literal["Xavier"] = Field("Xavier", description=_TYPE)
    gain: Number = Field(default=1, description="Scaling factor applied to the standard deviation.")
    distribution: Distribution = Field(default="normal", description=_DISTRIBUTION)

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            gain: float = ...,
            distribution: Distribution = ...,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["Xavier"] = ...,
        ) -> None: ...


class NormalInit(BaseInit):
    """Draw the weight from N(mean, std^2)."""

    type: Literal["Normal"] = Field("Normal", description=_TYPE)
    mean: Number = Field(default=0, description="Mean of the normal distribution.")
    std: Number = Field(default=1, ge=0, description=_STD)

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            mean: float = ...,
            std: float = ...,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["Normal"] = ...,
        ) -> None: ...


class TruncNormalInit(BaseInit):
    """Draw the weight from N(mean, std^2) truncated to the absolute interval [a, b]."""

    type: Literal["TruncNormal"] = Field("TruncNormal", description=_TYPE)
    mean: Number = Field(default=0, description="Mean of the underlying normal distribution.")
    std: Number = Field(default=1, gt=0, description=_STD)
    a: Number = Field(default=-2, description="Lower cutoff, an absolute value (not a multiple of std).")
    b: Number = Field(default=2, description="Upper cutoff, an absolute value (not a multiple of std).")

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            mean: float = ...,
            std: float = ...,
            a: float = ...,
            b: float = ...,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["TruncNormal"] = ...,
        ) -> None: ...

    @model_validator(mode="after")
    def _check_bounds(self) -> TruncNormalInit:
        if not self.a < self.b:
            raise PydanticCustomError(
                "bounds_order", "expected a < b for TruncNormal, got a={a}, b={b}", {"a": self.a, "b": self.b}
            )
        return self


class UniformInit(BaseInit):
    """Draw the weight from the uniform distribution U(a, b)."""

    type: Literal["Uniform"] = Field("Uniform", description=_TYPE)
    a: Number = Field(default=0, description="Lower bound of the uniform distribution.")
    b: Number = Field(default=1, description="Upper bound of the uniform distribution.")

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            a: float = ...,
            b: float = ...,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["Uniform"] = ...,
        ) -> None: ...

    @model_validator(mode="after")
    def _check_bounds(self) -> UniformInit:
        if not self.a <= self.b:
            raise PydanticCustomError(
                "bounds_order", "expected a <= b for Uniform, got a={a}, b={b}", {"a": self.a, "b": self.b}
            )
        return self


class KaimingInit(BaseInit):
    """Kaiming (He) initialization of the weight. Note mmengine's default `mode` is `fan_out`."""

    type: Literal["Kaiming"] = Field("Kaiming", description=_TYPE)
    a: Number = Field(default=0, description="Negative slope of the rectifier (used with `leaky_relu`).")
    mode: Mode = Field(
        default="fan_out",
        description="`fan_in` preserves the variance of the forward pass, `fan_out` that of the backward pass.",
    )
    nonlinearity: Nonlinearity = Field(
        default="relu", description="The non-linear function the gain is computed for."
    )
    distribution: Distribution = Field(default="normal", description=_DISTRIBUTION)

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            a: float = ...,
            mode: Mode = ...,
            nonlinearity: Nonlinearity = ...,
            distribution: Distribution = ...,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["Kaiming"] = ...,
        ) -> None: ...


class Caffe2XavierInit(BaseInit):
    """Caffe2's Xavier: Kaiming uniform with a=1, mode=fan_in, nonlinearity=leaky_relu."""

    type: Literal["Caffe2Xavier"] = Field("Caffe2Xavier", description=_TYPE)
    fixed_arguments: ClassVar[str] = (
        "Caffe2Xavier fixes a=1, mode='fan_in', nonlinearity='leaky_relu' and distribution='uniform'; "
        "use type='Kaiming' to choose them"
    )

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["Caffe2Xavier"] = ...,
        ) -> None: ...


def _compile_pattern(pair: tuple[str, str]) -> tuple[str, str]:
    try:
        pattern = re.compile(pair[0])
    except re.error as err:
        raise PydanticCustomError(
            "revise_keys_pattern",
            "revise_keys pattern '{pattern}' is not a valid regular expression: {error}",
            {"pattern": pair[0], "error": str(err)},
        ) from err
    try:
        pattern.sub(pair[1], "")  # parses the replacement's group references
    except (re.error, IndexError) as err:
        raise PydanticCustomError(
            "revise_keys_replacement",
            "revise_keys replacement '{replacement}' does not fit pattern '{pattern}': {error}",
            {"replacement": pair[1], "pattern": pair[0], "error": str(err)},
        ) from err
    return pair


def _is_pair(value: object) -> object:
    if isinstance(value, list | tuple) and len(value) == 2:
        return value
    raise PydanticCustomError(
        "revise_keys_pair",
        "expected a [pattern, replacement] pair of strings, got {got}",
        {"got": short_repr(value)},
    )


def _is_pair_list(value: object) -> object:
    if isinstance(value, list | tuple):
        return value
    raise PydanticCustomError(
        "revise_keys_list",
        "expected a list of [pattern, replacement] pairs such as [['^backbone\\.', '']], got {got}",
        {"got": short_repr(value)},
    )


RevisePair: TypeAlias = Annotated[
    tuple[StrictStr, StrictStr], BeforeValidator(_is_pair), AfterValidator(_compile_pattern)
]


class PretrainedInit(InitializerConfig):
    """Load weights from a checkpoint into the module the config belongs to."""

    type: Literal["Pretrained"] = Field("Pretrained", description=_TYPE)
    fixed_arguments: ClassVar[str] = (
        "Pretrained loads into the whole module and takes no 'layer', 'bias' or 'bias_prob'"
    )
    checkpoint: str = Field(
        description="Path or URL of the checkpoint: a local path, file://, http(s)://, torchvision://NAME, "
        "open-mmlab://NAME or mmcls://NAME. '' is a placeholder to set before init_weights: it validates (initspec "
        "validate warns, IS205) and applying it raises CheckpointError before any write.",
    )
    prefix: str | None = Field(
        default=None,
        min_length=1,
        description="Load only the keys under this prefix (a trailing dot is added), with the prefix removed.",
    )
    revise_keys: Annotated[tuple[RevisePair, ...], BeforeValidator(_is_pair_list)] = Field(
        default=(),
        description="Regex [pattern, replacement] pairs applied in order to every checkpoint key after "
        "prefix handling, as re.sub(pattern, replacement, key), like mmengine's load_checkpoint.",
    )
    map_location: str | None = Field(
        default="cpu", description="Device the checkpoint tensors are loaded to."
    )
    strict: Annotated[bool, Strict()] = Field(
        default=False,
        description="Raise, before any write, when keys are missing, unexpected or of another shape.",
    )
    override: Overrides = Field(
        default=(),
        description="Submodules to re-initialize after loading, by attribute name.",
    )

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            checkpoint: str,
            prefix: str | None = ...,
            revise_keys: Sequence[tuple[str, str] | Sequence[str]] = ...,
            map_location: str | None = ...,
            strict: bool = ...,
            override: OverrideInput = ...,
            type: Literal["Pretrained"] = ...,
        ) -> None: ...


BUILTIN_TYPES: tuple[type[InitializerConfig], ...] = (
    ConstantInit,
    XavierInit,
    NormalInit,
    TruncNormalInit,
    UniformInit,
    KaimingInit,
    Caffe2XavierInit,
    PretrainedInit,
)
