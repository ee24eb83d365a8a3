"""``python -m initspec`` and the ``initspec`` console script: the command, as a process of its own."""

from __future__ import annotations

import sys

from initspec.cli import main
from initspec.cli._gc import skip_teardown

INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""


def console() -> int:
    """Run the command on ``sys.argv`` and return its exit code; the process's exit frees what it built.

    Ctrl-C ends it with one line on stderr and exit code 130, not a traceback.
    """
    try:
        code = main()
    except KeyboardInterrupt:
        print("initspec: interrupted", file=sys.stderr)
        code = INTERRUPTED
    skip_teardown()
    return code


if __name__ == "__main__":
    raise SystemExit(console())
