"""The gloo-teardown retry of the multi-process tests: at most two retries, only for that abort."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import GLOO_RETRIES, GLOO_TEARDOWN_ABORT, run_ranks

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
    tmp_path.mkdir(exist_ok=True)
    marker = tmp_path / "count"
    result = run_ranks([sys.executable, "-c", SCRIPT, str(marker), str(failures), message])
    return result.returncode, int(marker.read_text())


def test_a_teardown_abort_is_retried(tmp_path: Path) -> None:
    """A gloo teardown abort runs the job again; the first run that does not abort is what counts."""
    assert GLOO_RETRIES == 2
    assert _run(tmp_path, 1, GLOO_TEARDOWN_ABORT) == (0, 2)
    assert _run(tmp_path / "twice", 2, GLOO_TEARDOWN_ABORT) == (0, 3)


def test_aborts_on_every_run_fail(tmp_path: Path) -> None:
    """Aborts on all three runs are returned as a failure, after exactly three runs."""
    assert _run(tmp_path, 5, GLOO_TEARDOWN_ABORT) == (1, 3)


def test_other_failures_are_not_retried(tmp_path: Path) -> None:
    """Any other failure is returned at once."""
    assert _run(tmp_path, 5, "AssertionError: values differ") == (1, 1)
