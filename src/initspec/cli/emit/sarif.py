"""``--format sarif``: the findings as a SARIF 2.1.0 log, which GitHub code scanning reads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath
from typing import Final, TextIO

from initspec.cli._codes import CODES
from initspec.cli._edits import TextFix
from initspec.cli.findings import Diagnostic, Results

__all__ = ["sarif_log", "write"]

SARIF_SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"


def sarif_log(diagnostics: Sequence[Diagnostic]) -> dict[str, object]:
    """One run of the ``initspec`` tool: a rule per code used, a result per finding."""
    from initspec import __version__

    used = sorted({d.code for d in diagnostics})
    rules = [_rule(code) for code in used]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "initspec",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(d, used.index(d.code)) for d in diagnostics],
            }
        ],
    }


def _rule(code: str) -> dict[str, object]:
    known = CODES[code]
    return {
        "id": code,
        "shortDescription": {"text": known.summary},
        "defaultConfiguration": {"level": known.severity},
    }


def write(results: Results, out: TextIO) -> None:
    json.dump(sarif_log(results.diagnostics), out, indent=2)  # ASCII escapes: safe for any input
    out.write("\n")


def _result(diagnostic: Diagnostic, rule_index: int) -> dict[str, object]:
    uri = PurePath(diagnostic.file).as_posix()
    result: dict[str, object] = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": diagnostic.severity,
        "message": {"text": diagnostic.where + diagnostic.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": diagnostic.line, "startColumn": diagnostic.col},
                }
            }
        ],
    }
    if diagnostic.fix:
        result["fixes"] = [_fix(diagnostic.fix, uri)]
    return result


def _fix(fix: TextFix, uri: str) -> dict[str, object]:
    """A SARIF ``fix``: one artifact change whose replacements are the edits (columns in code points)."""
    replacements = [
        {
            "deletedRegion": {
                "startLine": edit.line,
                "startColumn": edit.col,
                "endLine": edit.end_line,
                "endColumn": edit.end_col,
            },
            "insertedContent": {"text": edit.text},
        }
        for edit in fix.edits
    ]
    return {
        "description": {"text": fix.title},
        "artifactChanges": [{"artifactLocation": {"uri": uri}, "replacements": replacements}],
    }
