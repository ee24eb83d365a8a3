"""``InitReport.verify``: each tensor's values checked against what the initializer that wrote it promises.

The promise comes from the report (the last writer and its arguments), the values from the model. Random
draws are tested on their mean and std at level ``alpha`` for the whole model (see ``initspec._verify.stats``),
exact fills and structures are compared exactly, and Pretrained tensors are compared with the checkpoint
read again. Every tensor is checked for NaN and inf; tensors nobody wrote, or written by model code, get
statistics and no verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import torch

from initspec._errors import InitPlanError
from initspec._shards import holds_no_data, is_sharded
from initspec._verify.observe import TensorStats, measure, named_tensors
from initspec._verify.promises import Exact, FromCheckpoint, Promise, Structure, Unchecked, promise_of
from initspec._verify.stats import Spread, mean_p_value, variance_p_value
from initspec._verify.structure import CheckpointCache, check_exact, check_pretrained, check_structure

if TYPE_CHECKING:
    from initspec.report import InitReport, ParamRecord

__all__ = ["InitCheck", "TensorCheck", "TensorStats", "Verdict", "verify"]

Verdict: TypeAlias = Literal["pass", "fail", "unchecked", "not materialized"]


@dataclass(frozen=True)
class TensorCheck:
    """One tensor's check: what its initializer promised, what it holds, and the verdict.

    ``verdict`` is ``"pass"``, ``"fail"``, ``"unchecked"`` (untouched or written by model code: statistics
    only) or ``"not materialized"`` (on the meta device). ``reason`` says why it failed or is unchecked.
    """

    name: str
    initializer: str
    source: str
    verdict: Verdict
    expected: str
    observed: str
    reason: str = ""
    stats: TensorStats | None = None
    expected_std: float | None = None

    @property
    def failed(self) -> bool:
        """Whether the verdict is a failure."""
        return self.verdict == "fail"


class InitCheck(Mapping[str, TensorCheck]):
    """Maps each tensor of an :class:`~initspec.InitReport` to its :class:`TensorCheck`, in report order.

    Example:
        >>> import torch
        >>> from initspec import initialize
        >>> model = torch.nn.Linear(256, 128)
        >>> report = initialize(model, dict(type="Normal", std=0.02, bias=0, layer="Linear"), seed=0)
        >>> report.verify(model).failures()
        []
        >>> with torch.no_grad():
        ...     _ = model.weight.mul_(1.1)
        >>> [(c.name, c.verdict) for c in report.verify(model).failures()]
        [('weight', 'fail')]
    """

    def __init__(self, results: dict[str, TensorCheck], alpha: float, report: InitReport) -> None:
        self.results, self.alpha, self.report = results, alpha, report

    def __getitem__(self, name: str) -> TensorCheck:
        return self.results[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def failures(self) -> list[TensorCheck]:
        """The tensors whose verdict is ``"fail"``, in report order."""
        return [c for c in self.results.values() if c.failed]

    def untouched(self) -> list[str]:
        """Names of the tensors nothing wrote: they get statistics, no verdict."""
        return [name for name, c in self.results.items() if c.source == "untouched"]

    def summary(self) -> str:
        """One line: how many tensors passed, failed, were unchecked or not materialized."""
        counts: dict[str, int] = {}
        for c in self.results.values():
            counts[c.verdict] = counts.get(c.verdict, 0) + 1
        parts = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
        return f"verified {self.report.module}: {len(self.results)} tensors ({parts or 'none'}), alpha={self.alpha:g}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: ``alpha``, each tensor's check (with its statistics) and the failed names."""
        tensors = {name: _check_dict(c) for name, c in self.results.items()}
        return {"alpha": self.alpha, "tensors": tensors, "failures": [c.name for c in self.failures()]}

    def __str__(self) -> str:
        rows = [("tensor", "initializer", "expected", "observed", "verdict")]
        rows += [(c.name, c.initializer, c.expected, c.observed, c.verdict) for c in self.results.values()]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[4]
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths) + "  -------")
        lines += [f"{c.name}: {c.reason}" for c in self.failures()]
        lines.append(self.summary())
        return "\n".join(line.rstrip() for line in lines)


def _check_dict(check: TensorCheck) -> dict[str, Any]:
    """The check as JSON-safe data: a statistic that was not measured (``nan``) or is infinite is ``None``."""
    out = asdict(check)
    del out["name"]
    if out["stats"] is not None:
        out["stats"] = {
            k: v if not isinstance(v, float) or math.isfinite(v) else None for k, v in out["stats"].items()
        }
    return out


def verify(report: InitReport, model: torch.nn.Module, *, alpha: float = 1e-3) -> InitCheck:
    """Check every tensor of ``report`` in ``model``; see :meth:`initspec.InitReport.verify`."""
    if not 0 < alpha < 1:
        msg = f"verify: alpha is the chance that a correct model fails, expected 0 < alpha < 1, got {alpha!r}"
        raise ValueError(msg)
    tensors = _tensors(report, model)
    promises = {name: promise_of(record) for name, record in report.records.items()}
    tests = sum(
        isinstance(p, Spread) or (isinstance(p, Structure) and p.draws is not None) for p in promises.values()
    )
    level = alpha / (2 * max(tests, 1))
    cache = CheckpointCache()
    results = {
        name: _check(record, tensors[name], promises[name], level, cache)
        for name, record in report.records.items()
    }
    return InitCheck(results, alpha, report)


def _tensors(report: InitReport, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    found = named_tensors(model)
    missing = [name for name in report.records if name not in found]
    if missing:
        listed = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        msg = (
            f"verify: the report names tensors that {type(model).__name__} does not have: {listed}; "
            "pass the model the report was made for (the one given to initialize or init_weights)"
        )
        raise InitPlanError(msg)
    return found


def _check(
    record: ParamRecord, tensor: torch.Tensor, promise: Promise, level: float, cache: CheckpointCache
) -> TensorCheck:
    head = (record.name, record.described, record.source)
    if holds_no_data(tensor):
        return TensorCheck(*head, "not materialized", promise.label, "meta tensor", "on the meta device")
    if tensor.is_complex():
        return TensorCheck(*head, "unchecked", promise.label, "complex", "complex tensors are not checked")
    stats = measure(tensor, moments=_needs_moments(promise), extent=_needs_extent(promise))
    expected_std = promise.std if isinstance(promise, Spread) else None
    result = TensorCheck(
        *head, "pass", promise.label, _describe(stats), stats=stats, expected_std=expected_std
    )
    if stats.nonfinite:
        return replace(
            result, verdict="fail", reason=f"{stats.nonfinite} of {stats.numel} elements are NaN or inf"
        )
    if isinstance(promise, Unchecked):
        return replace(result, verdict="unchecked", reason=promise.why)
    ok, observed, reason = _verdict(record.name, tensor, promise, stats, level, cache)
    return replace(
        result, verdict="pass" if ok else "fail", observed=observed or result.observed, reason=reason
    )


def _needs_moments(promise: Promise) -> bool:
    """Mean and std: for random draws, and for the statistics of a tensor with no verdict."""
    return isinstance(promise, Spread | Structure | Unchecked)


def _needs_extent(promise: Promise) -> bool:
    """Min and max: for exact values, bounded draws, checkpoint tensors and tensors with no verdict."""
    if isinstance(promise, Spread):
        return promise.low is not None or promise.high is not None
    return not isinstance(promise, Structure)


def _verdict(
    name: str,
    tensor: torch.Tensor,
    promise: Promise,
    stats: TensorStats,
    level: float,
    cache: CheckpointCache,
) -> tuple[bool, str, str]:
    if isinstance(promise, Exact):
        return check_exact(promise, stats, tensor.dtype)
    if isinstance(promise, FromCheckpoint):
        return check_pretrained(promise, name, tensor, cache)
    if isinstance(promise, Structure):
        ok, observed, reason = check_structure(promise, tensor)
        if ok and promise.draws is not None:
            return _spread(promise.draws, _nonzero(stats, tensor), level, tensor.dtype)
        return ok, observed, reason
    assert isinstance(promise, Spread)
    return _spread(promise, stats, level, tensor.dtype)


def _spread(spread: Spread, stats: TensorStats, level: float, dtype: torch.dtype) -> tuple[bool, str, str]:
    """Bounds exactly (to a few float steps), then the mean and the variance at ``level`` each."""
    slack = 4 * torch.finfo(dtype).eps * max(abs(spread.low or 0.0), abs(spread.high or 0.0))
    if spread.low is not None and stats.min < spread.low - slack:
        return False, "", f"min {stats.min:.6g} is below the lower bound {spread.low:.6g}"
    if spread.high is not None and stats.max > spread.high + slack:
        return False, "", f"max {stats.max:.6g} is above the upper bound {spread.high:.6g}"
    if stats.numel == 0:
        return True, "", ""
    p_mean = mean_p_value(stats.numel, stats.mean, spread)
    if p_mean < level:
        return False, "", f"mean {stats.mean:.4g} is off {spread.mean:.4g} (p={p_mean:.2g} < {level:.2g})"
    if stats.numel > 1:
        p_var = variance_p_value(stats.numel, stats.variance, spread)
        if p_var < level:
            ratio = stats.std / spread.std
            return (
                False,
                "",
                f"std {stats.std:.4g} is {ratio:.4f}x the promised {spread.std:.4g} (p={p_var:.2g} < {level:.2g})",
            )
    return True, "", ""


def _nonzero(stats: TensorStats, tensor: torch.Tensor) -> TensorStats:
    """The statistics of a sparse tensor's non-zero elements, derived from the whole tensor's."""
    full = tensor.full_tensor() if is_sharded(tensor) else tensor  # type: ignore[attr-defined]
    n = int(torch.count_nonzero(full))
    total = stats.mean * stats.numel
    squares = stats.variance * (stats.numel - 1) + stats.numel * stats.mean**2
    mean = total / n if n else 0.0
    m2 = max(squares - n * mean**2, 0.0)
    std = math.sqrt(m2 / (n - 1)) if n > 1 else 0.0
    return TensorStats(n, mean, std, stats.min, stats.max, stats.nonfinite)


def _describe(stats: TensorStats) -> str:
    if stats.nonfinite:
        return f"{stats.nonfinite} NaN/inf"
    if math.isnan(stats.mean):
        return f"{stats.min:.4g} .. {stats.max:.4g}" if stats.numel else "empty"
    return f"mean {stats.mean:+.3g} std {stats.std:.4g}"
