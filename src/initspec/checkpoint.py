"""Pretrained checkpoints: finding, downloading and reading them, and matching their keys to a model."""

from __future__ import annotations

import json
import os
import pickle
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlparse
from urllib.request import url2pathname

import torch
import torch.hub

from initspec._errors import CheckpointError, did_you_mean

__all__ = ["StateDictMatch", "copy_into", "extract_state_dict", "load_checkpoint", "match_state_dict"]

_HUB_SCHEMES: Final[dict[str, str]] = {
    "torchvision://": "torchvision",
    "open-mmlab://": "open_mmlab",
    "openmmlab://": "open_mmlab",
}
_HASH_REGEX: Final[re.Pattern[str]] = getattr(torch.hub, "HASH_REGEX", re.compile(r"-([a-f0-9]*)\."))
_MODULE_PREFIX: Final = re.compile(r"^module\.")
_LISTED_KEYS: Final = 20


def load_checkpoint(
    source: str | os.PathLike[str],
    *,
    map_location: str | torch.device | None = "cpu",
    allow_unsafe_pickle: bool = False,
) -> dict[str, Any]:
    """Load a checkpoint file, fetching it first when the source is a URL or a model-zoo name.

    Args:
        source: a local path (``~`` is expanded), a ``file://`` or ``http(s)://`` URL, or a model-zoo name
            such as ``torchvision://resnet50`` or ``open-mmlab://resnet50_v1c``. Downloads are cached in
            ``$INITSPEC_HOME/checkpoints`` (default: ``torch.hub.get_dir()/checkpoints``) and checked against
            the sha256 prefix in their file name when it has one (``resnet50-0676ba61.pth``).
        map_location: where tensors are placed, as for ``torch.load``.
        allow_unsafe_pickle: unpickle arbitrary objects. Only pass it for files you trust: unpickling can run
            any code. Config files can never set it.

    Returns:
        The raw checkpoint mapping, which may hold ``state_dict``, ``meta`` and other entries.

    Raises:
        CheckpointError: the source cannot be found, downloaded, read or trusted, or holds no mapping.

    Example:
        >>> ckpt = load_checkpoint("torchvision://resnet18")  # doctest: +SKIP
        >>> extract_state_dict(ckpt)["fc.weight"].shape  # doctest: +SKIP
        torch.Size([1000, 512])
    """
    path = _resolve(os.fspath(source))
    loaded = _read(path, map_location, allow_unsafe_pickle)
    if not isinstance(loaded, Mapping):
        msg = (
            f"no state dict found in checkpoint file {path}: it holds a {type(loaded).__name__}, "
            "expected a mapping of names to tensors; save model.state_dict() rather than a tensor or a model"
        )
        raise CheckpointError(msg)
    return dict(loaded)


def _resolve(source: str) -> Path:
    """Turn a source into a local file path, downloading it when needed."""
    for scheme, table in _HUB_SCHEMES.items():
        if source.startswith(scheme):
            return _resolve_location(_hub_url(table, scheme, source[len(scheme) :]))
    return _resolve_location(source)


def _resolve_location(location: str) -> Path:
    if location.startswith(("http://", "https://")):
        return _download(location)
    if location.startswith("file://"):
        return Path(url2pathname(urlparse(location).path))
    return Path(location).expanduser()


def _home() -> Path:
    root = os.environ.get("INITSPEC_HOME")
    return Path(root).expanduser() if root else Path(torch.hub.get_dir())


def _shipped_table(table: str) -> dict[str, str]:
    """The name -> URL table shipped in ``initspec/hub/<table>.json``."""
    text = resources.files("initspec").joinpath("hub", f"{table}.json").read_text(encoding="utf-8")
    loaded: dict[str, str] = json.loads(text)
    return loaded


def _user_table(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        msg = f"user model-zoo table {path} could not be read: {err}; fix or remove the file"
        raise CheckpointError(msg) from err
    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
        msg = f'user model-zoo table {path} must be a JSON object of names to URLs, like {{"name": "https://..."}}'
        raise CheckpointError(msg)
    table: dict[str, str] = loaded
    return table


def _hub_table(table: str) -> tuple[dict[str, str], str]:
    """The merged name -> URL table, and a phrase saying where it came from."""
    names = _shipped_table(table)
    where = f"initspec/hub/{table}.json"
    if table == "open_mmlab":
        user_path = _home() / "open_mmlab.json"
        names = {**names, **_user_table(user_path)}
        where += f" and {user_path}"
    return names, where


def _hub_url(table: str, scheme: str, name: str) -> str:
    names, where = _hub_table(table)
    if name in names:
        return names[name]
    hint = did_you_mean(name, names, n=5, render=f"'{scheme}{{}}'") or "; no similar name is known"
    msg = f"unknown checkpoint name '{scheme}{name}'{hint} (names come from {where})"
    raise CheckpointError(msg)


def _hash_prefix(filename: str) -> str | None:
    found = _HASH_REGEX.search(filename)
    return (found.group(1) or None) if found else None


def _download(url: str) -> Path:
    """Download ``url`` into the cache once; later calls reuse the cached file."""
    filename = Path(urlparse(url).path).name
    if not filename:
        msg = f"cannot download checkpoint {url}: the URL does not end in a file name"
        raise CheckpointError(msg)
    target = _home() / "checkpoints" / filename
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = _hash_prefix(filename)
    try:
        torch.hub.download_url_to_file(url, str(target), hash_prefix=prefix, progress=sys.stderr.isatty())
    except (OSError, RuntimeError) as err:
        target.unlink(missing_ok=True)
        raise _download_error(url, prefix, err) from err
    return target


def _download_error(url: str, prefix: str | None, err: Exception) -> CheckpointError:
    if prefix is not None and isinstance(err, RuntimeError):
        msg = (
            f"checkpoint {url} failed its integrity check: its sha256 does not start with {prefix!r} as its "
            f"file name promises ({err}); nothing was cached, so retry, or check that the URL is right"
        )
    else:
        msg = f"could not download checkpoint {url}: {err}"
    return CheckpointError(msg)


def _read(path: Path, map_location: str | torch.device | None, allow_unsafe_pickle: bool) -> object:
    if not path.exists():
        msg = (
            f"checkpoint file {path} can not be found; check the path (relative paths start at {Path.cwd()})"
        )
        raise CheckpointError(msg)
    if path.suffix == ".safetensors":
        return _read_safetensors(path, map_location)
    try:
        return torch.load(path, map_location=map_location, weights_only=not allow_unsafe_pickle)
    except pickle.UnpicklingError as err:
        if not allow_unsafe_pickle and "weights only" in str(err).lower():
            raise _unsafe_pickle_error(path) from err
        raise _unreadable(path, err) from err
    except Exception as err:
        raise _unreadable(path, err) from err


def _read_safetensors(path: Path, map_location: str | torch.device | None) -> object:
    try:
        from safetensors.torch import load_file
    except ImportError as err:
        msg = f"reading {path} needs the safetensors package: pip install initspec[safetensors]"
        raise CheckpointError(msg) from err
    try:
        return load_file(path, device=str(map_location or "cpu"))
    except Exception as err:
        raise _unreadable(path, err) from err


def _unsafe_pickle_error(path: Path) -> CheckpointError:
    msg = (
        f"checkpoint file {path} holds objects other than tensors and plain containers, and unpickling "
        "them could run arbitrary code; if you trust the file, call load_checkpoint(..., "
        "allow_unsafe_pickle=True) from Python (a config file can never enable this), or re-save the file "
        "with only its state_dict"
    )
    return CheckpointError(msg)


def _unreadable(path: Path, err: Exception) -> CheckpointError:
    msg = (
        f"checkpoint file {path} could not be read ({type(err).__name__}: {err}); it may be truncated or "
        "corrupt: download or save it again"
    )
    return CheckpointError(msg)


def extract_state_dict(
    checkpoint: Mapping[str, Any], *, prefix: str | None = None, source: str = "<checkpoint>"
) -> dict[str, torch.Tensor]:
    """Take the tensors out of a loaded checkpoint, with mmengine's key fixes.

    The tensors come from ``checkpoint["state_dict"]`` when that key exists, else from the checkpoint itself.
    Values that are not tensors (metadata, optimizer settings) are left out.

    Args:
        checkpoint: a mapping returned by :func:`load_checkpoint`.
        prefix: keep only the keys under this prefix, with the prefix removed; a missing trailing dot is
            added (``"backbone"`` works like ``"backbone."``). Without a prefix, a leading ``module.``
            (left by ``DataParallel``) is removed instead.
        source: how the checkpoint is named in error messages.

    Returns:
        Key -> tensor, with the keys fixed as above.

    Raises:
        CheckpointError: ``prefix`` matches no key, or ``state_dict`` is not a mapping.
    """
    raw = checkpoint.get("state_dict", checkpoint)
    if not isinstance(raw, Mapping):
        msg = f'{source}: "state_dict" holds a {type(raw).__name__}, expected a mapping of names to tensors'
        raise CheckpointError(msg)
    tensors = {str(key): value for key, value in raw.items() if isinstance(value, torch.Tensor)}
    if prefix is None:
        return {_MODULE_PREFIX.sub("", key): value for key, value in tensors.items()}
    return _under_prefix(tensors, prefix if prefix.endswith(".") else prefix + ".", source)


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
    """How a checkpoint's keys line up with a module's state dict; computed from shapes alone.

    Attributes:
        loadable: checkpoint tensors whose key is in the module with the same shape.
        missing: module keys the checkpoint lacks (``num_batches_tracked`` is never reported).
        unexpected: checkpoint keys the module does not have.
        mismatched: ``(key, checkpoint shape, module shape)`` for keys present in both with other shapes.
    """

    loadable: dict[str, torch.Tensor]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]

    @property
    def ok(self) -> bool:
        """Whether every key matched: nothing missing, unexpected or of another shape."""
        return not (self.missing or self.unexpected or self.mismatched)

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
        if not self.loadable and self.unexpected:
            lines.append("  no key matched: if the checkpoint holds a larger model, set prefix to its part")
        return "\n".join(lines)


def _listing(keys: tuple[str, ...]) -> str:
    shown = ", ".join(keys[:_LISTED_KEYS])
    more = len(keys) - _LISTED_KEYS
    return f"{shown} ... and {more} more ({len(keys)} in all)" if more > 0 else shown


def match_state_dict(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor]) -> StateDictMatch:
    """Sort a state dict's keys against a module by name and shape, without reading or writing any value.

    Works on modules whose tensors live on the meta device.

    Args:
        module: the module the tensors are meant for.
        state_dict: key -> tensor, e.g. from :func:`extract_state_dict`.

    Returns:
        The loadable tensors and the missing, unexpected and size-mismatched keys.
    """
    loadable: dict[str, torch.Tensor] = {}
    missing: list[str] = []
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    expected = module.state_dict(keep_vars=True)
    for key, target in expected.items():
        if key not in state_dict:
            missing.append(key)
        elif state_dict[key].shape == target.shape:
            loadable[key] = state_dict[key]
        else:
            mismatched.append((key, tuple(state_dict[key].shape), tuple(target.shape)))
    return StateDictMatch(
        loadable=loadable,
        missing=tuple(key for key in missing if not key.endswith("num_batches_tracked")),
        unexpected=tuple(key for key in state_dict if key not in expected),
        mismatched=tuple(mismatched),
    )


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
