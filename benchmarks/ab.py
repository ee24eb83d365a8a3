"""Case D (or S) timed for two versions of initspec in one process: the working tree against a git revision.

Between runs of ``run.py`` the ratio of the same code moves by about 5% on a shared machine, which hides a
change of a few percent. Here the revision's ``src/initspec`` is copied out of git and renamed
``initspec_base``, so both versions import side by side; one model is built from each, and the two
``init_weights`` and the plain loop are timed in rotation, each sample after ``gc.collect()`` (as ``run.py``
does). The spread of new/old between runs is about ±1% at 601 samples.

``--warm`` leaves out the ``gc.collect()``: after one, the interpreter's free lists are empty and the caches
cold, which costs allocation-heavy code more than the plain loop. ``--loop SECONDS`` instead runs only the working tree's ``init_weights`` in that loop, for a sampling profiler
(docs/performance.md)::

    py-spy record -r 1500 -f raw -o profile.txt -- python benchmarks/ab.py --loop 60

Usage::

    python benchmarks/ab.py [--base REV | --base-dir SRC] [--case D|S] [--samples N] [--warm] [--smoke]
"""

from __future__ import annotations

import argparse
import gc
import io
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _models import INITSPEC, Flavour, blocks, chain, linears, plain_init, reset_init
from _timing import Contender, round_robin
from torch import nn

HERE = Path(__file__).resolve().parent


def copy_base(rev: str, src: Path | None, into: Path) -> Flavour:
    """Import ``src/initspec`` at git revision ``rev`` (or the ``initspec`` in folder ``src``) as the package
    ``initspec_base``."""
    package = into / "initspec_base"
    if src is not None:
        shutil.copytree(src / "initspec", package, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        archive = subprocess.run(
            ["git", "archive", rev, "src/initspec"], cwd=HERE.parent, capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(into, filter="data")
        (into / "src" / "initspec").rename(package)
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"\binitspec\b", "initspec_base", text), encoding="utf-8")
    sys.path.insert(0, str(into))
    import initspec_base  # type: ignore[import-not-found]

    return Flavour("base", initspec_base.BaseModule, initspec_base.ModuleList, initspec_base.initialize)


def build(case: str, flavour: Flavour, size: int) -> nn.Module:
    return chain(flavour, depth=size, width=64) if case == "D" else blocks(flavour, n=size, width=64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="the git revision to compare with (default HEAD)")
    parser.add_argument("--base-dir", type=Path, help="compare with the initspec in this folder instead")
    parser.add_argument("--case", choices=("D", "S"), default="D")
    parser.add_argument("--samples", type=int, default=601)
    parser.add_argument("--loop", type=float, metavar="SECONDS", help="only run the working tree's code")
    parser.add_argument("--warm", action="store_true", help="no gc.collect() before each sample")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check that it runs")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    size = (5 if args.case == "D" else 20) if args.smoke else (100 if args.case == "D" else 2000)
    samples = 3 if args.smoke else args.samples
    new = build(args.case, INITSPEC, size)
    if args.loop is not None:
        end = time.monotonic() + args.loop
        while time.monotonic() < end:
            reset_init(new)
            gc.collect()
            new.init_weights()
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        old = build(args.case, copy_base(args.base, args.base_dir, Path(tmp)), size)
        contenders = [
            Contender("plain", partial(plain_init, linears(new)), partial(reset_init, new)),
            Contender("new", new.init_weights, partial(reset_init, new)),
            Contender("old", old.init_weights, partial(reset_init, old)),
        ]
        times = round_robin(contenders, samples, collect=not args.warm)
    median = {key: statistics.median(values) for key, values in times.items()}
    unit = "level" if args.case == "D" else "block"
    after = "a reset" if args.warm else "a reset and gc.collect()"
    print(
        f"case {args.case}, {size} {unit}s, {samples} samples each after {after}, old = {args.base_dir or args.base}"
    )
    print(f"| contender | µs per {unit} | ratio to plain |")
    print("|---|---|---|")
    for key, seconds in median.items():
        print(f"| {key} | {seconds / size * 1e6:.2f} | {seconds / median['plain']:.3f} |")
    print(f"new / old: {median['new'] / median['old']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
