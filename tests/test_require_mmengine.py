"""Tests for conftest's mmengine import: a skip locally, a failure when CI requires the parity tests."""

from __future__ import annotations

import sys

import pytest

from conftest import REQUIRE_MMENGINE_ENV, import_mmengine


@pytest.fixture
def no_mmengine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import mmengine.model`` fail as if mmengine were not installed."""
    monkeypatch.setitem(sys.modules, "mmengine.model", None)


@pytest.mark.usefixtures("no_mmengine")
def test_missing_mmengine_skips_without_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without INITSPEC_REQUIRE_MMENGINE, a missing mmengine skips the test."""
    monkeypatch.delenv(REQUIRE_MMENGINE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"mmengine\.model is not installed"):
        import_mmengine("mmengine.model")


@pytest.mark.usefixtures("no_mmengine")
@pytest.mark.parametrize("value", ["1", "true"])
def test_missing_mmengine_fails_under_the_switch(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With INITSPEC_REQUIRE_MMENGINE set, a missing mmengine fails the test, naming the fix."""
    monkeypatch.setenv(REQUIRE_MMENGINE_ENV, value)
    with pytest.raises(pytest.fail.Exception, match=r"INITSPEC_REQUIRE_MMENGINE is set.*mmengine==0\.10\.7"):
        import_mmengine("mmengine.model")


@pytest.mark.usefixtures("no_mmengine")
def test_zero_turns_the_switch_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """INITSPEC_REQUIRE_MMENGINE=0 behaves as unset."""
    monkeypatch.setenv(REQUIRE_MMENGINE_ENV, "0")
    with pytest.raises(pytest.skip.Exception):
        import_mmengine("mmengine.model")
