"""A real mmengine ``Runner`` on mmdet's RetinaNet R-50 with ``load_from``, run up to its first iteration.

Shared by ``benchmarks/runner_start.py`` (timing) and ``tests/real/test_real_runner.py`` (bit-for-bit parity).
The backbone's ``Pretrained`` checkpoint is a ResNet-50 state_dict written here and served from a loopback
HTTP server; ``load_from`` is a whole-model checkpoint written as mmengine writes one (``meta`` and a
``state_dict``), optionally without some tensors. Every Runner gets fresh, empty download caches.

    python scripts/real/runner_case.py prepare WORK [--drop PREFIX]
    python scripts/real/runner_case.py run WORK {stock,initspec} OUT.pt

``run`` saves the model's state_dict after ``load_or_resume`` (at the first iteration, before it runs) and the
number of requests the server got, to ``OUT.pt``.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import importlib.machinery
import importlib.util
import sys
import threading
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _shims  # (the torchvision and mmcv._ext stand-ins, before any OpenMMLab import)

_shims.install()
# The Runner asks pkgutil whether mmcv's compiled ops exist; a spec without a loader answers "no".
sys.modules["mmcv._ext"].__spec__ = importlib.machinery.ModuleSpec("mmcv._ext", None)

import torch  # noqa: E402

import initspec.mmengine  # noqa: E402

CONFIG = "retinanet/retinanet_r50_fpn_1x_coco.py"
BACKBONE = "resnet50.pth"


class FirstIteration(Exception):
    """Raised by the hook at the first iteration, to end ``train()`` once the checkpoint is loaded."""


def setup() -> None:
    """mmdet's modules registered, with its default scope; warnings off (mmdet's imports warn)."""
    warnings.simplefilter("ignore")
    importlib.import_module("mmdet.utils").register_all_modules(init_default_scope=True)


@contextmanager
def serve(root: Path) -> Iterator[tuple[str, list[str]]]:
    """A file server for ``root`` on 127.0.0.1: its base URL, and the paths requested."""
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


def model_cfg(url: str) -> Any:
    from mmengine.config import Config

    spec = importlib.util.find_spec("mmdet")
    assert spec is not None and spec.origin is not None, (
        "mmdet is not installed: bash scripts/real/install.sh"
    )
    cfg = Config.fromfile(str(Path(spec.origin).parent / ".mim" / "configs" / CONFIG))
    cfg.model.backbone.init_cfg = dict(type="Pretrained", checkpoint=url)
    return cfg.model


def prepare(work: Path, drop: str = "") -> None:
    """``WORK/served/resnet50.pth`` and ``WORK/load_from.pth`` (without the tensors under ``drop``)."""
    from mmdet.registry import MODELS

    (work / "served").mkdir(parents=True, exist_ok=True)
    torch.manual_seed(1234)
    model = MODELS.build(model_cfg("unused"))
    torch.save(model.backbone.state_dict(), work / "served" / BACKBONE)
    state = {k: v for k, v in model.state_dict().items() if not (drop and k.startswith(drop))}
    torch.save(dict(meta=dict(epoch=12, iter=87960), state_dict=state), work / "load_from.pth")


def runner(work: Path, url: str) -> Any:
    """A Runner of the case that stops at its first iteration, with an empty torch.hub cache of its own."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    class Stop(Hook):
        def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
            raise FirstIteration

    run = work / f"run-{uuid.uuid4().hex[:8]}"
    torch.hub.set_dir(str(run / "hub"))
    return Runner(
        model=model_cfg(url),
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
        randomness=dict(seed=0),
        log_level="WARNING",
    )


def side(name: str, **options: Any) -> None:
    """Stock mmengine, or initspec installed with ``options``."""
    if name == "initspec":
        initspec.mmengine.install(**options)
    else:
        initspec.mmengine.uninstall()


def train_to_first_iteration(run: Any) -> None:
    try:
        run.train()
    except FirstIteration:
        return
    msg = "the Runner finished without reaching its first iteration"
    raise RuntimeError(msg)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare")
    prep.add_argument("work", type=Path)
    prep.add_argument("--drop", default="")
    go = commands.add_parser("run")
    go.add_argument("work", type=Path)
    go.add_argument("side", choices=("stock", "initspec"))
    go.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    setup()
    if args.command == "prepare":
        prepare(args.work, args.drop)
        return 0
    side(args.side, skip_overwritten=False)
    with serve(args.work / "served") as (base, requests):
        run = runner(args.work, f"{base}/{BACKBONE}")
        train_to_first_iteration(run)
        made = len(requests)
    report = initspec.mmengine.last_report()
    sources = {} if report is None or args.side == "stock" else {k: r.source for k, r in report.items()}
    state = {k: v.detach().clone() for k, v in run.model.state_dict().items()}
    torch.save(dict(state=state, requests=made, sources=sources), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
