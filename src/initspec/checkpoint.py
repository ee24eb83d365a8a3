"""Pretrained checkpoints: finding, downloading and reading them, and matching their keys to a model.

The public face of ``initspec._checkpoint`` (sources, download, file formats, keys, matching, the copy path).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from initspec._checkpoint.copy import copy_loaded
from initspec._checkpoint.formats import check_map_location, read_file
from initspec._checkpoint.keys import revise, select
from initspec._checkpoint.match import StateDictMatch, check_loadable, match_state_dict
from initspec._checkpoint.sources import resolve
from initspec._errors import CheckpointError

__all__ = [
    "StateDictMatch",
    "check_loadable",
    "copy_into",
    "extract_state_dict",
    "load_checkpoint",
    "match_state_dict",
]


def load_checkpoint(
    source: str | os.PathLike[str],
    *,
    map_location: str | torch.device | None = "cpu",
    allow_unsafe_pickle: bool = False,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Load a checkpoint file, fetching it first when the source is a URL or a model-zoo name.

    Args:
        source: a local path (``~`` is expanded), a ``file://`` or ``http(s)://`` URL, or a model-zoo name
            such as ``torchvision://resnet50``, ``open-mmlab://resnet50_v1c`` or ``mmcls://mobilenet_v2``.
            Downloads are cached in ``$INITSPEC_HOME/checkpoints`` (default:
            ``torch.hub.get_dir()/checkpoints``), and enter the cache only once verified: complete, in a checkpoint format, and matching the sha256 prefix in their
            file name when it has one (``resnet50-0676ba61.pth``), which is checked again on each use.
        map_location: where tensors are placed, as for ``torch.load``.
        allow_unsafe_pickle: unpickle arbitrary objects. Only pass it for files you trust: unpickling can run
            any code. Config files can never set it.
        timeout: seconds a download may wait to connect, or go without receiving data; default
            ``$INITSPEC_DOWNLOAD_TIMEOUT``, else 30.

    Returns:
        The raw checkpoint mapping, which may hold ``state_dict``, ``meta`` and other entries.

    Raises:
        CheckpointError: the source is empty (the ``checkpoint=''`` placeholder), cannot be found,
            downloaded, read or trusted, holds no mapping, or ``map_location`` is not a device here.

    Example:
        >>> ckpt = load_checkpoint("torchvision://resnet18")  # doctest: +SKIP
        >>> extract_state_dict(ckpt)["fc.weight"].shape  # doctest: +SKIP
        torch.Size([1000, 512])
    """
    check_map_location(map_location)
    if not os.fspath(source).strip():
        msg = (
            f"checkpoint is {os.fspath(source)!r}, a placeholder: set it to a path or URL before init_weights "
            "(with mmengine's --cfg-options, for example); nothing was loaded or written"
        )
        raise CheckpointError(msg)
    path = resolve(os.fspath(source), timeout)
    loaded = read_file(path, map_location, allow_unsafe_pickle)
    if not isinstance(loaded, Mapping):
        msg = (
            f"no state dict found in checkpoint file {path}: it holds a {type(loaded).__name__}, "
            "expected a mapping of names to tensors; save model.state_dict() rather than a tensor or a model"
        )
        raise CheckpointError(msg)
    return dict(loaded)


def extract_state_dict(
    checkpoint: Mapping[str, Any],
    *,
    prefix: str | None = None,
    revise_keys: Sequence[tuple[str, str]] = (),
    source: str = "<checkpoint>",
) -> dict[str, torch.Tensor]:
    """Take the tensors out of a loaded checkpoint, with mmengine's key fixes.

    The tensors come from ``checkpoint["state_dict"]`` when that key exists, else from the checkpoint itself.
    Values that are not tensors (metadata, optimizer settings) are left out.

    Args:
        checkpoint: a mapping returned by :func:`load_checkpoint`.
        prefix: keep only the keys under this prefix, with the prefix removed; a missing trailing dot is
            added (``"backbone"`` works like ``"backbone."``). Without a prefix, a leading ``module.``
            (left by ``DataParallel``) is removed instead.
        revise_keys: ``(pattern, replacement)`` regex pairs applied in order to every key after the prefix
            handling above, as ``re.sub(pattern, replacement, key)`` (mmengine's ``revise_keys``).
        source: how the checkpoint is named in error messages.

    Returns:
        Key -> tensor, with the keys fixed as above.

    Raises:
        CheckpointError: ``prefix`` matches no key, ``state_dict`` is not a mapping, or ``revise_keys`` maps
            two keys to one.

    Example:
        >>> import torch
        >>> from initspec.checkpoint import extract_state_dict
        >>> ckpt = {"state_dict": {"backbone.blocks.0.w": torch.zeros(1)}}
        >>> list(extract_state_dict(ckpt, prefix="backbone", revise_keys=[("^blocks[.]", "layers.")]))
        ['layers.0.w']
    """
    raw = checkpoint.get("state_dict", checkpoint)
    if not isinstance(raw, Mapping):
        msg = f'{source}: "state_dict" holds a {type(raw).__name__}, expected a mapping of names to tensors'
        raise CheckpointError(msg)
    tensors = {str(key): value for key, value in raw.items() if isinstance(value, torch.Tensor)}
    return revise(select(tensors, prefix, source), revise_keys, source)


def copy_into(module: torch.nn.Module, tensors: Mapping[str, torch.Tensor]) -> None:
    """Copy tensors into the module's parameters and buffers of the same name, in place.

    Targets on the meta device hold no storage and are skipped; a sharded (``DTensor``) target gets its
    rank's slice. This is the one copy path: ``init_weights`` loads a ``Pretrained`` checkpoint through it too.

    Args:
        module: the module to write into.
        tensors: key -> tensor with the target's shape, e.g. ``match_state_dict(...).loadable``.

    Raises:
        CheckpointError: a key names no parameter or buffer, or a shape differs; nothing is written then.
    """
    targets: dict[str, torch.Tensor] = dict(module.named_parameters(remove_duplicate=False))
    targets.update(module.named_buffers(remove_duplicate=False))
    pairs = [(_copy_target(targets, key, source), source) for key, source in tensors.items()]
    with torch.no_grad():
        for target, source in pairs:
            copy_loaded(target, source)


def _copy_target(targets: dict[str, torch.Tensor], key: str, source: torch.Tensor) -> torch.Tensor:
    target = targets.get(key)
    if target is None or target.shape != source.shape:
        msg = (
            f"cannot copy {key!r} of shape {tuple(source.shape)} into the module: it has no parameter or "
            "buffer of that name and shape; pass match_state_dict(...).loadable"
        )
        raise CheckpointError(msg)
    if target.is_inference():
        msg = (
            f"cannot copy {key!r} into the module: its tensor was made under torch.inference_mode() and cannot "
            "be written outside it; build the module outside torch.inference_mode()"
        )
        raise CheckpointError(msg)
    return target
