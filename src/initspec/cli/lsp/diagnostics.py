"""The validate engine on editor buffers: findings of an open document (and of its bases) as LSP data.

Every open buffer is an overlay of the loader, so a child sees its base as typed, unsaved. A finding in a
base file is shown in that base; what each checked document says about each file is kept apart, so closing
or re-checking one document replaces exactly what it said.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from lsprotocol import types

from initspec.cli._settings import Settings, SettingsError, find_settings
from initspec.cli._validate import Options, check
from initspec.cli.documents import SUFFIXES, Limits, Loader
from initspec.cli.documents._bases import file_key
from initspec.cli.findings import Diagnostic, Results
from initspec.cli.lsp.positions import Encoding, diagnostic_range

__all__ = ["SOURCE", "Checked", "Checker", "as_text", "to_lsp"]

SOURCE: Final = "initspec"
_SEVERITY: Final = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "note": types.DiagnosticSeverity.Information,
}


def as_text(buffer: str) -> str:
    """A buffer as the readers see a file: no BOM, ``\\n`` line ends."""
    return buffer.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class Checked:
    """One check of one document: the findings per file (absolute paths) and every file it read."""

    by_file: dict[Path, list[Diagnostic]] = field(default_factory=dict)
    deps: frozenset[Path] = frozenset()


class Checker:
    """Runs ``check`` on one path with the open buffers as overlay and ``[tool.initspec]`` honoured."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    def check(self, path: Path, buffers: Mapping[Path, str]) -> Checked:
        """The findings of ``path`` (its buffer in ``buffers``, else the file), with the other buffers read
        instead of their files; a buffer over the byte cap is refused with one finding, and never read.
        """
        key = file_key(path)
        settings, problem = self._settings(path)
        if problem is not None:
            return Checked({key: [problem]})
        max_bytes = (settings.max_bytes if settings else None) or self.limits.max_bytes
        size = _size(buffers.get(key, ""))
        if size > max_bytes:
            return Checked({key: [_too_big(key, size, max_bytes)]})
        if path.suffix.lower() not in SUFFIXES:
            return Checked()
        run, limits = self.runner(path)
        overlay = {file: text for file, text in buffers.items() if _size(text) <= max_bytes}
        loader = Loader(limits, overlay)
        return Checked(_by_file(run(loader), key), _deps(loader, key))

    def runner(self, path: Path) -> tuple[Callable[[Loader], Results], Limits]:
        """One validate run on ``path`` through a given loader, and the limits its loaders must have."""
        key = file_key(path)
        settings = self._settings(path)[0] or Settings(root=key.parent)
        max_bytes = settings.max_bytes or self.limits.max_bytes
        options = Options(max_bytes=max_bytes)
        return (lambda loader: check([key], loader, settings, options)), Limits(max_bytes=max_bytes)

    def _settings(self, path: Path) -> tuple[Settings | None, Diagnostic | None]:
        try:
            return find_settings(path.parent), None
        except SettingsError as error:
            return None, Diagnostic("error", "IS001", str(path), 1, 1, None, f"[tool.initspec]: {error}")


def _by_file(results: Results, own: Path) -> dict[Path, list[Diagnostic]]:
    found: dict[Path, list[Diagnostic]] = {own: []}
    for diagnostic in results.diagnostics:
        found.setdefault(file_key(Path(diagnostic.file)), []).append(diagnostic)
    return found


def _deps(loader: Loader, key: Path) -> frozenset[Path]:
    """Every file ``key`` reads through its ``_base_`` chain."""
    seen: set[Path] = set()
    todo = [key]
    while todo:
        for dep in loader.deps_of(todo.pop()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return frozenset(seen)


def _size(text: str) -> int:
    """The buffer's size in UTF-8 bytes, as the byte cap counts a file's."""
    return len(text.encode("utf-8", "surrogatepass"))


def _too_big(path: Path, size: int, max_bytes: int) -> Diagnostic:
    message = (
        f"not checked: the buffer is {size:,} bytes, over the {max_bytes:,}-byte cap; "
        "raise max-bytes in [tool.initspec] to check it"
    )
    return Diagnostic("error", "IS001", os.fspath(path), 1, 1, None, message)


def to_lsp(diagnostic: Diagnostic, lines: list[str], encoding: Encoding) -> types.Diagnostic:
    """One finding as an LSP diagnostic over the token it starts at; its fix rides along in ``data``."""
    message = f"{diagnostic.where}{diagnostic.message}"
    data = diagnostic.fix.as_dict() if diagnostic.fix is not None else None
    return types.Diagnostic(
        range=diagnostic_range(lines, diagnostic.line, diagnostic.col, encoding),
        message=message,
        severity=_SEVERITY[diagnostic.severity],
        code=diagnostic.code,
        source=SOURCE,
        data=data,
    )
