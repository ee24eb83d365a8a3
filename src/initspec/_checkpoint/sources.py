"""Where a checkpoint comes from: a path, a ``file://`` or ``http(s)://`` URL, or a model-zoo name.

Model-zoo names (``torchvision://``, ``open-mmlab://``, ``mmcls://``) are looked up in the JSON tables shipped
in ``initspec/hub/``, with ``$INITSPEC_HOME/open_mmlab.json`` and ``$INITSPEC_HOME/mmcls.json`` merged over
mmengine's; URLs are downloaded into ``$INITSPEC_HOME/checkpoints`` (default
``torch.hub.get_dir()/checkpoints``) by ``download``.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import torch.hub

from initspec._checkpoint.download import download_timeout, fetch
from initspec._checkpoint.formats import format_problem
from initspec._errors import CheckpointError, did_you_mean, short_repr

__all__ = ["download_target", "download_url", "resolve"]

_HUB_SCHEMES: Final[dict[str, str]] = {
    "torchvision://": "torchvision",
    "open-mmlab://": "open_mmlab",
    "openmmlab://": "open_mmlab",
    "mmcls://": "mmcls",
}
_USER_TABLES: Final = ("open_mmlab", "mmcls")
"""The tables a user file ``$INITSPEC_HOME/<table>.json`` is merged over, as mmengine's ``$MMENGINE_HOME``."""


def resolve(source: str, timeout: float | None) -> Path:
    """Turn a source into a local file path, downloading it when needed."""
    for scheme, table in _HUB_SCHEMES.items():
        if source.startswith(scheme):
            return _resolve_location(_hub_url(table, scheme, source[len(scheme) :]), timeout)
    return _resolve_location(source, timeout)


def download_target(source: str) -> Path | None:
    """Where the download of ``source`` (a URL or a model-zoo name) is cached; ``None`` for a local source.

    Nothing is fetched; an unknown model-zoo name (or a URL with no file name) gives ``None`` too, so that
    resolving it later raises the error that explains it.
    """
    for scheme, table in _HUB_SCHEMES.items():
        if source.startswith(scheme):
            try:
                source = _hub_url(table, scheme, source[len(scheme) :])
            except CheckpointError:
                return None
            break
    if not source.startswith(("http://", "https://")):
        return None
    filename = _file_name(source)
    return _home() / "checkpoints" / filename if filename else None


def download_url(source: str) -> str | None:
    """The URL ``source`` downloads from (a model-zoo name looked up); ``None`` when it is no download.

    Raises ``CheckpointError`` for an unknown model-zoo name, as resolving it would.
    """
    for scheme, table in _HUB_SCHEMES.items():
        if source.startswith(scheme):
            return _hub_url(table, scheme, source[len(scheme) :])
    return source if source.startswith(("http://", "https://")) else None


def _resolve_location(location: str, timeout: float | None) -> Path:
    if location.startswith(("http://", "https://")):
        return _download(location, timeout)
    if location.startswith("file://"):
        parsed = urlparse(location)
        if parsed.netloc not in ("", "localhost"):
            msg = (
                f"refusing checkpoint URL {short_repr(location)}: a file:// URL names a file on this machine, "
                f"so its host must be empty or localhost, not {short_repr(parsed.netloc)}; use file:///path"
            )
            raise CheckpointError(msg)
        return Path(url2pathname(parsed.path))
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
    if table in _USER_TABLES:
        user_path = _home() / f"{table}.json"
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


def _download(url: str, timeout: float | None) -> Path:
    """Download ``url`` into the cache once (verified first); later calls check and reuse the cached file."""
    filename = _file_name(url)
    if filename is None:
        msg = (
            f"cannot download checkpoint {short_repr(url)}: the last segment of its path is "
            f"{short_repr(_last_segment(url))}, not a file name; end the URL with the file's name "
            "(https://host/path/model.pth). Nothing was requested"
        )
        raise CheckpointError(msg)
    target = _home() / "checkpoints" / filename
    return fetch(url, target, timeout=download_timeout(timeout), verify=format_problem)


def _last_segment(url: str) -> str:
    return urlparse(url).path.rsplit("/", 1)[-1]


def _file_name(url: str) -> str | None:
    """The cache file name of ``url``: the last segment of its path, or ``None`` when that names no file.

    ``http://host/good/`` (empty), ``http://host/x/..`` and ``http://host/x/.`` (also percent-encoded) name
    a folder, so they are refused before any request.
    """
    segment = _last_segment(url)
    return None if unquote(segment) in ("", ".", "..") else segment
