"""``--format github``: GitHub Actions workflow commands, which annotate the lines of a pull request."""

from __future__ import annotations

from typing import Final, TextIO

from initspec.cli.emit.text import write_line
from initspec.cli.findings import Diagnostic, Results, Severity

__all__ = ["command", "escape_data", "escape_property", "write"]

_COMMANDS: Final[dict[Severity, str]] = {"error": "error", "warning": "warning", "note": "notice"}


def command(diagnostic: Diagnostic) -> str:
    """``::error file=…,line=…,col=…,title=CODE::message`` for one finding."""
    d = diagnostic
    props = f"file={escape_property(d.file)},line={d.line},col={d.col},title={d.code}"
    return f"::{_COMMANDS[d.severity]} {props}::{escape_data(d.where + d.message)}"


def write(results: Results, out: TextIO) -> None:
    for diagnostic in results.diagnostics:
        write_line(command(diagnostic), out)


def escape_data(text: str) -> str:
    """A workflow command's message, with the characters GitHub reads as syntax escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``file=``), escaped like a message and for ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
