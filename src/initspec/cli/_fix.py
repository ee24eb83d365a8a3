"""``initspec validate --fix`` and ``--diff``: apply every finding's fix, as ruff does, and keep the rest.

Fixes are applied in memory, round after round (a fixed ``type`` can reveal a misspelt key of that type),
through the loader's overlay, so ``--diff`` shows exactly what ``--fix`` writes. A file is written only when
its bytes outside the edits come back unchanged: its BOM and line endings are kept.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final, Literal, TextIO, TypeAlias

from initspec.cli._edits import Edit, apply_edits
from initspec.cli.documents import Limits, Loader
from initspec.cli.emit import Format, emit
from initspec.cli.emit.text import write_line
from initspec.cli.findings import Results, plural

__all__ = ["MAX_ROUNDS", "FixMode", "fixed_texts", "run_fixes"]

FixMode: TypeAlias = Literal["apply", "diff"]
Check: TypeAlias = Callable[[Loader], Results]

MAX_ROUNDS: Final = 10
"""Rounds of fixing at most; each round fixes what the last one revealed, and a run stops when none is left."""
_NEWLINE: Final = re.compile(r"\r\n|\r|\n")


def fixed_texts(
    check: Check, limits: Limits, start: Mapping[Path, str] | None = None
) -> tuple[dict[Path, str], dict[Path, int]]:
    """The text of every file a fix changes (as the readers see it), and how many fixes each took.

    ``start`` is read instead of the files (an editor's unsaved buffers).
    """
    overlay: dict[Path, str] = dict(start or {})
    made: dict[Path, int] = {}
    for _ in range(MAX_ROUNDS):
        loader = Loader(limits, overlay)
        edits: dict[Path, list[Edit]] = {}
        for diagnostic in check(loader).diagnostics:
            if diagnostic.fix is not None:
                edits.setdefault(Path(diagnostic.file), []).extend(diagnostic.fix.edits)
        progress = False
        for path, file_edits in edits.items():
            text, count = apply_edits(loader.source(path), file_edits)
            if count:
                overlay[path], made[path] = text, made.get(path, 0) + count
                progress = True
        if not progress:
            break
    return overlay, made


def run_fixes(check: Check, limits: Limits, mode: FixMode, fmt: Format, out: TextIO, err: TextIO) -> int:
    """Apply (``--fix``) or show (``--diff``) every fix; the exit code follows what remains, or the diff.

    What remains is read back from the files as written, so a file left alone reports its findings.
    """
    overlay, made = fixed_texts(check, limits)
    changed = {path: new for path, text in overlay.items() if (new := _as_on_disk(path, text)) is not None}
    for path in sorted(set(overlay) - set(changed)):
        write_line(
            f"{path}: not fixed: its line endings are mixed, so it cannot be rewritten byte for byte", err
        )
    fixes = plural(sum(made[path] for path in changed), "problem")
    if mode == "diff":
        for path, new in changed.items():
            out.write("".join(_diff(path, new)))
        write_line(f"would fix {fixes} in {plural(len(changed), 'file')}", err)
        return 1 if changed else 0
    for path, new in changed.items():
        _write(path, new)
    results = check(Loader(limits))
    emit(results, fmt, out, err)
    write_line(f"fixed {fixes} in {plural(len(changed), 'file')}", err)
    return results.exit_code()


def _as_on_disk(path: Path, text: str) -> str | None:
    """``text`` with the file's own BOM and line ending, or None when those cannot be restored exactly."""
    original = path.read_bytes().decode("utf-8")
    bom = "\ufeff" if original.startswith("\ufeff") else ""
    body = original[len(bom) :]
    endings = set(_NEWLINE.findall(body))
    if len(endings) > 1:
        return None
    newline = endings.pop() if endings else "\n"
    return bom + text.replace("\n", newline)


def _diff(path: Path, new: str) -> list[str]:
    old = path.read_bytes().decode("utf-8")
    name = path.as_posix()
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}"
    )
    return [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines]


def _write(path: Path, text: str) -> None:
    """Replace the file in one step, keeping its permission bits."""
    mode = path.stat().st_mode & 0o7777
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".initspec-fix")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
