"""Cases S and D counted instead of timed: bytecode instructions and function calls per block or level.

Wall time on a shared machine moves by a few percent between runs, which hides a change of a few percent. The
number of bytecode instructions a run executes is the same on every run (for one Python and torch version), so
this script counts them, with ``sys.settrace``'s opcode events, for one ``init_weights`` on each model and for the
plain ``torch.nn.init`` loop over its layers, and prints them per block (S) or level (D), then the functions that
execute the most. On D, initspec's time per level beyond the draws was measured at about 9 ns per instruction
(docs/performance.md), so the counts say where a run's Python time goes and how far it is from the plain loop.

Usage::

    PYTHONPATH=src python benchmarks/bytecode.py [--top N] [--smoke]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _models import INITSPEC, blocks, chain, linears, plain_init, reset_init
from torch import nn


def count(fn: Callable[[], object]) -> tuple[Counter[str], int]:
    """The bytecode instructions ``fn()`` executes, by function (``file:name``), and the Python calls it makes."""
    ops: Counter[str] = Counter()
    calls = 0

    def trace(frame: FrameType, event: str, _arg: Any) -> Callable[..., Any]:
        nonlocal calls
        if event == "call":
            calls += 1
            frame.f_trace_opcodes, frame.f_trace_lines = True, False
        elif event == "opcode":
            code = frame.f_code
            ops[f"{Path(code.co_filename).name}:{code.co_name}"] += 1
        return trace

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return ops, calls


def per_unit(model: nn.Module, units: int) -> dict[str, tuple[Counter[str], int]]:
    """The counts of one ``init_weights`` (after a first, uncounted run) and of the plain loop."""
    model.init_weights()
    reset_init(model)
    layers = linears(model)
    return {"initspec": count(model.init_weights), "plain": count(lambda: plain_init(layers))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=12, help="functions to list per case (default 12)")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny models: the test suite's check that it runs"
    )
    args = parser.parse_args(argv)
    n, depth = (20, 10) if args.smoke else (2000, 100)
    cases = {
        f"S ({n} blocks of Linear(64,64)), per block": (blocks(INITSPEC, n=n, width=64), n),
        f"D (chain of depth {depth}, Linear(64,64)), per level": (
            chain(INITSPEC, depth=depth, width=64),
            depth,
        ),
    }
    print(f"Python {sys.version.split()[0]}; counts are per block or level, one run each\n")
    print("| case | contender | instructions | Python calls | instructions / plain |")
    print("|---|---|---|---|---|")
    tops = {}
    for label, (model, units) in cases.items():
        counted = per_unit(model, units)
        plain = sum(counted["plain"][0].values())
        for who, (ops, calls) in counted.items():
            total = sum(ops.values())
            print(f"| {label} | {who} | {total / units:.0f} | {calls / units:.1f} | {total / plain:.2f} |")
        tops[label] = counted["initspec"][0]
    for label, ops in tops.items():
        units = cases[label][1]
        print(f"\ninitspec's {args.top} busiest functions, {label}:")
        for name, ops_in in ops.most_common(args.top):
            print(f"  {ops_in / units:7.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
