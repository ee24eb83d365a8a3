"""``initspec fetch``: every checkpoint a config names, downloaded once into the cache; offline errors that help."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import torch

from conftest import LocalServer, write
from initspec._errors import CheckpointError
from initspec.checkpoint import load_checkpoint
from initspec.cli import main
from initspec.cli._fetch import checkpoint_sources


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """INITSPEC_HOME for every test, so nothing touches the real cache."""
    path = tmp_path / "home"
    monkeypatch.setenv("INITSPEC_HOME", str(path))
    return path


def _serve(server: LocalServer, *names: str) -> None:
    for name in names:
        torch.save({"w": torch.zeros(2)}, server.root / name)


def _config(folder: Path, server: LocalServer, name: str = "model.py", *files: str) -> Path:
    listed = ", ".join(f"dict(type='Pretrained', checkpoint='{server.url(f)}')" for f in files[1:])
    return write(
        folder,
        name,
        f"""
        model = dict(type='Net', backbone=dict(init_cfg=[{listed}]))
        load_from = '{server.url(files[0])}'
        """,
    )


def test_fetch_downloads_each_checkpoint_once_and_a_second_run_downloads_nothing(
    tmp_path: Path, server: LocalServer, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two configs naming three URLs (one twice): three requests, then none; the files are in the cache."""
    _serve(server, "a.pth", "b.pth", "c.pth")
    _config(tmp_path / "cfg", server, "one.py", "a.pth", "b.pth")
    _config(tmp_path / "cfg", server, "two.py", "a.pth", "c.pth")
    assert main(["fetch", str(tmp_path / "cfg")]) == 0
    assert sorted(server.requests) == ["/a.pth", "/b.pth", "/c.pth"]
    assert sorted(p.name for p in (home / "checkpoints").iterdir()) == ["a.pth", "b.pth", "c.pth"]
    server.requests.clear()
    capsys.readouterr()
    assert main(["fetch", str(tmp_path / "cfg")]) == 0
    assert server.requests == []
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["cached"] * 3


def test_dry_run_lists_url_cache_path_and_state_and_downloads_nothing(
    tmp_path: Path, server: LocalServer, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run prints STATUS URL PATH for each checkpoint and makes no request."""
    _serve(server, "a.pth", "b.pth")
    config = _config(tmp_path, server, "model.py", "a.pth", "b.pth")
    assert main(["fetch", server.url("a.pth")]) == 0
    server.requests.clear()
    capsys.readouterr()
    assert main(["fetch", "--dry-run", str(config)]) == 0
    assert server.requests == []
    assert capsys.readouterr().out.splitlines() == [
        f"cached     {server.url('a.pth')}  {home / 'checkpoints' / 'a.pth'}",
        f"missing    {server.url('b.pth')}  {home / 'checkpoints' / 'b.pth'}",
    ]


def test_a_404_among_three_fails_by_name_and_the_others_are_fetched(
    tmp_path: Path, server: LocalServer, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One missing URL: exit 1 naming it; the two others are downloaded all the same."""
    _serve(server, "a.pth", "c.pth")
    config = _config(tmp_path, server, "model.py", "a.pth", "gone.pth", "c.pth")
    assert main(["fetch", str(config)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[1] == f"failed     {server.url('gone.pth')}"
    assert f"could not download checkpoint {server.url('gone.pth')}: HTTP Error 404" in err
    assert sorted(p.name for p in (home / "checkpoints").iterdir()) == ["a.pth", "c.pth"]


def test_a_missing_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A config path that does not exist exits 2 and names it."""
    assert main(["fetch", str(tmp_path / "nope.py")]) == 2
    assert "nope.py" in capsys.readouterr().err


def test_sources_are_pretrained_checkpoints_load_from_and_model_pretrained() -> None:
    """Pretrained entries anywhere (overrides too), load_from, and `pretrained` under model, in that order."""
    data = {
        "load_from": "https://x/l.pth",
        "model": {
            "pretrained": "open-mmlab://resnet50_v1c",
            "backbone": {
                "pretrained": "",
                "init_cfg": {
                    "type": "Kaiming",
                    "override": [
                        {"name": "fc", "type": "Pretrained", "checkpoint": "torchvision://resnet50"}
                    ],
                },
            },
        },
        "pretrained": "not/under/model.pth",
    }
    assert checkpoint_sources(data) == [
        "https://x/l.pth",
        "open-mmlab://resnet50_v1c",
        "torchvision://resnet50",
    ]


def test_a_failed_download_names_the_url_the_cache_path_and_the_fetch_command(home: Path) -> None:
    """Offline: the CheckpointError says where to put the file and which `initspec fetch` gets it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/resnet.pth"  # nothing listens on it
    target = home / "checkpoints" / "resnet.pth"
    with pytest.raises(CheckpointError, match="Offline") as caught:
        load_checkpoint(url, timeout=5)
    message = str(caught.value)
    assert f"could not download checkpoint {url}" in message
    assert f"`initspec fetch {url}`" in message
    assert message.endswith(f"put the file at {target}")


def test_model_zoo_names_resolve_and_an_unknown_one_fails_by_name(
    tmp_path: Path, server: LocalServer, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """open-mmlab://NAME is fetched from its table's URL; an unknown name is an error with a did-you-mean."""
    _serve(server, "tiny.pth")
    home.mkdir()
    (home / "open_mmlab.json").write_text(json.dumps({"tiny": server.url("tiny.pth")}))
    assert main(["fetch", "open-mmlab://tiny", "open-mmlab://tinyy"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"fetched    {server.url('tiny.pth')}  {home / 'checkpoints' / 'tiny.pth'}",
        "failed     open-mmlab://tinyy",
    ]
    assert "did you mean 'open-mmlab://tiny'" in err


def test_a_scheme_initspec_does_not_download_is_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    """s3://... is skipped with a note naming it; nothing failed, so the exit code is 0."""
    assert main(["fetch", "s3://bucket/r50.pth"]) == 0
    assert "s3://bucket/r50.pth is not a scheme initspec downloads; skipped" in capsys.readouterr().err
