"""`initspec validate --build` over the config trees of the installed mmdet, mmseg, mmpretrain and mmpose.

For each tree (``<pkg>/.mim/configs`` of the installed wheel): the model configs found (files whose merged
config has ``model=dict(type=...)``, read statically), how many built, the ones that did not grouped by cause,
the findings per code, the wall time and the peak resident memory of the run's processes (the largest of
the validate process and its build workers, from ``getrusage(RUSAGE_CHILDREN)`` in a process of its own per
tree). Each tree runs ``python -m initspec validate --build --jobs N --scope PKG --plugin shims_plugin``,
the plugin being the stand-ins of ``_shims.py`` (torchvision's op registrations and ``mmcv._ext``).

Usage::

    python scripts/real/build_trees.py [--trees mmdet,mmseg] [--jobs 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import importlib.util
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parents[1]
TREES: Final = ("mmdet", "mmseg", "mmpretrain", "mmpose")


def tree_of(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / ".mim" / "configs"


def model_configs(tree: Path) -> int:
    """How many files of the tree are model configs, as ``validate --build`` decides (statically)."""
    sys.path.insert(0, str(ROOT / "src"))
    from initspec.cli._buildfindings import is_model_config
    from initspec.cli.documents import DocumentError, Loader

    loader, count = Loader(), 0
    for path in sorted(tree.rglob("*.py")):
        with contextlib.suppress(DocumentError):
            count += is_model_config(loader.load(path))
    return count


def cause(message: str) -> str:
    """A failure's group: the exception type and its message with names, numbers and paths folded."""
    text = message.split("not done: ", 1)[-1]
    kind, _, rest = text.partition(": ")
    rest = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", rest)
    rest = re.sub(r"\d+", "N", rest)
    return f"{kind}: {rest[:90]}"


def run_one(package: str, jobs: int) -> dict[str, Any]:
    tree = tree_of(package)
    if tree is None:
        return {"tree": package, "error": "not installed"}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(HERE)])}
    cmd = [sys.executable, "-m", "initspec", "validate", str(tree), "--build", "--jobs", str(jobs)]
    cmd += ["--scope", package, "--plugin", "shims_plugin", "--format", "json"]
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    try:
        out = json.loads(run.stdout)
    except json.JSONDecodeError:
        return {"tree": package, "error": f"exit {run.returncode}: {run.stderr[-3000:]}"}
    found = out["errors"] + out["warnings"] + out["skipped"]
    not_built = [d for d in found if d["code"] == "IS505" and d["message"].startswith("not built")]
    codes = collections.Counter(d["code"] for d in found if d["code"] in _BUILD_CODES)
    models = model_configs(tree)
    return {
        "tree": package,
        "exit": run.returncode,
        "model_configs": models,
        "built": models - len(not_built),
        "failed": len(not_built),
        "causes": collections.Counter(cause(d["message"]) for d in not_built).most_common(),
        "findings": dict(sorted(codes.items())),
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(peak_kib / 1024),
        "build_findings": [d for d in found if d["code"] in _BUILD_CODES and d["code"] != "IS505"],
        "stderr_tail": run.stderr[-1000:],
    }


_BUILD_CODES: Final = frozenset({"IS206", "IS210", "IS208", "IS209", "IS505"})


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trees", default=",".join(TREES))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", help="write every result to this file")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # one tree, in a process of its own (for its rusage)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.jobs)))
        return 0
    results = []
    for package in args.trees.split(","):
        cmd = [sys.executable, __file__, "--one", package, "--jobs", str(args.jobs)]
        result = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        results.append(result)
        _print(result)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def _print(result: dict[str, Any]) -> None:
    if "error" in result:
        print(f"{result['tree']}: {result['error']}")
        return
    print(
        f"{result['tree']}: {result['model_configs']} model configs, {result['built']} built, "
        f"{result['failed']} failed; findings {result['findings']}; {result['wall_s']} s, "
        f"peak {result['peak_rss_mib']} MiB (exit {result['exit']})"
    )
    for text, count in result["causes"]:
        print(f"  {count:4d}  {text}")
    for finding in result["build_findings"]:
        print(f"  {finding['code']} {finding['file']}:{finding['line']}: {finding['message'][:160]}")


if __name__ == "__main__":
    raise SystemExit(main())
