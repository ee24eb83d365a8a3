"""Diagnostics of the ``initspec`` command and the text, JSON and GitHub forms they are printed in."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, TextIO, TypeAlias

from initspec._errors import Problem, format_loc
from initspec.cli._coverage import RunCoverage
from initspec.cli.documents import Document, DocumentError, Loc, Notice, Skipped, location_of

__all__ = [
    "Diagnostic",
    "Format",
    "Results",
    "Severity",
    "cfg_value",
    "display_path",
    "document_error",
    "emit",
    "notice_diagnostic",
    "problem_diagnostic",
    "skipped_note",
    "unchecked_note",
]

Severity: TypeAlias = Literal["error", "warning", "note"]
Format: TypeAlias = Literal["text", "json", "github", "sarif"]

SCHEMA_KEY: Final = "$schema"
_GITHUB_COMMANDS: Final[dict[Severity, str]] = {"error": "error", "warning": "warning", "note": "notice"}


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

    def text(self) -> str:
        """``path:line:col: severity: CODE location: message``, the shape editors and CI logs link."""
        where = f"{self.location}: " if self.location else ""
        return f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.code} {where}{self.message}"

    def github(self) -> str:
        """A GitHub Actions workflow command, which annotates the line in the pull request."""
        where = f"{self.location}: " if self.location else ""
        props = f"file={_escape_property(self.file)},line={self.line},col={self.col},title={self.code}"
        return f"::{_GITHUB_COMMANDS[self.severity]} {props}::{_escape_data(where + self.message)}"

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "location": self.location,
            "message": self.message,
        }

    def with_severity(self, severity: Severity) -> Diagnostic:
        return Diagnostic(
            severity, self.code, self.file, self.line, self.col, self.location, self.message, self.anchor
        )


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
        counts = [_count(len(self.of("error")), "error"), _count(len(self.of("warning")), "warning")]
        if notes := len(self.of("note")):
            counts.append(_count(notes, "note"))
        if self.suppressed:
            counts.append(f"{self.suppressed} suppressed")
        return (
            f"checked {_count(self.files, 'file')}, {_count(self.configs, 'init_cfg')}: {', '.join(counts)}"
        )


def emit(results: Results, fmt: Format, out: TextIO, err: TextIO) -> None:
    """Print the diagnostics to ``out`` in ``fmt``; text and github also print the summary to ``err``."""
    if fmt in ("json", "sarif"):
        from initspec.cli._sarif import sarif_log

        json.dump(_as_json(results) if fmt == "json" else sarif_log(results.diagnostics), out, indent=2)
        out.write("\n")
        return
    for diagnostic in results.diagnostics:
        print(diagnostic.github() if fmt == "github" else diagnostic.text(), file=out)
    print(results.summary(), file=err)


def _as_json(results: Results) -> dict[str, object]:
    return {
        "files": results.files,
        "configs": results.configs,
        "errors": [d.as_dict() for d in results.of("error")],
        "warnings": [d.as_dict() for d in results.of("warning")],
        "skipped": [d.as_dict() for d in results.of("note")],
        "coverage": results.coverage.as_dict(),
    }


def cfg_value(loc: Loc, raw: object) -> object:
    """The init_cfg to parse: a root-level ``$schema`` key (for editors) is dropped from a root config."""
    if loc == () and isinstance(raw, dict) and SCHEMA_KEY in raw:
        return {key: value for key, value in raw.items() if key != SCHEMA_KEY}
    return raw


def problem_diagnostic(
    severity: Severity, code: str, doc: Document, cfg_loc: Loc, raw: object, problem: Problem
) -> Diagnostic:
    """Locate a problem of the init_cfg at ``cfg_loc`` in ``doc``: the file and line of the offending key."""
    loc = _as_written(raw, problem.loc)
    path, line, col = location_of(doc, (*cfg_loc, *loc))
    location = format_loc(loc, _dotted(cfg_loc) or "init_cfg")
    anchor = location_of(doc, cfg_loc)
    same_file = anchor[0] == path
    return Diagnostic(
        severity,
        code,
        display_path(path),
        line,
        col,
        location,
        problem.message,
        anchor[1] if same_file else None,
    )


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


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
