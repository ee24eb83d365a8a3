"""``--format github``: GitHub Actions workflow commands, which annotate the lines of a pull request."""

from __future__ import annotations

from typing import Final, TextIO

from initspec.cli.emit.text import write_line
from initspec.cli.findings import Diagnostic, Results, Severity

__all__ = ["command", "write"]

_COMMANDS: Final[dict[Severity, str]] = {"error": "error", "warning": "warning", "note": "notice"}


def command(diagnostic: Diagnostic) -> str:
    """``::error file=…,line=…,col=…,title=CODE::message`` for one finding."""
    d = diagnostic
    props = f"file={_escape_property(d.file)},line={d.line},col={d.col},title={d.code}"
    return f"::{_COMMANDS[d.severity]} {props}::{_escape_data(d.where + d.message)}"


def write(results: Results, out: TextIO) -> None:
    for diagnostic in results.diagnostics:
        write_line(command(diagnostic), out)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
