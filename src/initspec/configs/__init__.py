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

for _cls in BUILTIN_TYPES:
    INITIALIZERS.add(_cls, None)

__all__ = [
    "INITIALIZERS",
    "BaseInit",
    "Caffe2XavierInit",
    "ConstantInit",
    "Distribution",
    "InitConfig",
    "InitializerConfig",
    "KaimingInit",
    "Mode",
    "Nonlinearity",
    "NormalInit",
    "Number",
    "Override",
    "PretrainedInit",
    "TruncNormalInit",
    "UniformInit",
    "XavierInit",
    "bias_from_prob",
]
