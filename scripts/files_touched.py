"""How many of initspec's source files one ``initialize`` call runs code in (issue 25's "files one config
passes through").

The call is ``initialize(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), dict(type='Normal', layer='Linear'))``.
A first call on another model does the lazy imports; the second is traced with ``sys.settrace``, and every
file under the imported ``initspec`` package whose code runs is counted.

Usage::

    PYTHONPATH=src python scripts/files_touched.py [--list]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from torch import nn

import initspec


def touched() -> list[str]:
    """The initspec source files (relative to the package) whose code runs in one ``initialize`` call."""
    root = Path(initspec.__file__).resolve().parent
    files: set[str] = set()

    def tracer(frame: FrameType, event: str, arg: Any) -> None:
        path = frame.f_code.co_filename
        if path.startswith(str(root)):
            files.add(str(Path(path).relative_to(root)))

    def model() -> nn.Module:
        return nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))

    initspec.initialize(model(), dict(type="Normal", layer="Linear"))  # imports everything it needs
    target = model()
    sys.settrace(tracer)  # type: ignore[arg-type]  # a call tracer that never traces lines
    try:
        initspec.initialize(target, dict(type="Normal", layer="Linear"))
    finally:
        sys.settrace(None)
    return sorted(files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the files, one a line")
    args = parser.parse_args()
    files = touched()
    print(f"{len(files)} files of {Path(initspec.__file__).parent}")
    if args.list:
        print("\n".join(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
