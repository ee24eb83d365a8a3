"""initspec's benchmarks (issue #7): each case against mmengine and a plain torch loop, interleaved.

Run ``python benchmarks/run.py`` for the full run (a few minutes), ``--quick`` while developing (under a
minute), ``--smoke`` for tiny sizes (the test suite's check that every case runs), and ``--json PATH`` to
keep the raw samples. See docs/performance.md for what each case measures and the targets.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from _cases import Sizes, case_deep, case_overlap, case_shallow, case_wide
from _memory import measure_memory
from _micro import case_parse, case_validate
from _report import command_line, machine, markdown, write_json
from _targets import judge
from _timing import Row

THREADS = 2
MODES = {
    "full": Sizes(
        repeats=10,
        wide=(200, 1024),
        shallow=(2000, 64),
        depths=(25, 50, 100),
        overlap=(200, 512),
        parse_seconds=0.05,
        files=200,
        memory=(200, 1024),
    ),
    "quick": Sizes(
        repeats=3,
        wide=(50, 1024),
        shallow=(1000, 64),
        depths=(25, 50, 100),
        overlap=(50, 512),
        parse_seconds=0.01,
        files=200,
        memory=(20, 1024),
    ),
    "smoke": Sizes(  # every case and contender, as small as possible: what the test suite runs
        repeats=1,
        wide=(20, 128),
        shallow=(20, 64),
        depths=(5, 10, 20),
        overlap=(20, 64),
        parse_seconds=0.001,
        files=20,
        memory=(20, 256),
        memory_contenders=("initspec",),
    ),
}
CASES: dict[str, Callable[[Sizes], list[Row]]] = {
    "W": case_wide,
    "S": case_shallow,
    "D": case_deep,
    "O": case_overlap,
    "P": case_parse,
    "V": case_validate,
}
ALL_CASES = (*CASES, "M")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    torch.set_num_threads(THREADS)
    sizes, info, start = MODES[args.mode], machine(), time.perf_counter()
    rows: list[Row] = []
    for key in (k for k in CASES if k in args.cases):
        print(f"[{time.perf_counter() - start:5.1f} s] case {key}", file=sys.stderr, flush=True)
        rows += CASES[key](sizes)
    judge(rows)
    memory = []
    if "M" in args.cases:
        print(f"[{time.perf_counter() - start:5.1f} s] memory", file=sys.stderr, flush=True)
        memory = measure_memory(*sizes.memory, sizes.memory_contenders)
    print(markdown(rows, memory, info, command_line(), f"{args.mode}, {sizes.repeats} repeats"))
    print(f"[{time.perf_counter() - start:5.1f} s] done", file=sys.stderr)
    if args.json:
        write_json(args.json, rows, memory, info, args.mode)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick", dest="mode", action="store_const", const="quick", help="3 repeats, smaller W/S/O"
    )
    mode.add_argument(
        "--smoke", dest="mode", action="store_const", const="smoke", help="tiny sizes, one repeat"
    )
    parser.set_defaults(mode="full")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the raw results to PATH")
    parser.add_argument(
        "--cases", type=_cases, default=ALL_CASES, help=f"comma-separated subset of {','.join(ALL_CASES)}"
    )
    return parser


def _cases(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip().upper() for part in text.split(",") if part.strip())
    unknown = [c for c in chosen if c not in ALL_CASES]
    if unknown:
        msg = f"unknown case(s) {', '.join(unknown)}; choose from {','.join(ALL_CASES)}"
        raise argparse.ArgumentTypeError(msg)
    return chosen


if __name__ == "__main__":
    raise SystemExit(main())
