"""The FSDP2 example script: its 2-rank world initializes shards that gather to the single-process init."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import run_ranks

EXAMPLE = Path(__file__).parents[1] / "examples" / "fsdp_init.py"

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available(), reason="torch.distributed is not built in"
)


@pytest.fixture(scope="module")
def two_ranks() -> subprocess.CompletedProcess[str]:
    """The output of ``python examples/fsdp_init.py --world-size 2``."""
    cmd = [sys.executable, str(EXAMPLE), "--world-size", "2"]
    return run_ranks(cmd, timeout=300)


def test_example_exits_cleanly(two_ranks: subprocess.CompletedProcess[str]) -> None:
    """The example spawns two gloo ranks and exits with status 0."""
    assert two_ranks.returncode == 0, two_ranks.stderr[-4000:]


def test_example_reports_a_match(two_ranks: subprocess.CompletedProcess[str]) -> None:
    """The example prints its match line: every gathered parameter equals the single-process init."""
    assert "match: all 15 parameters gathered from 2 ranks equal the single-process init bit for bit" in (
        two_ranks.stdout
    ), two_ranks.stdout[-4000:] + two_ranks.stderr[-4000:]


def test_example_prints_each_ranks_shard_shapes(two_ranks: subprocess.CompletedProcess[str]) -> None:
    """Each rank prints its own shard of an uneven parameter: 501 rows on rank 0 and 500 on rank 1."""
    lines = two_ranks.stdout.splitlines()
    assert any(line.startswith("rank 0: head.weight") and line.endswith("shard (501, 96)") for line in lines)
    assert any(line.startswith("rank 1: head.weight") and line.endswith("shard (500, 96)") for line in lines)
