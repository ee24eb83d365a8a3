"""``initspec validate --build`` on a fixture package (an mmengine registry scope), without OpenMMLab packages.

Each model config is built in a worker process on the meta device and checked against the built model: a dead
``layer`` rule (IS206, from the config or from a class default), an override name that is not there (IS210),
an init_cfg ``init_weights`` never applies (IS208), a Pretrained prefix matching no key (IS209), a config that
cannot be built or that overruns ``--build-timeout`` (IS505 notes). The builds need mmengine (skipped without
it, failed under ``INITSPEC_REQUIRE_MMENGINE=1``).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import import_mmengine, write
from initspec.cli import main

FIXTURE = Path(__file__).resolve().parent / "data" / "build_fixture"
SCOPE = "initspec_fixture"
BASE = "model = dict(type='Net', neck=dict(type='ConvNeck'))\n"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config tree: a model base, configs for each finding, and a runtime base that is not a model config."""
    import_mmengine()
    monkeypatch.syspath_prepend(str(FIXTURE))  # the spawned workers start with this sys.path
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "cfg/_base_/model.py", BASE)
    write(tmp_path, "cfg/_base_/runtime.py", f"default_scope = '{SCOPE}'\n")
    head = "_base_ = ['./_base_/model.py', './_base_/runtime.py']\n"
    write(tmp_path, "cfg/plain.py", head)
    write(
        tmp_path,
        "cfg/layer.py",
        head
        + "model = dict(\n    head=dict(type='Head', init_cfg=dict(type='Normal', layer='Conv', std=0.01)))\n",
    )
    write(
        tmp_path,
        "cfg/override.py",
        head + "model = dict(head=dict(\n    type='Head',\n"
        "    init_cfg=dict(type='Normal', layer='Conv2d', override=dict(name='missing'))))\n",
    )
    write(
        tmp_path,
        "cfg/own.py",
        head + "model = dict(own=dict(type='OwnInit', init_cfg=dict(\n"
        "    type='Constant', val=1, layer='Linear', override=dict(name='missing'))))\n",
    )
    write(
        tmp_path,
        "cfg/hidden.py",
        head
        + "model = dict(hidden=dict(type='Head', init_cfg=dict(type='Constant', val=1, layer='Conv2d')))\n",
    )
    write(tmp_path, "cfg/boom.py", head + "model = dict(head=dict(type='Boom'))\n")
    return tmp_path


def _validate(*args: str) -> tuple[int, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    code = _main(["validate", "--build", "--jobs", "2", *args], out, err)
    return code, out.getvalue().splitlines(), err.getvalue()


def _main(argv: list[str], out: io.StringIO, err: io.StringIO) -> int:
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        return main(argv)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def test_each_finding_kind_is_reported_at_its_config_line(tree: Path) -> None:
    """A dead layer, a missing override, model code that skips init_cfg, a hidden module, a failed build."""
    code, lines, err = _validate("cfg")
    assert code == 1, (lines, err)  # the missing override is an error
    assert [line.split(": ", 1)[0] for line in lines] == [
        "cfg/_base_/model.py:1:26",  # neck=dict(type='ConvNeck'): the class default, once for its 5 configs
        "cfg/boom.py:2:1",
        "cfg/hidden.py:2:39",
        "cfg/layer.py:3:57",
        "cfg/override.py:4:5",
        "cfg/own.py:2:39",  # only IS208: its missing override can never raise
    ]
    assert [line.split(": ", 3)[1:3] for line in lines] == [
        ["warning", "IS206 model.neck"],
        ["note", "IS505 model"],
        ["warning", "IS208 model.hidden.init_cfg"],
        ["warning", "IS206 model.head.init_cfg.layer"],
        ["error", "IS210 model.head.init_cfg"],
        ["warning", "IS208 model.own.init_cfg"],
    ]
    messages = [line.split(": ", 3)[3] for line in lines]
    assert messages[0] == (
        "the default init_cfg of ConvNeck (initspec_fixture.models, package code, not this config): "
        "layer='Linear' of init_cfg matches no module in 'neck' (ConvNeck), so its rule writes nothing; the "
        "classes there: ConvNeck, Conv2d (in 5 configs)"
    )
    assert messages[1] == (
        "not built, so its plan-time checks were not done: ValueError: Boom needs a num_classes argument"
    )
    assert messages[2].startswith(
        "init_cfg of 'plain.0' (Head) is never applied: its parent 'plain' (Sequential) has no init_weights"
    )
    assert messages[3].startswith("layer='Conv' of init_cfg matches no module in 'head' (Head), so its rule")
    assert "'head' (Head) has no submodule or parameter named 'missing'" in messages[4]
    assert messages[5].startswith(
        "init_cfg of 'own' (OwnInit) is never applied: OwnInit.init_weights is model code that does not call "
        "super().init_weights()"
    )
    assert "Traceback" not in err


def test_strict_makes_the_dead_rules_errors(tree: Path) -> None:
    """Under --strict, IS206 and IS208 are errors; the build note stays a note."""
    code, lines, _ = _validate("--strict", "cfg/layer.py", "cfg/boom.py")
    assert code == 1
    assert [line.split(": ", 3)[1:3] for line in lines] == [
        ["error", "IS206 model.neck"],
        ["note", "IS505 model"],
        ["error", "IS206 model.head.init_cfg.layer"],
    ]


def test_the_runtime_base_is_checked_statically_only(tree: Path) -> None:
    """A file without model=dict(type=...) is not built: no IS505 note names it, and the run exits 0."""
    code, lines, err = _validate("cfg/_base_/runtime.py")
    assert code == 0, err
    assert lines == []


def test_pretrained_prefix_that_matches_no_key_is_an_error(tree: Path) -> None:
    """A Pretrained whose checkpoint is on disk is planned: a prefix matching no key is IS209, at the prefix."""
    import torch

    torch.save({"state_dict": {"head.cls.weight": torch.zeros(4, 8, 1, 1)}}, tree / "head.pth")
    write(
        tree,
        "cfg/pretrained.py",
        "_base_ = ['./_base_/model.py', './_base_/runtime.py']\n"
        "model = dict(head=dict(type='Head', init_cfg=dict(\n"
        f"    type='Pretrained', checkpoint={str(tree / 'head.pth')!r}, prefix='nothere')))\n",
    )
    code, lines, _ = _validate("cfg/pretrained.py")
    assert code == 1
    found = [line for line in lines if "IS209" in line]
    assert len(found) == 1, lines
    assert found[0].startswith("cfg/pretrained.py:3:")
    assert 'prefix "nothere." matches no key in the checkpoint' in found[0]


def test_a_hung_build_is_stopped_and_the_run_goes_on(tree: Path) -> None:
    """A constructor that never returns is killed at --build-timeout, a note says so, the other file is built."""
    write(
        tree,
        "cfg/hang.py",
        "_base_ = ['./_base_/model.py', './_base_/runtime.py']\nmodel = dict(head=dict(type='Hang'))\n",
    )
    _, lines, err = _validate("--build-timeout", "20", "cfg/hang.py", "cfg/layer.py")
    notes = [line for line in lines if "IS505" in line]
    assert notes == [
        "cfg/hang.py:2:1: note: IS505 model: not built, so its plan-time checks were not done: the build took "
        "longer than --build-timeout 20 s and was stopped"
    ]
    assert any("cfg/layer.py" in line and "IS206" in line for line in lines), err


def test_no_progress_bar_when_stderr_is_not_a_terminal(tree: Path) -> None:
    """Progress goes to a terminal only: with stderr captured, it holds just the summary lines."""
    _, _, err = _validate("cfg/plain.py")
    assert "building" not in err
    assert "\r" not in err


def test_explain_without_model_builds_the_config(tree: Path) -> None:
    """`explain CONFIG` without --model builds cfg.model in the config's scope and plans it (in a subprocess)."""
    env_path = f"{FIXTURE}{os.pathsep}{Path(__file__).resolve().parents[1] / 'src'}"
    run = subprocess.run(
        [sys.executable, "-m", "initspec", "explain", "cfg/layer.py", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": env_path},
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert {"config": "head.init_cfg[0]", "layer": "Conv"} in report["unmatched_layers"]
    assert sorted(report["parameters"]) == [
        "head.cls.bias",
        "head.cls.weight",
        "head.norm.bias",
        "head.norm.weight",
        "neck.conv.bias",
        "neck.conv.weight",
        "stem.bias",
        "stem.weight",
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_done_total_and_the_current_file_on_a_terminal() -> None:
    """On a terminal, one rewritten line `[done/total] building FILE`, cleared at the end."""
    from initspec.cli._buildpool import Progress

    stream = _Terminal()
    progress = Progress(stream, 3)
    progress.done = 1
    progress.show("cfg/a.py")
    progress.close()
    assert stream.getvalue() == "\r\x1b[K[1/3] building cfg/a.py\r\x1b[K"


def test_explain_without_model_or_scope_is_a_usage_error(tree: Path) -> None:
    """A config with no default_scope cannot be built without --scope: exit 2, naming the fix, no traceback."""
    write(tree, "noscope.py", BASE)
    run = subprocess.run(
        [sys.executable, "-m", "initspec", "explain", "noscope.py"],
        capture_output=True,
        text=True,
        cwd=tree,
        env={
            **os.environ,
            "PYTHONPATH": f"{FIXTURE}{os.pathsep}{Path(__file__).resolve().parents[1] / 'src'}",
        },
        timeout=300,
        check=False,
    )
    assert run.returncode == 2
    assert "noscope.py sets no default_scope; pass --scope NAME" in run.stderr
    assert "Traceback" not in run.stderr
