"""One emitter per output format of ``initspec validate``; each reads ``initspec.cli.findings`` only."""

from __future__ import annotations

from typing import Literal, TextIO, TypeAlias

from initspec.cli.emit import github, json, sarif, text
from initspec.cli.findings import Results

__all__ = ["Format", "emit"]

Format: TypeAlias = Literal["text", "json", "github", "sarif"]


def emit(results: Results, fmt: Format, out: TextIO, err: TextIO) -> None:
    """Print the findings to ``out`` in ``fmt``; text and github also print the summary to ``err``."""
    if fmt == "json":
        json.write(results, out)
    elif fmt == "sarif":
        sarif.write(results, out)
    else:
        (github if fmt == "github" else text).write(results, out)
        text.write_summary(results, err)
