"""What each checked document said about each file, so one document's new findings replace only its own.

A child config reports its base's problems in the base file; the base, open itself, reports them too. Each
file shows the union of what every open document says about it, each finding once.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from initspec.cli._edits import TextFix

__all__ = ["Board", "Entry"]


@dataclass(frozen=True)
class Entry:
    """One published diagnostic and the fix it offers."""

    diagnostic: types.Diagnostic
    fix: TextFix | None


class Board:
    """Findings by target file URI, then by the document whose check found them."""

    def __init__(self) -> None:
        self._said: dict[str, dict[str, list[Entry]]] = {}

    def replace(self, source: str, found: dict[str, list[Entry]]) -> set[str]:
        """Set what ``source`` says now; returns every URI whose diagnostics may have changed."""
        touched = {target for target, by in self._said.items() if source in by} | set(found)
        for target in touched:
            self._said.setdefault(target, {}).pop(source, None)
        for target, entries in found.items():
            self._said[target][source] = entries
        return touched

    def forget(self, source: str) -> set[str]:
        """Drop all ``source`` said (it was closed); returns the URIs to publish again."""
        return self.replace(source, {})

    def entries(self, target: str) -> list[Entry]:
        """The union for ``target``: each finding once, in the order first said."""
        seen: set[tuple[object, ...]] = set()
        found: list[Entry] = []
        for entries in self._said.get(target, {}).values():
            for entry in entries:
                diagnostic = entry.diagnostic
                start, end = diagnostic.range.start, diagnostic.range.end
                key = (
                    start.line,
                    start.character,
                    end.line,
                    end.character,
                    diagnostic.code,
                    diagnostic.message,
                )
                if key not in seen:
                    seen.add(key)
                    found.append(entry)
        return found
