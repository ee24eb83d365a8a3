"""Exact checks: one value everywhere, a (semi-)orthogonal matrix, identity and Dirac patterns, sparsity, and
equality with a checkpoint's tensor read again from its file.

Each returns ``(ok, observed, reason)``. Structure checks read the full tensor (``full_tensor()`` gathers a
``DTensor``); the checkpoint check compares this rank's shard with its slice and agrees across ranks.
"""

from __future__ import annotations

import math

import torch

from initspec._errors import CheckpointError
from initspec._shards import is_sharded, local_view, slice_of
from initspec._verify.observe import TensorStats
from initspec._verify.promises import Exact, FromCheckpoint, Structure
from initspec.checkpoint import extract_state_dict, load_checkpoint

__all__ = ["CheckpointCache", "check_exact", "check_pretrained", "check_structure"]

Outcome = tuple[bool, str, str]


def check_exact(promise: Exact, stats: TensorStats, dtype: torch.dtype) -> Outcome:
    """Every element equals the promised value, as the tensor's dtype rounds it."""
    want = float(torch.tensor(promise.value, dtype=dtype)) if dtype.is_floating_point else promise.value
    if stats.numel == 0 or stats.min == stats.max == want:
        return True, f"= {want:g}", ""
    observed = f"{stats.min:.9g} .. {stats.max:.9g}"
    return False, observed, f"expected every element = {want:.9g}, found values in [{observed}]"


def check_structure(promise: Structure, tensor: torch.Tensor) -> Outcome:
    """The pattern ``promise.kind`` names, on the full tensor."""
    full = tensor.full_tensor() if is_sharded(tensor) else tensor  # type: ignore[attr-defined]
    full = full.detach()
    if promise.kind == "orthogonal":
        return _orthogonal(full, promise.gain)
    if promise.kind == "eye":
        return _pattern(full, _eye_index(full.shape), "identity")
    if promise.kind == "dirac":
        return _pattern(full, _dirac_index(full.shape, promise.groups), "Dirac")
    return _sparse_zeros(full, promise.sparsity)


def _orthogonal(w: torch.Tensor, gain: float) -> Outcome:
    """``W Wᵀ`` (rows <= columns) or ``Wᵀ W`` within a few float steps of ``gain² I``, in float64."""
    flat = w.reshape(w.shape[0], -1).double()
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    target = gain**2
    gram.diagonal().sub_(target)
    deviation = float(gram.abs().max())
    eps = torch.finfo(w.dtype).eps if w.dtype.is_floating_point else 0.0
    tolerance = target * eps * max(32.0, 2 * math.sqrt(gram.shape[0]))
    observed = f"max |W Wᵀ - {gain:g}² I| = {deviation:.3g}"
    if deviation <= tolerance:
        return True, observed, ""
    return False, observed, f"not orthogonal: {observed}, tolerance {tolerance:.3g}"


def _eye_index(shape: torch.Size) -> tuple[torch.Tensor, ...]:
    diagonal = torch.arange(min(shape[0], shape[1]))
    return diagonal, diagonal


def _dirac_index(shape: torch.Size, groups: int) -> tuple[torch.Tensor, ...]:
    per_group = shape[0] // groups
    kept = min(per_group, shape[1])
    outs = torch.tensor([g * per_group + d for g in range(groups) for d in range(kept)], dtype=torch.long)
    ins = torch.tensor([d for _ in range(groups) for d in range(kept)], dtype=torch.long)
    centre = [torch.full_like(outs, size // 2) for size in shape[2:]]
    return outs, ins, *centre


def _pattern(w: torch.Tensor, index: tuple[torch.Tensor, ...], name: str) -> Outcome:
    """Ones exactly at ``index`` and zeros everywhere else."""
    ones = w[index]
    nonzero = int(torch.count_nonzero(w))
    all_ones = bool((ones == 1).all()) if ones.numel() else True
    observed = f"{nonzero} non-zero, {int((ones == 1).sum())} of {ones.numel()} ones in place"
    if all_ones and nonzero == ones.numel():
        return True, observed, ""
    return (
        False,
        observed,
        f"not the {name} pattern: expected {ones.numel()} ones and zeros elsewhere, {observed}",
    )


def _sparse_zeros(w: torch.Tensor, sparsity: float) -> Outcome:
    """At least ``ceil(sparsity * rows)`` zeros in every column."""
    need = math.ceil(sparsity * w.shape[0])
    fewest = int((w == 0).sum(dim=0).min()) if w.numel() else need
    observed = f"at least {fewest} zeros per column"
    if fewest >= need:
        return True, observed, ""
    return False, observed, f"a column has {fewest} zeros, expected at least {need} (sparsity {sparsity:g})"


class CheckpointCache:
    """Each checkpoint read once per verification, keyed by file, prefix and key revisions."""

    def __init__(self) -> None:
        self._loaded: dict[FromCheckpoint, dict[str, torch.Tensor] | CheckpointError] = {}

    def tensors(self, promise: FromCheckpoint) -> dict[str, torch.Tensor] | CheckpointError:
        """The checkpoint's tensors with the load's key fixes, or the error that reading it again raised."""
        if promise not in self._loaded:
            try:
                raw = load_checkpoint(promise.checkpoint)
                self._loaded[promise] = extract_state_dict(
                    raw, prefix=promise.prefix, revise_keys=promise.revise_keys, source=promise.checkpoint
                )
            except CheckpointError as error:
                self._loaded[promise] = error
        return self._loaded[promise]


def check_pretrained(
    promise: FromCheckpoint, name: str, tensor: torch.Tensor, cache: CheckpointCache
) -> Outcome:
    """Bit-equal (after the cast ``copy_`` makes) to the checkpoint tensor whose key ends ``name``."""
    state = cache.tensors(promise)
    if isinstance(state, CheckpointError):
        return False, "unreadable", f"the checkpoint could not be read again: {state}"
    local, shape, offset = local_view(tensor)
    key = _key_for(name, shape, state)
    if key is None:
        return False, "no key", f"{promise.checkpoint} holds no tensor of shape {tuple(shape)} for {name!r}"
    expected = slice_of(state[key], local, offset).to(device=local.device, dtype=local.dtype)
    equal = torch.equal(local.detach(), expected)
    if is_sharded(tensor):
        equal = _all_ranks(equal)
    observed = f"{'equal to' if equal else 'differs from'} [{key!r}]"
    return equal, observed, "" if equal else f"differs from {key!r} in {promise.checkpoint}"


def _key_for(name: str, shape: tuple[int, ...], state: dict[str, torch.Tensor]) -> str | None:
    """The longest dotted tail of ``name`` that is a checkpoint key of the same shape (the load's own key)."""
    parts = name.split(".")
    for start in range(len(parts)):
        key = ".".join(parts[start:])
        if key in state and tuple(state[key].shape) == tuple(shape):
            return key
    return None


def _all_ranks(flag: bool) -> bool:
    import torch.distributed as dist

    value = torch.tensor([int(flag)])
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item())
