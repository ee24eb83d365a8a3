"""Six initializers beyond OpenMMLab's, with torch.nn.init's or Keras 3's semantics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias

from pydantic import Field, Strict

from initspec.configs._base import BaseInit, LayerInput, Number, OverrideInput

__all__ = [
    "EXTENDED_TYPES",
    "DiracInit",
    "EyeInit",
    "LecunNormalInit",
    "OrthogonalInit",
    "ScalingDistribution",
    "ScalingMode",
    "SparseInit",
    "VarianceScalingInit",
]

_TYPE = "The initializer's registered name; it decides which other keys are allowed."

ScalingMode: TypeAlias = Literal["fan_in", "fan_out", "fan_avg"]
ScalingDistribution: TypeAlias = Literal["truncated_normal", "untruncated_normal", "uniform"]


class OrthogonalInit(BaseInit):
    """A (semi-)orthogonal weight, as `torch.nn.init.orthogonal_`; weights of at least 2 dimensions."""

    type: Literal["Orthogonal"] = Field("Orthogonal", description=_TYPE)
    gain: Number = Field(default=1, description="Scaling factor of the orthogonal matrix.")

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            gain: float = ...,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["Orthogonal"] = ...,
        ) -> None: ...


class DiracInit(BaseInit):
    """The Dirac delta, as `torch.nn.init.dirac_`: a convolution that preserves its input; 3-5-D weights."""

    type: Literal["Dirac"] = Field("Dirac", description=_TYPE)
    groups: Annotated[int, Strict()] = Field(
        default=1, ge=1, le=2**31 - 1, description="Number of groups; the output channels must divide by it."
    )

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            groups: int = ...,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["Dirac"] = ...,
        ) -> None: ...


class EyeInit(BaseInit):
    """The identity matrix, as `torch.nn.init.eye_`; 2-D weights."""

    type: Literal["Eye"] = Field("Eye", description=_TYPE)

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["Eye"] = ...,
        ) -> None: ...


class SparseInit(BaseInit):
    """A sparse weight, as `torch.nn.init.sparse_`: N(0, std^2) with a fraction of each column zeroed; 2-D."""

    type: Literal["Sparse"] = Field("Sparse", description=_TYPE)
    sparsity: Number = Field(ge=0, lt=1, description="Fraction of the elements of each column set to zero.")
    std: Number = Field(default=0.01, ge=0, description="Standard deviation of the non-zero values.")

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            sparsity: float,
            std: float = ...,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["Sparse"] = ...,
        ) -> None: ...


class VarianceScalingInit(BaseInit):
    """Keras 3 / Flax variance scaling: variance `scale / fan`, truncated at 2 std with the std corrected."""

    type: Literal["VarianceScaling"] = Field("VarianceScaling", description=_TYPE)
    scale: Number = Field(default=1, gt=0, description="Target variance times the fan.")
    mode: ScalingMode = Field(
        default="fan_in", description="The fan the variance is divided by: `fan_in`, `fan_out` or their mean."
    )
    distribution: ScalingDistribution = Field(
        default="truncated_normal",
        description="`truncated_normal` (cut at 2 std, std corrected by 0.8796), `untruncated_normal` "
        "or `uniform` (limit sqrt(3 * variance)).",
    )

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            scale: float = ...,
            mode: ScalingMode = ...,
            distribution: ScalingDistribution = ...,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["VarianceScaling"] = ...,
        ) -> None: ...


class LecunNormalInit(BaseInit):
    """LeCun normal, as in Keras and Flax: VarianceScaling(scale=1, mode='fan_in', 'truncated_normal')."""

    type: Literal["LecunNormal"] = Field("LecunNormal", description=_TYPE)

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            layer: LayerInput = ...,
            bias: float = ...,
            bias_prob: float | None = ...,
            override: OverrideInput = ...,
            type: Literal["LecunNormal"] = ...,
        ) -> None: ...


EXTENDED_TYPES: tuple[type[BaseInit], ...] = (
    OrthogonalInit,
    DiracInit,
    EyeInit,
    SparseInit,
    VarianceScalingInit,
    LecunNormalInit,
)
