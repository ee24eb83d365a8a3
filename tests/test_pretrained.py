"""Integration tests for Pretrained configs: sources, key fixes, mismatches, transactions, safety, order."""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import pathlib
import re
import sys
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from conftest import LocalServer
from initspec import (
    BaseModule,
    CheckpointError,
    InitConfigError,
    InitPlanError,
    InitReport,
    InitWarning,
    initialize,
)
from initspec._checkpoint import sources as sources_module

State = dict[str, torch.Tensor]


# --- models, checkpoints and fixtures --------------------------------------------------------------------


class _Net(nn.Module):
    """A backbone (with BatchNorm buffers) and a head, as a detector-like model is laid out."""

    def __init__(self, classes: int = 2) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
        self.head = nn.Linear(4, classes)


def _tree(
    base: type[nn.Module], init_cfg: object = None, head_cfg: object = None, *, user_head: bool = False
) -> Any:
    """A BaseModule parent (``init_cfg``) with a plain backbone and a BaseModule head child (``head_cfg``).

    With ``user_head``, the head overrides ``init_weights`` (calling ``super()``), as many real models do.
    """

    class Head(base):  # type: ignore[valid-type,misc]
        def __init__(self) -> None:
            super().__init__(init_cfg=copy.deepcopy(head_cfg))
            self.fc = nn.Linear(4, 2)

    class UserHead(Head):
        def init_weights(self) -> None:
            super().init_weights()

    class Model(base):  # type: ignore[valid-type,misc]
        def __init__(self) -> None:
            super().__init__(init_cfg=copy.deepcopy(init_cfg))
            self.backbone = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
            self.head = UserHead() if user_head else Head()

    return Model()


def _values(model: nn.Module, prefix: str = "") -> State:
    """Distinct, recognisable values for every entry of the model's state dict (none is a default init)."""
    return {
        prefix + key: ((torch.arange(value.numel()) + 100 * (i + 1)).reshape(value.shape) / 8).to(value.dtype)
        for i, (key, value) in enumerate(model.state_dict().items())
    }


def _save(path: Path, obj: object) -> Path:
    if path.suffix == ".safetensors":
        assert isinstance(obj, dict)
        save_file(obj, str(path))
    else:
        torch.save(obj, path)
    return path


def _snapshot(model: nn.Module) -> State:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def _assert_state(model: nn.Module, expected: State) -> None:
    """Every tensor of ``expected`` equals the model's tensor of that name."""
    actual = model.state_dict()
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


def _assert_unchanged(model: nn.Module, snapshot: State) -> None:
    assert set(model.state_dict()) == set(snapshot)
    _assert_state(model, snapshot)


def _assert_same(left: nn.Module, right: nn.Module) -> None:
    assert left.state_dict().keys() == right.state_dict().keys()
    _assert_state(left, right.state_dict())


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """INITSPEC_HOME for every test, so nothing touches the real cache."""
    path = tmp_path / "home"
    monkeypatch.setenv("INITSPEC_HOME", str(path))
    return path


@pytest.fixture
def mm_pretrained(mm: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """mmengine.model with mmengine.runner importable (its import needs cv2: a stub stands in if absent)."""
    try:
        importlib.import_module("cv2")
    except ImportError:
        monkeypatch.setitem(sys.modules, "cv2", types.ModuleType("cv2"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importlib.import_module("mmengine.runner")
    return mm


def _mm_initialize(mm: types.ModuleType, model: nn.Module, cfg: object) -> None:
    """mmengine's initialize; its log lines and torch deprecation warnings are not under test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mm.initialize(model, copy.deepcopy(cfg))


def _mm_init_weights(model: Any) -> None:
    """mmengine's BaseModule.init_weights, its log lines and warnings not under test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.init_weights()


class _TouchOnLoad:
    """Unpickling this creates a file: it stands in for a malicious checkpoint."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (pathlib.Path.touch, (self.path,))


# --- sources and formats -----------------------------------------------------------------------------------


def test_loads_every_matching_tensor_and_reports_the_file(tmp_path: Path) -> None:
    """A full checkpoint loads every parameter and buffer; the report names the file for each parameter."""
    model = _Net()
    state = _values(model)
    path = _save(tmp_path / "ck.pth", state)
    report = initialize(model, dict(type="Pretrained", checkpoint=str(path)))
    _assert_state(model, state)
    assert {rec.initializer for rec in report.values()} == {"Pretrained"}
    assert report["head.weight"].source == f"init_cfg[0] from {path}"
    assert report["head.weight"].args == {"checkpoint": str(path)}
    (record,) = report.checkpoints
    assert (record.loaded, record.missing, record.unexpected, record.mismatched) == (len(state), (), (), ())
    assert report.untouched() == []


@pytest.mark.parametrize("suffix", [".pth", ".pt", ".bin", ".safetensors"])
def test_every_file_format_loads(suffix: str, tmp_path: Path) -> None:
    """.pth, .pt and .bin (torch.load) and .safetensors files all load through a config."""
    model = _Net()
    state = _values(model)
    path = _save(tmp_path / f"ck{suffix}", state)
    initialize(model, dict(type="Pretrained", checkpoint=str(path)))
    _assert_state(model, state)


def test_file_url_loads(tmp_path: Path) -> None:
    """A file:// URL names a local checkpoint."""
    model = _Net()
    state = _values(model)
    initialize(model, dict(type="Pretrained", checkpoint=_save(tmp_path / "ck.pth", state).as_uri()))
    _assert_state(model, state)


def test_tilde_path_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint path starting with ~ is under the user's home directory."""
    monkeypatch.setenv("HOME", str(tmp_path))
    model = _Net()
    state = _values(model)
    _save(tmp_path / "ck.pth", state)
    initialize(model, dict(type="Pretrained", checkpoint="~/ck.pth"))
    _assert_state(model, state)


def test_http_checkpoint_is_downloaded_into_the_cache(server: LocalServer, home: Path) -> None:
    """An http URL is downloaded into $INITSPEC_HOME/checkpoints and loaded."""
    model = _Net()
    state = _values(model)
    _save(server.root / "ck.pth", state)
    report = initialize(model, dict(type="Pretrained", checkpoint=server.url("ck.pth")))
    _assert_state(model, state)
    assert (home / "checkpoints" / "ck.pth").is_file()
    assert report["head.bias"].source == f"init_cfg[0] from {server.url('ck.pth')}"


def test_http_checkpoint_with_right_sha256_prefix_loads(server: LocalServer, tmp_path: Path) -> None:
    """A URL whose file name carries the right sha256 prefix loads."""
    model = _Net()
    state = _values(model)
    data = _save(tmp_path / "ck.pth", state).read_bytes()
    name = f"ck-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    (server.root / name).write_bytes(data)
    initialize(model, dict(type="Pretrained", checkpoint=server.url(name)))
    _assert_state(model, state)


def test_wrong_sha256_prefix_is_rejected_deleted_and_writes_nothing(server: LocalServer, home: Path) -> None:
    """A download whose sha256 contradicts its file name raises, is not kept, and leaves the model as is."""
    model = _Net()
    snapshot = _snapshot(model)
    data = _save(server.root / "ck-0000beef.pth", _values(model)).read_bytes()
    assert not hashlib.sha256(data).hexdigest().startswith("0000beef")
    with pytest.raises(CheckpointError, match=r"ck-0000beef\.pth failed its integrity check"):
        initialize(model, dict(type="Pretrained", checkpoint=server.url("ck-0000beef.pth")))
    _assert_unchanged(model, snapshot)
    assert list((home / "checkpoints").iterdir()) == []


@pytest.mark.parametrize("where", ["local", "http"])
def test_open_mmlab_name_resolves_through_the_user_table(
    where: str, server: LocalServer, home: Path, tmp_path: Path
) -> None:
    """open-mmlab://NAME is looked up in $INITSPEC_HOME/open_mmlab.json, which may name a path or a URL."""
    model = _Net()
    state = _values(model)
    location = (
        str(_save(tmp_path / "mine.pth", state))
        if where == "local"
        else server.url(_save(server.root / "mine.pth", state).name)
    )
    home.mkdir()
    (home / "open_mmlab.json").write_text(json.dumps({"my/net": location}))
    initialize(model, dict(type="Pretrained", checkpoint="open-mmlab://my/net"))
    _assert_state(model, state)


def test_torchvision_name_resolves_through_its_table(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torchvision://NAME is looked up in the torchvision table and downloaded."""
    model = _Net()
    state = _values(model)
    _save(server.root / "tv.pth", state)
    shipped = sources_module._shipped_table
    tables = {"torchvision": {"tiny": server.url("tv.pth")}}
    monkeypatch.setattr(sources_module, "_shipped_table", lambda t: tables.get(t) or shipped(t))
    initialize(model, dict(type="Pretrained", checkpoint="torchvision://tiny"))
    _assert_state(model, state)


def test_unknown_zoo_name_is_a_checkpoint_error() -> None:
    """An unknown open-mmlab name raises a CheckpointError naming the scheme and name."""
    with pytest.raises(CheckpointError, match=r"unknown checkpoint name 'open-mmlab://no/such/net'"):
        initialize(_Net(), dict(type="Pretrained", checkpoint="open-mmlab://no/such/net"))


# --- key fixes: state_dict, module., prefix ----------------------------------------------------------------


def test_state_dict_entry_is_used_when_present(tmp_path: Path) -> None:
    """A checkpoint holding "state_dict" (and metadata) loads the tensors under that key."""
    model = _Net()
    state = _values(model)
    path = _save(tmp_path / "ck.pth", {"state_dict": state, "meta": {"epoch": 3}, "optimizer": {}})
    initialize(model, dict(type="Pretrained", checkpoint=str(path)))
    _assert_state(model, state)


def test_leading_module_is_stripped_without_prefix(tmp_path: Path) -> None:
    """Keys saved from DataParallel ("module.x") load into "x" when no prefix is given."""
    model = _Net()
    state = _values(model)
    path = _save(tmp_path / "ck.pth", {"state_dict": {f"module.{k}": v for k, v in state.items()}})
    initialize(model, dict(type="Pretrained", checkpoint=str(path)))
    _assert_state(model, state)


@pytest.mark.parametrize("prefix", ["backbone", "backbone."])
def test_prefix_loads_the_sub_dict_into_a_bare_module(prefix: str, tmp_path: Path) -> None:
    """prefix="backbone" (dot added when missing) loads the backbone keys, stripped, into a bare backbone."""
    full = _Net()
    state = _values(full)
    path = _save(tmp_path / "ck.pth", {"state_dict": state})
    backbone = _Net().backbone
    report = initialize(backbone, dict(type="Pretrained", checkpoint=str(path), prefix=prefix))
    _assert_state(backbone, {k.removeprefix("backbone."): v for k, v in state.items() if "backbone" in k})
    assert report["0.weight"].args == {"checkpoint": str(path), "prefix": prefix}
    assert report.checkpoints[0].unexpected == ()


def test_prefix_does_not_strip_module(tmp_path: Path) -> None:
    """With a prefix, a leading "module." is not stripped (as mmengine): the prefix must include it."""
    state = _values(_Net(), prefix="module.")
    path = _save(tmp_path / "ck.pth", state)
    with pytest.raises(CheckpointError, match=r'prefix "backbone\." matches no key.*prefixes are: module'):
        initialize(_Net().backbone, dict(type="Pretrained", checkpoint=str(path), prefix="backbone"))
    backbone = _Net().backbone
    initialize(backbone, dict(type="Pretrained", checkpoint=str(path), prefix="module.backbone"))
    _assert_state(backbone, {k.removeprefix("module.backbone."): v for k, v in state.items() if "bone" in k})


# --- parity with mmengine ----------------------------------------------------------------------------------


def _full(model: nn.Module) -> dict[str, Any]:
    return dict(_values(model))


def _wrapped(model: nn.Module) -> dict[str, Any]:
    return {"state_dict": _values(model, prefix="module."), "meta": {"epoch": 1}}


def _mismatched(model: nn.Module) -> dict[str, Any]:
    state = _values(model)
    del state["backbone.0.bias"]
    return {**state, "head.weight": torch.ones(5, 4), "extra.weight": torch.ones(2)}


_PARITY_CASES: dict[str, tuple[Callable[[nn.Module], dict[str, Any]], dict[str, Any], str | None]] = {
    "full": (_full, {}, None),
    "state_dict-and-module": (_wrapped, {}, None),
    "prefix": (_full, {"prefix": "backbone"}, "backbone"),
    "prefix-with-dot": (_full, {"prefix": "backbone."}, "backbone"),
    "prefix-including-module": (_wrapped, {"prefix": "module.backbone"}, "backbone"),
    "mismatched": (_mismatched, {}, None),
    "override-after-load": (_full, {"override": dict(name="head", type="Constant", val=3)}, None),
}


@pytest.mark.parametrize("case", list(_PARITY_CASES))
def test_loaded_tensors_equal_mmengine(case: str, mm_pretrained: types.ModuleType, tmp_path: Path) -> None:
    """For the same checkpoint, config and model, initspec's tensors equal mmengine's Pretrained init."""
    make, extra, target = _PARITY_CASES[case]
    ours = _Net()
    theirs = copy.deepcopy(ours)
    path = _save(tmp_path / "ck.pth", make(ours))
    cfg = dict(type="Pretrained", checkpoint=str(path), **extra)
    _mm_initialize(mm_pretrained, theirs if target is None else getattr(theirs, target), cfg)
    subject = ours if target is None else getattr(ours, target)
    if case == "mismatched":
        with pytest.warns(InitWarning):
            initialize(subject, cfg)
    else:
        initialize(subject, cfg)
    _assert_same(ours, theirs)


def test_pretrained_override_equals_mmengine(mm_pretrained: types.ModuleType, tmp_path: Path) -> None:
    """A Pretrained override with a prefix loads into the named submodule exactly as mmengine does."""
    ours = _Net()
    theirs = copy.deepcopy(ours)
    path = _save(tmp_path / "ck.pth", _values(ours))
    cfg = dict(
        type="Constant",
        val=2,
        layer="Linear",
        override=dict(name="backbone", type="Pretrained", checkpoint=str(path), prefix="backbone"),
    )
    _mm_initialize(mm_pretrained, theirs, cfg)
    initialize(ours, cfg)
    _assert_same(ours, theirs)


def test_pretrained_last_in_base_module_equals_mmengine(
    mm_pretrained: types.ModuleType, tmp_path: Path
) -> None:
    """A parent's Pretrained runs after the children's own init_cfg in both libraries (mmengine#691)."""
    head_cfg = dict(type="Constant", val=9, layer="Linear")
    ours = _tree(BaseModule, None, head_cfg)
    state = {k: v for k, v in _values(ours).items() if k.startswith("backbone.")}
    path = _save(tmp_path / "ck.pth", state)
    cfg = dict(type="Pretrained", checkpoint=str(path))
    ours = _tree(BaseModule, cfg, head_cfg)
    theirs = _tree(mm_pretrained.BaseModule, cfg, head_cfg)
    theirs.load_state_dict(ours.state_dict())
    _mm_init_weights(theirs)
    with pytest.warns(InitWarning, match="missing keys"):
        ours.init_weights()
    _assert_same(ours, theirs)


def test_child_pretrained_under_a_parent_cfg_equals_mmengine(
    mm_pretrained: types.ModuleType, tmp_path: Path
) -> None:
    """A child's own Pretrained (with prefix) loads over its parent's cfg in both libraries."""
    parent_cfg = dict(type="Constant", val=5, layer="Linear")
    state = _values(_tree(BaseModule))
    cfg = dict(type="Pretrained", checkpoint=str(_save(tmp_path / "ck.pth", state)), prefix="head")
    ours = _tree(BaseModule, parent_cfg, cfg)
    theirs = _tree(mm_pretrained.BaseModule, parent_cfg, cfg)
    theirs.load_state_dict(ours.state_dict())
    _mm_init_weights(theirs)
    report = ours.init_weights()
    _assert_same(ours, theirs)
    assert torch.equal(ours.head.fc.weight, state["head.fc.weight"])
    assert torch.equal(ours.backbone[0].weight, torch.full((4, 3), 5.0))
    assert report["head.fc.weight"].source == f"head.init_cfg[0] from {cfg['checkpoint']}"


# --- mismatches --------------------------------------------------------------------------------------------


def test_non_strict_mismatch_loads_the_rest_reports_and_warns_once(tmp_path: Path) -> None:
    """strict=False: matching keys load; missing, unexpected, mismatched keys are reported and warned once."""
    model = _Net(classes=3)
    snapshot = _snapshot(model)
    state = _values(_Net(classes=2))
    del state["backbone.0.bias"]
    state["neck.weight"] = torch.ones(2)
    path = _save(tmp_path / "ck.pth", state)
    with pytest.warns(InitWarning, match=r"ck\.pth does not match the model exactly") as caught:
        report = initialize(model, dict(type="Pretrained", checkpoint=str(path)))
    assert len(caught) == 1
    message = str(caught[0].message)
    for text in ("missing keys", "backbone.0.bias", "unexpected keys", "neck.weight", "size mismatch"):
        assert text in message
    (record,) = report.checkpoints
    assert record.missing == ("backbone.0.bias",)
    assert record.unexpected == ("neck.weight",)
    assert record.mismatched == (("head.weight", (2, 4), (3, 4)), ("head.bias", (2,), (3,)))
    loaded = {k: v for k, v in state.items() if k.startswith("backbone.")}
    _assert_state(model, loaded)
    _assert_state(model, {k: snapshot[k] for k in ("backbone.0.bias", "head.weight", "head.bias")})
    assert report["head.weight"].source == "untouched"
    assert report["backbone.0.weight"].initializer == "Pretrained"


def _missing_key(state: State) -> State:
    return {k: v for k, v in state.items() if k != "head.bias"}


def _unexpected_key(state: State) -> State:
    return {**state, "neck.weight": torch.ones(2)}


def _size_mismatch(state: State) -> State:
    return {**state, "head.weight": torch.ones(5, 4)}


@pytest.mark.parametrize("spoil", [_missing_key, _unexpected_key, _size_mismatch])
def test_strict_mismatch_raises_before_any_write(spoil: Callable[[State], State], tmp_path: Path) -> None:
    """strict=True in the config: any mismatch raises InitPlanError naming the file; the model is as is."""
    model = _Net()
    snapshot = _snapshot(model)
    path = _save(tmp_path / "ck.pth", spoil(_values(model)))
    with pytest.raises(InitPlanError, match=r"init_cfg\[0\] \(strict=True\): checkpoint .*ck\.pth does not"):
        initialize(model, dict(type="Pretrained", checkpoint=str(path), strict=True))
    _assert_unchanged(model, snapshot)


def test_initialize_strict_governs_lints_not_checkpoint_mismatches(tmp_path: Path) -> None:
    """initialize(strict=True) keeps a Pretrained mismatch a warning: only the config's own strict raises."""
    model = _Net(classes=3)
    state = _values(_Net(classes=2))
    path = _save(tmp_path / "ck.pth", state)
    with pytest.warns(InitWarning, match=r"size mismatch for head\.weight"):
        initialize(model, dict(type="Pretrained", checkpoint=str(path)), strict=True)
    _assert_state(model, {k: v for k, v in state.items() if k.startswith("backbone.")})


def test_strict_exact_match_loads(tmp_path: Path) -> None:
    """strict=True with a checkpoint that matches exactly loads it, with no warning."""
    model = _Net()
    state = _values(model)
    initialize(model, dict(type="Pretrained", checkpoint=str(_save(tmp_path / "ck.pth", state)), strict=True))
    _assert_state(model, state)


# --- transactions: every failure is raised before the first write ------------------------------------------


def _missing_file(tmp_path: Path) -> tuple[dict[str, Any], type[Exception], str]:
    return {"checkpoint": str(tmp_path / "nope.pth")}, CheckpointError, r"nope\.pth can not be found"


def _truncated_file(tmp_path: Path) -> tuple[dict[str, Any], type[Exception], str]:
    path = _save(tmp_path / "cut.pth", _values(_Net()))
    path.write_bytes(path.read_bytes()[:200])
    return {"checkpoint": str(path)}, CheckpointError, r"cut\.pth could not be read.*truncated or corrupt"


def _corrupt_file(tmp_path: Path) -> tuple[dict[str, Any], type[Exception], str]:
    path = tmp_path / "junk.pth"
    path.write_bytes(b"\x00\xffnot a checkpoint\n" * 10)
    return {"checkpoint": str(path)}, CheckpointError, r"junk\.pth is in no checkpoint format initspec knows"


def _non_dict(tmp_path: Path) -> tuple[dict[str, Any], type[Exception], str]:
    path = _save(tmp_path / "tensor.pth", torch.ones(3))
    return {"checkpoint": str(path)}, CheckpointError, r"no state dict found in checkpoint file .*tensor\.pth"


def _absent_prefix(tmp_path: Path) -> tuple[dict[str, Any], type[Exception], str]:
    path = _save(tmp_path / "ck.pth", _values(_Net()))
    match = r'ck\.pth: prefix "neck\." matches no key .*; its top-level prefixes are: backbone, head$'
    return {"checkpoint": str(path), "prefix": "neck"}, CheckpointError, match


def _strict_mismatch(tmp_path: Path) -> tuple[dict[str, Any], type[Exception], str]:
    path = _save(tmp_path / "odd.pth", {"weight": torch.ones(1)})
    return {"checkpoint": str(path), "strict": True}, InitPlanError, r"strict=True.*odd\.pth does not match"


def _state_dict_not_a_mapping(tmp_path: Path) -> tuple[dict[str, Any], type[Exception], str]:
    path = _save(tmp_path / "listed.pth", {"state_dict": [torch.ones(1)]})
    return {"checkpoint": str(path)}, CheckpointError, r'listed\.pth: "state_dict" holds a list'


_FAILURES = [
    _missing_file,
    _truncated_file,
    _corrupt_file,
    _non_dict,
    _state_dict_not_a_mapping,
    _absent_prefix,
    _strict_mismatch,
]
_EARLIER = [dict(type="Constant", val=5, layer="Linear"), dict(type="Normal", std=3.0, layer="BatchNorm1d")]


@pytest.mark.parametrize("failure", _FAILURES)
def test_failure_alone_leaves_model_untouched(failure: Callable[..., Any], tmp_path: Path) -> None:
    """A bad Pretrained cfg raises an error naming the file, and the model is unchanged."""
    args, error, match = failure(tmp_path)
    model = _Net()
    snapshot = _snapshot(model)
    with pytest.raises(error, match=match):
        initialize(model, dict(type="Pretrained", **args))
    _assert_unchanged(model, snapshot)


@pytest.mark.parametrize("failure", _FAILURES)
def test_failure_after_writing_cfgs_leaves_model_untouched(
    failure: Callable[..., Any], tmp_path: Path
) -> None:
    """A bad Pretrained cfg after cfgs that would have written first still leaves the model unchanged."""
    args, error, match = failure(tmp_path)
    model = _Net()
    snapshot = _snapshot(model)
    with pytest.raises(error, match=match):
        initialize(model, [*_EARLIER, dict(type="Pretrained", **args)])
    _assert_unchanged(model, snapshot)


@pytest.mark.parametrize("failure", _FAILURES)
def test_failure_in_child_base_module_leaves_tree_untouched(
    failure: Callable[..., Any], tmp_path: Path
) -> None:
    """A bad Pretrained cfg in a child's init_cfg, under a parent cfg that writes first, writes nothing."""
    args, error, match = failure(tmp_path)
    model = _tree(BaseModule, _EARLIER, dict(type="Pretrained", **args))
    snapshot = _snapshot(model)
    with pytest.raises(error, match=match):
        model.init_weights()
    _assert_unchanged(model, snapshot)
    assert not model.is_init


@pytest.mark.parametrize("failure", _FAILURES)
def test_failure_in_child_with_user_init_weights_leaves_tree_untouched(
    failure: Callable[..., Any], tmp_path: Path
) -> None:
    """A bad Pretrained cfg in a child whose init_weights is user code still raises before any write."""
    args, error, match = failure(tmp_path)
    model = _tree(BaseModule, _EARLIER, dict(type="Pretrained", **args), user_head=True)
    snapshot = _snapshot(model)
    with pytest.raises(error, match=match):
        model.init_weights()
    _assert_unchanged(model, snapshot)


def test_strict_error_in_child_with_user_init_weights_names_the_child_config(tmp_path: Path) -> None:
    """The strict-mismatch error of a child's Pretrained cfg names that child's config, head.init_cfg[0]."""
    args, _, _ = _strict_mismatch(tmp_path)
    model = _tree(BaseModule, None, dict(type="Pretrained", **args), user_head=True)
    with pytest.raises(InitPlanError, match=r"^head\.init_cfg\[0\] \(strict=True\)"):
        model.init_weights()


def test_strict_error_in_child_names_the_child_config(tmp_path: Path) -> None:
    """The strict-mismatch error of an inline child's Pretrained cfg names head.init_cfg[0]."""
    args, _, _ = _strict_mismatch(tmp_path)
    model = _tree(BaseModule, None, dict(type="Pretrained", **args))
    with pytest.raises(InitPlanError, match=r"^head\.init_cfg\[0\] \(strict=True\)"):
        model.init_weights()


def test_checkpoint_errors_are_oserrors(tmp_path: Path) -> None:
    """A checkpoint that cannot be read raises CheckpointError, which callers may catch as OSError."""
    with pytest.raises(OSError, match=r"nope\.pth can not be found"):
        initialize(_Net(), dict(type="Pretrained", checkpoint=str(tmp_path / "nope.pth")))


# --- safety ------------------------------------------------------------------------------------------------


def test_malicious_pickle_through_a_config_is_refused_and_never_runs(tmp_path: Path) -> None:
    """A checkpoint whose unpickling would run code is refused, its code never runs, the model is as is."""
    marker = tmp_path / "pwned"
    model = _Net()
    snapshot = _snapshot(model)
    path = _save(tmp_path / "evil.pth", {**_values(model), "payload": _TouchOnLoad(marker)})
    with pytest.raises(CheckpointError, match=r"evil\.pth .*allow_unsafe_pickle"):
        initialize(model, dict(type="Pretrained", checkpoint=str(path)))
    assert not marker.exists()
    _assert_unchanged(model, snapshot)


@pytest.mark.parametrize("key", ["allow_unsafe_pickle", "weights_only", "unsafe"])
def test_no_config_key_enables_unpickling(key: str, tmp_path: Path) -> None:
    """No config key can switch unpickling on: such a key is an InitConfigError, raised before reading."""
    marker = tmp_path / "pwned"
    path = _save(tmp_path / "evil.pth", {"payload": _TouchOnLoad(marker)})
    cfg = {"type": "Pretrained", "checkpoint": str(path), key: key != "weights_only"}
    with pytest.raises(InitConfigError, match=re.escape(key)):
        initialize(_Net(), cfg)
    with pytest.raises(InitConfigError, match=re.escape(key)):
        _tree(BaseModule, cfg)
    assert not marker.exists()


# --- ordering and overrides --------------------------------------------------------------------------------


def test_pretrained_on_a_parent_loads_after_children_init(tmp_path: Path) -> None:
    """mmengine#691: a parent's Pretrained loads last, so keys absent from the file keep the child's init."""
    head_cfg = dict(type="Constant", val=9, bias=1, layer="Linear")
    state = {k: v for k, v in _values(_tree(BaseModule)).items() if k.startswith("backbone.")}
    path = _save(tmp_path / "ck.pth", state)
    model = _tree(BaseModule, dict(type="Pretrained", checkpoint=str(path)), head_cfg)
    with pytest.warns(InitWarning, match=r"missing keys in the checkpoint: head\.fc\.weight, head\.fc\.bias"):
        report = model.init_weights()
    _assert_state(model, state)
    assert torch.equal(model.head.fc.weight, torch.full((2, 4), 9.0))
    assert torch.equal(model.head.fc.bias, torch.ones(2))
    assert report["backbone.0.weight"].initializer == "Pretrained"
    assert report["backbone.0.weight"].source == f"init_cfg[0] from {path}"
    assert report["head.fc.weight"].initializer == "Constant"
    assert report["head.fc.weight"].source == "head.init_cfg[0]"
    assert report.checkpoints[0].missing == ("head.fc.weight", "head.fc.bias")


def test_pretrained_on_a_parent_overwrites_children_for_keys_it_holds(tmp_path: Path) -> None:
    """Keys the parent's checkpoint does hold win over the child's own init_cfg."""
    state = _values(_tree(BaseModule))
    path = _save(tmp_path / "ck.pth", state)
    model = _tree(
        BaseModule,
        dict(type="Pretrained", checkpoint=str(path)),
        dict(type="Constant", val=9, layer="Linear"),
    )
    model.init_weights()
    _assert_state(model, state)


def test_pretrained_with_override_reinitializes_the_named_child(tmp_path: Path) -> None:
    """Pretrained with an override loads the whole model, then re-initializes the named child."""
    model = _Net()
    state = _values(model)
    path = _save(tmp_path / "ck.pth", state)
    cfg = dict(type="Pretrained", checkpoint=str(path), override=dict(name="head", type="Constant", val=3))
    report = initialize(model, cfg)
    _assert_state(model, {k: v for k, v in state.items() if k.startswith("backbone.")})
    assert torch.equal(model.head.weight, torch.full((2, 4), 3.0))
    assert report["head.weight"].source == "init_cfg[0].override[0] (name='head')"
    assert report["backbone.0.weight"].source == f"init_cfg[0] from {path}"


def test_pretrained_override_loads_into_the_submodule(tmp_path: Path) -> None:
    """An override of type Pretrained with a prefix loads the prefixed keys into the named submodule."""
    model = _Net()
    state = _values(model)
    path = _save(tmp_path / "ck.pth", state)
    override = dict(name="backbone", type="Pretrained", checkpoint=str(path), prefix="backbone")
    report = initialize(model, dict(type="Constant", val=2, layer="Linear", override=override))
    _assert_state(model, {k: v for k, v in state.items() if k.startswith("backbone.")})
    assert torch.equal(model.head.weight, torch.full((2, 4), 2.0))
    assert report["backbone.0.weight"].initializer == "Pretrained"
    assert report["backbone.0.weight"].args == {"checkpoint": str(path), "prefix": "backbone"}
    assert report["head.weight"].initializer == "Constant"
    assert report.checkpoints[0].loaded == 7


# --- meta device -------------------------------------------------------------------------------------------


def test_meta_built_model_loads_like_an_eager_one(tmp_path: Path) -> None:
    """A model built on meta, then to_empty(cpu), gets exactly the checkpoint's values, as an eager one."""
    with torch.device("meta"):
        lazy = _Net()
    lazy.to_empty(device="cpu")
    eager = _Net()
    state = _values(eager)
    cfg = dict(type="Pretrained", checkpoint=str(_save(tmp_path / "ck.pth", state)))
    initialize(lazy, cfg)
    initialize(eager, cfg)
    _assert_state(lazy, state)
    _assert_same(lazy, eager)


def test_meta_built_base_module_tree_loads_like_an_eager_one(tmp_path: Path) -> None:
    """BaseModule.init_weights on a meta-built, to_empty'd tree equals the eager tree's result."""
    state = _values(_tree(BaseModule))
    cfg = dict(type="Pretrained", checkpoint=str(_save(tmp_path / "ck.pth", state)))
    with torch.device("meta"):
        lazy = _tree(BaseModule, cfg)
    lazy.to_empty(device="cpu")
    eager = _tree(BaseModule, cfg)
    reports: list[InitReport] = [lazy.init_weights(), eager.init_weights()]
    _assert_state(lazy, state)
    _assert_same(lazy, eager)
    assert reports[0].to_dict() == reports[1].to_dict()


# --- the checkpoint='' placeholder ---------------------------------------------------------------------------


@pytest.mark.parametrize("base", [nn.Module, BaseModule], ids=["initialize", "init_weights"])
def test_a_placeholder_checkpoint_builds_and_raises_before_any_write(base: type[nn.Module]) -> None:
    """``checkpoint=''`` (mmpretrain's benchmark configs) builds; applying it is a CheckpointError, nothing written.

    The Constant listed before it would have written first, so an unchanged state dict shows the check ran
    before any write.
    """
    cfg = [dict(type="Constant", val=3.0, layer="Linear"), dict(type="Pretrained", checkpoint="")]
    model = _tree(base, cfg) if base is BaseModule else _Net()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    with pytest.raises(CheckpointError, match=r"^init_cfg\[1\]: checkpoint is '', a placeholder: set it"):
        model.init_weights() if base is BaseModule else initialize(model, cfg)
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The path of every checkpoint file read from now on, in order."""
    from initspec import checkpoint

    paths: list[Path] = []
    read_file = checkpoint.read_file

    def counting(path: Path, *args: Any) -> object:
        paths.append(path)
        return read_file(path, *args)

    monkeypatch.setattr(checkpoint, "read_file", counting)
    return paths


def test_each_checkpoint_is_read_once_per_init_weights_run(tmp_path: Path, reads: list[Path]) -> None:
    """Model code calling ``super().init_weights()``: its config's file is read once, when that call applies it
    (the dry run of the config reads no checkpoint), and again only in a new run."""
    head = nn.Linear(4, 2)
    state = _values(head, "fc.")
    path = _save(tmp_path / "head.pth", state)
    model = _tree(BaseModule, None, dict(type="Pretrained", checkpoint=str(path)), user_head=True)
    report = model.init_weights()
    assert report["head.fc.weight"].initializer == "Pretrained"
    assert torch.equal(model.head.fc.weight, state["fc.weight"])
    assert reads == [path]
    model.head.is_init = model.is_init = False
    model.init_weights()
    assert reads == [path, path]  # a new run reads the file again: the cache lives for one run


def test_model_code_that_reads_its_own_checkpoint_reads_it_once(tmp_path: Path, reads: list[Path]) -> None:
    """Swin's way: model code reads ``init_cfg['checkpoint']`` itself and maps its keys its own way.

    initspec's plan of that code's config reads nothing, so the file is read once, by the code (whose
    ``encoder.`` keys would not even match the module as initspec sees it).
    """
    from initspec import checkpoint

    class OwnLoad(BaseModule):
        def __init__(self, init_cfg: dict[str, Any]) -> None:
            super().__init__(init_cfg=init_cfg)
            self.fc = nn.Linear(4, 2)

        def init_weights(self) -> None:
            state = checkpoint.load_checkpoint(self.init_cfg["checkpoint"])
            self.load_state_dict({k.removeprefix("encoder."): v for k, v in state.items()})

    state = _values(nn.Linear(4, 2), "encoder.fc.")
    path = _save(tmp_path / "own.pth", state)

    class Model(BaseModule):
        def __init__(self) -> None:
            super().__init__(init_cfg=dict(type="Constant", val=1.0, layer="Linear"))
            self.own = OwnLoad(dict(type="Pretrained", checkpoint=str(path)))

    model = Model()
    with pytest.warns(InitWarning, match=r"'own' \(OwnLoad\) was never applied"):  # no super(): as mmengine
        model.init_weights()
    assert reads == [path]
    assert torch.equal(model.own.fc.weight, state["encoder.fc.weight"])


def test_a_model_of_inference_tensors_is_refused_before_any_write(tmp_path: Path) -> None:
    """A model built under torch.inference_mode() gets an InitPlanError naming it, with no tensor changed."""
    with torch.inference_mode():
        model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    path = _save(tmp_path / "ck.pth", {k: torch.full(v.shape, 7.0) for k, v in model.state_dict().items()})
    snapshot = _snapshot(model)
    with pytest.raises(InitPlanError, match=r"0\.weight: the model's tensor is an inference tensor"):
        initialize(model, dict(type="Pretrained", checkpoint=str(path)))
    _assert_unchanged(model, snapshot)


def test_copy_into_refuses_inference_tensors_before_any_write() -> None:
    """copy_into refuses a module of inference tensors before writing any of them."""
    from initspec.checkpoint import copy_into

    with torch.inference_mode():
        model = nn.Linear(2, 2)
    snapshot = _snapshot(model)
    with pytest.raises(CheckpointError, match=r"made under torch\.inference_mode\(\)"):
        copy_into(model, {"bias": torch.ones(2), "weight": torch.ones(2, 2)})
    _assert_unchanged(model, snapshot)
