"""What the run prints and saves: the machine, the exact command, the Markdown tables and the raw JSON."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

import torch
from _memory import TARGET_RATIO, MemoryRow
from _models import load_mmengine
from _timing import Row

SCALE = {"s": 1.0, "ms": 1e3, "µs": 1e6}


def machine() -> dict[str, Any]:
    """The CPU, cores, versions, torch's thread count and the load when the run started."""
    flavour, why = load_mmengine()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "mmengine": flavour.name if flavour else why,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def command_line() -> str:
    return shlex.join(["python", *sys.argv])


def names() -> dict[str, str]:
    flavour, _ = load_mmengine()
    return {
        "initspec": "initspec (default)",
        "initspec_exact": "initspec skip_overwritten=False",
        "mmengine": flavour.name if flavour else "mmengine",
        "plain": "plain torch loop",
        "plain_walk": "plain loop over model.modules()",
        "interpreter": "`python -c pass` (startup floor)",
    }


def markdown(rows: list[Row], memory: list[MemoryRow], info: dict[str, Any], command: str, mode: str) -> str:
    """The report: machine and command, the timing table, notes, then the memory table."""
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), Python {info['python']}, "
        f"torch {info['torch']} with {info['torch_threads']} threads, {info['mmengine']}; "
        f"load average at start {_load(info)}.",
        f"Command: `{command}` (mode: {mode})",
        "",
        "| case | contender | median | min–max | ratio to plain | target | met? |",
        "|---|---|---|---|---|---|---|",
        *(_timing_line(row) for row in rows),
    ]
    notes = _notes(rows)
    if notes:
        lines += ["", "Notes:", *notes]
    if memory:
        lines += ["", *_memory_table(memory)]
    return "\n".join(lines)


def _notes(rows: list[Row]) -> list[str]:
    """One line per distinct note; a note shared by several rows (mmengine missing) is listed once."""
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        if row.note:
            grouped.setdefault(row.note, []).append(row)
    lines = []
    for note, group in grouped.items():
        first = group[0]
        where = f"{first.label} / {names()[first.contender]}"
        if len(group) > 1:
            where = f"{', '.join(dict.fromkeys(r.case for r in group))} / {names()[first.contender]}"
        lines.append(f"- {where}: {note}")
    return lines


def _load(info: dict[str, Any]) -> str:
    load = info.get("load_average")
    return " / ".join(f"{x:.2f}" for x in load) if load else "unknown"


def _timing_line(row: Row) -> str:
    name = names()[row.contender]
    if row.status != "ok":
        return f"| {row.label} | {name} | {row.status} | | | | |"
    scale = SCALE[row.unit]
    median = f"{row.median * scale:.3g} {row.unit}"
    spread = f"{min(row.samples) * scale:.3g}–{max(row.samples) * scale:.3g}"
    ratio = f"{row.ratio:.2f}" if row.ratio is not None else "—"
    met = {None: "", True: "yes", False: "**no**"}[row.met]
    return f"| {row.label} | {name} | {median} | {spread} | {ratio} | {row.target} | {met} |"


def _memory_table(memory: list[MemoryRow]) -> list[str]:
    first = memory[0]
    lines = [
        f"Peak RSS added by initializing {first.n}×Linear({first.width},{first.width}) (W), each in a fresh "
        "process (VmHWM after − before):",
        "",
        "| contender | model | added peak RSS | added / model | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for row in memory:
        name = names()[row.contender]
        if row.status != "ok":
            lines.append(f"| {name} | {row.status}: {row.note} | | | | |")
            continue
        target = f"< {TARGET_RATIO}" if row.met is not None else ""
        met = {None: "", True: "yes", False: "**no**"}[row.met]
        lines.append(
            f"| {name} | {row.model_bytes / 2**20:.0f} MiB | {row.added_bytes / 2**20:.2f} MiB "
            f"| {row.ratio:.4f} | {target} | {met} |"
        )
    return lines


def write_json(path: Path, rows: list[Row], memory: list[MemoryRow], info: dict[str, Any], mode: str) -> None:
    data = {
        "command": command_line(),
        "mode": mode,
        "machine": info,
        "results": [row.to_json() for row in rows],
        "memory": [row.to_json() for row in memory],
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
