"""The error of a command line that asks for something that cannot be done: every command exits 2 on it."""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """The command line asks for something that cannot be done (exit code 2)."""
