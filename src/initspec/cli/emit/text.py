"""``--format text``: ``path:line:col: severity: CODE location: message``, the shape editors and CI logs link."""

from __future__ import annotations

from typing import TextIO

from initspec.cli.findings import Diagnostic, Results

__all__ = ["line", "safe", "write", "write_line", "write_summary"]


def line(diagnostic: Diagnostic) -> str:
    """One finding on one line."""
    d = diagnostic
    return f"{d.file}:{d.line}:{d.col}: {d.severity}: {d.code} {d.where}{d.message}"


def write(results: Results, out: TextIO) -> None:
    for diagnostic in results.diagnostics:
        write_line(line(diagnostic), out)


def write_summary(results: Results, err: TextIO) -> None:
    """The counts, and how many findings ``--fix`` would fix when there are any."""
    write_line(results.summary(), err)
    fixable = sum(1 for diagnostic in results.diagnostics if diagnostic.fix)
    if fixable:
        write_line(f"{fixable} fixable with `initspec validate --fix` (preview with --diff)", err)


def safe(text: str, stream: TextIO) -> str:
    """``text`` as ``stream`` can encode it: what it cannot (a lone surrogate, say) is backslash-escaped."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        encoding = encoding if _known(encoding) else "utf-8"
        return text.encode(encoding, "backslashreplace").decode(encoding)
    return text


def write_line(text: str, stream: TextIO) -> None:
    print(safe(text, stream), file=stream)


def _known(encoding: str) -> bool:
    try:
        "".encode(encoding)
    except LookupError:
        return False
    return True
