"""initspec inside mmengine: install() patches mmengine's BaseModule, uninstall() restores it exactly."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from torch import nn

import initspec.mmengine
from conftest import import_mmengine
from initspec import BaseModule, CheckpointError, InitConfigError, InitPlanError, InitWarning, init_options

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def mmm() -> Iterator[ModuleType]:
    """mmengine.model with initspec installed (uninstalled afterwards)."""
    model = import_mmengine("mmengine.model")
    initspec.mmengine.install()
    yield model
    initspec.mmengine.uninstall()


def _head(base: type[nn.Module]) -> type[nn.Module]:
    class Head(base):  # type: ignore[misc, valid-type]
        def __init__(self, init_cfg: Any = None) -> None:
            super().__init__(init_cfg)
            self.cls = nn.Linear(4, 3)
            self.reg = nn.Linear(4, 2)

    return Head


def test_import_works_without_mmengine_and_install_says_what_to_install() -> None:
    """`import initspec.mmengine` never fails; install() without mmengine raises ImportError naming pip."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["mmengine"] = None
        import initspec.mmengine
        try:
            initspec.mmengine.install()
        except ImportError as err:
            print("ImportError:", err)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert "ImportError: initspec.mmengine.install() needs mmengine" in out.stdout
    assert "pip install mmengine" in out.stdout


def test_install_twice_is_harmless_and_uninstall_restores_mmengine_exactly() -> None:
    """install() twice patches once; uninstall() puts mmengine's own functions back."""
    base = import_mmengine("mmengine.model").BaseModule
    original = (base.__dict__["__init__"], base.__dict__["init_weights"])
    initspec.mmengine.install()
    initspec.mmengine.install(seed=3)
    assert initspec.mmengine.installed()
    patched = base.__dict__["init_weights"]
    assert patched is not original[1]
    initspec.mmengine.uninstall()
    assert (base.__dict__["__init__"], base.__dict__["init_weights"]) == original
    assert not initspec.mmengine.installed()
    initspec.mmengine.uninstall()  # harmless when not installed


def test_a_typo_in_an_mmengine_modules_init_cfg_fails_where_it_is_built(mmm: ModuleType) -> None:
    """Every mmengine BaseModule subclass validates init_cfg at construction once installed."""
    with pytest.raises(InitConfigError, match=r"unknown key 'std0' for Normal; did you mean 'std'"):
        _head(mmm.BaseModule)(dict(type="Normal", std0=0.01, layer="Linear"))


def test_installed_mmengine_is_bit_identical_to_stock_with_skip_overwritten_false() -> None:
    """With skip_overwritten=False, an mmengine model initializes to stock mmengine's exact tensors."""
    base = import_mmengine("mmengine.model").BaseModule
    cfg = [
        dict(type="Kaiming", layer="Linear"),
        dict(type="Normal", std=0.01, layer="Linear", override=dict(name="cls")),
    ]
    torch.manual_seed(0)
    stock = _head(base)(cfg)
    stock.init_weights()
    initspec.mmengine.install(skip_overwritten=False)
    try:
        torch.manual_seed(0)
        ours = _head(base)(cfg)
        report = ours.init_weights()
    finally:
        initspec.mmengine.uninstall()
    assert all(
        torch.equal(a, b)
        for a, b in zip(stock.state_dict().values(), ours.state_dict().values(), strict=True)
    )
    assert report["cls.weight"].source == "init_cfg[1].override[0] (name='cls')"


def test_in_place_edits_of_init_cfg_are_applied(mmm: ModuleType) -> None:
    """The config applied is the one the module holds when init_weights runs (CascadeRPNHead's append)."""

    class Edited(_head(mmm.BaseModule)):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(dict(type="Constant", val=1, override=[dict(name="reg")]))
            self.init_cfg["override"].append(dict(name="cls"))

    model = Edited()
    model.init_weights()
    assert torch.equal(model.cls.weight.detach(), torch.ones(3, 4))


def test_in_place_edits_are_applied_for_initspecs_base_module_too() -> None:
    """initspec's own BaseModule re-reads an init_cfg edited in place after construction."""
    model = _head(BaseModule)(dict(type="Constant", val=1, override=[dict(name="reg")]))
    model.init_cfg["override"].append(dict(name="cls", type="Constant", val=2))
    model.init_weights()
    assert torch.equal(model.cls.weight.detach(), torch.full((3, 4), 2.0))


def test_an_init_weights_set_on_an_instance_is_called(mmm: ModuleType) -> None:
    """A child's init_weights assigned on the instance (a monkeypatch or Mock) is called, as mmengine does."""
    calls: list[str] = []
    parent = mmm.Sequential(_head(mmm.BaseModule)(dict(type="Constant", val=1, layer="Linear")))
    parent[0].init_weights = lambda: calls.append("called")
    with pytest.warns(InitWarning, match=r"'0' \(Head\) was never applied"):  # the lambda skips super()
        parent.init_weights()
    assert calls == ["called"]


def test_init_options_reaches_a_model_code_root_without_keywords(mmm: ModuleType) -> None:
    """A root whose init_weights(self) is model code gets the block's seed, and .report is its report."""

    class Root(_head(mmm.BaseModule)):  # type: ignore[misc]
        def init_weights(self) -> None:
            super().init_weights()

    cfg = dict(type="Normal", std=0.5, layer="Linear")
    models = [Root(cfg), Root(cfg)]
    for i, model in enumerate(models):
        torch.manual_seed(i)  # the global RNG is not used with a seed
        with init_options(seed=7) as options:
            model.init_weights()
        assert options.report is not None
        assert options.report["cls.weight"].initializer == "Normal"
    assert torch.equal(models[0].cls.weight, models[1].cls.weight)


def test_a_free_form_init_cfg_read_by_model_code_builds_with_one_warning(mmm: ModuleType) -> None:
    """PVT's init_cfg=dict(checkpoint=...) builds (one warning per class) and is refused only if applied."""

    class Reads(_head(mmm.BaseModule)):  # type: ignore[misc]
        def init_weights(self) -> None:
            assert self.init_cfg["checkpoint"] == "x.pth"  # model code reading its own dict

    class Applies(Reads):
        def init_weights(self) -> None:
            super(Reads, self).init_weights()

    with pytest.warns(InitWarning, match=r"Reads: init_cfg is not an initspec config.*missing 'type'"):
        model = Reads(dict(checkpoint="x.pth"))
    model.init_weights()
    with pytest.warns(InitWarning, match="Applies: init_cfg is not an initspec config"):
        applied = Applies(dict(checkpoint="x.pth"))
    before = {k: v.clone() for k, v in applied.state_dict().items()}
    with pytest.raises(InitConfigError, match="missing 'type'"):
        applied.init_weights()
    assert all(torch.equal(before[k], v) for k, v in applied.state_dict().items())


def test_a_free_form_init_cfg_on_a_generic_module_is_still_an_error(mmm: ModuleType) -> None:
    """Without model code of its own to read it, a config with no type fails where the module is built."""
    with pytest.raises(InitConfigError, match="missing 'type'"):
        _head(mmm.BaseModule)(dict(checkpoint="x.pth"))


def test_custom_imports_in_an_mmengine_config_turns_it_on(tmp_path: Path) -> None:
    """custom_imports = dict(imports=["initspec.mmengine_install"]) in a config file installs initspec."""
    cfg = tmp_path / "cfg.py"
    cfg.write_text(
        'custom_imports = dict(imports=["initspec.mmengine_install"], allow_failed_imports=False)\n'
    )
    code = textwrap.dedent(
        f"""
        import warnings
        warnings.simplefilter("ignore")
        from mmengine.config import Config
        import initspec.mmengine
        assert not initspec.mmengine.installed()
        Config.fromfile({str(cfg)!r})
        print("installed:", initspec.mmengine.installed())
        """
    )
    import_mmengine("mmengine.config")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "installed: True" in out.stdout


def test_dead_config_of_a_head_that_never_calls_super_is_reported(mmm: ModuleType) -> None:
    """RTMDet/TOOD: an inherited override naming a missing child is a warning, and the model initializes."""

    class Head(_head(mmm.BaseModule)):  # type: ignore[misc]
        def init_weights(self) -> None:
            nn.init.constant_(self.cls.weight, 5)

    class Root(mmm.BaseModule):
        def __init__(self) -> None:
            super().__init__()
            self.head = Head(dict(type="Normal", layer="Linear", override=dict(name="atss_cls")))

    model = Root()
    with pytest.warns(InitWarning, match=r"'head' \(Head\) was never applied.*'atss_cls'"):
        model.init_weights()
    assert torch.equal(model.head.cls.weight.detach(), torch.full((3, 4), 5.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh = Root()
    with pytest.raises(InitPlanError, match="atss_cls"):
        fresh.init_weights(strict=True)


def test_a_placeholder_checkpoint_builds_under_install_and_init_weights_raises_before_writing(
    mmm: ModuleType,
) -> None:
    """mmpretrain's benchmark configs hold ``checkpoint=''``: the model builds; init_weights raises, writing nothing."""
    cfg = [dict(type="Constant", val=2.0, layer="Linear"), dict(type="Pretrained", checkpoint="")]
    head = _head(mmm.BaseModule)(init_cfg=cfg)
    before = {key: value.clone() for key, value in head.state_dict().items()}
    with pytest.raises(CheckpointError, match="a placeholder"):
        head.init_weights()
    assert all(torch.equal(before[key], value) for key, value in head.state_dict().items())
