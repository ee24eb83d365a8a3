"""Tests that mypy, with the repo's config and the pydantic plugin, checks typed config construction."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MYPY_INI = REPO / "mypy.ini"

GOOD = """\
from initspec import ConstantInit, KaimingInit, NormalInit, Override, parse_init_cfg

kaiming = KaimingInit(layer="Conv2d", mode="fan_in")
constant = ConstantInit(val=1, layer=["_BatchNorm", "GroupNorm"])
head = Override(name="fc_cls", init=NormalInit(bias_prob=0.01))
normal = NormalInit(std=0.01, layer="Linear", override=head)
mode: str = kaiming.mode
cfgs = parse_init_cfg([kaiming.to_dict(), constant, normal])
"""

# line number -> text the error on that line must contain
BAD = {
    3: ('KaimingInit(layer="Conv2d", mode="fan_inn")', ["fan_inn", "Literal['fan_in', 'fan_out']"]),
    4: ('ConstantInit(layer="Conv2d")', ['"val"']),
    5: ('NormalInit(std="0.01")', ['"std"', '"str"']),
    6: ('KaimingInit(layers="Conv2d")', ['"layers"']),
}


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for this module's runs, so the second run does not re-analyse pydantic and initspec."""
    pytest.importorskip("mypy")
    return tmp_path_factory.mktemp("mypy_cache")


def _mypy(snippet: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(MYPY_INI),
        "--cache-dir",
        str(cache),
        str(snippet),
    ]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=snippet.parent, timeout=300, check=False
    )


def test_mypy_reports_closed_set_typos(tmp_path: Path, mypy_cache: Path) -> None:
    """mypy flags mode="fan_inn" as not the Literal, a missing required val, a str std and an unknown key."""
    lines = ["from initspec import ConstantInit, KaimingInit, NormalInit", ""]
    lines += [f"cfg{n} = {code}" for n, (code, _) in sorted(BAD.items())]
    snippet = tmp_path / "bad_config.py"
    snippet.write_text("\n".join(lines) + "\n")
    result = _mypy(snippet, mypy_cache)
    assert result.returncode == 1, result.stdout + result.stderr
    errors: dict[int, str] = {}
    for line in result.stdout.splitlines():
        if line.startswith("bad_config.py:") and ": error:" in line:
            number = int(line.split(":")[1])
            errors[number] = errors.get(number, "") + line
    assert set(errors) == set(BAD), result.stdout
    for number, (_, fragments) in BAD.items():
        for fragment in fragments:
            assert fragment in errors[number], errors[number]


def test_mypy_accepts_correct_typed_configs(tmp_path: Path, mypy_cache: Path) -> None:
    """A snippet of correct typed construction, overrides and parsing type-checks clean under strict mypy."""
    snippet = tmp_path / "good_config.py"
    snippet.write_text(textwrap.dedent(GOOD))
    result = _mypy(snippet, mypy_cache)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
