"""The collector during a validate run: paused while it reads, restored after, and skipped at the command's exit."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from initspec.__main__ import console
from initspec.cli import main
from initspec.cli._gc import collector_paused

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.usefixtures("collector_on")
def test_the_collector_is_off_inside_and_on_again_after() -> None:
    """Inside the block no automatic collection runs; after it the collector is on, as it was."""
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_is_restored_when_the_block_raises() -> None:
    """An exception in the block still turns the collector back on."""
    with pytest.raises(KeyError, match="boom"), collector_paused():
        raise KeyError("boom")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    """A caller that turned collection off keeps it off after the block."""
    was = gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


@pytest.mark.usefixtures("collector_on")
def test_validate_leaves_the_collector_on(capsys: pytest.CaptureFixture[str]) -> None:
    """``main(["validate", ...])`` in-process gives the collector back as it found it."""
    assert main(["validate", str(ROOT / "examples" / "configs")]) == 0
    capsys.readouterr()
    assert gc.isenabled()


def test_the_console_entry_returns_the_exit_code_and_freezes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``console()`` runs ``sys.argv`` and returns its code, with every object frozen out of the exit's pass."""
    monkeypatch.setattr(sys, "argv", ["initspec", "--version"])
    try:
        assert console() == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert capsys.readouterr().out.startswith("initspec ")


def test_ctrl_c_ends_the_command_with_130_and_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A KeyboardInterrupt in the command is exit code 130 and ``initspec: interrupted``, not a traceback."""
    import initspec.__main__ as entry

    def interrupted(argv: object = None) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(entry, "main", interrupted)
    try:
        assert console() == 130
    finally:
        gc.unfreeze()
    assert capsys.readouterr().err == "initspec: interrupted\n"
