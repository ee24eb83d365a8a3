"""Compare `initspec validate` output on the real config trees between an earlier commit and the working tree.

A refactor of the command must not change what users see. For each tree cached by ``config_trees.py`` (run it
first), this runs ``validate --format json`` and the text format with the source of ``--before`` (checked out
into a temporary git worktree) and with the working tree, and reports whether the outputs are identical. JSON
fields added since ``--before`` are named with ``--ignore-field`` and dropped from the newer output first.

Usage::

    python scripts/real/config_trees.py --skip-typos      # fills the cache once
    python scripts/real/compare_outputs.py --before dc5f82f --ignore-field fix
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from config_trees import DEFAULT_CACHE, TREES

ROOT = Path(__file__).resolve().parents[2]


def validate(src: Path, tree: Path, *extra: str) -> str:
    """The stdout (and, for text, stderr) of ``python -m initspec validate TREE`` run on ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    result = subprocess.run(
        [sys.executable, "-m", "initspec", "validate", str(tree), *extra],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=1800,
    )
    return result.stdout if extra else result.stdout + result.stderr


def drop_fields(report: dict[str, object], fields: list[str]) -> dict[str, object]:
    for key in ("errors", "warnings", "skipped"):
        for finding in report.get(key, []):  # type: ignore[union-attr]
            for field in fields:
                finding.pop(field, None)
    for field in fields:
        report.pop(field, None)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--ignore-field", action="append", default=[], help="a JSON field new since --before")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    same = True
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp, "before")
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old), args.before], check=True
        )
        try:
            for name in TREES:
                tree = args.cache / "configs" / name
                if not tree.is_dir():
                    print(f"{name}: not cached; run scripts/real/config_trees.py first")
                    same = False
                    continue
                before = json.loads(validate(old / "src", tree, "--format", "json"))
                after = drop_fields(
                    json.loads(validate(ROOT / "src", tree, "--format", "json")), args.ignore_field
                )
                texts = validate(old / "src", tree) == validate(ROOT / "src", tree)
                print(f"{name}: json identical: {before == after}, text identical: {texts}")
                same &= before == after and texts
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
