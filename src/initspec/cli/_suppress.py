"""Suppressions, in ruff's conventions: ``# initspec: ignore[CODE]`` on a line, and per-file ignores."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from initspec.cli._settings import Settings
from initspec.cli.documents import Loader
from initspec.cli.findings import Diagnostic, Results, display_path

__all__ = ["apply_suppressions"]


def apply_suppressions(results: Results, loader: Loader, settings: Settings, *, strict: bool) -> None:
    """Drop the suppressed findings; under ``strict``, report each suppression that suppressed nothing.

    An inline comment works on the finding's own line and on the line of the ``init_cfg`` it is about.
    """
    used: set[tuple[Path, int, str | None]] = set()
    kept: list[Diagnostic] = []
    for diagnostic in results.diagnostics:
        key = _key(diagnostic.file)
        if _ignored_by_settings(diagnostic, settings) or _ignored_inline(diagnostic, key, loader, used):
            results.suppressed += 1
        else:
            kept.append(diagnostic)
    results.diagnostics = kept
    if strict:
        for unused in _unused(loader, used):
            results.add(unused)


def _ignored_by_settings(diagnostic: Diagnostic, settings: Settings) -> bool:
    codes = settings.ignored_codes(Path(diagnostic.file))
    return diagnostic.code in codes or "ALL" in codes


def _ignored_inline(
    diagnostic: Diagnostic, key: Path, loader: Loader, used: set[tuple[Path, int, str | None]]
) -> bool:
    ignores = loader.ignores.get(key, {})
    for line in dict.fromkeys((diagnostic.line, diagnostic.anchor)):
        if line is None or line not in ignores:
            continue
        codes = ignores[line]
        if codes is None or diagnostic.code in codes:
            used.add((key, line, None if codes is None else diagnostic.code))
            return True
    return False


def _unused(loader: Loader, used: set[tuple[Path, int, str | None]]) -> list[Diagnostic]:
    found = []
    for key, lines in loader.ignores.items():
        for line, codes in lines.items():
            idle = [None] if codes is None else sorted(codes)
            for code in idle:
                if (key, line, code) not in used:
                    what = (
                        "`# initspec: ignore`" if code is None else f"`{code}` in `# initspec: ignore[...]`"
                    )
                    message = f"unused suppression: {what} suppresses nothing on this line; remove it"
                    found.append(Diagnostic("error", "IS901", display_path(key), line, 1, None, message))
    return found


@cache
def _key(file: str) -> Path:
    return Path(file).resolve()
