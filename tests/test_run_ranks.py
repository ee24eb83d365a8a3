"""The gloo-teardown retry of the multi-process tests: one retry, only for that abort."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import GLOO_TEARDOWN_ABORT, run_ranks

SCRIPT = """
import sys
from pathlib import Path
marker = Path(sys.argv[1])
count = int(marker.read_text()) if marker.exists() else 0
marker.write_text(str(count + 1))
if count < int(sys.argv[2]):
    sys.stderr.write(sys.argv[3] + "\\n")
    sys.exit(1)
"""


def _run(tmp_path: Path, failures: int, message: str) -> tuple[int, int]:
    marker = tmp_path / "count"
    result = run_ranks([sys.executable, "-c", SCRIPT, str(marker), str(failures), message])
    return result.returncode, int(marker.read_text())


def test_a_teardown_abort_is_retried_once(tmp_path: Path) -> None:
    """One gloo teardown abort runs the job again; the second run's result is what counts."""
    assert _run(tmp_path, 1, GLOO_TEARDOWN_ABORT) == (0, 2)


def test_a_second_abort_fails(tmp_path: Path) -> None:
    """Two aborts in a row are returned as a failure, after exactly two runs."""
    assert _run(tmp_path, 5, GLOO_TEARDOWN_ABORT) == (1, 2)


def test_other_failures_are_not_retried(tmp_path: Path) -> None:
    """Any other failure is returned at once."""
    assert _run(tmp_path, 5, "AssertionError: values differ") == (1, 1)
