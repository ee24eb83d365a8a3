"""The one path by which a checkpoint tensor is copied into a model tensor (``init_weights`` and ``copy_into``)."""

from __future__ import annotations

import torch

from initspec._shards import holds_no_data, local_view, slice_of

__all__ = ["copy_loaded"]


def copy_loaded(target: torch.Tensor, loaded: torch.Tensor) -> None:
    """Copy ``loaded`` (the full tensor) into ``target`` in place: a shard gets its slice, meta is skipped."""
    if holds_no_data(target):
        return
    local, _, offset = local_view(target)
    local.copy_(slice_of(loaded, local, offset))
