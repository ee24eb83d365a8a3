"""Pretrained checkpoints: finding, downloading and reading them, and matching their keys to a model."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import torch
import torch.hub

from initspec._checkpoint_io import check_map_location, read_file
from initspec._errors import CheckpointError, did_you_mean
from initspec._keyhints import key_hint, revise
from initspec._sources import resolve

__all__ = [
    "StateDictMatch",
    "check_loadable",
    "copy_into",
    "extract_state_dict",
    "load_checkpoint",
    "match_state_dict",
]

_MODULE_PREFIX: Final = re.compile(r"^module\.")
_LISTED_KEYS: Final = 20


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
            such as ``torchvision://resnet50`` or ``open-mmlab://resnet50_v1c``. Downloads are cached in
            ``$INITSPEC_HOME/checkpoints`` (default: ``torch.hub.get_dir()/checkpoints``), and enter the cache
            only once verified: complete, in a checkpoint format, and matching the sha256 prefix in their
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
    if prefix is None:
        tensors = {_MODULE_PREFIX.sub("", key): value for key, value in tensors.items()}
    else:
        tensors = _under_prefix(tensors, prefix if prefix.endswith(".") else prefix + ".", source)
    return revise(tensors, revise_keys, source)


def _under_prefix(tensors: dict[str, torch.Tensor], prefix: str, source: str) -> dict[str, torch.Tensor]:
    selected = {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}
    if selected:
        return selected
    heads = sorted({key.split(".", 1)[0] for key in tensors})
    hint = did_you_mean(prefix.rstrip("."), heads)
    msg = (
        f'{source}: prefix "{prefix}" matches no key in the checkpoint; its top-level prefixes are: '
        f"{', '.join(heads) or '(none, it holds no tensors)'}{hint}"
    )
    raise CheckpointError(msg)


@dataclass(frozen=True)
class StateDictMatch:
    """How a checkpoint's keys line up with a module's state dict; computed from metadata alone.

    Attributes:
        loadable: checkpoint tensors whose key is in the module with the same shape and a dtype and layout
            that can be copied into it.
        missing: module keys the checkpoint lacks (``num_batches_tracked`` is never reported).
        unexpected: checkpoint keys the module does not have.
        mismatched: ``(key, checkpoint shape, module shape)`` for keys present in both with other shapes.
        incompatible: ``(key, problem)`` for keys of the right shape whose tensor cannot be copied (see
            :func:`check_loadable`); they are never loaded.
        hint: when most checkpoint keys are unexpected, the one ``prefix`` or ``revise_keys`` that would
            match them, else ``""``.
    """

    loadable: dict[str, torch.Tensor]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]
    incompatible: tuple[tuple[str, str], ...] = ()
    hint: str = ""

    @property
    def ok(self) -> bool:
        """Whether every key matched: nothing missing, unexpected, of another shape or incompatible."""
        return not (self.missing or self.unexpected or self.mismatched or self.incompatible)

    def describe(self, source: str) -> str:
        """A readable, multi-line account of the match, naming the checkpoint ``source``."""
        if self.ok:
            return f"checkpoint {source} matches the model exactly ({len(self.loadable)} tensors)"
        lines = [f"checkpoint {source} does not match the model exactly ({len(self.loadable)} tensors load):"]
        if self.unexpected:
            lines.append(f"  unexpected keys in the checkpoint: {_listing(self.unexpected)}")
        if self.missing:
            lines.append(f"  missing keys in the checkpoint: {_listing(self.missing)}")
        for key, got, want in self.mismatched[:_LISTED_KEYS]:
            lines.append(f"  size mismatch for {key}: the checkpoint has shape {got}, the model {want}")
        if len(self.mismatched) > _LISTED_KEYS:
            lines.append(f"  ... and {len(self.mismatched) - _LISTED_KEYS} more size mismatches")
        lines += [f"  cannot load {problem}" for _, problem in self.incompatible[:_LISTED_KEYS]]
        if len(self.incompatible) > _LISTED_KEYS:
            lines.append(f"  ... and {len(self.incompatible) - _LISTED_KEYS} more tensors that cannot load")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        elif not self.loadable and self.unexpected:
            lines.append("  no key matched: if the checkpoint holds a larger model, set prefix to its part")
        return "\n".join(lines)


def _listing(keys: tuple[str, ...]) -> str:
    shown = ", ".join(keys[:_LISTED_KEYS])
    more = len(keys) - _LISTED_KEYS
    return f"{shown} ... and {more} more ({len(keys)} in all)" if more > 0 else shown


def match_state_dict(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor]) -> StateDictMatch:
    """Sort a state dict's keys against a module by name, shape, dtype and layout, reading no value.

    Works on modules whose tensors live on the meta device.

    Args:
        module: the module the tensors are meant for.
        state_dict: key -> tensor, e.g. from :func:`extract_state_dict`.

    Returns:
        The loadable tensors and the missing, unexpected, size-mismatched and incompatible keys.
    """
    loadable: dict[str, torch.Tensor] = {}
    missing: list[str] = []
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    incompatible: list[tuple[str, str]] = []
    expected = module.state_dict(keep_vars=True)
    for key, target in expected.items():
        if key not in state_dict:
            missing.append(key)
        elif state_dict[key].shape != target.shape:
            mismatched.append((key, tuple(state_dict[key].shape), tuple(target.shape)))
        elif (problem := check_loadable(key, target, state_dict[key])) is not None:
            incompatible.append((key, problem))
        else:
            loadable[key] = state_dict[key]
    unexpected = tuple(key for key in state_dict if key not in expected)
    return StateDictMatch(
        loadable=loadable,
        missing=tuple(key for key in missing if not key.endswith("num_batches_tracked")),
        unexpected=unexpected,
        mismatched=tuple(mismatched),
        incompatible=tuple(incompatible),
        hint=key_hint(tuple(state_dict), unexpected, missing),
    )


def check_loadable(name: str, target: torch.Tensor, loaded: torch.Tensor) -> str | None:
    """Why checkpoint tensor ``loaded`` cannot be copied into ``target``, or ``None`` when it can.

    Refused: a layout other than dense (sparse, mkldnn, ...) on either side, quantized or data-less (meta)
    checkpoint tensors, complex into real (it would drop the imaginary part), and floating or complex into
    bool or integer (it would truncate). Widening and narrowing between floating dtypes, and integers or
    bools into floats, are allowed, as ``load_state_dict`` allows them. Shapes are not compared here.

    Args:
        name: the key, used in the text.
        target: the module's parameter or buffer (it may be on the meta device).
        loaded: the checkpoint's tensor.

    Returns:
        ``"<name>: <problem>; <fix>"``, or ``None``.
    """
    if loaded.layout != torch.strided or target.layout != torch.strided:
        which, layout = (
            ("checkpoint", loaded.layout) if loaded.layout != torch.strided else ("model", target.layout)
        )
        return (
            f"{name}: the {which} tensor has layout {layout}, and only dense (strided) tensors load; "
            "convert it with .to_dense() and save again"
        )
    if loaded.is_quantized:
        return f"{name}: the checkpoint tensor is quantized ({loaded.dtype}); dequantize it and save again"
    if loaded.is_meta and not target.is_meta:
        return f"{name}: the checkpoint tensor holds no data (it is on the meta device); load it to 'cpu'"
    return _dtype_problem(name, target.dtype, loaded.dtype)


def _dtype_problem(name: str, target: torch.dtype, loaded: torch.dtype) -> str | None:
    if loaded.is_complex and not target.is_complex:
        return (
            f"{name}: a complex ({loaded}) tensor cannot load into a real ({target}) one without dropping "
            "its imaginary part; save its .real (or .abs()) if that is what you mean"
        )
    if target == torch.bool and loaded != torch.bool:
        return f"{name}: a {loaded} tensor cannot load into a bool one; save it as bool (tensor != 0)"
    if not (target.is_floating_point or target.is_complex) and (
        loaded.is_floating_point or loaded.is_complex
    ):
        return (
            f"{name}: a {loaded} tensor cannot load into an integer ({target}) one without truncating; "
            "round it and save it as an integer tensor"
        )
    return None


def copy_into(module: torch.nn.Module, tensors: Mapping[str, torch.Tensor]) -> None:
    """Copy tensors into the module's parameters and buffers of the same name, in place.

    Targets on the meta device hold no storage and are skipped.

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
            if not target.is_meta:
                target.copy_(source)


def _copy_target(targets: dict[str, torch.Tensor], key: str, source: torch.Tensor) -> torch.Tensor:
    target = targets.get(key)
    if target is None or target.shape != source.shape:
        msg = (
            f"cannot copy {key!r} of shape {tuple(source.shape)} into the module: it has no parameter or "
            "buffer of that name and shape; pass match_state_dict(...).loadable"
        )
        raise CheckpointError(msg)
    return target
