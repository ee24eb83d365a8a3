"""initspec inside mmengine's Runner: init planned knowing the checkpoint ``load_from`` or ``resume`` loads next.

``Runner.train()`` calls ``model.init_weights()`` and only then ``load_or_resume()``. ``patch()`` wraps the
Runner's ``_init_model_weights`` so that, before init runs, the checkpoint the Runner is about to load is read
ahead (its names and shapes only, see ``_ckpt_keys``) and handed to the walker as a later load
(``_walker.external``): no ``Pretrained`` it fully overwrites is read or downloaded, and by default nothing it
supplies is drawn. The report of that init is kept for :func:`last_report`, and one INFO line through the
Runner's logger says what came from where.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlparse

from initspec._ckpt_keys import read_shapes, state_dict_shapes
from initspec._walker.context import SCOPE, Scope
from initspec._walker.external import LATER, LaterLoad
from initspec.plan import init_options
from initspec.report import InitReport

__all__ = ["last_report", "patch", "unpatch"]

_SAVED: dict[str, Any] = {}
_LAST: list[InitReport | None] = [None]
_LISTED: Final = 8
_RUNNER_REVISE_KEYS: Final = ((r"^module.", ""),)  # Runner.load_checkpoint's default, its unescaped dot kept
_OPTIONS: Final = ("seed", "skip_overwritten", "strict", "require_complete")
_FLEXIBLE: Final = (
    "initspec: FlexibleRunner initializes through its strategy, so its {kind} checkpoint is not read ahead; "
    "init runs as without install(runner=True)"
)


def patch() -> None:
    """Wrap ``Runner._init_model_weights`` (and note ``FlexibleRunner``'s limits); harmless when done."""
    if _SAVED:
        return
    runner = importlib.import_module("mmengine.runner").Runner
    original = runner.__dict__["_init_model_weights"]

    def _init_model_weights(self: Any) -> None:
        run_init(self, original)

    _init_model_weights.__doc__ = original.__doc__
    _SAVED["runner"] = (runner, original)
    runner._init_model_weights = _init_model_weights
    flexible = getattr(importlib.import_module("mmengine.runner"), "FlexibleRunner", None)
    if flexible is not None:
        train = flexible.__dict__["train"]

        def flexible_train(self: Any) -> Any:
            if self._load_from is not None or self._resume:
                self.logger.info(_FLEXIBLE.format(kind="resume" if self._resume else "load_from"))
            return train(self)

        _SAVED["flexible"] = (flexible, train)
        flexible.train = flexible_train


def unpatch() -> None:
    """Restore the Runner's own methods; harmless when not patched."""
    if "runner" in _SAVED:
        runner, original = _SAVED["runner"]
        runner._init_model_weights = original
    if "flexible" in _SAVED:
        flexible, train = _SAVED["flexible"]
        flexible.train = train
    _SAVED.clear()


def last_report() -> InitReport | None:
    """The report of the last Runner-driven ``init_weights``, or ``None`` when none has run."""
    return _LAST[0]


def run_init(runner: Any, original: Any) -> None:
    """The Runner's ``_init_model_weights`` with the checkpoint it loads next known to the plan."""
    later, outer = read_ahead(runner), SCOPE.get()
    token = LATER.set(later)
    try:
        with init_options(**_inherited(outer)) as scope:
            original(runner)
    finally:
        LATER.reset(token)
    report = scope.report
    if isinstance(report, InitReport) and later is not None:
        report = _credit_load(report, later)  # model code run after the plan cannot outlast the load
    _LAST[0] = report if isinstance(report, InitReport) else None
    if outer is not None and outer.report is None:
        outer.report = _LAST[0]
    if _LAST[0] is not None:
        runner.logger.info(summary_line(_LAST[0], later))


def _inherited(outer: Scope | None) -> dict[str, Any]:
    """The options of an enclosing ``init_options`` block (``with init_options(...): runner.train()``)."""
    return {} if outer is None else {name: getattr(outer, name) for name in _OPTIONS}


def read_ahead(runner: Any) -> LaterLoad | None:
    """What ``load_or_resume`` will load, or ``None`` when nothing, or when it cannot be read ahead.

    A local checkpoint that does not exist raises mmengine's own error now, before init writes anything.
    """
    kind, source = _what_loads(runner)
    if source is None:
        return None
    path = _local_path(runner, source)
    if path is None:
        return None
    try:
        shapes = state_dict_shapes(read_shapes(path), _RUNNER_REVISE_KEYS)
    except Exception as err:  # any reason at all: mmengine's own load then says what is wrong
        runner.logger.info(f"initspec: {kind} {source} could not be read ahead ({err}); init runs as stock")
        return None
    return LaterLoad(kind, source, shapes)


def _what_loads(runner: Any) -> tuple[Literal["load_from", "resume"], str | None]:
    """``load_or_resume``'s choice, made without its side effects."""
    if runner._has_loaded:
        return "load_from", None
    if runner._resume and runner._load_from is None:
        last = Path(runner.work_dir) / "last_checkpoint"
        return "resume", last.read_text(encoding="utf-8").strip() if last.is_file() else None
    if runner._resume:
        return "resume", str(runner._load_from)
    return "load_from", None if runner._load_from is None else str(runner._load_from)


def _local_path(runner: Any, source: str) -> Path | None:
    """The file mmengine will read for ``source``: a local file, or an http(s) URL's torch.hub cache entry."""
    if source.startswith(("http://", "https://")):
        return _cached_url(runner, source)
    if "://" in source:
        runner.logger.info(f"initspec: {source} is not read ahead (only paths and http(s) URLs are)")
        return None
    path = Path(os.path.expanduser(source))
    if not path.is_file():
        checkpoint = importlib.import_module("mmengine.runner.checkpoint")
        checkpoint.CheckpointLoader.load_checkpoint(source, map_location="cpu")  # mmengine's own error
        return None
    return path


def _cached_url(runner: Any, url: str) -> Path | None:
    """mmengine's cache entry for ``url``, downloaded (and verified) now if absent: the load needs it next."""
    import torch.hub

    from initspec._checkpoint.download import download_timeout, fetch
    from initspec._checkpoint.formats import format_problem

    target = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name
    if not target.is_file() and runner.world_size > 1:  # mmengine downloads on rank 0 only, then syncs
        runner.logger.info(
            f"initspec: {url} is not cached, and ranks cannot share a download; init runs as stock"
        )
        return None
    try:
        return fetch(url, target, timeout=download_timeout(), verify=format_problem)
    except OSError as err:
        runner.logger.info(f"initspec: {url} could not be fetched ahead ({err}); init runs as stock")
        return None


def _credit_load(report: InitReport, later: LaterLoad) -> InitReport:
    credit = ("Pretrained", {"checkpoint": later.path}, f"{later.kind}: {later.path}")
    return report.updated([(name, credit) for name, rec in report.items() if later.supplies(name, rec.shape)])


def summary_line(report: InitReport, later: LaterLoad | None) -> str:
    """``init: 7 tensors from load_from PATH, 2 written by init, 0 from Pretrained, 1 Pretrained loads
    skipped; 0 parameters set by neither (...)``: what set each tensor, and the parameters nothing set, by
    name. Buffers nothing set keep what the constructor gave them (BatchNorm's statistics) and are left out.
    """
    loaded = drawn = pretrained = 0
    neither: list[str] = []
    for name, rec in report.items():
        if later is not None and rec.source.startswith(f"{later.kind}: "):
            loaded += 1
        elif rec.source == "untouched":
            neither += [] if rec.buffer else [name]
        elif rec.initializer == "Pretrained":
            pretrained += 1
        else:
            drawn += 1
    skipped = 0 if later is None else len(later.skipped)
    head = f"init: {loaded} tensors from {later.kind} {later.path}, " if later is not None else "init: "
    listed = ", ".join(neither[:_LISTED]) + (
        f" and {len(neither) - _LISTED} more" if len(neither) > _LISTED else ""
    )
    return (
        f"{head}{drawn} written by init, {pretrained} from Pretrained, {skipped} Pretrained loads skipped; "
        f"{len(neither)} parameters set by neither"
        + (f": {listed}" if neither else "")
        + " (initspec.mmengine.last_report() has each tensor's source)"
    )
