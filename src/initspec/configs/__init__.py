"""The data half of initspec: pydantic config models. Importing it never imports torch."""

from initspec.configs._base import (
    INITIALIZERS,
    BaseInit,
    Distribution,
    InitConfig,
    InitializerConfig,
    Mode,
    Nonlinearity,
    Number,
    Override,
    Writer,
    bias_from_prob,
)
from initspec.configs.builtin import (
    BUILTIN_TYPES,
    Caffe2XavierInit,
    ConstantInit,
    KaimingInit,
    NormalInit,
    PretrainedInit,
    TruncNormalInit,
    UniformInit,
    XavierInit,
)
from initspec.configs.extended import (
    EXTENDED_TYPES,
    DiracInit,
    EyeInit,
    LecunNormalInit,
    OrthogonalInit,
    ScalingDistribution,
    ScalingMode,
    SparseInit,
    VarianceScalingInit,
)

for _cls in (*BUILTIN_TYPES, *EXTENDED_TYPES):
    INITIALIZERS.add(_cls, None)  # the torch half attaches their writers (initspec._walker.writers)

__all__ = [
    "INITIALIZERS",
    "BaseInit",
    "Caffe2XavierInit",
    "ConstantInit",
    "DiracInit",
    "Distribution",
    "EyeInit",
    "InitConfig",
    "InitializerConfig",
    "KaimingInit",
    "LecunNormalInit",
    "Mode",
    "Nonlinearity",
    "NormalInit",
    "Number",
    "OrthogonalInit",
    "Override",
    "PretrainedInit",
    "ScalingDistribution",
    "ScalingMode",
    "SparseInit",
    "TruncNormalInit",
    "UniformInit",
    "VarianceScalingInit",
    "Writer",
    "XavierInit",
    "bias_from_prob",
]
