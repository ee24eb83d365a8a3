"""Shared test helpers: mmengine imported quietly, a config-file writer, and a loopback file server."""

from __future__ import annotations

import functools
import http.server
import textwrap
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

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


def write(folder: Path, name: str, text: str) -> Path:
    """Write dedented ``text`` to ``folder/name`` (creating folders) and return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@dataclass
class LocalServer:
    """A file server on 127.0.0.1: the folder it serves, its base URL, and the paths requested."""

    root: Path
    base: str
    requests: list[str] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """A file server on 127.0.0.1 that records the paths it is asked for."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "served"
    root.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield LocalServer(root, f"http://127.0.0.1:{httpd.server_address[1]}", requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def toy_module() -> Any:
    """A module with every layer type and override name the samples and seeds refer to."""
    from torch import nn

    class Toy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.feat = nn.Conv1d(3, 1, 3)
            self.reg = nn.Conv2d(3, 3, 3)
            self.cls = nn.Linear(1, 2)
            self.conv1 = nn.Conv2d(1, 1, 1)
            self.conv2 = nn.Conv2d(1, 1, 1)
            self.retina_cls = nn.Conv2d(2, 4, 3)
            self.fc_cls = nn.Linear(4, 3)
            self.bn = nn.BatchNorm2d(2)
            self.gn = nn.GroupNorm(1, 2)

    return Toy()
