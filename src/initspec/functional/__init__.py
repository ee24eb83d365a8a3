"""Tensor- and module-level initializers that reproduce mmengine's random draws bit for bit.

The tensor-level primitives (``constant_``, ``normal_``, ``uniform_``, ``trunc_normal_``, ``xavier_``,
``kaiming_``) fill one tensor in place. They consume the random stream exactly as mmengine 0.10.7 does, so
under the same seed they give the same bits, and they accept an explicit ``generator`` so that a caller can
draw without touching the global RNG. Tensors on the ``meta`` device are left untouched.

The module-level helpers (``constant_init``, ``xavier_init``, ...) keep mmengine's names, argument order and
defaults: they fill ``module.weight`` first and then set ``module.bias`` to a constant, skipping either when
it is missing or ``None``.

A bad argument (an unknown ``distribution`` or ``mode``, a weight with fewer than 2 dimensions, a
``prior_prob`` outside (0, 1)) raises ``InitArgumentError``, which is a ``ValueError``, as torch raises, and an
``AssertionError``, as mmengine's helpers raise, so ``except`` clauses written for either keep working.
"""

from initspec._maths import fan_in_and_fan_out
from initspec.configs import Distribution, Mode, Nonlinearity
from initspec.functional._module import (
    bias_init_with_prob,
    caffe2_xavier_init,
    constant_init,
    kaiming_init,
    normal_init,
    trunc_normal_init,
    uniform_init,
    xavier_init,
)
from initspec.functional._tensor import (
    constant_,
    dirac_,
    eye_,
    kaiming_,
    lecun_normal_,
    normal_,
    orthogonal_,
    sparse_,
    trunc_normal_,
    uniform_,
    variance_scaling_,
    xavier_,
)

__all__ = [
    "Distribution",
    "Mode",
    "Nonlinearity",
    "bias_init_with_prob",
    "caffe2_xavier_init",
    "constant_",
    "constant_init",
    "dirac_",
    "eye_",
    "fan_in_and_fan_out",
    "kaiming_",
    "kaiming_init",
    "lecun_normal_",
    "normal_",
    "normal_init",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
    "trunc_normal_init",
    "uniform_",
    "uniform_init",
    "variance_scaling_",
    "xavier_",
    "xavier_init",
]
