"""mmengine's ``Runner.train()`` to its first iteration, stock against initspec, with ``load_from`` (issue #22).

    python benchmarks/runner_start.py            # mmdet RetinaNet R-50 FPN, 5 runs per side, interleaved
    python benchmarks/runner_start.py --smoke    # one run per side: checks that it runs

The model is mmdet's ``retinanet_r50_fpn_1x_coco.py``, built on the CPU. Its backbone's ``Pretrained``
checkpoint is a ResNet-50 state_dict written by this script and served from a loopback HTTP server, so the
download is part of what is timed; ``load_from`` is a checkpoint of the whole model (every tensor), written
as mmengine writes one. Each run builds a fresh ``Runner`` (not timed) with fresh, empty download caches,
then times ``runner.train()`` until the ``before_train_iter`` hook of the first iteration, where it stops.

- ``stock``: mmengine as installed: init downloads and loads the backbone and draws the rest, then the
  Runner loads ``load_from`` over all of it;
- ``initspec``: ``initspec.mmengine.install()`` (default ``skip_overwritten=True``): the Runner's checkpoint
  is read ahead, so nothing is downloaded and nothing it supplies is drawn.

Needs mmdet (``bash scripts/real/install.sh``). Prints the median of each side, their ratio and the requests
each side made to the server.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import importlib.machinery
import importlib.util
import statistics
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "real"))

import _shims  # noqa: E402  (the torchvision and mmcv._ext stand-ins, before any OpenMMLab import)

_shims.install()
# The Runner asks pkgutil whether mmcv's compiled ops exist; a spec without a loader answers "no".
sys.modules["mmcv._ext"].__spec__ = importlib.machinery.ModuleSpec("mmcv._ext", None)

import torch  # noqa: E402

import initspec.mmengine  # noqa: E402

CONFIG = "retinanet/retinanet_r50_fpn_1x_coco.py"


class _FirstIteration(Exception):
    """Raised by the hook at the first iteration, to end the timed part of ``train()``."""


@contextmanager
def _server(root: Path) -> Iterator[tuple[str, list[str]]]:
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    finally:
        httpd.shutdown()
        httpd.server_close()


def _model_cfg(url: str) -> Any:
    from mmengine.config import Config

    spec = importlib.util.find_spec("mmdet")
    assert spec is not None and spec.origin is not None, "mmdet is not installed: bash scripts/real/install.sh"
    cfg = Config.fromfile(str(Path(spec.origin).parent / ".mim" / "configs" / CONFIG))
    cfg.model.backbone.init_cfg = dict(type="Pretrained", checkpoint=url)
    return cfg.model


def _write_checkpoints(work: Path, served: Path) -> None:
    """The backbone checkpoint the config names, and a whole-model ``load_from``, from a fresh model."""
    from mmdet.registry import MODELS

    model = MODELS.build(_model_cfg("unused"))
    torch.save(model.backbone.state_dict(), served / "resnet50.pth")
    torch.save(dict(meta=dict(epoch=12, iter=87960), state_dict=model.state_dict()), work / "load_from.pth")


def _runner(work: Path, url: str) -> Any:
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    class Stop(Hook):
        def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
            raise _FirstIteration

    run = work / f"run-{uuid.uuid4().hex[:8]}"
    torch.hub.set_dir(str(run / "hub"))  # an empty cache: the download is timed on every stock run
    return Runner(
        model=_model_cfg(url),
        work_dir=str(run),
        experiment_name=run.name,
        default_scope="mmdet",
        train_dataloader=dict(
            dataset=[dict(inputs=torch.zeros(3, 64, 64))] * 2,
            sampler=dict(type="DefaultSampler", shuffle=False),
            batch_size=1,
            num_workers=0,
        ),
        train_cfg=dict(by_epoch=False, max_iters=1),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01, momentum=0.9)),
        custom_hooks=[Stop()],
        load_from=str(work / "load_from.pth"),
        log_level="WARNING",
    )


def _one(side: str, work: Path, url: str, requests: list[str]) -> tuple[float, int]:
    if side == "initspec":
        initspec.mmengine.install()
    else:
        initspec.mmengine.uninstall()
    runner = _runner(work, url)
    before = len(requests)
    start = time.perf_counter()
    try:
        runner.train()
    except _FirstIteration:
        pass
    return time.perf_counter() - start, len(requests) - before


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="one run per side")
    args = parser.parse_args(argv)
    repeats = 1 if args.smoke else 5
    warnings.simplefilter("ignore")
    importlib.import_module("mmdet.utils").register_all_modules(init_default_scope=True)
    times: dict[str, list[float]] = {"stock": [], "initspec": []}
    asked: dict[str, list[int]] = {"stock": [], "initspec": []}
    with tempfile.TemporaryDirectory() as tmp:
        work, served = Path(tmp), Path(tmp) / "served"
        served.mkdir()
        _write_checkpoints(work, served)
        with _server(served) as (base, requests):
            for _ in range(repeats):
                for side in ("stock", "initspec"):  # interleaved, so drift hits both sides alike
                    seconds, made = _one(side, work, f"{base}/resnet50.pth", requests)
                    times[side].append(seconds)
                    asked[side].append(made)
    initspec.mmengine.uninstall()
    stock, ours = statistics.median(times["stock"]), statistics.median(times["initspec"])
    print(f"Runner.train() to the first iteration, mmdet {CONFIG}, load_from covering every tensor")
    print(f"median of {repeats}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    for side in ("stock", "initspec"):
        runs = ", ".join(f"{t:.2f}" for t in times[side])
        print(f"  {side:<9} {statistics.median(times[side]):7.2f} s  (runs: {runs}; requests: {asked[side]})")
    print(f"  ratio     {stock / ours:7.2f}x  (stock / initspec)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
