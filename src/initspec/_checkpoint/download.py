"""Downloading a checkpoint into the cache: timeouts, a Content-Length check, and verification before caching.

A download is written to a ``*.partial`` file beside its cache entry and moved into place (atomically) only
after its length, its sha256 prefix (when the file name carries one) and its format have been checked. The
partial file is removed on every exit path, ``KeyboardInterrupt`` included. A cached file is checked again
when it is used: one that fails is removed and downloaded again.

One ``timeout`` bounds both halves of a download: it is the socket timeout (connecting, and each read), and a
watchdog thread also ends a download when that many seconds pass without the response headers or another
``PROGRESS_BYTES`` of the body arriving, so a server that trickles bytes cannot hold it forever.
"""

from __future__ import annotations

import hashlib
import http.client
import math
import os
import re
import socket
import sys
import tempfile
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from email.message import Message
from pathlib import Path
from typing import IO, Any, Final

from initspec._errors import CheckpointError, InitArgumentError, InitWarning, short_repr

__all__ = ["DEFAULT_TIMEOUT", "PROGRESS_BYTES", "TIMEOUT_ENV", "download_timeout", "fetch", "hash_prefix"]

DEFAULT_TIMEOUT: Final = 30.0
TIMEOUT_ENV: Final = "INITSPEC_DOWNLOAD_TIMEOUT"
PROGRESS_BYTES: Final = 32 * 1024
"""A download must receive this many more bytes every ``timeout`` seconds (about 1 KiB/s at 30 s)."""

_HASH_REGEX: Final = re.compile(r"-([a-fA-F0-9]*)\.")  # torch.hub's convention, in either case
_CHUNK: Final = 1 << 20
_AGENT: Final = "initspec (checkpoint download)"
_VERIFIED: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> sha256 of cached files already read

Verify = Callable[[Path], "str | None"]


def download_timeout(timeout: float | None = None) -> float:
    """The timeout in seconds: ``timeout`` when given, else ``$INITSPEC_DOWNLOAD_TIMEOUT``, else 30."""
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < math.inf:
            msg = f"timeout must be a positive number of seconds, got {short_repr(timeout)}"
            raise InitArgumentError(msg)
        return float(timeout)
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        msg = f"{TIMEOUT_ENV} must be a positive number of seconds, such as 30 or 2.5, got {short_repr(text)}"
        raise CheckpointError(msg)
    return value


def hash_prefix(filename: str) -> str | None:
    """The sha256 prefix a file name promises (``resnet50-0676BA61.pth`` -> ``0676ba61``), else ``None``."""
    found = _HASH_REGEX.search(filename)
    return (found.group(1).lower() or None) if found else None


def fetch(url: str, target: Path, *, timeout: float, verify: Verify) -> Path:
    """Return ``target``, the cache entry of ``url``, downloading and verifying it first when needed.

    ``verify(path)`` returns a problem text when the file at ``path`` is not the expected format.
    """
    prefix = hash_prefix(target.name)
    if target.is_file():
        problem = _cached_problem(target, prefix, verify)
        if problem is None:
            return target
        warnings.warn(
            f"cached checkpoint {target} {problem}; it was removed and is downloaded again from {url}",
            InitWarning,
            stacklevel=4,
        )
        target.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _partial(target) as (partial, out):
        try:
            digest = _transfer(url, out, timeout)
        except CheckpointError as err:
            raise CheckpointError(offline_hint(str(err), url, target)) from err
        out.close()
        if prefix is not None and not digest.startswith(prefix):
            msg = (
                f"checkpoint {url} failed its integrity check: its sha256 {digest[:16]}... does not start "
                f"with {prefix!r} as its file name promises; nothing was cached, so retry, or check the URL"
            )
            raise CheckpointError(msg)
        problem = verify(partial)
        if problem is not None:
            msg = f"checkpoint {url} was not cached: the downloaded file {problem}"
            raise CheckpointError(msg)
        os.replace(partial, target)
    return target


def offline_hint(message: str, url: str, target: Path) -> str:
    """``message`` plus where the file must be, and the command that gets it, for a machine without network."""
    return (
        f"{message}. Offline? Fetch it on a machine with network (`initspec fetch {url}`, or with your "
        f"config: `initspec fetch CONFIG`) and put the file at {target}"
    )


def _cached_problem(target: Path, prefix: str | None, verify: Verify) -> str | None:
    if prefix is not None:
        digest = _sha256_of(target)
        if not digest.startswith(prefix):
            return f"fails its integrity check (its sha256 does not start with {prefix!r})"
    return verify(target)


def _sha256_of(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        digest = hashlib.sha256()
        with path.open("rb") as file:
            while block := file.read(_CHUNK):
                digest.update(block)
        _VERIFIED[key] = digest.hexdigest()
    return _VERIFIED[key]


@contextmanager
def _partial(target: Path) -> Iterator[tuple[Path, IO[bytes]]]:
    """A fresh ``.<name>.*.partial`` file beside ``target``, removed on every way out unless moved."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    partial = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield partial, out
    finally:
        partial.unlink(missing_ok=True)


class _Watchdog:
    """Shuts a download's sockets down once ``timeout`` seconds pass without ``progress()``."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.sockets: list[socket.socket] = []
        self.fired = False
        self._last = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="initspec-download-watchdog", daemon=True)

    def progress(self) -> None:
        self._last = time.monotonic()

    def _watch(self) -> None:
        while not self._done.wait(min(self.timeout / 4, 1.0)):
            if time.monotonic() - self._last > self.timeout:
                self.fired = True
                for sock in self.sockets:
                    with suppress(OSError):  # the plain socket call, so an SSL socket's state stays intact
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)
                return

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


class _Watched:
    """Mixin for urllib's HTTP(S) handlers that hands every connection they open to a watchdog."""

    watchdog: _Watchdog

    def do_open(self, http_class: Any, req: urllib.request.Request, **kwargs: Any) -> Any:
        def connection(*args: Any, **kw: Any) -> http.client.HTTPConnection:
            conn: http.client.HTTPConnection = http_class(*args, **kw)
            connect = conn.connect

            def connect_and_record() -> None:
                # urllib drops conn.sock once the headers are in, but the body is still read through it
                connect()
                self.watchdog.sockets.append(conn.sock)

            conn.connect = connect_and_record  # type: ignore[method-assign]
            return conn

        return super().do_open(connection, req, **kwargs)  # type: ignore[misc]


class _HTTPHandler(_Watched, urllib.request.HTTPHandler):
    """urllib's HTTP handler with the stall watchdog."""


class _HTTPSHandler(_Watched, urllib.request.HTTPSHandler):
    """urllib's HTTPS handler with the stall watchdog."""


def _opener(watchdog: _Watchdog) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_HTTPHandler(), _HTTPSHandler()]
    for handler in handlers:
        handler.watchdog = watchdog  # type: ignore[attr-defined]
    return urllib.request.build_opener(*handlers)


def _transfer(url: str, out: IO[bytes], timeout: float) -> str:
    """Copy ``url``'s body into ``out`` and return its sha256, within the timeouts."""
    request = urllib.request.Request(url, headers={"User-Agent": _AGENT})
    with _Watchdog(timeout) as watchdog:
        try:
            with _opener(watchdog).open(request, timeout=timeout) as response:
                watchdog.progress()
                return _copy(url, response, out, watchdog)
        except CheckpointError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as err:
            if watchdog.fired or isinstance(err, TimeoutError) or "timed out" in str(err):
                raise _timeout_error(url, timeout) from err
            msg = f"could not download checkpoint {url}: {err}; nothing was cached"
            raise CheckpointError(msg) from err


def _copy(url: str, response: http.client.HTTPResponse, out: IO[bytes], watchdog: _Watchdog) -> str:
    expected = _content_length(url, response.headers)
    digest = hashlib.sha256()
    received = mark = 0
    show = _progress_printer(url, expected) if sys.stderr.isatty() else None
    while chunk := response.read1(_CHUNK):
        out.write(chunk)
        digest.update(chunk)
        received += len(chunk)
        if received - mark >= PROGRESS_BYTES:
            watchdog.progress()
            mark = received
            if show is not None:
                show(received)
        if expected is not None and received > expected:
            break
    if show is not None:
        show(None)
    if watchdog.fired:
        raise _timeout_error(url, watchdog.timeout)
    if expected is not None and received != expected:
        msg = (
            f"could not download checkpoint {url}: the server announced {expected} bytes (Content-Length) "
            f"but sent {'more' if received > expected else received}; nothing was cached, so retry"
        )
        raise CheckpointError(msg)
    return digest.hexdigest()


def _content_length(url: str, headers: Message) -> int | None:
    """The announced body length; a non-numeric, negative or conflicting Content-Length is an error."""
    if "chunked" in str(headers.get("Transfer-Encoding", "")).lower():
        return None
    values = {str(v).strip() for v in headers.get_all("Content-Length") or ()}
    if not values:
        return None
    value = values.pop()
    if values or not (value.isascii() and value.isdigit()) or len(value) > 19:
        shown = ", ".join(short_repr(v) for v in sorted({value, *values}))
        msg = (
            f"could not download checkpoint {url}: the server sent an invalid Content-Length ({shown}); "
            "expected one non-negative whole number of bytes. Nothing was cached; check the URL or the server"
        )
        raise CheckpointError(msg)
    return int(value)


def _timeout_error(url: str, timeout: float) -> CheckpointError:
    msg = (
        f"could not download checkpoint {url}: the server sent nothing (or under {PROGRESS_BYTES // 1024} KiB) "
        f"for {timeout:g} s; nothing was cached. Retry, or allow more time with load_checkpoint(..., "
        f"timeout=SECONDS) or the {TIMEOUT_ENV} environment variable"
    )
    return CheckpointError(msg)


def _progress_printer(url: str, total: int | None) -> Callable[[int | None], None]:
    """A terminal progress line for the download of ``url``; call it with ``None`` to end the line."""
    name = url.rsplit("/", 1)[-1]
    of = f" / {total / 1e6:.1f} MB" if total else " MB"

    def show(received: int | None) -> None:
        if received is None:
            sys.stderr.write("\n")
        else:
            sys.stderr.write(f"\rDownloading {name}: {received / 1e6:.1f}{of}")
        sys.stderr.flush()

    return show
