"""Measuring a tensor in place: count, mean, std, min, max and non-finite elements, combined over shards.

A dense floating tensor costs one ``torch.std_mean`` pass (Welford, compute-bound) and one ``torch.aminmax``
pass (memory-bound, a tenth of the first), and no copy. NaN and inf show in the min and max, so they are
counted only when one is there. A ``DTensor`` is measured on each rank's shard and the shards are combined
with Chan's formula over ``torch.distributed`` (every rank verifies, as every rank initializes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from initspec._shards import is_sharded, local_view

__all__ = ["TensorStats", "measure", "named_tensors"]


@dataclass(frozen=True)
class TensorStats:
    """What a tensor holds: element count, mean, sample std, min, max and the number of NaN or inf elements.

    ``mean`` and ``std`` are ``nan`` when only the range was measured (a promise of one exact value).
    """

    numel: int
    mean: float
    std: float
    min: float
    max: float
    nonfinite: int = 0

    @property
    def variance(self) -> float:
        """The sample variance (divided by ``numel - 1``)."""
        return self.std**2


def named_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Every parameter and buffer of ``model`` by qualified name, shared ones under each of their names."""
    found: dict[str, torch.Tensor] = dict(model.named_parameters(remove_duplicate=False))
    found.update(model.named_buffers(remove_duplicate=False))
    return found


def measure(tensor: torch.Tensor, *, moments: bool = True, extent: bool = True) -> TensorStats:
    """Measure ``tensor`` (this rank's shard, combined with the other ranks' for a ``DTensor``).

    Args:
        tensor: a dense tensor holding data (not on the meta device).
        moments: compute the mean and std (``torch.var_mean``).
        extent: compute the min and max (``torch.aminmax``); at least one of the two is computed, and
            either shows a NaN or inf.
    """
    local = local_view(tensor)[0].detach()
    if not local.is_floating_point():
        local = local.double()  # integer and bool buffers: small, and std_mean needs a floating type
    row = _local_row(local, moments, extent or not moments)
    if is_sharded(tensor):
        row = _combined(row, _counts(tensor))
    return _stats(row)


def _local_row(x: torch.Tensor, moments: bool, extent: bool) -> list[float]:
    """``[n, mean, M2, min, max, nonfinite]`` of one dense tensor (``M2``: the sum of squared deviations).

    What is not measured is ``nan``. A NaN or inf anywhere makes the mean, M2, min or max non-finite; only
    then are the non-finite elements counted (a second pass, on the failing tensor alone).
    """
    n = x.numel()
    if n == 0:
        return [0.0, 0.0, 0.0, math.inf, -math.inf, 0.0]
    mean = m2 = low = high = math.nan
    if moments:
        var, mu = torch.var_mean(x, correction=0)
        mean, m2 = float(mu), float(var) * n
    if extent:
        low, high = (float(v) for v in torch.aminmax(x))
    measured = [*((mean, m2) if moments else ()), *((low, high) if extent else ())]
    nonfinite = float(n - int(torch.isfinite(x).sum())) if not all(map(math.isfinite, measured)) else 0.0
    return [float(n), mean, m2, low, high, nonfinite]


def _counts(tensor: torch.Tensor) -> bool:
    """Whether this rank's shard counts: a replicated copy counts once, on coordinate 0 of each such dim."""
    from torch.distributed.tensor import Replicate

    mesh, placements = tensor.device_mesh, tensor.placements  # type: ignore[attr-defined]
    coordinate = mesh.get_coordinate()
    if coordinate is None:
        return False
    return all(c == 0 for c, p in zip(coordinate, placements, strict=True) if isinstance(p, Replicate))


def _combined(row: list[float], counts: bool) -> list[float]:
    """Every rank's row gathered and merged (Chan et al.'s parallel variance), in rank order."""
    import torch.distributed as dist

    mine = torch.tensor(row if counts else [0.0, 0.0, 0.0, math.inf, -math.inf, 0.0], dtype=torch.float64)
    rows = [torch.empty_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(rows, mine)
    total = [0.0, 0.0, 0.0, math.inf, -math.inf, 0.0]
    for other in rows:
        total = _merge(total, other.tolist())
    return total


def _merge(a: list[float], b: list[float]) -> list[float]:
    n = a[0] + b[0]
    if b[0] == 0:
        return a
    if a[0] == 0:
        return b
    delta = b[1] - a[1]
    mean = a[1] + delta * b[0] / n
    m2 = a[2] + b[2] + delta * delta * a[0] * b[0] / n
    return [n, mean, m2, _either(min, a[3], b[3]), _either(max, a[4], b[4]), a[5] + b[5]]


def _either(pick: Callable[[float, float], float], a: float, b: float) -> float:
    """``pick(a, b)``, or ``nan`` when either was not measured."""
    return math.nan if math.isnan(a) or math.isnan(b) else pick(a, b)


def _stats(row: list[float]) -> TensorStats:
    n = int(row[0])
    std = math.sqrt(row[2] / (n - 1)) if n > 1 and not math.isnan(row[2]) else (0.0 if n == 1 else math.nan)
    if n > 1 and row[2] < 0:
        std = 0.0
    return TensorStats(n, row[1], std, row[3], row[4], int(row[5]))
