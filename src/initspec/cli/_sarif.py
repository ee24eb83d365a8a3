"""``--format sarif``: the findings as a SARIF 2.1.0 log, which GitHub code scanning reads."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Final

from initspec.cli._codes import CODES

if TYPE_CHECKING:
    from initspec.cli._output import Diagnostic

__all__ = ["sarif_log"]

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


def _result(diagnostic: Diagnostic, rule_index: int) -> dict[str, object]:
    where = f"{diagnostic.location}: " if diagnostic.location else ""
    return {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": diagnostic.severity,
        "message": {"text": where + diagnostic.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": PurePath(diagnostic.file).as_posix()},
                    "region": {"startLine": diagnostic.line, "startColumn": diagnostic.col},
                }
            }
        ],
    }
