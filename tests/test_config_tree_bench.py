"""``benchmarks/config_tree.py`` builds a valid synthetic tree and times validate on it (nothing timed here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_config_tree_benchmark_runs_on_a_valid_tree(tmp_path: Path) -> None:
    """``--smoke`` writes a tree that validates with exit 0, and reports its file count and time."""
    out = tmp_path / "tree.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "config_tree.py"), "--smoke", "--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["files"] == 60
    assert done.stdout.startswith("config tree: 60 files")
