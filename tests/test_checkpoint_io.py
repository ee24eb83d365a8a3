"""Tests for reading checkpoint files: formats told by content, map_location, and file:// hosts."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from initspec._checkpoint.formats import format_problem, sniff
from initspec._errors import CheckpointError
from initspec.checkpoint import load_checkpoint


def _state() -> dict[str, torch.Tensor]:
    return {"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.ones(2)}


@pytest.mark.parametrize("name", ["ck.SAFETENSORS", "ck.Safetensors", "ck.pth", "ck.bin", "ck"])
def test_safetensors_content_is_recognised_under_any_name(name: str, tmp_path: Path) -> None:
    """Safetensors data loads whatever its suffix or case, instead of being called an unsafe pickle."""
    path = tmp_path / name
    save_file(_state(), path)
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["weight"], _state()["weight"])


def test_torch_content_under_a_safetensors_name_loads(tmp_path: Path) -> None:
    """A torch.save file named .safetensors is read with torch.load: the content decides."""
    path = tmp_path / "ck.safetensors"
    torch.save(_state(), path)
    assert torch.equal(load_checkpoint(path)["bias"], torch.ones(2))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"<!DOCTYPE html><html><body>404</body></html>", "is an HTML page, not a checkpoint"),
        (b"  \n<html lang='en'>", "is an HTML page, not a checkpoint"),
        (b'{"error": "not found"}', "is text, not a checkpoint"),
        (b"", "is empty, not a checkpoint"),
        (b"\x00\x01\x02\xff" * 20, "is in no checkpoint format initspec knows"),
    ],
)
def test_non_checkpoint_content_is_named_for_what_it_is(content: bytes, match: str, tmp_path: Path) -> None:
    """HTML, text, empty and unknown binary files are reported as such, never as unsafe pickles."""
    path = tmp_path / "ck.pth"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match) as caught:
        load_checkpoint(path)
    assert "arbitrary code" not in str(caught.value)


def test_sniff_tells_the_formats_apart(tmp_path: Path) -> None:
    """Zip, legacy pickle and safetensors files are told apart by their first bytes."""
    torch.save(_state(), tmp_path / "zip.pth")
    torch.save(_state(), tmp_path / "legacy.pth", _use_new_zipfile_serialization=False)
    save_file(_state(), tmp_path / "st.bin")
    assert [sniff(tmp_path / n) for n in ("zip.pth", "legacy.pth", "st.bin")] == [
        "torch-zip",
        "pickle",
        "safetensors",
    ]


def test_format_check_catches_truncated_files(tmp_path: Path) -> None:
    """A torch zip or safetensors file cut short fails the format check that guards the cache."""
    torch.save(_state(), tmp_path / "a.pth")
    save_file(_state(), tmp_path / "b.safetensors")
    for name in ("a.pth", "b.safetensors"):
        path = tmp_path / name
        assert format_problem(path) is None
        path.write_bytes(path.read_bytes()[:-7])
        assert format_problem(path) is not None


def test_safetensors_header_longer_than_the_file_is_not_safetensors(tmp_path: Path) -> None:
    """A header length past the end of the file is not taken for safetensors."""
    path = tmp_path / "x.safetensors"
    path.write_bytes(struct.pack("<Q", 10**6) + b'{"a": 1}')
    assert sniff(path) != "safetensors"
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


@pytest.mark.parametrize("location", ["cdua", "gpu:0", "cpu:x", 3, ["cpu"]])
def test_bad_map_location_is_reported_as_a_bad_map_location(location: object, tmp_path: Path) -> None:
    """A map_location that is not a device is named as such, not as a corrupt file."""
    path = tmp_path / "ck.pth"
    torch.save(_state(), path)
    with pytest.raises(CheckpointError, match="bad map_location") as caught:
        load_checkpoint(path, map_location=location)  # type: ignore[arg-type]
    assert "corrupt" not in str(caught.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device_is_reported_as_a_bad_map_location(tmp_path: Path) -> None:
    """A device this machine lacks is a bad map_location, named before the file is read."""
    path = tmp_path / "ck.pth"
    torch.save(_state(), path)
    with pytest.raises(CheckpointError, match="bad map_location 'cuda:0': no cuda device is available"):
        load_checkpoint(path, map_location="cuda:0")


@pytest.mark.parametrize("location", ["cpu", torch.device("cpu"), None, "meta"])
def test_good_map_locations_load(location: object, tmp_path: Path) -> None:
    """Device strings, torch.device and None are all accepted."""
    path = tmp_path / "ck.pth"
    torch.save(_state(), path)
    assert set(load_checkpoint(path, map_location=location)) == {"weight", "bias"}  # type: ignore[arg-type]


def test_file_url_with_a_remote_host_is_refused() -> None:
    """file://otherhost/... is refused rather than read from the local disk."""
    with pytest.raises(CheckpointError, match="its host must be empty or localhost, not 'otherhost'"):
        load_checkpoint("file://otherhost/etc/passwd")


def test_file_url_with_localhost_is_read(tmp_path: Path) -> None:
    """file://localhost/path names a local file, as the RFC allows."""
    path = tmp_path / "ck.pth"
    torch.save(_state(), path)
    assert set(load_checkpoint(f"file://localhost{path}")) == {"weight", "bias"}


def test_a_directory_is_not_a_checkpoint(tmp_path: Path) -> None:
    """A folder named as a checkpoint is an error saying it is not a regular file."""
    with pytest.raises(CheckpointError, match="is not a regular file"):
        load_checkpoint(tmp_path)
