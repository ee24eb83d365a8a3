"""A checkpoint's tensor names and shapes, read without loading its data or running any of its pickled code.

mmengine's ``CheckpointHook`` saves ``meta``, ``message_hub``, optimizer and scheduler state beside the
``state_dict``, which torch's ``weights_only`` loader refuses. This reader unpickles only the archive's record
of objects (a torch zip's ``data.pkl``, or the first pickles of the legacy format) with an unpickler whose
``find_class`` maps torch's tensor-rebuild functions to functions that return a :class:`TensorMeta`, and every
other global to a harmless placeholder: no class or function of the checkpoint is ever imported or called,
and no tensor data is read. A safetensors file gives its header.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

__all__ = ["TensorMeta", "read_shapes", "state_dict_shapes"]

_MAX_RECORD: Final = 512 * 1024 * 1024  # a data.pkl holds names and sizes, never tensor data
_LEGACY_MAGIC: Final = 0x1950A86A20F9469CFC6C


@dataclass(frozen=True)
class TensorMeta:
    """A tensor as a checkpoint records it: its shape, and nothing of its data."""

    shape: tuple[int, ...]


class _Opaque:
    """Stands in for any object the checkpoint pickled other than a tensor or a plain container."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        del args, kwargs

    def __new__(cls, *args: object, **kwargs: object) -> _Opaque:
        del args, kwargs
        return object.__new__(_Opaque)

    def __call__(self, *args: object, **kwargs: object) -> _Opaque:
        return _Opaque()

    def __setstate__(self, state: object) -> None:
        del state

    def __setitem__(self, key: object, value: object) -> None:
        del key, value

    def append(self, value: object) -> None:
        del value

    def extend(self, values: object) -> None:
        del values

    def add(self, value: object) -> None:
        del value


def _tensor(storage: object, offset: object, size: object, *rest: object) -> object:
    return TensorMeta(tuple(int(n) for n in size)) if isinstance(size, tuple) else _Opaque()


def _meta_tensor(dtype: object, size: object, *rest: object) -> object:
    return TensorMeta(tuple(int(n) for n in size)) if isinstance(size, tuple) else _Opaque()


def _parameter(data: object, *rest: object) -> object:
    return data


def _from_type(func: object, new_type: object, args: object, state: object) -> object:
    return func(*args) if callable(func) and isinstance(args, tuple) else _Opaque()


_REBUILDS: Final[dict[tuple[str, str], Callable[..., object]]] = {
    ("torch._utils", "_rebuild_tensor"): _tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _tensor,
    ("torch._utils", "_rebuild_tensor_v3"): _tensor,
    ("torch._utils", "_rebuild_qtensor"): _tensor,
    ("torch._utils", "_rebuild_meta_tensor_no_storage"): _meta_tensor,
    ("torch._utils", "_rebuild_parameter"): _parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _from_type,
    ("collections", "OrderedDict"): OrderedDict,
}


class _Records(pickle.Unpickler):
    """Rebuilds containers, names and tensor shapes; everything else becomes an inert placeholder."""

    def find_class(self, module: str, name: str) -> Any:
        return _REBUILDS.get((module, name), _Opaque)

    def persistent_load(self, pid: Any) -> Any:
        return _Opaque()  # a storage: its data is never read


def read_shapes(path: Path) -> object:
    """The checkpoint at ``path`` as recorded, with :class:`TensorMeta` in place of tensors.

    Raises ``ValueError`` (or ``OSError``) when the file is no torch checkpoint or safetensors file this
    reader understands; nothing in the file is executed either way.
    """
    with path.open("rb") as file:
        head = file.read(16)
        file.seek(0)
        if head.startswith(b"PK\x03\x04"):
            return _zip_records(path)
        if len(head) >= 9 and head[8:9] == b"{":
            return _safetensors_header(file)
        if head[:1] == b"\x80":
            return _legacy_records(file)
    msg = f"{path} is neither a torch checkpoint nor a safetensors file"
    raise ValueError(msg)


def _zip_records(path: Path) -> object:
    with zipfile.ZipFile(path) as archive:
        records = [info for info in archive.infolist() if info.filename.endswith("data.pkl")]
        record = min(records, key=lambda info: info.filename.count("/"), default=None)
        if record is None or record.file_size > _MAX_RECORD:
            msg = f"{path} has no readable data.pkl"
            raise ValueError(msg)
        return _Records(io.BytesIO(archive.read(record))).load()


def _legacy_records(file: IO[bytes]) -> object:
    """torch's pre-1.6 format: magic number, protocol, system info, then the object record."""
    magic = _Records(file).load()
    if magic != _LEGACY_MAGIC:
        msg = "not a torch checkpoint (a plain pickle)"
        raise ValueError(msg)
    _Records(file).load()
    _Records(file).load()
    return _Records(file).load()


def _safetensors_header(file: IO[bytes]) -> object:
    (length,) = struct.unpack("<Q", file.read(8))
    header = json.loads(file.read(min(length, _MAX_RECORD)))
    if not isinstance(header, dict):
        msg = "a safetensors header must be a JSON object"
        raise ValueError(msg)
    return {
        key: TensorMeta(tuple(int(n) for n in value["shape"]))
        for key, value in header.items()
        if key != "__metadata__" and isinstance(value, dict)
    }


def state_dict_shapes(
    checkpoint: object, revise_keys: tuple[tuple[str, str], ...] = ((r"^module\.", ""),)
) -> dict[str, tuple[int, ...]]:
    """The shapes mmengine's ``load_checkpoint`` would offer a model: its ``state_dict`` wrapper unwrapped,
    ``revise_keys`` applied in order (mmengine's default strips ``module.``); entries that are not tensors
    are left out, as they cannot cover a tensor.
    """
    state = checkpoint
    if isinstance(state, Mapping) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        return {}
    keys = [str(k) for k in state]
    for pattern, replacement in revise_keys:
        keys = [re.sub(pattern, replacement, k) for k in keys]
    return {
        key: value.shape
        for key, value in zip(keys, state.values(), strict=True)
        if isinstance(value, TensorMeta)
    }
