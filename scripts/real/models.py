"""Real OpenMMLab models, initialized by stock mmengine and by initspec, compared bit for bit.

Each model is built from a config shipped in its package's wheel (``<pkg>/.mim/configs``). There is no
internet, so every ``Pretrained`` checkpoint in the config (``init_cfg=dict(type='Pretrained', ...)``,
``pretrained='...'``, PVT's free-form ``init_cfg=dict(checkpoint=...)``) is pointed at a file this script
makes: a *prepare* worker (a stock process of its own) builds the model once under another seed and saves, for
every module that holds such a checkpoint, that module's own state_dict (with the config's ``prefix`` put back
on the keys, or the case's ``ckpt_prefix`` where the model's own loading code expects one). Where the
config asks a backbone to convert an upstream checkpoint's key names (``convert_weights=True``), that is turned
off, because the file is already in the model's own key format. A checkpoint that no module ends up holding
is set to ``None`` and counted in ``Result.dropped`` (none is, today). Every side checks afterwards that each
checkpoint tensor really reached the model (the "checkpoint loaded" column).

Then each side runs in its own fresh process (see ``_procs.py``): ``torch.manual_seed(0)`` (and Python's and
NumPy's seeds), build the model, time ``model.init_weights()`` (that call only), save the state_dict. The
parent compares the two files: the same keys, and per tensor the same dtype, shape and bytes. Side ``stock`` is plain mmengine; side ``initspec`` calls
``initspec.mmengine.install(skip_overwritten=False)`` before any model module is built. ``--self-check`` runs
``stock`` on both sides, which proves that a model's initialization is deterministic in this harness.

torchvision's CUDA-only op registrations and mmcv-lite's missing ``mmcv._ext`` are stubbed (see ``_shims.py``);
building and initializing a model never calls those ops.

Usage::

    python scripts/real/models.py [--self-check] [--only NAME[,NAME...]] [--jobs N] [--repeat N] [--spawn]
                                  [--json out.json]

Exit code: 0 when every model is bit-identical, 1 otherwise, 2 when the packages are missing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import BY_NAME, CASES, PACKAGES, Case
from _procs import Spawn, Zygote, once, serve
from _worker import SIDES, bits

__all__ = ["BY_NAME", "CASES", "Result", "missing_packages", "report_runs", "run_cases"]


@dataclass
class Result:
    """One model's outcome: how many tensors are bit-identical, and each side's ``init_weights`` time."""

    name: str
    status: str = "ok"  # ok | differ | error
    identical: int = 0
    total: int = 0
    params: int = 0
    ms: dict[str, float] = field(default_factory=dict)
    checkpoints: list[dict[str, str]] = field(default_factory=list)
    loaded: list[list[int]] = field(default_factory=list)
    dropped: int = 0
    differing: list[str] = field(default_factory=list)
    error: str = ""
    wall_s: float = 0.0

    @property
    def ratio(self) -> float | None:
        a, b = self.ms.get("a"), self.ms.get("b")
        return b / a if a and b else None


def compare_states(path_a: Path, path_b: Path) -> tuple[int, int, list[str]]:
    """(identical, total, differing names): same keys, dtype, shape and bits."""
    import torch

    a = torch.load(path_a, weights_only=True)
    b = torch.load(path_b, weights_only=True)
    differing = sorted(set(a) ^ set(b))
    identical = 0
    for key in a.keys() & b.keys():
        x, y = a[key], b[key]
        if x.dtype == y.dtype and x.shape == y.shape and torch.equal(bits(x), bits(y)):
            identical += 1
        else:
            differing.append(key)
    return identical, len(a.keys() | b.keys()), sorted(differing)


class _Pair:
    """The two workers that one thread of the harness drives: side a and side b."""

    def __init__(self, sides: tuple[str, str], spawn: bool, log: IO[str]) -> None:
        kind = Spawn if spawn else Zygote
        self.a, self.b = kind(sides[0], log), kind(sides[1], log)

    def close(self) -> None:
        self.a.close()
        self.b.close()


def run_case(case: Case, pair: _Pair, workdir: Path, repeat: int) -> Result:
    """Prepare (on side a's worker), then side b, then side a, each in a fresh process; compare; clean up."""
    start = time.perf_counter()
    result = Result(case.name)
    request = {"case": case.name, "ckdir": str(workdir)}
    prep = pair.a.call(request | {"cmd": "prepare"})
    if "error" in prep:
        result.status, result.error = "error", f"prepare: {prep['error']}"
        return result
    result.checkpoints, result.dropped = prep["checkpoints"], len(prep["dropped"])
    outs = {tag: workdir / f"{case.name}.{tag}.pt" for tag in ("a", "b")}
    # Side b first: when initspec.mmengine cannot be imported it fails at once, and side a is not run.
    for tag, worker in (("b", pair.b), ("a", pair.a)):
        got = worker.call(request | {"cmd": "side", "out": str(outs[tag]), "repeat": repeat})
        if "error" in got:
            result.status, result.error = "error", f"{worker.side}: {got['error']}"
            break
        result.ms[tag], result.params = got["init_ms"], got["params"]
        result.loaded = got["loaded"] if tag == "a" else result.loaded
    else:
        result.identical, result.total, result.differing = compare_states(outs["a"], outs["b"])
        result.status = "ok" if result.identical == result.total else "differ"
    for path in [*outs.values(), *workdir.glob(f"{case.name}.*.pth")]:
        path.unlink(missing_ok=True)
    result.wall_s = time.perf_counter() - start
    return result


def _in_threads(
    cases: Sequence[Case], jobs: int, sides: tuple[str, str], spawn: bool, work: Any
) -> list[Any]:
    """``work(case, pair, workdir)`` for every case, ``jobs`` threads each with its own pair of workers."""
    chunks = [list(cases[i::jobs]) for i in range(jobs)]
    with tempfile.TemporaryDirectory(prefix="initspec-real-") as tmp:
        workdir = Path(tmp)

        def chunk(names: list[Case]) -> list[Any]:
            with (workdir / f"workers-{id(names)}.log").open("w") as log:
                pair = _Pair(sides, spawn, log)
                try:
                    return [work(case, pair, workdir) for case in names]
                finally:
                    pair.close()

        with ThreadPoolExecutor(jobs) as pool:
            done = list(pool.map(chunk, chunks))
    by_name = {
        case.name: out
        for names, outs in zip(chunks, done, strict=True)
        for case, out in zip(names, outs, strict=True)
    }
    return [by_name[case.name] for case in cases]


def run_cases(
    cases: Sequence[Case], *, self_check: bool = False, jobs: int = 1, repeat: int = 1, spawn: bool = False
) -> list[Result]:
    """Every case, stock against initspec (or stock against stock with ``self_check``)."""
    sides = ("stock", "stock") if self_check else SIDES
    return _in_threads(
        cases, jobs, sides, spawn, lambda case, pair, workdir: run_case(case, pair, workdir, repeat)
    )


def report_runs(cases: Sequence[Case], *, jobs: int = 1, spawn: bool = False) -> dict[str, dict[str, Any]]:
    """A report run of each case under initspec (its checkpoints prepared by a stock worker)."""

    def one(case: Case, pair: _Pair, workdir: Path) -> dict[str, Any]:
        request = {"case": case.name, "ckdir": str(workdir)}
        prep = pair.a.call(request | {"cmd": "prepare"})
        if "error" in prep:
            return {"error": f"prepare: {prep['error']}"}
        return pair.b.call(request | {"cmd": "report"})

    return dict(zip((c.name for c in cases), _in_threads(cases, jobs, SIDES, spawn, one), strict=True))


def missing_packages() -> list[str]:
    """The packages a worker needs that this interpreter cannot import."""
    import importlib.util

    return [name for name in PACKAGES if importlib.util.find_spec(name) is None]


def table(results: Sequence[Result], b_label: str) -> str:
    rows = [("model", "identical/total", "stock ms", f"{b_label} ms", "ratio", "checkpoint loaded / note")]
    for r in results:
        ratio = r.ratio
        loaded = " ".join(
            f"{c['module']}:{n}/{m}" for c, (n, m) in zip(r.checkpoints, r.loaded, strict=False)
        )
        note = r.error or (f"differ: {', '.join(r.differing[:3])}" if r.differing else loaded)
        rows.append(
            (
                r.name,
                f"{r.identical}/{r.total}" if r.total else "-",
                f"{r.ms['a']:.1f}" if "a" in r.ms else "-",
                f"{r.ms['b']:.1f}" if "b" in r.ms else "-",
                f"{ratio:.2f}" if ratio else "-",
                note[:160],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=False)) + "  " + row[5] for row in rows
    ]
    ratios = [r.ratio for r in results if r.ratio]
    ok = sum(r.status == "ok" for r in results)
    lines.append(f"{ok}/{len(results)} models bit-identical")
    if ratios:
        lines.append(f"median ratio {b_label}/stock: {statistics.median(ratios):.2f}")
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["zygote"]:
        return serve(argv[1])
    if argv[:1] == ["once"]:
        return once(argv[1], json.loads(argv[2]))
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--self-check", action="store_true", help="stock mmengine on both sides")
    parser.add_argument("--only", help="comma-separated model names")
    parser.add_argument("--jobs", type=int, default=1, help="models run at once (default 1)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="time init_weights N times per side, keep the best"
    )
    parser.add_argument("--spawn", action="store_true", help="a new interpreter per worker instead of a fork")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if missing := missing_packages():
        print(f"missing packages: {', '.join(missing)}; run scripts/real/install.sh", file=sys.stderr)
        return 2
    names = args.only.split(",") if args.only else list(BY_NAME)
    if unknown := [n for n in names if n not in BY_NAME]:
        print(f"unknown model(s): {', '.join(unknown)}; known: {', '.join(BY_NAME)}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    cases = [BY_NAME[n] for n in names]
    results = run_cases(
        cases, self_check=args.self_check, jobs=args.jobs, repeat=args.repeat, spawn=args.spawn
    )
    print(table(results, "stock-2" if args.self_check else "initspec"))
    print(f"total {time.perf_counter() - start:.1f} s")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) | {"ratio": r.ratio} for r in results], indent=2))
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
