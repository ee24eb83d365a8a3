"""Tests for initspec's public surface: a sorted, complete ``__all__`` whose every name resolves."""

from __future__ import annotations

import importlib.metadata
from types import ModuleType

import pytest

import initspec

# Names __init__.py needs for itself, not exports.
NOT_EXPORTED = {"annotations", "TYPE_CHECKING", "Any", "importlib"}
LAZY: dict[str, str] = initspec._LAZY
EAGER = [name for name in initspec.__all__ if name not in LAZY]


def test_all_is_sorted_and_unique() -> None:
    """``__all__`` is sorted and lists each name once."""
    assert initspec.__all__ == sorted(initspec.__all__)
    assert len(set(initspec.__all__)) == len(initspec.__all__)


@pytest.mark.parametrize("name", EAGER)
def test_eager_name_resolves(name: str) -> None:
    """Every name in ``__all__`` from the config half is an attribute of the package right after import."""
    assert name in vars(initspec)
    assert getattr(initspec, name) is not None


@pytest.mark.parametrize("name", sorted(LAZY))
def test_lazy_name_resolves(name: str) -> None:
    """Every lazily imported torch-half name resolves via getattr once its module exists."""
    module = pytest.importorskip(LAZY[name])
    assert getattr(initspec, name) is getattr(module, name)


def test_lazy_names_are_exported() -> None:
    """Every lazily provided name is listed in ``__all__``."""
    assert set(LAZY) <= set(initspec.__all__)


def test_no_public_name_is_missing_from_all() -> None:
    """Every public name defined in initspec/__init__.py (not a module or helper import) is in ``__all__``."""
    public = {
        name
        for name, value in vars(initspec).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name not in NOT_EXPORTED
    }
    assert public - set(initspec.__all__) == set()


def test_no_name_in_all_is_undefined() -> None:
    """Every name in ``__all__`` is defined in the package namespace or provided lazily (nothing stale)."""
    assert set(initspec.__all__) - set(vars(initspec)) - set(LAZY) == set()


def test_unknown_attribute_raises_attribute_error() -> None:
    """A name that is neither defined nor lazy raises AttributeError with the usual message."""
    with pytest.raises(AttributeError, match="module 'initspec' has no attribute 'plan_int'"):
        _ = initspec.plan_int  # type: ignore[attr-defined]


def test_version_matches_package_metadata() -> None:
    """``initspec.__version__`` equals the installed distribution's version."""
    assert initspec.__version__ == importlib.metadata.version("initspec")
