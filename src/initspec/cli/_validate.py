"""``initspec validate``: check every ``init_cfg`` in config files without running them or importing torch."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final, TextIO

from initspec._errors import InitConfigError
from initspec.cli._documents import Document, DocumentError, Loc, Skipped, find_init_cfgs, load_document
from initspec.cli._output import (
    Diagnostic,
    Format,
    Results,
    Severity,
    cfg_value,
    display_path,
    document_error,
    emit,
    problem_diagnostic,
    skipped_note,
    unchecked_note,
)
from initspec.configs import INITIALIZERS
from initspec.registry import lint_init_cfg, parse_init_cfg

__all__ = ["CONFIG_SUFFIXES", "UsageError", "find_config_files", "run_validate", "skipped_inside"]

CONFIG_SUFFIXES: Final = frozenset({".json", ".yaml", ".yml", ".toml", ".py"})
_SKIPPED_DIRS: Final = frozenset({"node_modules", "__pycache__"})


class UsageError(Exception):
    """The command line asks for something that cannot be done (exit code 2)."""


def run_validate(paths: Sequence[str], *, fmt: Format, strict: bool, out: TextIO, err: TextIO) -> int:
    """Validate the init_cfgs in ``paths``, print what was found, and return the exit code (0, 1 or 2)."""
    try:
        files = find_config_files(paths)
    except UsageError as error:
        print(f"initspec validate: error: {error}", file=err)
        return 2
    results = Results()
    for path in files:
        _check_file(path, strict, results)
    emit(results, fmt, out, err)
    return results.exit_code()


def find_config_files(paths: Sequence[str]) -> list[Path]:
    """The files named in ``paths``, with directories searched for config files; each file once, in order.

    A directory search skips hidden files and directories, ``node_modules`` and ``__pycache__``. A file named
    directly is always checked, whatever its name.

    Raises:
        UsageError: a path does not exist.
    """
    missing = [path for path in paths if not os.path.exists(path)]
    if missing:
        names = ", ".join(map(repr, missing))
        msg = f"no such file or directory: {names}; pass config files or directories that contain them"
        raise UsageError(msg)
    found: dict[Path, None] = {}
    for name in paths:
        path = Path(name)
        found.update(dict.fromkeys(_walk(path) if path.is_dir() else [path]))
    return list(found)


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in CONFIG_SUFFIXES:
                yield Path(folder, name)


def _check_file(path: Path, strict: bool, results: Results) -> None:
    results.files += 1
    try:
        doc = load_document(path)
    except DocumentError as error:
        results.unreadable += 1
        results.add(document_error(error))
        return
    found = [skipped_note(doc, piece) for piece in doc.skipped if "init_cfg" in piece.path]
    for loc, raw in find_init_cfgs(doc.data):
        if loc == () and not _plausible_root(raw):
            continue
        results.configs += 1
        if skipped_inside(doc, loc):  # checking it would report the left-out values as missing
            found.append(unchecked_note(doc, loc))
        else:
            found += _check_cfg(doc, loc, cfg_value(loc, raw), strict)
    own = display_path(path)  # the file's own lines first, then those in its _base_ configs
    for diagnostic in sorted(found, key=lambda d: (d.file != own, d.file, d.line, d.col)):
        results.add(diagnostic)


def _plausible_root(raw: object) -> bool:
    """Whether a root with a ``type`` key is an init_cfg, not some other file (``package.json`` has a type).

    It is when a ``type`` is a registered initializer, or when it uses some initializer's argument names.
    """
    items = raw if isinstance(raw, list) else [raw]
    keys = {key for item in items if isinstance(item, dict) for key in item} - {"type", "$schema"}
    types = {item.get("type") for item in items if isinstance(item, dict)}
    known = {name for cls in map(INITIALIZERS.get, INITIALIZERS.names) if cls for name in cls.model_fields}
    return bool(types & set(INITIALIZERS.names)) or bool(keys & known)


def skipped_inside(doc: Document, loc: Loc) -> list[Skipped]:
    """The pieces of ``doc`` left out (they need running code) from inside the value at ``loc``."""
    return [piece for piece in doc.skipped if len(piece.path) > len(loc) and piece.path[: len(loc)] == loc]


def _check_cfg(doc: Document, loc: Loc, raw: object, strict: bool) -> list[Diagnostic]:
    try:
        cfgs = parse_init_cfg(raw)
    except InitConfigError as error:
        return [problem_diagnostic("error", doc, loc, raw, problem) for problem in error.problems]
    severity: Severity = "error" if strict else "warning"
    return [problem_diagnostic(severity, doc, loc, raw, problem) for problem in lint_init_cfg(cfgs)]
