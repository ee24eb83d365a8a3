"""Cases S and D as CPU-time ratios to the plain ``torch.nn.init`` loop, for machines too loaded for wall time.

``run.py`` times wall-clock medians; on a shared machine whose load average is several times its core count,
the plain loop's own time varies by 2-3x between runs, so a ratio of two wall medians says little. This
script times the same models (built by ``_models``) with ``time.process_time``, interleaving initspec and
the plain loop, and prints each side's median and their ratio.

Usage::

    PYTHONPATH=src python benchmarks/cpu_ratio.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _models import INITSPEC, blocks, chain, linears, plain_init, reset_init
from torch import nn


def cpu_ratio(model: nn.Module, repeats: int) -> tuple[float, float, float]:
    """Median CPU ms of ``model.init_weights()`` and of the plain loop over its layers, and their ratio."""
    model.init_weights()
    reset_init(model)
    layers = linears(model)
    ours, plain = [], []
    for _ in range(repeats):
        start = time.process_time()
        model.init_weights()
        ours.append(time.process_time() - start)
        reset_init(model)
        start = time.process_time()
        plain_init(layers)
        plain.append(time.process_time() - start)
    a, b = statistics.median(ours), statistics.median(plain)
    return a * 1e3, b * 1e3, a / b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    cases = {
        "S (2000 blocks of Linear(64,64))": blocks(INITSPEC, n=2000, width=64),
        "D (chain of depth 100, Linear(64,64))": chain(INITSPEC, depth=100, width=64),
    }
    for label, model in cases.items():
        ours, plain, ratio = cpu_ratio(model, args.repeats if label.startswith("S") else 2 * args.repeats)
        print(f"{label}: initspec {ours:.2f} ms CPU, plain loop {plain:.2f} ms CPU, ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
