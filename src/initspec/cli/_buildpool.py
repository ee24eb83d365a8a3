"""The worker processes of ``validate --build``: one build at a time each, killed when one overruns.

``concurrent.futures`` cannot stop one hung task, so each worker is a ``multiprocessing`` process of its own
with a pipe: the parent sends one config, waits for its result up to ``--build-timeout``, and kills the worker
that overruns (a fresh one takes its place). A worker is also retired after ``_BUILDS_PER_WORKER`` builds, so
what model code leaves behind (registries, caches) cannot pile up. Workers are spawned: they import torch,
mmengine and the scope's package themselves; the parent never does.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Final, TextIO

__all__ = ["Progress", "run_builds"]

_BUILDS_PER_WORKER: Final = 40
_START_TIMEOUT: Final = 300.0  # importing torch, or a config and its model package, on a loaded machine

Result = dict[str, Any]


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    task: str | None = None
    deadline: float = 0.0
    done: int = 0
    building: bool = False  # the config is loaded and its package imported: --build-timeout runs
    started: float = field(default_factory=time.monotonic)


class Progress:
    """``[done/total] current file`` on one rewritten stderr line, only when stderr is a terminal."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream, self.total, self.done = stream, total, 0
        self.shown = stream.isatty()

    def show(self, current: str) -> None:
        if self.shown:
            self.stream.write(f"\r\033[K[{self.done}/{self.total}] building {current}")
            self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def run_builds(
    configs: Sequence[str],
    *,
    scope: str | None,
    jobs: int,
    timeout: float,
    plugins: Sequence[str],
    progress: Progress,
    on_result: Callable[[str, Result], None],
) -> None:
    """Build and check each config in ``jobs`` workers; ``on_result(config, result)`` as each one ends."""
    context = multiprocessing.get_context("spawn")
    pending = list(reversed(configs))
    workers: list[_Worker] = []
    try:
        while pending or any(w.task is not None for w in workers):
            workers = [w for w in workers if w.process.is_alive() or w.task is not None]
            while len(workers) < min(jobs, len(pending) + sum(w.task is not None for w in workers)):
                workers.append(_start(context, scope, plugins))
            for worker in workers:
                if worker.ready and worker.task is None and pending:
                    _send(worker, pending.pop(), timeout, progress)
            _wait_once(workers, timeout, progress, on_result)
    finally:
        for worker in workers:
            _stop(worker)
        progress.close()


def _start(context: Any, scope: str | None, plugins: Sequence[str]) -> _Worker:
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(child, scope, list(plugins)), daemon=True)
    process.start()
    child.close()
    return _Worker(process, parent)


def _send(worker: _Worker, config: str, timeout: float, progress: Progress) -> None:
    """Send a config; ``--build-timeout`` starts once the worker says the build began (``"building"``)."""
    worker.task, worker.deadline = config, time.monotonic() + _START_TIMEOUT
    worker.conn.send(config)
    progress.show(config)


def _wait_once(
    workers: list[_Worker], timeout: float, progress: Progress, on_result: Callable[[str, Result], None]
) -> None:
    now = time.monotonic()
    deadlines = [_deadline(w) for w in workers if w.task is not None or not w.ready]
    ready = wait([w.conn for w in workers], timeout=max(0.0, min(deadlines, default=now + 1) - now))
    for worker in workers:
        if worker.conn in ready:
            _receive(worker, timeout, progress, on_result)
        elif (worker.task is not None or not worker.ready) and time.monotonic() > _deadline(worker):
            _overran(worker, timeout, progress, on_result)


def _deadline(worker: _Worker) -> float:
    return worker.deadline if worker.ready else worker.started + _START_TIMEOUT


def _receive(
    worker: _Worker, timeout: float, progress: Progress, on_result: Callable[[str, Result], None]
) -> None:
    try:
        message = worker.conn.recv()
    except (EOFError, OSError):
        worker.process.join()
        code = worker.process.exitcode
        if worker.task is None:
            from initspec.cli._usage import UsageError

            raise UsageError(f"--build: a build worker exited while starting (exit code {code})") from None
        _finish(
            worker,
            {"error": f"the build worker died (exit code {code})", "cause": "crash"},
            progress,
            on_result,
        )
        return
    if message == "ready":
        worker.ready = True
        return
    if message == "building":
        worker.deadline, worker.building = time.monotonic() + timeout, True
        return
    if isinstance(message, dict) and "startup" in message:
        from initspec.cli._usage import UsageError

        raise UsageError(f"--build: a build worker cannot start: {message['startup']}")
    _finish(worker, message, progress, on_result)
    if worker.done >= _BUILDS_PER_WORKER:
        _stop(worker)


def _overran(
    worker: _Worker, timeout: float, progress: Progress, on_result: Callable[[str, Result], None]
) -> None:
    if worker.task is None:
        from initspec.cli._usage import UsageError

        msg = f"--build: a build worker did not start within {_START_TIMEOUT:g} s (importing torch and mmengine)"
        raise UsageError(msg)
    _stop(worker)
    error = (
        f"the build took longer than --build-timeout {timeout:g} s and was stopped"
        if worker.building
        else f"loading the config and importing its package took longer than {_START_TIMEOUT:g} s"
    )
    _finish(worker, {"error": error, "cause": "timeout"}, progress, on_result)


def _finish(
    worker: _Worker, result: Result, progress: Progress, on_result: Callable[[str, Result], None]
) -> None:
    config, worker.task, worker.building = worker.task, None, False
    worker.done += 1
    if config is None:
        return
    progress.done += 1
    on_result(config, result)


def _stop(worker: _Worker) -> None:
    if worker.process.is_alive():
        worker.process.kill()
    worker.process.join()
    worker.conn.close()


def _serve(conn: Connection, scope: str | None, plugins: list[str]) -> None:
    """A worker: quiet its output, import the plugins and torch, then build each config it is sent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        from initspec.registry import import_plugins

        import_plugins(plugins)
        from initspec.cli._build import build_and_check, refuse_downloads

        refuse_downloads()
    except Exception as err:
        conn.send({"startup": f"{type(err).__name__}: {err}"})
        return
    conn.send("ready")
    while True:
        try:
            config = conn.recv()
        except EOFError:
            return
        conn.send(build_and_check(config, scope, lambda: conn.send("building")))
