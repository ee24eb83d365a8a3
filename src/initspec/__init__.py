"""initspec: typed, validated, config-driven weight initialization for PyTorch.

The config half (models, parsing, the JSON Schema) never imports torch; the walker, ``BaseModule`` and
checkpoint loading are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from initspec._errors import (
    CheckpointError,
    Fix,
    InitArgumentError,
    InitConfigError,
    InitPlanError,
    InitSpecError,
    InitWarning,
    Problem,
)
from initspec.configs import (
    BaseInit,
    Caffe2XavierInit,
    ConstantInit,
    DiracInit,
    EyeInit,
    InitConfig,
    InitializerConfig,
    KaimingInit,
    LecunNormalInit,
    NormalInit,
    Number,
    OrthogonalInit,
    Override,
    PretrainedInit,
    SparseInit,
    TruncNormalInit,
    UniformInit,
    VarianceScalingInit,
    XavierInit,
)
from initspec.registry import lint_init_cfg, parse_init_cfg, register_initializer, registered_types
from initspec.schema import init_cfg_json_schema

if TYPE_CHECKING:
    from initspec._walker.steps import CallStep, Source, Step
    from initspec.checkpoint import load_checkpoint
    from initspec.modules import BaseModule, ModuleDict, ModuleList, Sequential
    from initspec.plan import InitOptions, InitPlan, InitReport, init_options, initialize, plan_init
    from initspec.verify import InitCheck, TensorCheck

__version__ = "0.1.0"

_LAZY = {
    "BaseModule": "initspec.modules",
    "CallStep": "initspec._walker.steps",
    "InitCheck": "initspec.verify",
    "InitOptions": "initspec.plan",
    "InitPlan": "initspec.plan",
    "InitReport": "initspec.plan",
    "ModuleDict": "initspec.modules",
    "ModuleList": "initspec.modules",
    "Sequential": "initspec.modules",
    "Source": "initspec._walker.steps",
    "Step": "initspec._walker.steps",
    "TensorCheck": "initspec.verify",
    "init_options": "initspec.plan",
    "initialize": "initspec.plan",
    "load_checkpoint": "initspec.checkpoint",
    "plan_init": "initspec.plan",
}


_NEEDS_TORCH = (
    'initspec.{name} needs PyTorch, which is not installed; install it with `pip install "initspec[torch]"` '
    "(initspec validate and initspec schema work without it)"
)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'initspec' has no attribute {name!r}"
        raise AttributeError(msg)
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as err:
        if err.name != "torch":
            raise
        raise ImportError(_NEEDS_TORCH.format(name=name), name="torch") from err


__all__ = [
    "BaseInit",
    "BaseModule",
    "Caffe2XavierInit",
    "CallStep",
    "CheckpointError",
    "ConstantInit",
    "DiracInit",
    "EyeInit",
    "Fix",
    "InitArgumentError",
    "InitCheck",
    "InitConfig",
    "InitConfigError",
    "InitOptions",
    "InitPlan",
    "InitPlanError",
    "InitReport",
    "InitSpecError",
    "InitWarning",
    "InitializerConfig",
    "KaimingInit",
    "LecunNormalInit",
    "ModuleDict",
    "ModuleList",
    "NormalInit",
    "Number",
    "OrthogonalInit",
    "Override",
    "PretrainedInit",
    "Problem",
    "Sequential",
    "Source",
    "SparseInit",
    "Step",
    "TensorCheck",
    "TruncNormalInit",
    "UniformInit",
    "VarianceScalingInit",
    "XavierInit",
    "__version__",
    "init_cfg_json_schema",
    "init_options",
    "initialize",
    "lint_init_cfg",
    "load_checkpoint",
    "parse_init_cfg",
    "plan_init",
    "register_initializer",
    "registered_types",
]
