"""`initspec validate` on the config trees shipped in four OpenMMLab wheels, and a typo-injection test.

For each tree (mmdet 3.3.0, mmseg 1.2.2, mmpretrain 1.2.0, mmpose 1.3.2): download the wheel with
``pip download --no-deps``, unzip only ``<pkg>/.mim/configs/**`` into a cache (reused when present), run
``python -m initspec validate <tree> --format json`` and print the exit code, file and init_cfg counts, errors and
time. Each error is labelled *true* when it is in the table of known bugs in the shipped configs below, and
*false (unlabelled)* otherwise.

The typo test finds every literal ``init_cfg`` with a string ``type`` in the tree's ``.py`` files (``init_cfg=
dict(type=...)`` keywords, ``'init_cfg': {...}`` keys, ``init_cfg = ...`` and ``x['init_cfg'] = ...``
assignments, lists of dicts, and ``override=`` inside them) with ``ast``, and appends ``x<N>`` to each ``type``
in a temporary copy of the tree, ``N`` unique per site. One validate run then checks them all: a site is caught
when an error names its typo, or a new error (not in the clean run) is at its file and line.

Usage::

    python scripts/real/config_trees.py [--trees mmdet,mmseg] [--skip-typos] [--cache DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

# tree name -> (distribution, version, top-level package inside the wheel)
TREES: Final = {
    "mmdet": ("mmdet", "3.3.0", "mmdet"),
    "mmseg": ("mmsegmentation", "1.2.2", "mmseg"),
    "mmpretrain": ("mmpretrain", "1.2.0", "mmpretrain"),
    "mmpose": ("mmpose", "1.3.2", "mmpose"),
}
DEFAULT_CACHE: Final = Path(os.environ.get("INITSPEC_REAL_CACHE", Path.home() / ".cache" / "initspec-real"))

# Errors that are real bugs in the shipped configs (mmengine fails on them too):
# (tree, file in the tree, a piece of the message) -> the bug.
_MISSING_PY: Final = (
    "`_base_` entry './faster-rcnn_r50_fpn_8xb2-4e_mot17halftrain_test-mot17halfval' has no '.py'"
)
KNOWN_BUGS: Final[dict[tuple[str, str, str], str]] = {
    (
        "mmdet",
        "bytetrack/bytetrack_yolox_x_8xb4-amp-80e_crowdhuman-mot17halftrain_test-mot17test.py",
        "not found",
    ): ("`_base_` path doubled: './bytetrack/bytetrack/...' does not exist"),
    ("mmdet", "sort/faster-rcnn_r50_fpn_8xb2-4e_mot17train_test-mot17train.py", "not found"): _MISSING_PY,
    (
        "mmdet",
        "sort/faster-rcnn_r50_fpn_8xb2-8e_mot20halftrain_test-mot20halfval.py",
        "not found",
    ): _MISSING_PY,
    ("mmdet", "sort/faster-rcnn_r50_fpn_8xb2-8e_mot20train_test-mot20train.py", "not found"): _MISSING_PY,
    ("mmpretrain", "mff/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_in1k.py", "checkpoint"): (
        "a Pretrained init_cfg with no checkpoint"
    ),
}
# PVT's free-form init_cfg=dict(checkpoint=...) has no type: PyramidVisionTransformer's own init_weights reads
# it, and mmengine's generic path would reject it, so flagging it is right; a CI user silences it with
# `# initspec: ignore[IS103]` on the line.
_PVT: Final = "free-form init_cfg (no type) read by PVT's own init_weights; suppressible with ignore[IS103]"
KNOWN_BUGS.update(
    {
        ("mmdet", f"pvt/retinanet_{arch}_fpn_1x_coco.py", "missing 'type'"): _PVT
        for arch in ("pvt-l", "pvt-m", "pvt-s", "pvt-t", *(f"pvtv2-b{i}" for i in range(6)))
    }
)


# -- fetching the trees ----------------------------------------------------------------------------------


def fetch_tree(name: str, cache: Path) -> Path:
    """``cache/configs/<name>``: the wheel's ``.mim/configs``, downloaded and unzipped once."""
    dist, version, package = TREES[name]
    tree = cache / "configs" / name
    marker = tree / ".complete"
    if marker.exists():
        return tree
    wheels = cache / "wheels"
    wheel = next(wheels.glob(f"{dist}-{version}-*.whl"), None) if wheels.exists() else None
    if wheel is None:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-q",
            "-d",
            str(wheels),
            f"{dist}=={version}",
        ]
        subprocess.run(cmd, check=True)
        wheel = next(wheels.glob(f"{dist}-{version}-*.whl"))
    prefix = f"{package}/.mim/configs/"
    shutil.rmtree(tree, ignore_errors=True)
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.filename.startswith(prefix) and not info.is_dir():
                target = tree / info.filename[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(info))
    marker.touch()
    return tree


# -- running the validator --------------------------------------------------------------------------------


@dataclass
class Run:
    """One ``initspec validate --format json`` run over a tree."""

    exit_code: int
    files: int
    configs: int
    errors: list[dict[str, Any]]
    warnings: int
    skipped: int
    seconds: float
    stderr: str = ""
    coverage: dict[str, int] = field(default_factory=dict)  # sites, checked, noted; unbalanced: files off


def validate(tree: Path) -> Run:
    """Run the validator with this interpreter, from the tree's folder, so reported paths are tree-relative."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "initspec", "validate", ".", "--format", "json"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return Run(proc.returncode, 0, 0, [], 0, 0, seconds, proc.stderr.strip()[-2000:])
    errors = [dict(e, file=_relative(e.get("file") or "")) for e in out.get("errors", [])]
    coverage = out.get("coverage", {})
    files = coverage.get("files", {})
    counts = {key: coverage.get(key, 0) for key in ("sites", "checked", "noted")}
    counts["unbalanced"] = sum(1 for c in files.values() if c["checked"] + c["noted"] != c["sites"])
    return Run(
        proc.returncode,
        out.get("files", 0),
        out.get("configs", 0),
        errors,
        len(out.get("warnings", [])),
        len(out.get("skipped", [])),
        seconds,
        proc.stderr.strip()[-2000:],
        counts,
    )


def _relative(path: str) -> str:
    return Path(path).as_posix().removeprefix("./")


def label(tree: str, error: dict[str, Any]) -> str:
    """``true (<bug>)`` for a listed config bug, else ``false (unlabelled)``."""
    for (bug_tree, file, piece), reason in KNOWN_BUGS.items():
        if bug_tree == tree and file == error["file"] and piece in error["message"]:
            return f"true: {reason}"
    return "false (unlabelled)"


# -- finding init_cfg type strings ------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """One string ``type`` of an init_cfg (or of an override inside one) in a ``.py`` file."""

    file: str
    line: int
    col: int  # byte offset of the string literal in its line (ast's col_offset)
    end_col: int
    end_line: int
    value: str


def _dict_items(node: ast.expr) -> Iterator[tuple[str, ast.expr]]:
    """(key, value) of a ``dict(...)`` call or a ``{...}`` literal with string keys."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        for kw in node.keywords:
            if kw.arg is not None:
                yield kw.arg, kw.value
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                yield key.value, value


def _type_sites(node: ast.expr) -> Iterator[ast.Constant]:
    """The string ``type`` constants of an init_cfg value: a dict, a list/tuple of them, and their overrides."""
    if isinstance(node, ast.List | ast.Tuple):
        for item in node.elts:
            yield from _type_sites(item)
        return
    for key, value in _dict_items(node):
        if key == "type" and isinstance(value, ast.Constant) and isinstance(value.value, str):
            yield value
        elif key == "override":
            yield from _type_sites(value)


def _init_cfg_values(tree: ast.AST) -> Iterator[ast.expr]:
    """Every expression assigned to an ``init_cfg`` key, keyword, name or subscript anywhere in the module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield from (kw.value for kw in node.keywords if kw.arg == "init_cfg")
        elif isinstance(node, ast.Dict):
            yield from (
                v
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and k.value == "init_cfg"
            )
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_names_init_cfg(t) for t in targets):
                yield node.value


def _names_init_cfg(target: ast.expr) -> bool:
    if isinstance(target, ast.Name | ast.Attribute):
        return (target.id if isinstance(target, ast.Name) else target.attr) == "init_cfg"
    return (
        isinstance(target, ast.Subscript)
        and isinstance(target.slice, ast.Constant)
        and target.slice.value == "init_cfg"
    )


def find_sites(tree: Path) -> list[Site]:
    sites: dict[tuple[str, int, int], Site] = {}
    for path in sorted(tree.rglob("*.py")):
        rel = path.relative_to(tree).as_posix()
        try:
            module = ast.parse(path.read_bytes(), filename=rel)
        except SyntaxError:
            continue
        for value in _init_cfg_values(module):
            for const in _type_sites(value):
                if const.end_lineno is None or const.end_col_offset is None:
                    continue
                site = Site(
                    rel,
                    const.lineno,
                    const.col_offset,
                    const.end_col_offset,
                    const.end_lineno,
                    str(const.value),
                )
                sites[(rel, site.line, site.col)] = site
    return list(sites.values())


# -- injecting typos --------------------------------------------------------------------------------------


def typo(site_id: int, value: str) -> str:
    return f"{value}x{site_id}"


def inject(copy: Path, sites: Sequence[Site]) -> list[Site]:
    """Append ``x<N>`` inside each site's string literal; returns the sites that could be edited."""
    injected: list[Site] = []
    by_file: dict[str, list[tuple[int, Site]]] = {}
    for site_id, site in enumerate(sites):
        by_file.setdefault(site.file, []).append((site_id, site))
    for rel, entries in by_file.items():
        path = copy / rel
        lines = path.read_bytes().splitlines(keepends=True)
        for site_id, site in sorted(entries, key=lambda e: (e[1].line, e[1].col), reverse=True):
            line = lines[site.end_line - 1]
            close = site.end_col - 1
            if site.end_line != site.line or line[close : close + 1] not in (b"'", b'"'):
                continue  # a multi-line or implicitly concatenated literal: leave it out of the count
            lines[site.end_line - 1] = line[:close] + typo(site_id, "").encode() + line[close:]
            injected.append(site)
        path.write_bytes(b"".join(lines))
    return injected


@dataclass
class TypoResult:
    """Typo sites caught: at their line, elsewhere in their file, or missed."""

    total: int = 0
    at_line: int = 0
    in_file: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    skipped: int = 0
    seconds: float = 0.0
    exit_code: int = 0

    @property
    def caught(self) -> int:
        return self.at_line + len(self.in_file)


def typo_test(tree: Path, clean: Run) -> TypoResult:
    sites = find_sites(tree)
    ids = {site: i for i, site in enumerate(sites)}
    with tempfile.TemporaryDirectory(prefix="initspec-typos-") as tmp:
        copy = Path(tmp) / tree.name
        shutil.copytree(tree, copy)
        injected = inject(copy, sites)
        run = validate(copy)
    baseline = {(e["file"], e["line"], e["message"]) for e in clean.errors}
    new = [e for e in run.errors if (e["file"], e["line"], e["message"]) not in baseline]
    result = TypoResult(total=len(injected), skipped=len(sites) - len(injected), seconds=run.seconds)
    result.exit_code = run.exit_code
    for site in injected:
        token = f"'{typo(ids[site], site.value)}'"
        named = [e for e in run.errors if token in e["message"]]
        here = [e for e in named or new if e["file"] == site.file]
        where = f"{site.file}:{site.line}: type={site.value!r}"
        if any(e["line"] == site.line for e in here):
            result.at_line += 1
        elif named:
            result.in_file.append(f"{where} (reported at {named[0]['file']}:{named[0]['line']})")
        else:
            result.missed.append(where)
    return result


# -- the report -------------------------------------------------------------------------------------------


def report_tree(name: str, run: Run) -> list[str]:
    lines = [
        f"== {name}: exit {run.exit_code}, {run.files} files, {run.configs} init_cfgs, {len(run.errors)} errors, "
        f"{run.warnings} warnings, {run.skipped} notes, {run.seconds:.1f} s"
    ]
    cov = run.coverage
    lines.append(
        f"   coverage: {cov.get('sites', 0)} init_cfg sites, {cov.get('checked', 0)} checked, "
        f"{cov.get('noted', 0)} noted, {cov.get('unbalanced', 0)} files where checked + noted != sites"
    )
    if not run.files and run.stderr:
        lines.append(f"   validator failed: {run.stderr.splitlines()[-1]}")
    for e in run.errors:
        lines.append(f"   {e['file']}:{e['line']}: [{label(name, e)}] {e['message'][:200]}")
    return lines


def report_typos(name: str, t: TypoResult) -> list[str]:
    lines = [
        f"   typos: {t.caught}/{t.total} caught ({t.at_line} at their line, {len(t.in_file)} elsewhere), "
        f"{len(t.missed)} missed, {t.skipped} literals not editable, exit {t.exit_code}, {t.seconds:.1f} s"
    ]
    lines += [f"   caught elsewhere: {m}" for m in t.in_file]
    lines += [f"   missed: {m}" for m in t.missed]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", default=",".join(TREES), help=f"comma-separated, from {', '.join(TREES)}")
    parser.add_argument("--skip-typos", action="store_true", help="only validate the clean trees")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="wheels and unzipped configs")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    names = args.trees.split(",")
    if unknown := [n for n in names if n not in TREES]:
        parser.error(f"unknown tree(s): {', '.join(unknown)}; known: {', '.join(TREES)}")
    start = time.perf_counter()
    out: dict[str, Any] = {}
    for name in names:
        tree = fetch_tree(name, args.cache)
        run = validate(tree)
        print("\n".join(report_tree(name, run)), flush=True)
        entry: dict[str, Any] = {"validate": asdict(run)}
        entry["validate"]["labels"] = [label(name, e) for e in run.errors]
        if not args.skip_typos:
            typos = typo_test(tree, run)
            print("\n".join(report_typos(name, typos)), flush=True)
            entry["typos"] = asdict(typos) | {"caught": typos.caught}
        out[name] = entry
    total = time.perf_counter() - start
    errors = sum(len(e["validate"]["errors"]) for e in out.values())
    print(f"total: {len(names)} trees, {errors} errors, {total:.1f} s")
    for name, entry in out.items():
        cov = entry["validate"]["coverage"]
        print(f"coverage {name}: sites {cov['sites']}, checked {cov['checked']}, noted {cov['noted']}")
    if args.json:
        args.json.write_text(json.dumps(out | {"seconds": total}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
