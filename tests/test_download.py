"""Tests for checkpoint downloads: timeouts, Content-Length, verification before caching, and the cache."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from conftest import LocalServer
from initspec._checkpoint import download as _download
from initspec._errors import CheckpointError, InitArgumentError, InitWarning
from initspec.checkpoint import load_checkpoint

Start = Callable[[Callable[[socket.socket, threading.Event], None]], str]
TIMEOUT = 0.4
HANG_GUARD = 60.0  # seconds: only so that a broken timeout fails the test instead of hanging the run


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """INITSPEC_HOME for every test, so nothing touches the real cache."""
    path = tmp_path / "home"
    monkeypatch.setenv("INITSPEC_HOME", str(path))
    monkeypatch.delenv(_download.TIMEOUT_ENV, raising=False)
    return path


def _state() -> dict[str, torch.Tensor]:
    return {"weight": torch.arange(6.0).reshape(2, 3)}


def _checkpoint_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "made.pth"
    torch.save(_state(), path)
    return path.read_bytes()


def _cache(home: Path) -> list[str]:
    folder = home / "checkpoints"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _load_error(url: str, **kwargs: Any) -> str:
    """The CheckpointError of loading ``url``, on a thread that a hang guard waits for (never timed)."""
    outcome: list[BaseException | object] = []

    def load() -> None:
        try:
            outcome.append(load_checkpoint(url, **kwargs))
        except BaseException as err:  # handed to the test below
            outcome.append(err)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(HANG_GUARD)
    assert outcome, f"loading {url} still runs after {HANG_GUARD:.0f} s: the download timeout did not fire"
    [error] = outcome
    assert isinstance(error, CheckpointError), error
    return str(error)


# --- hostile servers --------------------------------------------------------------------------------------


def _silent(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(HANG_GUARD * 2)


def _slow_headers(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(0.05):
        conn.sendall(b"X")  # one header byte at a time, forever


def _slow_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
    while not stop.wait(0.05):
        conn.sendall(b"\0" * 16)  # 320 bytes/s: never PROGRESS_BYTES within the timeout


def _headers_then_silence(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nPK")
    stop.wait(HANG_GUARD * 2)


@pytest.mark.parametrize("behaviour", [_silent, _slow_headers, _slow_body, _headers_then_silence])
def test_hostile_server_times_out_and_leaves_nothing(
    behaviour: Any, hostile_server: Start, home: Path
) -> None:
    """A silent or trickling server ends the download within the timeout, with no partial file left."""
    base = hostile_server(behaviour)
    error = _load_error(f"{base}/ck.pth", timeout=TIMEOUT)
    assert "the server sent nothing" in error
    assert f"for {TIMEOUT:g} s;" in error  # the timeout fired, not a closed connection
    assert "INITSPEC_DOWNLOAD_TIMEOUT" in error
    assert _cache(home) == []


def test_timeout_comes_from_the_environment(
    hostile_server: Start, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$INITSPEC_DOWNLOAD_TIMEOUT sets the timeout when no keyword is given."""
    monkeypatch.setenv(_download.TIMEOUT_ENV, "0.3")
    base = hostile_server(_silent)
    assert "for 0.3 s" in _load_error(f"{base}/ck.pth")


def test_default_timeout_is_30_seconds() -> None:
    """Without keyword or environment variable, downloads time out after 30 s."""
    assert _download.download_timeout() == 30.0


@pytest.mark.parametrize("value", ["abc", "0", "-1", "inf", "nan"])
def test_bad_timeout_environment_variable_is_named(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A timeout variable that is not a positive number is an error naming the variable."""
    monkeypatch.setenv(_download.TIMEOUT_ENV, value)
    with pytest.raises(CheckpointError, match="INITSPEC_DOWNLOAD_TIMEOUT must be a positive number"):
        _download.download_timeout()


@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan"), "5", True])
def test_bad_timeout_keyword_is_refused(value: Any) -> None:
    """timeout= must be a positive, finite number of seconds."""
    with pytest.raises(InitArgumentError, match="timeout must be a positive number"):
        load_checkpoint("http://127.0.0.1:9/ck.pth", timeout=value)


def _with_length(length: bytes, body: bytes = b"PK") -> Callable[[socket.socket, threading.Event], None]:
    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + length + b"\r\nConnection: close\r\n\r\n" + body)

    return behaviour


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Length: abc",
        b"Content-Length: -5",
        b"Content-Length: 1e3",
        b"Content-Length: 99999999999999999999999",
        b"Content-Length: 2\r\nContent-Length: 3",
    ],
)
def test_bad_content_length_is_a_checkpoint_error(header: bytes, hostile_server: Start, home: Path) -> None:
    """A non-numeric, negative, absurd or conflicting Content-Length is a CheckpointError, not a ValueError."""
    base = hostile_server(_with_length(header))
    with pytest.raises(CheckpointError, match="invalid Content-Length"):
        load_checkpoint(f"{base}/ck.pth", timeout=TIMEOUT)
    assert _cache(home) == []


def test_short_body_is_not_cached(hostile_server: Start, home: Path, tmp_path: Path) -> None:
    """A body shorter than its Content-Length is refused, and nothing enters the cache."""
    data = _checkpoint_bytes(tmp_path)
    base = hostile_server(_with_length(f"Content-Length: {len(data)}".encode(), data[:100]))
    with pytest.raises(CheckpointError, match=rf"announced {len(data)} bytes .* but sent 100"):
        load_checkpoint(f"{base}/ck.pth", timeout=TIMEOUT)
    assert _cache(home) == []


def test_truncated_body_without_length_is_not_cached(
    hostile_server: Start, home: Path, tmp_path: Path
) -> None:
    """A truncated torch file with no Content-Length fails its format check and is not cached."""
    data = _checkpoint_bytes(tmp_path)
    base = hostile_server(_with_length(b"X-Length: none", data[: len(data) // 2]))
    with pytest.raises(
        CheckpointError, match="was not cached: the downloaded file is a damaged or truncated zip"
    ):
        load_checkpoint(f"{base}/ck.pth", timeout=TIMEOUT)
    assert _cache(home) == []


# --- verification -----------------------------------------------------------------------------------------


HTML = b"<!DOCTYPE html>\n<html><body>Sign in to continue</body></html>\n"


@pytest.mark.parametrize("name", ["ck.pth", "ck.safetensors"])
def test_html_body_is_reported_as_html_and_not_cached(name: str, server: LocalServer, home: Path) -> None:
    """A 200 response with an HTML page is named as an HTML page (not an unsafe pickle) and not cached."""
    (server.root / name).write_bytes(HTML)
    with pytest.raises(CheckpointError, match="is an HTML page, not a checkpoint"):
        load_checkpoint(server.url(name))
    assert _cache(home) == []


def test_html_already_in_the_cache_is_replaced(server: LocalServer, home: Path, tmp_path: Path) -> None:
    """An HTML page cached by an older version is removed, with a warning, and downloaded again."""
    (home / "checkpoints").mkdir(parents=True)
    (home / "checkpoints" / "ck.pth").write_bytes(HTML)
    (server.root / "ck.pth").write_bytes(_checkpoint_bytes(tmp_path))
    with pytest.warns(InitWarning, match="is an HTML page.*removed and is downloaded again"):
        loaded = load_checkpoint(server.url("ck.pth"))
    assert torch.equal(loaded["weight"], _state()["weight"])
    assert server.requests == ["/ck.pth"]


@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_hash_prefix_is_checked_in_either_case(
    case: Any, server: LocalServer, home: Path, tmp_path: Path
) -> None:
    """Upper- and lower-case hash prefixes in the file name are both checked, and a match is accepted."""
    data = _checkpoint_bytes(tmp_path)
    digest = hashlib.sha256(data).hexdigest()[:8]
    good, bad = f"ck-{case(digest)}.pth", f"ck-{case('0' * 8 if digest != '0' * 8 else 'f' * 8)}.pth"
    (server.root / good).write_bytes(data)
    (server.root / bad).write_bytes(data)
    assert torch.equal(load_checkpoint(server.url(good))["weight"], _state()["weight"])
    with pytest.raises(CheckpointError, match="failed its integrity check"):
        load_checkpoint(server.url(bad))
    assert _cache(home) == [good]


def test_cached_file_is_checked_against_its_hash(server: LocalServer, home: Path, tmp_path: Path) -> None:
    """A cached file whose sha256 no longer matches its name is removed, with a warning, and fetched again."""
    data = _checkpoint_bytes(tmp_path)
    name = f"ck-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    (server.root / name).write_bytes(data)
    load_checkpoint(server.url(name))
    torch.save({"weight": torch.zeros(2, 3)}, home / "checkpoints" / name)  # tampered in the cache
    with pytest.warns(InitWarning, match="fails its integrity check"):
        loaded = load_checkpoint(server.url(name))
    assert torch.equal(loaded["weight"], _state()["weight"])
    assert server.requests == [f"/{name}", f"/{name}"]


def test_interrupted_download_leaves_no_partial_file(
    server: LocalServer, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KeyboardInterrupt in the middle of a download removes the partial file and caches nothing."""
    (server.root / "ck.pth").write_bytes(_checkpoint_bytes(tmp_path))

    def interrupted(url: str, response: Any, out: Any, watchdog: Any) -> str:
        out.write(response.read(10))
        raise KeyboardInterrupt

    monkeypatch.setattr(_download, "_copy", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_checkpoint(server.url("ck.pth"))
    assert _cache(home) == []


def test_http_error_leaves_no_partial_file(server: LocalServer, home: Path) -> None:
    """A 404 is a CheckpointError naming the URL, with nothing left in the cache folder."""
    with pytest.raises(CheckpointError, match=r"could not download checkpoint .*absent\.pth: HTTP Error 404"):
        load_checkpoint(server.url("absent.pth"))
    assert _cache(home) == []


def test_concurrent_downloads_leave_one_intact_file(server: LocalServer, home: Path, tmp_path: Path) -> None:
    """Three threads fetching one URL at once all succeed and leave one intact cached file."""
    (server.root / "ck.pth").write_bytes(_checkpoint_bytes(tmp_path))
    results: list[object] = []

    def fetch() -> None:
        try:
            results.append(load_checkpoint(server.url("ck.pth"))["weight"])
        except Exception as err:  # pragma: no cover - reported below
            results.append(err)

    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=HANG_GUARD)
    assert all(isinstance(r, torch.Tensor) and torch.equal(r, _state()["weight"]) for r in results)
    assert len(results) == 3
    assert _cache(home) == ["ck.pth"]


def test_progress_is_shown_on_a_terminal(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal, the download prints a progress line to stderr; elsewhere it prints nothing."""
    torch.save({"weight": torch.zeros(64, 1024)}, server.root / "big.pth")
    monkeypatch.setattr(_download.sys.stderr, "isatty", lambda: True)
    load_checkpoint(server.url("big.pth"))
    assert "Downloading big.pth:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("resnet50-0676ba61.pth", "0676ba61"),
        ("r-0676BA61.pth", "0676ba61"),
        ("plain.pth", None),
        ("x-.pth", None),
    ],
)
def test_hash_prefix_follows_torch_hub_naming(name: str, prefix: str | None) -> None:
    """The prefix is the hex run after a '-' and before the extension, in either case."""
    assert _download.hash_prefix(name) == prefix


@pytest.mark.parametrize("path", ["x/..", "good/", "x/.", "x/%2e%2E", "x/%2E"])
def test_a_url_naming_a_folder_is_refused_before_any_request(
    path: str, server: LocalServer, home: Path
) -> None:
    """A URL whose last path segment is empty, ``.`` or ``..`` is a CheckpointError; nothing is requested."""
    with pytest.raises(CheckpointError, match=r"the last segment of its path is .*not a file name"):
        load_checkpoint(server.url(path))
    assert server.requests == []
    assert not (home / "checkpoints").exists()


def _cut_short(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\nPK\x03\x04" + b"\0" * 60
    )
    conn.close()


def _not_found(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found")
    conn.close()


@pytest.mark.parametrize("behaviour", [_cut_short, _not_found])
def test_a_failed_download_leaves_no_partial_file(behaviour: Any, hostile_server: Start, home: Path) -> None:
    """A body cut off mid-way, or a 404, is a CheckpointError with no ``.partial`` file left anywhere."""
    base = hostile_server(behaviour)
    with pytest.raises(CheckpointError, match=r"could not download checkpoint"):
        load_checkpoint(f"{base}/ck.pth", timeout=TIMEOUT)
    assert list(home.rglob("*.partial")) == []
    assert _cache(home) == []
