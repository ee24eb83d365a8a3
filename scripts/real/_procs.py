"""Worker processes: every request (one side of one model) runs in a process of its own.

Two ways, with one interface (``call(request) -> result``):

- ``Zygote`` (the default): a server process per side imports the stubs, (for the initspec side) calls
  ``initspec.mmengine.install()``, then imports mmengine and the three model packages, once. For each request it
  forks a child that seeds, builds, initializes and saves, and exits. So every side of every model still runs
  in its own process, which has built nothing before, while the imports (about 5 s a process) are paid once.
- ``Spawn`` (``--spawn``): a new interpreter per request, imports included; slower, for checking the above.

Requests are answered one at a time, so a zygote never runs two children at once.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import traceback
from pathlib import Path
from typing import IO, Any

SCRIPT = Path(__file__).resolve().parent / "models.py"
CHILD_TIMEOUT_S = 600


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONHASHSEED="0")


# -- inside the zygote process -----------------------------------------------------------------------------


def serve(side: str) -> int:
    """The zygote's loop: one JSON request a line on stdin, one JSON answer a line on stdout."""
    import _worker

    answer_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # model code that prints must not write into the answers
    try:
        _worker.import_side(side)
        startup_error = None
    except Exception as err:  # e.g. initspec.mmengine missing: answer every request with it
        traceback.print_exc()
        startup_error = f"{type(err).__name__}: {err}"
    for line in sys.stdin:
        request = json.loads(line)
        answer = {"error": startup_error} if startup_error else _fork(_worker.dispatch, request)
        answer_out.write(json.dumps(answer) + "\n")
        answer_out.flush()
    return 0


def _fork(work: Any, request: dict[str, Any]) -> dict[str, Any]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, write the answer, leave without running the parent's cleanups
        os.close(read_end)
        code = 0
        try:
            with os.fdopen(write_end, "w") as out:
                out.write(json.dumps(work(request)))
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    os.close(write_end)
    text = _read_all(read_end, CHILD_TIMEOUT_S)
    if text is None:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if text is None:
        return {"error": f"timed out after {CHILD_TIMEOUT_S} s"}
    if not text:
        return {"error": f"worker died ({_describe(status)}); see its stderr"}
    answer: dict[str, Any] = json.loads(text)
    return answer


def _read_all(fd: int, timeout: float) -> str | None:
    chunks: list[bytes] = []
    with os.fdopen(fd, "rb") as pipe:
        while True:
            ready, _, _ = select.select([pipe], [], [], timeout)
            if not ready:
                return None
            chunk = pipe.read1(1 << 16)
            if not chunk:
                return b"".join(chunks).decode()
            chunks.append(chunk)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


# -- in the harness's parent process -----------------------------------------------------------------------


class Zygote:
    """A zygote server for one side; ``call`` runs one request in a fresh child of it."""

    def __init__(self, side: str, log: IO[str]) -> None:
        self.side = side
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), "zygote", side],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=_env(),
        )

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return {"error": f"the {self.side} zygote exited ({self.proc.poll()})"}
        line = self.proc.stdout.readline()
        if not line:
            return {"error": f"the {self.side} zygote exited ({self.proc.wait()})"}
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class Spawn:
    """A new interpreter for each request (``models.py once SIDE REQUEST``)."""

    def __init__(self, side: str, log: IO[str]) -> None:
        self.side, self.log = side, log

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        argv = [sys.executable, str(SCRIPT), "once", self.side, json.dumps(request)]
        proc = subprocess.run(
            argv, capture_output=True, text=True, env=_env(), timeout=CHILD_TIMEOUT_S, check=False
        )
        self.log.write(proc.stderr)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if not lines:
            tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            return {"error": f"exit {proc.returncode}: {tail}"}
        answer: dict[str, Any] = json.loads(lines[-1])
        return answer

    def close(self) -> None:
        pass


def once(side: str, request: dict[str, Any]) -> int:
    """``Spawn``'s worker: imports, one request, one JSON line."""
    import _worker

    try:
        _worker.import_side(side)
    except Exception as err:
        print(json.dumps({"error": f"{type(err).__name__}: {err}"}))
        return 0
    print(json.dumps(_worker.dispatch(request)))
    return 0
