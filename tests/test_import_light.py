"""Tests that the config half of initspec never imports torch, measured with ``python -X importtime``."""

from __future__ import annotations

import pytest

from conftest import imported_modules


def _torch_modules(modules: list[str]) -> list[str]:
    return [m for m in modules if m == "torch" or m.startswith("torch.")]


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import initspec.configs", id="configs"),
        pytest.param("import initspec", id="top-level"),
        pytest.param("import initspec.registry", id="registry"),
        pytest.param(
            "from initspec.cli import main\nmain(['validate', 'examples/configs'])",
            id="validate-without-build",
        ),
        pytest.param(
            "from initspec import parse_init_cfg, lint_init_cfg\n"
            "cfgs = parse_init_cfg([dict(type='Kaiming', layer='Conv2d'),"
            " dict(type='Pretrained', checkpoint='x')])\n"
            "lint_init_cfg(cfgs); [c.to_dict() for c in cfgs]",
            id="parse-lint-to_dict",
        ),
        pytest.param(
            "from pathlib import Path\n"
            "from initspec.cli.lsp import catalog, completion, diagnostics, server\n"
            "server.build_server(); catalog.initializers()\n"
            "completion.complete(\"init_cfg = dict(type='Kaiming', )\", 'python', 0, 32)\n"
            "path = Path('cfg.py').absolute()\n"
            "diagnostics.Checker().check(path, {path: \"init_cfg = dict(type='Kaimng')\"})",
            id="lsp-server",
        ),
    ],
)
def test_config_half_does_not_import_torch(code: str) -> None:
    """Importing initspec or its configs, and parsing, linting and serialising, never imports torch."""
    modules = imported_modules(code)
    assert "initspec" in modules
    assert _torch_modules(modules) == []


def test_detector_sees_torch_when_it_is_imported() -> None:
    """The check can fail: importing initspec.functional (the torch half) shows torch in the import log."""
    assert "torch" in _torch_modules(imported_modules("import initspec.functional"))
