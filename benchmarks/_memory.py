"""M: the peak RSS each contender's ``initialize`` adds on W, each measured in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _models import load_mmengine

PROBE = Path(__file__).with_name("_memprobe.py")
CONTENDERS = ("initspec", "initspec_exact", "mmengine", "plain")
TARGET_RATIO = 0.1
"""Added peak RSS over model bytes: one layer's temporary is 1/n; a second copy of the weights would be 1."""


@dataclass
class MemoryRow:
    """What one contender's initialization added to the peak RSS of a process holding the model."""

    contender: str
    n: int
    width: int
    model_bytes: int = 0
    added_bytes: int = 0
    status: str = "ok"
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.added_bytes / self.model_bytes if self.model_bytes else float("nan")

    @property
    def met(self) -> bool | None:
        return (
            self.ratio < TARGET_RATIO
            if self.status == "ok" and self.contender.startswith("initspec")
            else None
        )

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "ratio": self.ratio if self.status == "ok" else None, "met": self.met}


def measure_memory(n: int, width: int, contenders: Sequence[str] = CONTENDERS) -> list[MemoryRow]:
    """One fresh process per contender, all started at once (peak RSS is per process, so they do not mix)."""
    rows = [MemoryRow(contender, n, width) for contender in contenders]
    running = [(row, _start(row)) for row in rows]
    for row, process in running:
        _finish(row, process)
    return rows


def _start(row: MemoryRow) -> subprocess.Popen[str] | None:
    if row.contender == "mmengine" and load_mmengine()[0] is None:
        row.status, row.note = "skipped", load_mmengine()[1]
        return None
    command = [sys.executable, str(PROBE), row.contender, str(row.n), str(row.width)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(row: MemoryRow, process: subprocess.Popen[str] | None) -> None:
    if process is None:
        return
    out, err = process.communicate()
    if process.returncode != 0:
        row.status = "unavailable"
        row.note = (err.strip().splitlines() or [f"exit {process.returncode}"])[-1]
        return
    data = json.loads(out.strip().splitlines()[-1])
    row.model_bytes, row.added_bytes = data["model_bytes"], data["added_bytes"]
