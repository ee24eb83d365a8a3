"""``initspec explain`` applies a model config's nested ``model.<path>.init_cfg`` at its module, as mmengine would.

Each init_cfg of the file gets a note on stderr: where it was applied, or why not. Checkpoints are never
downloaded without ``--download``; ``INITSPEC_HOME`` points at a temporary cache in every test.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from conftest import LocalServer, write
from initspec.configs import INITIALIZERS
from test_cli import MODEL_FACTORY, ROOT, run_cli

TREE = """
from torch import nn

from initspec import BaseModule, ModuleList


class Part(BaseModule):
    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self.fc = nn.Linear(4, 4)


class Net(BaseModule):
    def __init__(self):
        super().__init__()
        self.encoder = Part(dict(type="Constant", val=1.0, layer="Linear"))
        self.decoder = Part(dict(type="Constant", val=9.0, layer="Linear"))
        self.proj = nn.Linear(4, 2)
        self.blocks = ModuleList([Part(), Part()])
        self.loose = nn.ModuleList([Part()])


class Own(BaseModule):
    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self.fc = nn.Linear(4, 4)

    def init_weights(self):
        nn.init.zeros_(self.fc.weight)


def build_own():
    net = Net()
    net.own = Own()
    return net


def build():
    return Net()


def build_pretrained():
    net = Net()
    net.decoder.init_cfg = dict(type="Pretrained", checkpoint="http://127.0.0.1:9/decoder.pth")
    return net
"""

CONFIG = """\
model:
  encoder:
    init_cfg: {type: Normal, std: 0.5, layer: Linear}
  decodr:
    init_cfg: {type: Constant, val: 2, layer: Linear}
  proj:
    init_cfg: {type: Constant, val: 3, layer: Linear}
  blocks:
    - init_cfg: {type: Constant, val: 4, layer: Linear}
    - {}
  loose:
    - init_cfg: {type: Constant, val: 6, layer: Linear}
other:
  init_cfg: {type: Constant, val: 5, layer: Linear}
"""


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty checkpoint cache, so no test depends on what this machine has downloaded."""
    path = tmp_path / "home"
    monkeypatch.setenv("INITSPEC_HOME", str(path))
    return path


def _explain(tmp_path: Path, config: Path, *args: str) -> tuple[int, dict[str, str], list[str]]:
    """Exit code, the table's rows by tensor name, and the stderr lines."""
    write(tmp_path, "tree_model.py", TREE)
    result = run_cli("explain", config, "--model", "tree_model:build", *args, pythonpath=tmp_path)
    table = result.stdout.split("\n\n", 1)[0]
    rows = {line.split()[0]: line for line in table.splitlines() if line.strip()}
    return result.returncode, rows, result.stderr.splitlines()


def test_each_nested_init_cfg_is_applied_at_its_module_or_named_with_the_reason(tmp_path: Path) -> None:
    """Applied where the path is a BaseModule; a typo'd path, a plain module and a non-model key are named."""
    config = write(tmp_path, "cfg.yaml", CONFIG)
    code, rows, err = _explain(tmp_path, config)
    assert code == 0, err
    assert rows["encoder.fc.weight"].split()[-2:] == ["Normal(std=0.5)", "encoder.init_cfg[0]"]
    assert rows["blocks.0.fc.weight"].split()[-2:] == ["Constant(val=4.0)", "blocks.0.init_cfg[0]"]
    assert rows["decoder.fc.weight"].split()[-2:] == [
        "Constant(val=9.0)",
        "decoder.init_cfg[0]",
    ]  # the factory's
    assert rows["proj.weight"].split()[-1] == "untouched"
    assert rows["loose.0.fc.weight"].split()[-1] == "untouched"
    assert err == [
        f"{config}:3:5: note: model.encoder.init_cfg is applied to 'encoder' (Part)",
        f"{config}:5:5: note: model.decodr.init_cfg is not applied: the model (Net) has no submodule 'decodr'; "
        "did you mean 'decoder'?; its children: encoder, decoder, proj, blocks, loose",
        f"{config}:7:5: note: model.proj.init_cfg is not applied: 'proj' (Linear) is not a BaseModule, so "
        "nothing applies an init_cfg to it",
        f"{config}:9:7: note: model.blocks[0].init_cfg is applied to 'blocks.0' (Part)",
        f"{config}:12:7: note: model.loose[0].init_cfg is not applied: init_weights never reaches 'loose.0' "
        "(Part): its parent 'loose' (ModuleList) has no init_weights, so mmengine skips it too; make the parent "
        "a BaseModule (initspec.ModuleList, mmengine's ModuleList)",
        f"{config}:14:3: note: other.init_cfg is not applied: only `model.init_cfg` and "
        "`model.<module>.init_cfg` name a module of the model",
        f"{config}: note: 1 module(s) keep the init_cfg they were built with, as the config sets none "
        "for them: decoder",
    ]


def test_the_example_child_config_is_explained_with_its_merged_head(tmp_path: Path) -> None:
    """mmdet_child.py's head (std=0.02, override bias_prob=0.05, merged over its base) is what the table shows."""
    result = run_cli("explain", "examples/configs/mmdet_child.py", "--model", MODEL_FACTORY, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    table = result.stdout.split("\n\n", 1)[0]
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.strip()}
    assert rows["head.shared.weight"][-2:] == ["Normal(std=0.02)", "head.init_cfg[0]"]
    bias = float(rows["head.cls.bias"][-3].removeprefix("Normal(bias=").rstrip(")"))
    assert bias == pytest.approx(-math.log((1 - 0.05) / 0.05))
    assert rows["neck.fpn.weight"][-2:] == ["Xavier(distribution='uniform')", "neck.init_cfg[0]"]
    assert rows["backbone.stem.weight"][-1] == "untouched"
    notes = result.stderr.splitlines()
    assert (
        "examples/configs/mmdet_child.py:7:9: note: model.head.init_cfg is applied to 'head' (Head)" in notes
    )
    assert (
        "examples/configs/mmdet_style.py:10:9: note: model.neck.init_cfg is applied to 'neck' (Neck)" in notes
    )
    backbone = next(line for line in notes if "model.backbone.init_cfg" in line)
    assert backbone.startswith(
        "examples/configs/mmdet_style.py:6:9: note: model.backbone.init_cfg is not applied"
    )
    assert "torchvision://resnet18" in backbone
    assert "explain downloads only with --download" in backbone


def _part_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    state = {"fc.weight": torch.full((4, 4), 7.0), "fc.bias": torch.full((4,), 7.0)}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state


def test_a_cached_checkpoint_is_loaded_and_an_uncached_one_is_not_fetched(tmp_path: Path, home: Path) -> None:
    """A URL whose file is in the cache loads (nothing is fetched: the port is closed); one that is not is named."""
    _part_checkpoint(home / "checkpoints" / "part.pth")
    config = write(
        tmp_path,
        "cfg.yaml",
        "model:\n  encoder:\n    init_cfg: {type: Pretrained, checkpoint: 'http://127.0.0.1:9/part.pth'}\n"
        "  decoder:\n    init_cfg: {type: Pretrained, checkpoint: 'http://127.0.0.1:9/other.pth'}\n",
    )
    code, rows, err = _explain(tmp_path, config)
    assert code == 0, err
    assert "checkpoint" in rows["encoder.fc.weight"]
    assert rows["decoder.fc.weight"].split()[-1] == "untouched"
    assert err[0] == f"{config}:3:5: note: model.encoder.init_cfg is applied to 'encoder' (Part)"
    assert err[1] == (
        f"{config}:5:5: note: model.decoder.init_cfg is not applied: its checkpoint http://127.0.0.1:9/other.pth "
        f"({home / 'checkpoints' / 'other.pth'}) is not downloaded, and explain downloads only with --download; "
        "'decoder' (Part) is shown with no init_cfg of its own"
    )


def test_download_fetches_a_nested_checkpoint(tmp_path: Path, server: LocalServer, home: Path) -> None:
    """With --download the checkpoint is fetched from the (loopback) server, cached and loaded."""
    _part_checkpoint(server.root / "part.pth")
    config = write(
        tmp_path,
        "cfg.yaml",
        f"model:\n  encoder:\n    init_cfg: {{type: Pretrained, checkpoint: '{server.url('part.pth')}'}}\n",
    )
    code, rows, err = _explain(tmp_path, config, "--download")
    assert code == 0, err
    assert server.requests == ["/part.pth"]
    assert (home / "checkpoints" / "part.pth").is_file()
    assert "checkpoint" in rows["encoder.fc.weight"]


def test_a_top_level_checkpoint_that_is_not_downloaded_exits_2(tmp_path: Path) -> None:
    """A file that is one init_cfg needs its checkpoint: without --download, exit 2 naming it; nothing printed."""
    config = write(
        tmp_path, "cfg.yaml", "init_cfg: {type: Pretrained, checkpoint: 'http://127.0.0.1:9/w.pth'}\n"
    )
    code, rows, err = _explain(tmp_path, config)
    assert code == 2
    assert rows == {}
    assert err == [
        f"{config}: error: the checkpoint http://127.0.0.1:9/w.pth ({tmp_path / 'home' / 'checkpoints' / 'w.pth'}) "
        "is not downloaded; explain downloads only with --download"
    ]


def test_an_invalid_nested_init_cfg_is_a_located_error(tmp_path: Path) -> None:
    """An invalid config at a nested path exits 1 with its own file:line:col, and no table."""
    config = write(
        tmp_path, "cfg.yaml", "model:\n  decoder:\n    init_cfg:\n      type: Normal\n      std: -1\n"
    )
    code, rows, err = _explain(tmp_path, config)
    assert code == 1
    assert rows == {}
    assert err[0].startswith(
        f"{config}:5:7: error: IS100 model.decoder.init_cfg.std: expected a value greater"
    )


def test_a_value_only_known_at_run_time_leaves_that_config_unapplied(tmp_path: Path) -> None:
    """A nested config holding a call is not applied (the note says why); the rest of the file still is."""
    config = write(
        tmp_path,
        "cfg.py",
        "model = dict(\n    encoder=dict(init_cfg=dict(type='Normal', std=get_std(), layer='Linear')),\n"
        "    decoder=dict(init_cfg=dict(type='Constant', val=2.0, layer='Linear')),\n)\n",
    )
    code, rows, err = _explain(tmp_path, config)
    assert code == 0, err
    assert err[0].startswith(
        f"{config}:2:18: note: model.encoder.init_cfg is not applied: a value in it is only known"
    )
    assert "get_std" in err[0]
    assert rows["decoder.fc.weight"].split()[-2:] == ["Constant(val=2.0)", "decoder.init_cfg[0]"]
    assert rows["encoder.fc.weight"].split()[-2:] == [
        "Constant(val=1.0)",
        "encoder.init_cfg[0]",
    ]  # the factory's


def test_a_plain_model_takes_only_model_init_cfg(tmp_path: Path) -> None:
    """On a model that is not a BaseModule, nested configs cannot apply: exit 2 with the notes and the reason."""
    write(
        tmp_path,
        "plain_model.py",
        "from torch import nn\n\ndef build():\n    return nn.Sequential(nn.Linear(2, 2))\n",
    )
    config = write(
        tmp_path, "cfg.yaml", "model:\n  head:\n    init_cfg: {type: Constant, val: 1, layer: Linear}\n"
    )
    result = run_cli("explain", config, "--model", "plain_model:build", pythonpath=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{config}:3:5: note: model.head.init_cfg is not applied: the model (Sequential) has no submodule 'head'; "
        "its children: 0",
        f"{config}: error: no init_cfg of the file applies to Sequential, which is not a BaseModule (only "
        "`model.init_cfg` applies to such a model, as plan_init(model, init_cfg))",
    ]


@pytest.mark.parametrize(
    "text",
    ["model:\n  encoder:\n    init_cfg: {type: Normal, std: 0.5, layer: Linear}\n", "optimizer: {lr: 0.1}\n"],
    ids=["model-config", "no-init-cfg"],
)
def test_a_built_in_checkpoint_is_not_fetched_either(tmp_path: Path, home: Path, text: str) -> None:
    """A Pretrained the model was built with (mmseg's ``pretrained=``, a class default) is not downloaded."""
    config = write(tmp_path, "cfg.yaml", text)
    write(tmp_path, "tree_model.py", TREE)
    result = run_cli("explain", config, "--model", "tree_model:build_pretrained", pythonpath=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"{config}: note: 'decoder' (Part) is shown with no init_cfg of its own: the one it was built with needs "
        f"the checkpoint http://127.0.0.1:9/decoder.pth ({home / 'checkpoints' / 'decoder.pth'}), which is not "
        "downloaded, and explain downloads only with --download"
    )
    assert "decoder.fc.weight " in result.stdout
    assert [line.split()[-1] for line in result.stdout.splitlines() if line.startswith("decoder.fc.")] == [
        "untouched",
        "untouched",
    ]


def test_a_free_form_config_goes_to_a_module_whose_own_code_reads_it(tmp_path: Path) -> None:
    """Like PVT's ``init_cfg=dict(checkpoint=...)``: not an initspec config, but its own init_weights reads it."""
    config = write(tmp_path, "cfg.yaml", "model:\n  own:\n    init_cfg: {checkpoint: weights.pth}\n")
    write(tmp_path, "tree_model.py", TREE)
    result = run_cli("explain", config, "--model", "tree_model:build_own", pythonpath=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        f"{config}: warning: Own: init_cfg is not an initspec config"
    )  # construction's
    assert lines[1] == (
        f"{config}:3:5: note: model.own.init_cfg is applied to 'own' (Own), whose own init_weights reads it: it "
        "is not an initspec config (missing 'type'; expected one of: "
        + ", ".join(sorted(INITIALIZERS.names))
        + ")"
    )
    assert "user-defined init_weights of Own (own)" in result.stdout


def test_a_top_level_init_cfg_is_explained_and_nested_ones_are_named(tmp_path: Path) -> None:
    """With a top-level ``init_cfg`` the file is one config on the whole model; ``model.*`` ones get a note."""
    config = write(
        tmp_path,
        "cfg.yaml",
        "init_cfg: {type: Constant, val: 3, layer: Linear}\n"
        "model:\n  encoder:\n    init_cfg: {type: Constant, val: 2, layer: Linear}\n",
    )
    code, rows, err = _explain(tmp_path, config)
    assert code == 0, err
    assert rows["encoder.fc.weight"].split()[-2:] == ["Constant(val=3.0)", "init_cfg[0]"]
    assert err == [
        f"{config}:4:5: note: model.encoder.init_cfg is not applied: the file's top-level `init_cfg` is "
        "explained on the whole model instead"
    ]


def test_explain_and_overrides_find_modules_through_one_lookup() -> None:
    """explain's ``model.<path>`` and an override ``name`` resolve a dotted path through the same ``along``."""
    from torch import nn

    from initspec import BaseModule, ModuleList
    from initspec._walker.tree import along, resolve_target
    from initspec.cli._placements import _module_at, _unreached_at

    class Net(BaseModule):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = ModuleList([nn.Linear(2, 2)])
            self.loose = nn.ModuleList([BaseModule()])

    model = Net()
    assert along(model, "blocks.0") == [model, model.blocks, model.blocks[0]]
    assert along(model, "blocks.9.weight") == [model, model.blocks]
    assert _module_at(model, "blocks.0") == (model.blocks[0], "")
    assert resolve_target(model, "blocks.0") is model.blocks[0]
    assert resolve_target(model, "blocks.0.weight") is model.blocks[0].weight
    module, why = _module_at(model, "blocks.0.weight")  # a tensor: no module for explain
    assert module is None
    assert why.startswith("blocks.0 (Linear) has no submodule 'weight'")
    assert _module_at(model, "blokcs")[1].endswith("did you mean 'blocks'?; its children: blocks, loose")
    assert _unreached_at(model, "loose.0").startswith("its parent 'loose' (ModuleList) has no init_weights")
    assert _unreached_at(model, "blocks.0") == ""


def test_explain_resolves_mmcls_names_to_their_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """explain finds where an mmcls://NAME checkpoint would be cached, as for open-mmlab://NAME."""
    from initspec.cli._placements import uncached_checkpoints
    from initspec.configs import PretrainedInit

    monkeypatch.setenv("INITSPEC_HOME", str(tmp_path))
    cfgs = (PretrainedInit(checkpoint="mmcls://mobilenet_v2"),)
    cached = tmp_path / "checkpoints" / "mobilenet_v2_batch256_imagenet_20200708-3b2dc3af.pth"
    assert uncached_checkpoints(cfgs) == [f"mmcls://mobilenet_v2 ({cached})"]
    cached.parent.mkdir()
    cached.write_bytes(b"")
    assert uncached_checkpoints(cfgs) == []
