"""``benchmarks/run.py`` runs end to end and reports every case and contender (nothing here is timed)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "benchmarks" / "run.py"
MODEL_CASES = ("W", "S", "D", "O")
MODEL_CONTENDERS = {"initspec", "initspec_exact", "mmengine", "plain"}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One ``--smoke --json`` run (tiny sizes, one repeat), shared by the tests in this file."""
    out = tmp_path_factory.mktemp("bench") / "results.json"
    command = [sys.executable, str(RUN), "--smoke", "--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"data": json.loads(out.read_text(encoding="utf-8")), "stdout": done.stdout}


def _by_label(rows: list[dict[str, Any]], case: str) -> dict[str, dict[str, dict[str, Any]]]:
    groups: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        if row["case"] == case:
            groups[row["label"]][row["contender"]] = row
    return groups


def test_every_case_has_results(smoke: dict[str, Any]) -> None:
    """W, S, D, O, P and V all appear in the JSON, and the memory measurement is there too."""
    cases = {row["case"] for row in smoke["data"]["results"]}
    assert cases == {"W", "S", "D", "O", "P", "V"}
    assert smoke["data"]["memory"]


@pytest.mark.parametrize("case", MODEL_CASES)
def test_model_cases_have_every_contender(smoke: dict[str, Any], case: str) -> None:
    """Each model case times initspec in both modes, mmengine (or says why not) and the plain loop."""
    groups = _by_label(smoke["data"]["results"], case)
    assert groups
    expected = MODEL_CONTENDERS if case == "W" else MODEL_CONTENDERS | {"plain_walk"}  # init_weights cases
    for contenders in groups.values():
        assert set(contenders) == expected
        for name, row in contenders.items():
            if name == "mmengine" and row["status"] == "skipped":
                assert row["note"]
            else:
                assert row["status"] == "ok" and row["samples"] and row["ratio"] is not None


def test_deep_case_covers_three_depths(smoke: dict[str, Any]) -> None:
    """D runs three chain depths, so the report can show how time grows with depth."""
    depths = {row["params"]["depth"] for row in smoke["data"]["results"] if row["case"] == "D"}
    assert len(depths) == 3


def test_parse_case_compares_both_configs_with_mmengine(smoke: dict[str, Any]) -> None:
    """P times the one-rule and the three-rule config, each for initspec and mmengine's registry."""
    groups = _by_label(smoke["data"]["results"], "P")
    assert {row["params"]["rules"] for group in groups.values() for row in group.values()} == {1, 3}
    for contenders in groups.values():
        assert set(contenders) == {"initspec", "mmengine"}
        assert contenders["initspec"]["samples"] and contenders["initspec"]["target"] == "≤ 10 µs"


def test_validate_case_times_the_cli_or_says_why_not(smoke: dict[str, Any]) -> None:
    """V times ``python -m initspec validate`` with startup, or marks it unavailable with the reason."""
    (contenders,) = _by_label(smoke["data"]["results"], "V").values()
    ours = contenders["initspec"]
    assert (ours["status"] == "ok" and ours["samples"]) or (ours["status"] == "unavailable" and ours["note"])
    assert contenders["interpreter"]["samples"]


def test_memory_reports_added_peak_rss_against_model_size(smoke: dict[str, Any]) -> None:
    """The memory probe reports the model's bytes and the peak RSS initialize added, as a ratio."""
    row = next(r for r in smoke["data"]["memory"] if r["contender"] == "initspec")
    assert row["status"] == "ok"
    assert row["model_bytes"] > 0 and row["added_bytes"] >= 0 and row["ratio"] is not None


def test_summaries_agree_with_samples(smoke: dict[str, Any]) -> None:
    """Every timed row's median lies within its min–max, and the plain loop's ratio to itself is 1."""
    for row in smoke["data"]["results"]:
        if row["samples"]:
            assert row["min"] <= row["median"] <= row["max"]
        if row["contender"] == "plain":
            assert row["ratio"] == pytest.approx(1.0)


def test_report_names_the_machine_and_command(smoke: dict[str, Any]) -> None:
    """The printed report has the machine line, the exact command and the Markdown table header."""
    out = smoke["stdout"]
    assert "Machine: " in out and "Command: `python " in out and "--smoke" in out
    assert "| case | contender | median | min–max | ratio to plain | target | met? |" in out
    machine = smoke["data"]["machine"]
    assert machine["torch_threads"] == 2 and machine["torch"]


@pytest.mark.parametrize("script", ["seeded.py", "load_then_init.py"])
def test_issue_16_benchmarks_run_in_smoke_mode(script: str) -> None:
    """The seeded-pool and load-then-init benchmarks run end to end at tiny sizes and print their table."""
    command = [sys.executable, str(ROOT / "benchmarks" / script), "--smoke"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| contender |" in done.stdout or "| weight |" in done.stdout


def test_verify_benchmark_runs_in_smoke_mode() -> None:
    """benchmarks/verify.py builds its (tiny) ViT, finds it clean, and prints the floor and verify times."""
    command = [sys.executable, str(ROOT / "benchmarks" / "verify.py"), "--smoke"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (
        "| model | parameters | tensors | std_mean floor | verify | verify / floor | target | met? |"
        in done.stdout
    )
    assert "| ViT (2 blocks, width 64) | 0.2 M | 32 |" in done.stdout


def test_bytecode_benchmark_counts_both_contenders_per_unit() -> None:
    """benchmarks/bytecode.py counts S and D per block or level for initspec and the plain loop; the plain
    loop is its own unit (1.00) and initspec, which also walks and plans, executes more than it."""
    command = [sys.executable, str(ROOT / "benchmarks" / "bytecode.py"), "--smoke", "--top", "3"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| case | contender | instructions | Python calls | instructions / plain |" in done.stdout
    rows = [
        line.split("|")[1:-1]
        for line in done.stdout.splitlines()
        if line.startswith("| S (") or line.startswith("| D (")
    ]
    assert [row[1].strip() for row in rows] == ["initspec", "plain"] * 2
    for ours, plain in (rows[0:2], rows[2:4]):
        assert float(plain[4]) == 1.0 and float(ours[4]) > 1.0
        assert int(ours[2]) > int(plain[2]) > 0
    assert "tree.py:" in done.stdout  # the busiest functions name the walker's


def test_ab_benchmark_times_two_versions_in_one_process() -> None:
    """benchmarks/ab.py imports a second copy of initspec beside the first and times both and the plain loop."""
    command = [sys.executable, str(ROOT / "benchmarks" / "ab.py"), "--smoke", "--base-dir", str(ROOT / "src")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| contender | µs per level | ratio to plain |" in done.stdout
    rows = {
        line.split("|")[1].strip(): line.split("|")[3] for line in done.stdout.splitlines() if "| " in line
    }
    assert float(rows["plain"]) == 1.0 and float(rows["new"]) > 0 and float(rows["old"]) > 0
    assert "new / old: " in done.stdout
