"""The tests behind a verdict: a z-test on the mean and a chi-square test on the variance of iid draws.

A tensor drawn iid from a distribution of mean ``mu``, std ``sigma`` and kurtosis ``kappa`` has a sample mean
with std ``sigma / sqrt(n)`` (a z-test, exact for normal draws) and a sample variance ``s^2`` whose variance is
``sigma^4 (2 / (n - 1) + (kappa - 3) / n)``. ``s^2 / sigma^2`` is read as ``chi2(d) / d`` with ``d`` matched to
that variance (Satterthwaite), which is exact for normal draws (``d = n - 1``) and tighter for the lighter
tails of uniform and truncated draws. Both are two-sided; each is run at level ``alpha / (2 T)`` for ``T``
tensors (Bonferroni), so a whole model fails by chance with probability at most ``alpha``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["Moments", "Spread", "mean_p_value", "truncated_normal", "variance_p_value"]


@dataclass(frozen=True)
class Spread:
    """IID draws: their mean, std and kurtosis, and the interval every element lies in (if bounded)."""

    label: str
    mean: float
    std: float
    kurtosis: float = 3.0
    low: float | None = None
    high: float | None = None

    @staticmethod
    def normal(mean: float, std: float, label: str = "") -> Spread:
        """N(mean, std^2)."""
        return Spread(label or f"N({mean:g}, {std:.4g}²)", mean, std)

    @staticmethod
    def uniform(low: float, high: float) -> Spread:
        """U(low, high): std ``(high - low) / sqrt(12)``, kurtosis 9/5."""
        return Spread(
            f"U({low:.4g}, {high:.4g})", (low + high) / 2, (high - low) / math.sqrt(12), 1.8, low, high
        )

    @staticmethod
    def truncated(mean: float, std: float, low: float, high: float) -> Spread:
        """N(mean, std^2) truncated to [low, high], with the moments of the truncated distribution."""
        m = truncated_normal((low - mean) / std, (high - mean) / std)
        label = f"TN({mean:g}, {std:.4g}²; [{low:.4g}, {high:.4g}])"
        return Spread(label, mean + std * m.mean, std * m.std, m.kurtosis, low, high)


@dataclass(frozen=True)
class Moments:
    """Mean, std and kurtosis of a standard normal truncated to ``[alpha, beta]``."""

    mean: float
    std: float
    kurtosis: float


def truncated_normal(alpha: float, beta: float) -> Moments:
    """The moments of N(0, 1) truncated to ``[alpha, beta]``, from the recursion on its raw moments.

    ``E[Z^k] = (k - 1) E[Z^(k-2)] + (alpha^(k-1) phi(alpha) - beta^(k-1) phi(beta)) / Z``, with ``Z`` the mass
    kept; a bound at infinity contributes nothing.
    """
    mass = 0.5 * (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2)))
    raw = [1.0, _edge(alpha, beta, 0) / mass]
    for k in range(2, 5):
        raw.append((k - 1) * raw[k - 2] + _edge(alpha, beta, k - 1) / mass)
    mu = raw[1]
    var = raw[2] - mu**2
    m4 = raw[4] - 4 * mu * raw[3] + 6 * mu**2 * raw[2] - 3 * mu**4
    return Moments(mu, math.sqrt(var), m4 / var**2)


def _edge(alpha: float, beta: float, power: int) -> float:
    return _term(alpha, power) - _term(beta, power)


def _term(x: float, power: int) -> float:
    if math.isinf(x):
        return 0.0
    return x**power * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def mean_p_value(n: int, mean: float, spread: Spread) -> float:
    """Two-sided p-value of the sample mean of ``n`` draws, with the promised std known."""
    z = (mean - spread.mean) / (spread.std / math.sqrt(n))
    return math.erfc(abs(z) / math.sqrt(2))


def variance_p_value(n: int, variance: float, spread: Spread) -> float:
    """Two-sided p-value of the sample variance ``variance`` (divided by ``n - 1``) of ``n >= 2`` draws."""
    excess = max(2 / (n - 1) + (spread.kurtosis - 3) / n, 1e-300)
    dof = 2 / excess
    x = torch.tensor(dof * variance / spread.std**2, dtype=torch.float64)
    half = torch.tensor(dof / 2, dtype=torch.float64)
    lower = float(torch.special.gammainc(half, x / 2))
    upper = float(torch.special.gammaincc(half, x / 2))
    return min(1.0, 2 * min(lower, upper))
