"""A finding of the ``initspec`` command as data: where it is, what it says, its code and its fix.

The emitters in ``initspec.cli.emit`` read these and nothing else; so does the language server.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, TypeAlias

from initspec._errors import Fix, Problem, format_loc
from initspec.cli._coverage import RunCoverage
from initspec.cli._edits import TextFix, fix_edits, syntax_of
from initspec.cli.documents import Document, DocumentError, Loc, Notice, Skipped, location_of

__all__ = [
    "Diagnostic",
    "Results",
    "Severity",
    "Sources",
    "cfg_value",
    "display_path",
    "document_error",
    "notice_diagnostic",
    "plural",
    "problem_diagnostic",
    "skipped_note",
    "unchecked_note",
]

Severity: TypeAlias = Literal["error", "warning", "note"]
Sources: TypeAlias = Callable[[Path], "str | None"]
"""The text of a config file (an editor's unsaved buffer, or the file on disk), or None if unreadable."""

SCHEMA_KEY: Final = "$schema"


@dataclass(frozen=True)
class Diagnostic:
    """One finding, located at ``file:line:col``; ``location`` is the key path in the config, if any.

    ``anchor`` is the line of the ``init_cfg`` the finding is about, where a suppression comment also works.
    """

    severity: Severity
    code: str
    file: str
    line: int
    col: int
    location: str | None
    message: str
    anchor: int | None = field(default=None, compare=False)
    fix: TextFix | None = field(default=None, compare=False)

    @property
    def where(self) -> str:
        """``location: `` before the message, or nothing for a finding about a whole file."""
        return f"{self.location}: " if self.location else ""


@dataclass
class Results:
    """What a ``validate`` run found: counts, diagnostics in order (duplicates dropped), unreadable files."""

    files: int = 0
    configs: int = 0
    suppressed: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    coverage: RunCoverage = field(default_factory=RunCoverage)  # init_cfg sites checked or noted, per file
    _seen: set[Diagnostic] = field(default_factory=set, init=False, repr=False)

    def add(self, diagnostic: Diagnostic) -> None:
        # A base config's problem is found again through every child that inherits it: report it once.
        if diagnostic not in self._seen:
            self._seen.add(diagnostic)
            self.diagnostics.append(diagnostic)

    def of(self, severity: Severity) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == severity]

    def exit_code(self) -> int:
        """1 when anything is an error, else 0 (2 is for usage errors, decided before any file is read)."""
        return 1 if self.of("error") else 0

    def summary(self) -> str:
        """``checked 12 files, 30 init_cfgs: 2 errors, 1 warning`` (and notes, when there are any)."""
        counts = [plural(len(self.of("error")), "error"), plural(len(self.of("warning")), "warning")]
        if notes := len(self.of("note")):
            counts.append(plural(notes, "note"))
        if self.suppressed:
            counts.append(f"{self.suppressed} suppressed")
        return (
            f"checked {plural(self.files, 'file')}, {plural(self.configs, 'init_cfg')}: {', '.join(counts)}"
        )


def cfg_value(loc: Loc, raw: object) -> object:
    """The init_cfg to parse: a root-level ``$schema`` key (for editors) is dropped from a root config."""
    if loc == () and isinstance(raw, dict) and SCHEMA_KEY in raw:
        return {key: value for key, value in raw.items() if key != SCHEMA_KEY}
    return raw


def problem_diagnostic(
    severity: Severity,
    doc: Document,
    cfg_loc: Loc,
    raw: object,
    problem: Problem,
    sources: Sources | None = None,
) -> Diagnostic:
    """Locate a problem of the init_cfg at ``cfg_loc`` in ``doc``: the file and line of the offending key.

    With ``sources``, a problem's ``fix`` becomes text edits on that file (when the text is as expected).
    """
    loc = _as_written(raw, problem.loc)
    path, line, col = location_of(doc, (*cfg_loc, *loc))
    location = format_loc(loc, _dotted(cfg_loc) or "init_cfg")
    anchor = location_of(doc, cfg_loc)
    same_file = anchor[0] == path
    fix = _text_fix(doc, cfg_loc, raw, problem.fix, path, sources) if problem.fix and sources else None
    return Diagnostic(
        severity,
        problem.code,
        display_path(path),
        line,
        col,
        location,
        problem.message,
        anchor[1] if same_file else None,
        fix,
    )


def _text_fix(
    doc: Document, cfg_loc: Loc, raw: object, fix: Fix, path: Path, sources: Sources
) -> TextFix | None:
    """The fix as edits on ``path``, the file of the finding; None when its key is not where it is written."""
    full = (*cfg_loc, *_as_written(raw, fix.loc))
    at = doc.positions.get(full)
    syntax = syntax_of(path.suffix)
    if at is None or syntax is None or doc.origins.get(full, doc.path) != path:
        return None
    text = sources(path)
    return fix_edits(fix, text, at, syntax) if text is not None else None


def skipped_note(doc: Document, piece: Skipped) -> Diagnostic:
    """A note for a piece of a ``.py`` config that was left out because it needs running code."""
    path = display_path(piece.file or doc.path)
    location = _dotted(piece.path) or None
    return Diagnostic("note", "IS501", path, piece.line, piece.col, location, f"skipped: {piece.reason}")


def unchecked_note(doc: Document, loc: Loc) -> Diagnostic:
    """A note for an init_cfg left unchecked because a value inside it was skipped."""
    path, line, col = location_of(doc, loc)
    message = "not checked: a value inside it is only known when the config runs (see the skipped note)"
    return Diagnostic("note", "IS502", display_path(path), line, col, _dotted(loc) or "init_cfg", message)


def notice_diagnostic(doc: Document, notice: Notice) -> Diagnostic:
    """A reader's or the loader's notice (a bad ``_base_``, a YAML 1.1 reading) as a finding."""
    location = _dotted(notice.loc) or None if notice.loc else None
    path = display_path(notice.file or doc.path)
    return Diagnostic(notice.severity, notice.code, path, notice.line, notice.col, location, notice.message)


def document_error(err: DocumentError) -> Diagnostic:
    """An unreadable or unparseable file, at its position when known (else line 1, column 1)."""
    return Diagnostic(
        "error", err.code, display_path(err.path), err.line or 1, err.col or 1, None, err.message
    )


def display_path(path: Path) -> str:
    """The path as the user gave it, with ``a/../b`` steps of ``_base_`` entries folded."""
    return os.path.normpath(path)


def _dotted(loc: Loc) -> str:
    """``model.heads[0].init_cfg`` for a key path; empty for the root."""
    return format_loc(loc, "").removeprefix(".")


def _as_written(raw: object, loc: Loc) -> Loc:
    """Drop the index a single dict gets as a one-item list: ``init_cfg[0].std`` -> ``init_cfg.std``."""
    kept: list[str | int] = []
    node = raw
    for part in loc:
        if isinstance(part, int) and isinstance(node, dict) and part not in node:
            continue
        kept.append(part)
        node = _child(node, part)
    return tuple(kept)


def _child(node: object, part: str | int) -> object:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def plural(number: int, noun: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
