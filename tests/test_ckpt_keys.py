"""Reading a checkpoint's names and shapes ahead of the Runner's load: no data read, no pickled code run."""

from __future__ import annotations

import collections
import os
import pickle
from pathlib import Path

import pytest
import torch
from torch import nn

from initspec._ckpt_keys import TensorMeta, read_shapes, state_dict_shapes


class _Trap:
    """A pickled object whose unpickling would create a file: it must never run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (os.mkdir, (str(self.path),))


def _mmengine_like(path: Path, legacy: bool = False) -> dict[str, tuple[int, ...]]:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(1, 3, 5, 5)).sum().backward()
    optimizer.step()
    state = collections.OrderedDict((f"module.{k}", v) for k, v in model.state_dict().items())
    checkpoint = {
        "meta": {"epoch": 1, "trap": _Trap(path.parent / "pwned"), "d": collections.defaultdict(list, a=[1])},
        "state_dict": state,
        "optimizer": optimizer.state_dict(),
    }
    torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_shapes_of_a_checkpoint_with_arbitrary_objects_and_nothing_runs(tmp_path: Path, legacy: bool) -> None:
    """Both torch formats give every state_dict shape, `module.` stripped; the pickled trap never runs."""
    path = tmp_path / "ckpt.pth"
    expected = _mmengine_like(path, legacy)
    assert state_dict_shapes(read_shapes(path)) == expected
    assert not (tmp_path / "pwned").exists()


def test_parameters_and_bare_state_dicts_are_read(tmp_path: Path) -> None:
    """A bare state_dict (no wrapper) and an nn.Parameter both give shapes."""
    torch.save({"w": nn.Parameter(torch.zeros(2, 3)), "b": torch.zeros(())}, tmp_path / "p.pth")
    assert state_dict_shapes(read_shapes(tmp_path / "p.pth")) == {"w": (2, 3), "b": ()}


def test_safetensors_header_only(tmp_path: Path) -> None:
    """A safetensors file gives its header's shapes."""
    from safetensors.torch import save_file

    save_file({"a.weight": torch.zeros(4, 2)}, str(tmp_path / "m.safetensors"))
    assert read_shapes(tmp_path / "m.safetensors") == {"a.weight": TensorMeta((4, 2))}


def test_revise_keys_apply_in_order_and_non_tensors_are_left_out() -> None:
    """revise_keys rewrite names as mmengine's do; a non-tensor entry covers nothing."""
    checkpoint = {"state_dict": {"module.a": TensorMeta((1,)), "module.n": 3}}
    assert state_dict_shapes(checkpoint, ((r"^module\.", "m."), (r"^m\.", ""))) == {"a": (1,)}


def test_a_file_that_is_no_checkpoint_is_refused(tmp_path: Path) -> None:
    """Text, or a plain pickle that is not torch's legacy format, raises ValueError."""
    (tmp_path / "t.pth").write_text("<html>")
    with pytest.raises(ValueError, match="neither a torch checkpoint"):
        read_shapes(tmp_path / "t.pth")
    (tmp_path / "p.pth").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="plain pickle"):
        read_shapes(tmp_path / "p.pth")
