"""Shared fixtures: mmengine, the reference implementation, imported quietly when it is installed."""

from __future__ import annotations

import warnings
from types import ModuleType

import pytest


def import_mmengine_model() -> ModuleType:
    """``mmengine.model``, or skip the test; its import warns through torch.jit, which pytest would fail."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pytest.importorskip("mmengine")
        import mmengine.model as mm_model  # type: ignore[import-untyped]
    return mm_model


@pytest.fixture
def mm() -> ModuleType:
    """mmengine.model (skips when mmengine is absent)."""
    return import_mmengine_model()
