"""``python -m initspec``: the ``initspec`` command without the console script on PATH."""

from __future__ import annotations

from initspec.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
