"""Run in a fresh process: the peak RSS one contender's initialization adds over a wide model's own size.

Usage: ``python benchmarks/_memprobe.py CONTENDER N WIDTH``; prints one JSON object.
"""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Callable

import torch
from _models import INITSPEC, kaiming, linears, load_mmengine, plain_init, wide
from torch import nn


def peak_rss_kib() -> int:
    """The process's peak resident set size so far (VmHWM, else ``ru_maxrss``), in KiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def initializer(contender: str) -> Callable[[nn.Module], object]:
    """What ``contender`` runs on a model (see ``_memory.CONTENDERS``)."""
    if contender == "initspec":
        return lambda model: INITSPEC.initialize(model, kaiming())
    if contender == "initspec_exact":
        return lambda model: INITSPEC.initialize(model, kaiming(), skip_overwritten=False)
    if contender == "mmengine":
        flavour, why = load_mmengine()
        if flavour is None:
            raise SystemExit(why)
        return lambda model: flavour.initialize(model, kaiming())
    return lambda model: plain_init(linears(model))


def main(contender: str, n: int, width: int) -> dict[str, object]:
    torch.set_num_threads(2)
    init = initializer(contender)
    init(wide(1, 8))  # imports and one-time allocations are not the model's cost
    model = wide(n, width)
    model_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    before = peak_rss_kib()
    init(model)
    after = peak_rss_kib()
    added = (after - before) * 1024
    return {
        "model_bytes": model_bytes,
        "peak_before_kib": before,
        "peak_after_kib": after,
        "added_bytes": added,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
