"""Shared test helpers: mmengine imported quietly, a config-file writer, and loopback servers.

``INITSPEC_REQUIRE_MMENGINE=1`` (set by ``.ci/run``) turns every skip for a missing mmengine into a failure,
so the parity half of the suite can never pass by being skipped.
"""

from __future__ import annotations

import functools
import gc
import http.server
import importlib
import importlib.util
import os
import socket
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REQUIRE_MMENGINE_ENV = "INITSPEC_REQUIRE_MMENGINE"
REQUIRE_REAL_ENV = "INITSPEC_REQUIRE_REAL"


def require_real(*packages: str) -> None:
    """Skip the test when one of the real OpenMMLab ``packages`` is missing; fail it under
    ``INITSPEC_REQUIRE_REAL=1`` (set by ``.ci/run``), so a real-code test can never pass in CI by skipping."""
    missing = [name for name in packages if importlib.util.find_spec(name) is None]
    if missing:
        msg = f"real OpenMMLab packages missing: {', '.join(missing)}; run scripts/real/install.sh"
        if os.environ.get(REQUIRE_REAL_ENV, "") == "1":
            pytest.fail(f"{msg} ({REQUIRE_REAL_ENV}=1)")
        pytest.skip(msg)


def import_mmengine(name: str = "mmengine") -> ModuleType:
    """Import an mmengine module quietly, or skip the test (fail it under ``INITSPEC_REQUIRE_MMENGINE=1``).

    Its import warns through torch.jit, which pytest would turn into an error.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = importlib.import_module(name)
        _set_up_erfinv()
        return module
    except ImportError as err:
        if os.environ.get(REQUIRE_MMENGINE_ENV, "") not in ("", "0"):
            pytest.fail(
                f"{name} cannot be imported ({err}), but {REQUIRE_MMENGINE_ENV} is set, so the mmengine parity "
                "tests must run: install mmengine==0.10.7 as .ci/run does"
            )
        pytest.skip(f"{name} is not installed; the mmengine parity tests need it")


@functools.cache
def _set_up_erfinv() -> None:
    """mmengine's own trunc_normal_ is a reference here: give it the bits of every later call (see
    ``initspec._maths.erfinv_``: torch's first float32 ``erfinv`` can differ in the part a second thread computes)."""
    import torch

    torch.zeros(1).erfinv_()


def imported_modules(code: str) -> list[str]:
    """Every module a fresh interpreter imports while running ``code``, from ``-X importtime``'s stderr."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert lines, "no -X importtime output"
    return [line.rsplit("|", 1)[-1].strip() for line in lines]


def import_mmengine_model() -> ModuleType:
    """``mmengine.model``, or skip the test (fail it under ``INITSPEC_REQUIRE_MMENGINE=1``)."""
    return import_mmengine("mmengine.model")


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


Behaviour = Callable[[socket.socket, threading.Event], None]


@pytest.fixture
def hostile_server() -> Iterator[Callable[[Behaviour], str]]:
    """Start 127.0.0.1 servers that answer each connection with a test's own ``behaviour(conn, stop)``.

    Returns a function that starts one and gives its base URL. ``behaviour`` must wait with ``stop.wait``,
    never a bare sleep, so every server thread ends when the test does.
    """
    stop = threading.Event()
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def serve(listener: socket.socket, behaviour: Behaviour) -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed at the end of the test
                return
            worker = threading.Thread(target=_answer, args=(conn, behaviour, stop), daemon=True)
            threads.append(worker)
            worker.start()

    def start(behaviour: Behaviour) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.2)
        listeners.append(listener)
        thread = threading.Thread(target=serve, args=(listener, behaviour), daemon=True)
        threads.append(thread)
        thread.start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    try:
        yield start
    finally:
        stop.set()
        for listener in listeners:
            listener.close()
        for thread in threads:
            thread.join(timeout=5)


def _answer(conn: socket.socket, behaviour: Behaviour, stop: threading.Event) -> None:
    with conn:
        conn.settimeout(5)
        try:
            read_request(conn)
            behaviour(conn, stop)
        except OSError:
            pass


def read_request(conn: socket.socket) -> bytes:
    """Read one HTTP request's head (up to the blank line, at most 64 KiB)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


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


GLOO_TEARDOWN_ABORT = "terminate called without an active exception"
GLOO_RETRIES = 2


def run_ranks(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a multi-process gloo job, up to ``GLOO_RETRIES`` times more while a rank aborts in gloo's teardown.

    Under load, a gloo rank sometimes aborts at interpreter exit ("terminate called without an active
    exception") after its work and its results are complete; that crash is in torch's teardown, not in what
    the test checks (seen twice in a row once, with another suite running beside it). Any other failure, and
    an abort on the last run, is returned as it is for the test to fail on.
    """
    run = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    for _ in range(GLOO_RETRIES):
        if run.returncode == 0 or GLOO_TEARDOWN_ABORT not in run.stderr:
            break
        run = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    return run


@pytest.fixture
def collector_on() -> Iterator[None]:
    """Automatic collection on for the test, whatever it was before, and put back after."""
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()
