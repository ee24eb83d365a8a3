"""``--format json``: the counts and every finding, each with its fix (or null), for scripts."""

from __future__ import annotations

import json
from typing import TextIO

from initspec.cli.findings import Diagnostic, Results

__all__ = ["as_dict", "finding", "write"]


def finding(diagnostic: Diagnostic) -> dict[str, object]:
    """One finding: code, file, 1-based line and col, key path, message, and ``fix`` (or None)."""
    d = diagnostic
    return {
        "code": d.code,
        "file": d.file,
        "line": d.line,
        "col": d.col,
        "location": d.location,
        "message": d.message,
        "fix": d.fix.as_dict() if d.fix else None,
    }


def as_dict(results: Results) -> dict[str, object]:
    return {
        "files": results.files,
        "configs": results.configs,
        "errors": [finding(d) for d in results.of("error")],
        "warnings": [finding(d) for d in results.of("warning")],
        "skipped": [finding(d) for d in results.of("note")],
        "coverage": results.coverage.as_dict(),
    }


def write(results: Results, out: TextIO) -> None:
    json.dump(as_dict(results), out, indent=2)  # ASCII escapes: safe for any input on any stream
    out.write("\n")
