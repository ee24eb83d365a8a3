"""``python -m initspec`` and the ``initspec`` console script: the command, as a process of its own."""

from __future__ import annotations

from initspec.cli import main
from initspec.cli._gc import skip_teardown


def console() -> int:
    """Run the command on ``sys.argv`` and return its exit code; the process's exit frees what it built."""
    code = main()
    skip_teardown()
    return code


if __name__ == "__main__":
    raise SystemExit(console())
