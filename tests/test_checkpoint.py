"""Tests for initspec.checkpoint: sources, formats, key fixes, matching and copying."""

from __future__ import annotations

import hashlib
import json
import pathlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from conftest import LocalServer
from initspec import checkpoint
from initspec._checkpoint import sources as _sources
from initspec._errors import CheckpointError
from initspec.checkpoint import (
    StateDictMatch,
    copy_into,
    extract_state_dict,
    load_checkpoint,
    match_state_dict,
)


class _TouchOnLoad:
    """Unpickling this creates a file: stands in for a malicious checkpoint."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (pathlib.Path.touch, (self.path,))


@dataclass
class _Note:
    """A harmless custom object that only an unsafe unpickle can rebuild."""

    text: str


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """INITSPEC_HOME for every test, so nothing touches the real cache."""
    path = tmp_path / "home"
    monkeypatch.setenv("INITSPEC_HOME", str(path))
    return path


def _state() -> dict[str, torch.Tensor]:
    return {"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.ones(2)}


def _save(path: Path, obj: object = None) -> Path:
    torch.save(_state() if obj is None else obj, path)
    return path


def _assert_state(loaded: dict[str, Any]) -> None:
    assert set(loaded) == {"weight", "bias"}
    assert torch.equal(loaded["weight"], _state()["weight"])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- sources ---------------------------------------------------------------------------------------------


def test_local_path_loads_the_mapping(tmp_path: Path) -> None:
    """A local path, as str or Path, returns the saved mapping."""
    path = _save(tmp_path / "ck.pth")
    _assert_state(load_checkpoint(path))
    _assert_state(load_checkpoint(str(path)))


def test_tilde_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A leading ~ means the user's home directory."""
    monkeypatch.setenv("HOME", str(tmp_path))
    _save(tmp_path / "ck.pth")
    _assert_state(load_checkpoint("~/ck.pth"))


def test_file_url(tmp_path: Path) -> None:
    """A file:// URL names a local file."""
    path = _save(tmp_path / "ck.pth")
    _assert_state(load_checkpoint(path.as_uri()))


def test_map_location_places_tensors(tmp_path: Path) -> None:
    """map_location is passed on to torch.load."""
    loaded = load_checkpoint(_save(tmp_path / "ck.pth"), map_location="meta")
    assert loaded["weight"].is_meta


def test_http_download_is_cached(server: LocalServer, home: Path) -> None:
    """An http URL is downloaded once into $INITSPEC_HOME/checkpoints and then reused."""
    _save(server.root / "ck.pth")
    _assert_state(load_checkpoint(server.url("ck.pth")))
    _assert_state(load_checkpoint(server.url("ck.pth")))
    assert server.requests == ["/ck.pth"]
    assert (home / "checkpoints" / "ck.pth").is_file()


def test_cache_defaults_to_torch_hub_dir(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without INITSPEC_HOME, downloads go under torch.hub.get_dir()."""
    monkeypatch.delenv("INITSPEC_HOME")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    _save(server.root / "ck.pth")
    load_checkpoint(server.url("ck.pth"))
    assert (tmp_path / "hub" / "checkpoints" / "ck.pth").is_file()


def test_sha256_prefix_in_name_is_checked_and_accepted(server: LocalServer, tmp_path: Path) -> None:
    """A file named name-<sha256 prefix>.pth whose content matches downloads fine."""
    digest = _sha256(_save(tmp_path / "ck.pth"))
    (server.root / f"ck-{digest[:8]}.pth").write_bytes((tmp_path / "ck.pth").read_bytes())
    _assert_state(load_checkpoint(server.url(f"ck-{digest[:8]}.pth")))


def test_sha256_mismatch_raises_and_leaves_no_file(server: LocalServer, home: Path) -> None:
    """A download whose sha256 differs from its name's prefix is rejected and not cached."""
    path = _save(server.root / "ck-00000000.pth")
    assert not _sha256(path).startswith("00000000")
    with pytest.raises(CheckpointError, match=r"ck-00000000\.pth failed its integrity check"):
        load_checkpoint(server.url("ck-00000000.pth"))
    assert list((home / "checkpoints").iterdir()) == []


def test_http_error_names_the_url(server: LocalServer) -> None:
    """A download that fails names the URL."""
    with pytest.raises(CheckpointError, match=r"could not download checkpoint http://.*/absent\.pth"):
        load_checkpoint(server.url("absent.pth"))


def test_torchvision_name_resolves(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """torchvision://NAME is looked up in the shipped table and downloaded."""
    _save(server.root / "tiny.pth")
    monkeypatch.setattr(_sources, "_shipped_table", lambda table: {"tiny": server.url("tiny.pth")})
    _assert_state(load_checkpoint("torchvision://tiny"))


@pytest.mark.parametrize("scheme", ["open-mmlab://", "openmmlab://"])
def test_open_mmlab_user_table(scheme: str, server: LocalServer, home: Path) -> None:
    """A name in $INITSPEC_HOME/open_mmlab.json resolves under both open-mmlab spellings."""
    _save(server.root / "mine.pth")
    home.mkdir()
    (home / "open_mmlab.json").write_text(json.dumps({"my/model": server.url("mine.pth")}))
    _assert_state(load_checkpoint(f"{scheme}my/model"))


def test_user_table_overrides_shipped_entry_and_may_name_a_path(tmp_path: Path, home: Path) -> None:
    """The user table wins over the shipped one, and an entry may be a local path."""
    path = _save(tmp_path / "local.pth")
    home.mkdir()
    (home / "open_mmlab.json").write_text(json.dumps({"resnet50_v1c": str(path)}))
    _assert_state(load_checkpoint("open-mmlab://resnet50_v1c"))


def test_bad_user_table_is_reported(home: Path) -> None:
    """A user table that is not a JSON object of strings is an error naming it."""
    home.mkdir()
    (home / "open_mmlab.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match=r"open_mmlab\.json must be a JSON object"):
        load_checkpoint("open-mmlab://resnet50_v1c")


def test_unknown_name_lists_close_matches() -> None:
    """An unknown model-zoo name suggests similar known names."""
    with pytest.raises(
        CheckpointError, match=r"'torchvision://resnet5'; did you mean 'torchvision://resnet50'"
    ):
        load_checkpoint("torchvision://resnet5")


def test_shipped_tables_hold_real_urls() -> None:
    """The shipped tables map well-known names to https URLs."""
    torchvision = _sources._shipped_table("torchvision")
    open_mmlab = _sources._shipped_table("open_mmlab")
    mmcls = _sources._shipped_table("mmcls")
    assert torchvision["resnet50"] == "https://download.pytorch.org/models/resnet50-0676ba61.pth"
    assert open_mmlab["resnet50_v1c"].startswith("https://download.openmmlab.com/")
    assert mmcls["mobilenet_v2"] == (
        "https://download.openmmlab.com/mmclassification/v0/mobilenet_v2/"
        "mobilenet_v2_batch256_imagenet_20200708-3b2dc3af.pth"
    )
    for url in [*torchvision.values(), *open_mmlab.values(), *mmcls.values()]:
        assert url.startswith("https://download.")


def test_mmcls_name_resolves_through_the_shipped_table(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mmcls://NAME is looked up in initspec/hub/mmcls.json and downloaded, as open-mmlab://NAME is."""
    _save(server.root / "tiny.pth")
    tables: list[str] = []

    def shipped(table: str) -> dict[str, str]:
        tables.append(table)
        return {"tiny": server.url("tiny.pth")}

    monkeypatch.setattr(_sources, "_shipped_table", shipped)
    _assert_state(load_checkpoint("mmcls://tiny"))
    assert tables == ["mmcls"]
    assert server.requests == ["/tiny.pth"]


def test_mmcls_user_table_is_merged_over_the_shipped_one(tmp_path: Path, home: Path) -> None:
    """$INITSPEC_HOME/mmcls.json adds names and replaces shipped ones; a shipped name stays known."""
    path = _save(tmp_path / "local.pth")
    home.mkdir()
    (home / "mmcls.json").write_text(json.dumps({"mobilenet_v2": str(path), "mine": str(path)}))
    _assert_state(load_checkpoint("mmcls://mobilenet_v2"))
    _assert_state(load_checkpoint("mmcls://mine"))
    target = _sources.download_target("mmcls://resnet50")
    assert target is not None and target.name.startswith("resnet50_")


def test_unknown_mmcls_name_lists_close_names_and_both_tables(home: Path) -> None:
    """An unknown mmcls:// name suggests shipped names and names the shipped and the user table."""
    with pytest.raises(
        CheckpointError, match=r"'mmcls://mobilenet_v22'; did you mean 'mmcls://mobilenet_v2'"
    ) as err:
        load_checkpoint("mmcls://mobilenet_v22")
    assert "initspec/hub/mmcls.json" in str(err.value)
    assert str(home / "mmcls.json") in str(err.value)


# --- formats and failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ck.pth", "ck.pt", "ck.bin", "ck"])
def test_torch_formats(name: str, tmp_path: Path) -> None:
    """.pth, .pt, .bin and extension-less files are read with torch.load."""
    _assert_state(load_checkpoint(_save(tmp_path / name)))


def test_safetensors(tmp_path: Path) -> None:
    """.safetensors files are read with the safetensors package."""
    save_file(_state(), str(tmp_path / "ck.safetensors"))
    _assert_state(load_checkpoint(tmp_path / "ck.safetensors"))


def test_safetensors_without_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without safetensors installed, the error says which extra to install."""
    save_file(_state(), str(tmp_path / "ck.safetensors"))
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)
    with pytest.raises(CheckpointError, match=r'pip install "initspec\[safetensors\]"'):
        load_checkpoint(tmp_path / "ck.safetensors")


def test_corrupt_safetensors(tmp_path: Path) -> None:
    """A corrupt .safetensors file is a CheckpointError naming it."""
    (tmp_path / "ck.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{bad")
    with pytest.raises(CheckpointError, match=r"ck\.safetensors could not be read"):
        load_checkpoint(tmp_path / "ck.safetensors")


def test_malicious_pickle_is_refused_and_never_runs(tmp_path: Path) -> None:
    """A pickle that would run code is refused by default, and its code does not run."""
    marker = tmp_path / "pwned"
    path = _save(tmp_path / "evil.pth", {"weight": torch.ones(1), "x": _TouchOnLoad(marker)})
    with pytest.raises(CheckpointError, match=r"evil\.pth .*allow_unsafe_pickle=True.*config file can never"):
        load_checkpoint(path)
    assert not marker.exists()


def test_allow_unsafe_pickle_loads_custom_objects(tmp_path: Path) -> None:
    """allow_unsafe_pickle=True lets a trusted file with custom objects load."""
    path = _save(tmp_path / "note.pth", {"note": _Note("hi")})
    assert load_checkpoint(path, allow_unsafe_pickle=True)["note"] == _Note("hi")


def test_truncated_file(tmp_path: Path) -> None:
    """A truncated file is a CheckpointError naming it, chained to the cause."""
    data = _save(tmp_path / "ck.pth").read_bytes()
    (tmp_path / "ck.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"ck\.pth could not be read.*truncated or corrupt") as info:
        load_checkpoint(tmp_path / "ck.pth")
    assert info.value.__cause__ is not None


def test_missing_file_is_an_oserror(tmp_path: Path) -> None:
    """A missing file is a CheckpointError, which is also an OSError."""
    with pytest.raises(CheckpointError, match=r"absent\.pth can not be found") as info:
        load_checkpoint(tmp_path / "absent.pth")
    assert isinstance(info.value, OSError)


def test_non_mapping_checkpoint(tmp_path: Path) -> None:
    """A file holding a bare tensor has no state dict."""
    with pytest.raises(CheckpointError, match=r"no state dict found in checkpoint file .*ck\.pth"):
        load_checkpoint(_save(tmp_path / "ck.pth", torch.ones(3)))


# --- extract_state_dict -----------------------------------------------------------------------------------


def test_state_dict_key_is_taken_and_non_tensors_dropped() -> None:
    """checkpoint["state_dict"] is used when present, keeping only tensors."""
    ckpt = {"state_dict": {"a.w": torch.ones(1), "_note": "x"}, "meta": {"epoch": 3}}
    assert list(extract_state_dict(ckpt)) == ["a.w"]


def test_checkpoint_itself_is_the_state_dict_without_the_key() -> None:
    """Without a "state_dict" key the checkpoint itself holds the tensors."""
    assert list(extract_state_dict({"a.w": torch.ones(1), "epoch": 3})) == ["a.w"]


def test_leading_module_is_stripped() -> None:
    """Without a prefix, only a leading "module." is removed."""
    ckpt = {"module.a.w": torch.ones(1), "b.module.w": torch.ones(1)}
    assert list(extract_state_dict(ckpt)) == ["a.w", "b.module.w"]


@pytest.mark.parametrize("prefix", ["backbone", "backbone."])
def test_prefix_selects_and_strips(prefix: str) -> None:
    """A prefix, with or without its dot, keeps its keys and strips it; "module." stays."""
    ckpt = {"backbone.w": torch.ones(1), "backbone.module.b": torch.ones(1), "backbones.x": torch.ones(1)}
    assert list(extract_state_dict({"state_dict": ckpt}, prefix=prefix)) == ["w", "module.b"]


def test_prefix_without_match_lists_prefixes() -> None:
    """A prefix matching nothing names the source and the prefixes there are."""
    ckpt = {"backbone.w": torch.ones(1), "head.fc.w": torch.ones(1), "module.neck.w": torch.ones(1)}
    pattern = (
        r"ck\.pth: prefix \"backbon\.\" .*prefixes are: backbone, head, module; did you mean 'backbone'\?"
    )
    with pytest.raises(CheckpointError, match=pattern):
        extract_state_dict(ckpt, prefix="backbon", source="ck.pth")


def test_state_dict_that_is_not_a_mapping() -> None:
    """A "state_dict" entry that is not a mapping is an error."""
    with pytest.raises(CheckpointError, match=r'"state_dict" holds a Tensor'):
        extract_state_dict({"state_dict": torch.ones(1)})


# --- match_state_dict and copy_into -----------------------------------------------------------------------


def _model(device: str = "cpu") -> nn.Sequential:
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2), nn.Linear(2, 4)).to(device)


def _partial_state() -> dict[str, torch.Tensor]:
    state = {key: torch.full_like(value, 7.0, device="cpu") for key, value in _model().state_dict().items()}
    del state["1.num_batches_tracked"], state["1.running_var"]
    state["2.weight"] = torch.zeros(5, 2)
    state["extra.w"] = torch.zeros(1)
    return state


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_match_classifies_keys(device: str) -> None:
    """Keys are loadable, missing (num_batches_tracked excepted), unexpected or size-mismatched."""
    model = _model(device)
    match = match_state_dict(model, _partial_state())
    assert set(match.loadable) == {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "2.bias"}
    assert match.missing == ("1.running_var",)
    assert match.unexpected == ("extra.w",)
    assert match.mismatched == (("2.weight", (5, 2), (4, 2)),)
    assert not match.ok


def test_match_writes_nothing() -> None:
    """Matching reads shapes only and leaves the model's values alone."""
    model = _model()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    match_state_dict(model, _partial_state())
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())


def test_exact_match_is_ok() -> None:
    """A checkpoint of the same model matches exactly."""
    model = _model()
    match = match_state_dict(model, model.state_dict())
    assert match.ok
    assert match.describe("ck.pth") == "checkpoint ck.pth matches the model exactly (9 tensors)"


def test_describe_lists_every_problem() -> None:
    """describe() names the source and each kind of problem."""
    text = match_state_dict(_model(), _partial_state()).describe("ck.pth")
    assert text.splitlines() == [
        "checkpoint ck.pth does not match the model exactly (6 tensors load):",
        "  unexpected keys in the checkpoint: extra.w",
        "  missing keys in the checkpoint: 1.running_var",
        "  size mismatch for 2.weight: the checkpoint has shape (5, 2), the model (4, 2)",
    ]


def test_describe_hints_at_prefix_when_nothing_matches() -> None:
    """When no key matches, describe() suggests a prefix: the one the keys carry, or a generic one."""
    match = match_state_dict(nn.Linear(1, 1), {"backbone.weight": torch.ones(1, 1)})
    assert isinstance(match, StateDictMatch)
    assert (
        "hint: 100% of the checkpoint's keys start with 'backbone.'; add prefix='backbone'"
        in match.describe("x")
    )
    unrelated = match_state_dict(nn.Linear(1, 1), {"neck.conv": torch.ones(1, 1)})
    assert "set prefix" in unrelated.describe("ck.pth")


def test_copy_into_writes_parameters_and_buffers() -> None:
    """copy_into copies loadable tensors in place, buffers included."""
    model = _model()
    weight = model[0].weight
    copy_into(model, match_state_dict(model, _partial_state()).loadable)
    assert model[0].weight is weight
    assert torch.equal(weight, torch.full((2, 3), 7.0))
    assert torch.equal(model[1].running_mean, torch.full((2,), 7.0))
    assert not torch.equal(model[2].weight, torch.zeros(4, 2))


def test_copy_into_skips_meta_targets() -> None:
    """Targets on the meta device are skipped without error."""
    model = _model("meta")
    copy_into(model, match_state_dict(model, _partial_state()).loadable)
    assert model[0].weight.is_meta


def test_copy_into_rejects_unknown_key_before_writing() -> None:
    """A key naming no tensor of that shape raises, and nothing is written."""
    model = _model()
    with pytest.raises(CheckpointError, match=r"cannot copy '2\.weight' of shape \(5, 2\)"):
        copy_into(model, {"0.bias": torch.full((2,), 7.0), "2.weight": torch.zeros(5, 2)})
    assert not torch.equal(model[0].bias, torch.full((2,), 7.0))


# --- dtype and layout: what can be copied ----------------------------------------------------------------


def _sparse(values: torch.Tensor) -> torch.Tensor:
    return values.to_sparse()


REFUSED: dict[str, tuple[torch.Tensor, torch.Tensor, str]] = {
    "complex into float": (torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.complex64), "imaginary part"),
    "float into bool": (torch.zeros(2, 3, dtype=torch.bool), torch.zeros(2, 3), "into a bool one"),
    "int into bool": (
        torch.zeros(2, 3, dtype=torch.bool),
        torch.zeros(2, 3, dtype=torch.int64),
        "into a bool",
    ),
    "float into int": (torch.zeros(2, 3, dtype=torch.int64), torch.zeros(2, 3), "without truncating"),
    "complex into int": (
        torch.zeros(2, 3, dtype=torch.int32),
        torch.zeros(2, 3, dtype=torch.cfloat),
        "imaginary",
    ),
    "sparse checkpoint": (torch.zeros(2, 3), _sparse(torch.eye(2, 3)), "layout torch.sparse_coo"),
    "sparse model": (_sparse(torch.eye(2, 3)), torch.zeros(2, 3), "the model tensor has layout"),
    "meta checkpoint": (torch.zeros(2, 3), torch.zeros(2, 3, device="meta"), "holds no data"),
}
ALLOWED: dict[str, tuple[torch.Tensor, torch.Tensor]] = {
    "float64 into float32": (torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.float64)),
    "float32 into float16": (torch.zeros(2, 3, dtype=torch.float16), torch.zeros(2, 3)),
    "int into float": (torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.int64)),
    "bool into float": (torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.bool)),
    "int into int": (torch.zeros(2, 3, dtype=torch.int64), torch.zeros(2, 3, dtype=torch.int32)),
    "float into complex": (torch.zeros(2, 3, dtype=torch.cfloat), torch.zeros(2, 3)),
    "into a meta model": (torch.zeros(2, 3, device="meta"), torch.zeros(2, 3)),
}


@pytest.mark.parametrize(("target", "loaded", "match"), REFUSED.values(), ids=REFUSED)
def test_check_loadable_refuses_lossy_or_impossible_copies(
    target: torch.Tensor, loaded: torch.Tensor, match: str
) -> None:
    """Complex into real, float into bool or int, and non-dense layouts are refused, naming the key."""
    problem = checkpoint.check_loadable("head.weight", target, loaded)
    assert problem is not None
    assert problem.startswith("head.weight: ")
    assert match in problem


@pytest.mark.parametrize(("target", "loaded"), ALLOWED.values(), ids=ALLOWED)
def test_check_loadable_allows_what_load_state_dict_casts(target: torch.Tensor, loaded: torch.Tensor) -> None:
    """Float widening and narrowing, int or bool into float, and float into complex are allowed."""
    assert checkpoint.check_loadable("w", target, loaded) is None


def test_match_state_dict_sets_incompatible_tensors_apart() -> None:
    """A same-shape tensor that cannot be copied is neither loadable nor mismatched, but incompatible."""
    module = nn.Linear(3, 2)
    match = match_state_dict(module, {"weight": torch.zeros(2, 3, dtype=torch.cfloat), "bias": torch.ones(2)})
    assert set(match.loadable) == {"bias"}
    assert [key for key, _ in match.incompatible] == ["weight"]
    assert match.mismatched == ()
    assert not match.ok
    assert "cannot load weight: a complex" in match.describe("ck.pth")


def test_match_state_dict_refuses_a_sparse_tensor_of_the_right_shape() -> None:
    """A sparse checkpoint tensor matches by shape, yet is incompatible (copy_ would fail at apply time)."""
    match = match_state_dict(nn.Linear(3, 2), {"weight": torch.eye(2, 3).to_sparse(), "bias": torch.ones(2)})
    assert [key for key, _ in match.incompatible] == ["weight"]


def test_init_weights_and_copy_into_share_one_copy_path() -> None:
    """``Step.run`` (a Pretrained load) and ``copy_into`` copy through the same function, ``copy_loaded``."""
    from initspec._checkpoint import copy as copy_module
    from initspec._walker import steps

    assert steps.copy_loaded is copy_module.copy_loaded
    assert checkpoint.copy_loaded is copy_module.copy_loaded
