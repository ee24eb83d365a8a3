"""Sharded tensors (``DTensor``, as FSDP2 and tensor parallelism make them): this rank's data and its offset."""

from __future__ import annotations

import torch

__all__ = ["DENSE_TYPES", "holds_no_data", "is_sharded", "local_view", "slice_of"]

DENSE_TYPES = frozenset({torch.Tensor, torch.nn.Parameter})
"""Types that are never sharded: a hot loop tests ``type(t) not in DENSE_TYPES`` before :func:`is_sharded`."""


def is_sharded(tensor: torch.Tensor) -> bool:
    """Whether ``tensor`` is a ``DTensor`` (a Parameter wrapping a DTensor keeps the DTensor type)."""
    return type(tensor).__name__ == "DTensor"


def local_view(tensor: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...], tuple[int, ...]]:
    """This rank's data, the global shape, and the global offset of the local data in each dimension."""
    if not is_sharded(tensor):
        return tensor, tuple(tensor.shape), (0,) * tensor.dim()
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    mesh, placements = tensor.device_mesh, tensor.placements  # type: ignore[attr-defined]
    _, offset = compute_local_shape_and_global_offset(tensor.shape, mesh, placements)
    return tensor.to_local(), tuple(tensor.shape), tuple(offset)  # type: ignore[attr-defined]


def slice_of(full: torch.Tensor, local: torch.Tensor, offset: tuple[int, ...]) -> torch.Tensor:
    """The part of ``full`` (global) that ``local`` holds, given its global ``offset``."""
    index = tuple(slice(o, o + n) for o, n in zip(offset, local.shape, strict=True))
    return full[index]


def holds_no_data(tensor: torch.Tensor) -> bool:
    """Whether ``tensor`` (or this rank's shard of it) lives on the meta device, so writes are skipped."""
    return tensor.is_meta or (is_sharded(tensor) and local_view(tensor)[0].is_meta)
