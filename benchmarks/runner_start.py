"""mmengine's ``Runner.train()`` to its first iteration, stock against initspec, with ``load_from`` (issue #22).

    python benchmarks/runner_start.py            # mmdet RetinaNet R-50 FPN, 5 runs per side, interleaved
    python benchmarks/runner_start.py --smoke    # one run per side: checks that it runs

The case is ``scripts/real/runner_case.py``: mmdet's ``retinanet_r50_fpn_1x_coco.py`` built on the CPU, its
backbone's ``Pretrained`` checkpoint (a ResNet-50 state_dict written by the script) served from a loopback
HTTP server, so the download is part of what is timed, and ``load_from`` a whole-model checkpoint holding
every tensor, written as mmengine writes one. Each run builds a fresh ``Runner`` (not timed) with an empty
download cache, then times ``runner.train()`` until the ``before_train_iter`` hook of the first iteration.

- ``stock``: mmengine as installed: init downloads and loads the backbone and draws the rest, then the
  Runner loads ``load_from`` over all of it;
- ``initspec``: ``initspec.mmengine.install()`` (default ``skip_overwritten=True``): the Runner's checkpoint
  is read ahead, so nothing is downloaded and nothing it supplies is drawn.

Needs mmdet (``bash scripts/real/install.sh``). Prints each side's median, their ratio, and the requests each
run made to the server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts" / "real"))

import runner_case  # (installs the stand-ins before torch, mmengine and mmdet are imported)
import torch


def _one(side: str, work: Path, url: str, requests: list[str]) -> tuple[float, int]:
    runner_case.side(side)
    run = runner_case.runner(work, url)
    before = len(requests)
    start = time.perf_counter()
    runner_case.train_to_first_iteration(run)
    return time.perf_counter() - start, len(requests) - before


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="one run per side")
    repeats = 1 if parser.parse_args(argv).smoke else 5
    runner_case.setup()
    times: dict[str, list[float]] = {"stock": [], "initspec": []}
    asked: dict[str, list[int]] = {"stock": [], "initspec": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runner_case.prepare(work)
        with runner_case.serve(work / "served") as (base, requests):
            for _ in range(repeats):
                for side in ("stock", "initspec"):  # interleaved, so drift hits both sides alike
                    seconds, made = _one(side, work, f"{base}/{runner_case.BACKBONE}", requests)
                    times[side].append(seconds)
                    asked[side].append(made)
    runner_case.side("stock")
    stock, ours = statistics.median(times["stock"]), statistics.median(times["initspec"])
    print(
        f"Runner.train() to the first iteration, mmdet {runner_case.CONFIG}, load_from covering every tensor"
    )
    print(f"median of {repeats}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    for side in ("stock", "initspec"):
        runs = ", ".join(f"{t:.2f}" for t in times[side])
        print(f"  {side:<9} {statistics.median(times[side]):7.2f} s  (runs: {runs}; requests: {asked[side]})")
    print(f"  ratio     {stock / ours:7.2f}x  (stock / initspec)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
