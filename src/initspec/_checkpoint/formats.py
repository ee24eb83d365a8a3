"""Reading one checkpoint file: its format told from its first bytes, then ``torch.load`` or safetensors.

The content decides the reader, not the suffix: ``model.SAFETENSORS`` and safetensors data saved as ``.pth``
are both read as safetensors, and an HTML page saved under a checkpoint's name is reported as a web page.
"""

from __future__ import annotations

import json
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Final, Literal

import torch

from initspec._errors import CheckpointError, short_repr

__all__ = ["check_map_location", "describe_content", "format_problem", "read_file", "sniff"]

Kind = Literal["torch-zip", "pickle", "safetensors", "html", "text", "empty", "unknown"]

_HEAD: Final = 512
_MAX_SAFETENSORS_HEADER: Final = 100_000_000  # the safetensors library's own limit
_HTML_STARTS: Final = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<!--", b"<title", b"<h1")
MapLocation = str | torch.device | None


def sniff(path: Path) -> Kind:
    """The format of the file at ``path``, from its first bytes (and, for safetensors, its header)."""
    with path.open("rb") as file:
        head = file.read(_HEAD)
    if not head:
        return "empty"
    if (
        _safetensors_header_size(head, path.stat().st_size) is not None
    ):  # first: its length may look like pickle
        return "safetensors"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "torch-zip"
    if head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(_HTML_STARTS):
        return "html"
    if _looks_like_text(head):
        return "text"
    return "unknown"


def _safetensors_header_size(head: bytes, size: int) -> int | None:
    if len(head) < 10:
        return None
    (length,) = struct.unpack("<Q", head[:8])
    if 2 <= length <= min(_MAX_SAFETENSORS_HEADER, size - 8) and head[8:9] == b"{":
        return int(length)
    return None


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def format_problem(path: Path) -> str | None:
    """Why the file at ``path`` is not a checkpoint in a known format, or ``None`` when it is one.

    It checks structure, not values: a torch zip's directory and its ``data.pkl``, or a safetensors header
    whose tensors end exactly at the end of the file. Both catch a truncated file.
    """
    kind = sniff(path)
    if kind == "torch-zip":
        return _zip_problem(path)
    if kind == "safetensors":
        return _safetensors_problem(path)
    if kind == "pickle":
        return None
    return describe_content(kind, path)


def describe_content(kind: Kind, path: Path) -> str:
    """A phrase for a file that is not a checkpoint: ``is an HTML page, not a checkpoint (...)``."""
    if kind == "html":
        return "is an HTML page, not a checkpoint (a server's error or login page, perhaps); check the URL"
    if kind == "empty":
        return "is empty, not a checkpoint"
    with path.open("rb") as file:
        head = file.read(40)
    what = (
        "text"
        if kind == "text"
        else "in no checkpoint format initspec knows (torch zip or pickle, safetensors)"
    )
    return f"is {what}, not a checkpoint; it starts with {short_repr(head)}"


def _zip_problem(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        return f"is a damaged or truncated zip archive ({err}), not a readable torch checkpoint"
    if not any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
        return "is a zip archive without data.pkl, so not a file saved by torch.save"
    return None


def _safetensors_problem(path: Path) -> str | None:
    size = path.stat().st_size
    with path.open("rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        raw = file.read(length)
    try:
        header = json.loads(raw)
        ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as err:
        return (
            f"has a damaged safetensors header ({type(err).__name__}), so it is truncated or not safetensors"
        )
    if max(ends, default=0) != size - 8 - length:
        return f"is a truncated safetensors file: its header describes {max(ends, default=0)} bytes of data"
    return None


def check_map_location(map_location: object) -> None:
    """Refuse a ``map_location`` that is not a device, or names a device this machine lacks."""
    if map_location is None or callable(map_location) or isinstance(map_location, dict):
        return
    if not isinstance(map_location, str | torch.device):
        msg = f"bad map_location {short_repr(map_location)}: expected a device such as 'cpu' or 'cuda:0'"
        raise CheckpointError(msg)
    try:
        device = torch.device(map_location)
    except (RuntimeError, ValueError) as err:
        msg = (
            f"bad map_location {short_repr(map_location)}: it is not a device ({err}); "
            "use 'cpu', 'cuda', 'cuda:0', 'mps' or 'meta'"
        )
        raise CheckpointError(msg) from err
    module = getattr(torch, device.type, None)
    available = getattr(module, "is_available", None)
    if device.type not in ("cpu", "meta") and callable(available) and not available():
        msg = f"bad map_location {short_repr(map_location)}: no {device.type} device is available here; use 'cpu'"
        raise CheckpointError(msg)


def read_file(path: Path, map_location: MapLocation, allow_unsafe_pickle: bool) -> object:
    """Load the file at ``path`` by its content: safetensors, or ``torch.load`` (``weights_only`` unless allowed)."""
    if not path.is_file():
        where = "is not a regular file" if path.exists() else "can not be found"
        msg = f"checkpoint file {path} {where}; check the path (relative paths start at {Path.cwd()})"
        raise CheckpointError(msg)
    kind = sniff(path)
    if kind == "safetensors" or (kind == "unknown" and path.suffix.lower() == ".safetensors"):
        return _read_safetensors(path, map_location)
    if kind in ("html", "text", "empty"):
        msg = f"checkpoint file {path} {describe_content(kind, path)}"
        raise CheckpointError(msg)
    try:
        with path.open("rb") as file:  # a file object: torch.load would pick a reader by the path's suffix
            return torch.load(file, map_location=map_location, weights_only=not allow_unsafe_pickle)
    except pickle.UnpicklingError as err:
        if kind == "unknown":  # torch.load's weights-only unpickler blames any junk on "unsafe" objects
            msg = f"checkpoint file {path} {describe_content(kind, path)}"
            raise CheckpointError(msg) from err
        if not allow_unsafe_pickle and "weights only" in str(err).lower():
            raise _unsafe_pickle_error(path) from err
        raise _unreadable(path, err) from err
    except Exception as err:
        raise _unreadable(path, err) from err


def _read_safetensors(path: Path, map_location: MapLocation) -> object:
    try:
        from safetensors.torch import load_file
    except ImportError as err:
        msg = f'reading {path} (safetensors data) needs the safetensors package: pip install "initspec[safetensors]"'
        raise CheckpointError(msg) from err
    device = map_location if isinstance(map_location, str | torch.device) else "cpu"
    try:
        return load_file(path, device=str(device))
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
        f"checkpoint file {path} could not be read ({type(err).__name__}: {short_repr(str(err))}); it may be "
        "truncated or corrupt: download or save it again"
    )
    return CheckpointError(msg)
