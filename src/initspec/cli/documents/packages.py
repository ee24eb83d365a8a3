"""Where an installed package keeps its configs, found without importing the package."""

from __future__ import annotations

import importlib.util
import os
from functools import cache
from pathlib import Path

__all__ = ["config_root", "module_file"]


def config_root(package: str, child: Path) -> Path | None:
    """The config folder ``pkg::path`` bases resolve against: the installed package's ``.mim/configs``.

    When the package is not installed but ``child`` lies inside an unpacked copy of it
    (``.../<package>/.mim/configs/...``), that copy's folder is used, as mmengine would find it installed.
    """
    installed = _package_dir(package)
    if installed is not None:
        for candidate in (installed / ".mim" / "configs", installed / "configs"):
            if candidate.is_dir():
                return candidate
    for folder in Path(os.path.realpath(child)).parents:
        if folder.name == "configs" and folder.parent.name == ".mim" and folder.parent.parent.name == package:
            return folder
    return None


def module_file(child: Path, name: str, level: int) -> Path | None:
    """The ``.py`` file a ``read_base()`` import names: ``..x.y`` relative to ``child``, or ``pkg.configs.x``."""
    parts = [part for part in name.split(".") if part]
    if level:
        folder = child.parent
        for _ in range(level - 1):
            folder = folder.parent
    else:
        if not parts:
            return None
        installed = _package_dir(parts[0])
        if installed is None:
            return None
        folder, parts = installed, parts[1:]
    target = folder.joinpath(*parts)
    for candidate in (target.with_suffix(".py") if parts else None, target / "__init__.py"):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


@cache
def _package_dir(package: str) -> Path | None:
    if not package.isidentifier():
        return None
    try:
        spec = importlib.util.find_spec(package)  # a top-level name: found on sys.path, never imported
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
