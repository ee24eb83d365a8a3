"""A minimal Language Server Protocol client over stdio, to drive the editors' own servers from tests.

It speaks just enough LSP for completion, hover and pushed diagnostics: requests, notifications, and
answers to the few requests a server sends its client (its settings, capability registrations, progress).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
TIMEOUT = 60.0

Json = Any
Settings = Callable[[str], Json]


def require_node_package(package: str) -> str:
    """The ``node`` executable, once ``package`` is installed; in CI (``CI`` set) a missing one fails."""
    node = shutil.which("node")
    if node is not None and (NODE_MODULES / package).is_dir():
        return node
    missing = "node is not on PATH" if node is None else f"node_modules/{package} is missing"
    fix = "install Node, then run `npm ci` at the repository root (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(f"{missing}: {fix}")
    pytest.skip(f"{missing}: {fix} (these tests fail instead of skipping when CI is set)")


def file_uri(path: Path) -> str:
    return path.resolve().as_uri()


class LanguageServer:
    """One running server process; ``request`` waits for its answer, diagnostics are collected per URI."""

    def __init__(self, cmd: list[str], *, cwd: Path, settings: Settings) -> None:
        self._settings = settings
        # A file, not a pipe, so a chatty server never blocks on it; close() closes it.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log
        )
        self._next_id = 0
        self._answers: dict[int, queue.Queue[Json]] = {}
        self._lock = threading.Lock()
        self.diagnostics: dict[str, list[Json]] = {}
        self._published = threading.Condition(self._lock)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    # -- protocol ---------------------------------------------------------------------------------------
    def _send(self, message: Mapping[str, Json]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self._proc.stdin is not None
        self._proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self._proc.stdin.flush()

    def _read_message(self) -> Json | None:
        stream = self._proc.stdout
        assert stream is not None
        length = 0
        while True:
            line = stream.readline()
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return json.loads(stream.read(length))

    def _read_loop(self) -> None:
        while (message := self._read_message()) is not None:
            if "method" in message and "id" in message:
                self._send({"id": message["id"], "result": self._answer(message)})
            elif "method" in message:
                self._notified(message)
            else:
                with self._lock:
                    box = self._answers.get(message["id"])
                if box is not None:
                    box.put(message)

    def _answer(self, message: Json) -> Json:
        if message["method"] == "workspace/configuration":
            return [self._settings(item.get("section", "")) for item in message["params"]["items"]]
        return None  # client/registerCapability, window/workDoneProgress/create, ...

    def _notified(self, message: Json) -> None:
        if message["method"] == "textDocument/publishDiagnostics":
            with self._published:
                params = message["params"]
                self.diagnostics[params["uri"]] = params["diagnostics"]
                self._published.notify_all()

    # -- API --------------------------------------------------------------------------------------------
    def request(self, method: str, params: Json) -> Json:
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            box: queue.Queue[Json] = queue.Queue()
            self._answers[ident] = box
        self._send({"id": ident, "method": method, "params": params})
        try:
            answer = box.get(timeout=TIMEOUT)
        except queue.Empty:
            pytest.fail(f"{method}: no answer from the language server in {TIMEOUT:.0f}s:\n{self.stderr()}")
        if "error" in answer:
            pytest.fail(f"{method}: the language server answered an error: {answer['error']}")
        return answer.get("result")

    def notify(self, method: str, params: Json) -> None:
        self._send({"method": method, "params": params})

    def initialize(self, root: Path, capabilities: Json) -> Json:
        folder = {"uri": file_uri(root), "name": root.name}
        params = {
            "processId": os.getpid(),
            "rootUri": folder["uri"],
            "workspaceFolders": [folder],
            "capabilities": capabilities,
        }
        result = self.request("initialize", params)
        self.notify("initialized", {})
        return result

    def open(self, uri: str, language: str, text: str, version: int = 1) -> None:
        with self._published:
            self.diagnostics.pop(uri, None)
        document = {"uri": uri, "languageId": language, "version": version, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": document})

    def wait_for_diagnostics(self, uri: str) -> list[Json]:
        deadline = time.monotonic() + TIMEOUT
        with self._published:
            while uri not in self.diagnostics:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"no diagnostics were published for {uri} in {TIMEOUT:.0f}s")
                self._published.wait(left)
            return self.diagnostics[uri]

    def completion(self, uri: str, line: int, character: int) -> list[Json]:
        position = {"line": line, "character": character}
        result = self.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": position})
        if result is None:
            return []
        items: list[Json] = result["items"] if isinstance(result, dict) else result
        return items

    def hover(self, uri: str, line: int, character: int) -> Json:
        position = {"line": line, "character": character}
        return self.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position})

    def stderr(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self._proc.wait(timeout=10)
        finally:
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
            self._log.close()


def cursor(text: str, mark: str = "<|>") -> tuple[str, int, int]:
    """``text`` without ``mark``, and the (line, character) where the mark was."""
    offset = text.index(mark)
    before = text[:offset]
    line = before.count("\n")
    return text.replace(mark, "", 1), line, offset - (before.rfind("\n") + 1)


def expand_snippet(text: str) -> str:
    """A snippet's text as inserted with every tab stop left at its default (``${1:Conv2d}`` -> ``Conv2d``)."""
    return re.sub(r"\$(?:\{\d+:([^}]*)\}|\d+)", lambda m: m.group(1) or "", text)


def unescape_markdown(text: str) -> str:
    """Markdown with its backslash escapes removed, as a reader sees it (``fan\\_in`` -> ``fan_in``)."""
    return re.sub(r"\\(.)", r"\1", text)


def poll(fetch: Callable[[], Json], ready: Callable[[Json], bool], timeout: float = TIMEOUT) -> Json:
    """``fetch()`` again until ``ready`` accepts it (a server applies new settings asynchronously)."""
    deadline = time.monotonic() + timeout
    while not ready(value := fetch()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value
