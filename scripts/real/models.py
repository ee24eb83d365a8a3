"""Real OpenMMLab models, initialized by stock mmengine and by initspec, compared bit for bit.

Each model is built from a config shipped in its package's wheel (``<pkg>/.mim/configs``). There is no
internet, so every ``Pretrained`` checkpoint in the config (``init_cfg=dict(type='Pretrained', ...)``,
``pretrained='...'``, PVT's free-form ``init_cfg=dict(checkpoint=...)``) is pointed at a file this script
makes: one *prepare* process builds each model once under another seed and saves, for every module that holds
such a checkpoint, that module's own state_dict (with the config's ``prefix`` put back on the keys). Where the
config asks a backbone to convert an upstream checkpoint's key names (``convert_weights=True``), that is turned
off, because the file is already in the model's own key format. A checkpoint that no module ends up holding
is set to ``None`` and listed in the prepare manifest.

Then each side runs in its own fresh process: ``torch.manual_seed(0)``, build the model, time
``model.init_weights()``, save the state_dict. Side ``stock`` is plain mmengine; side ``initspec`` calls
``initspec.mmengine.install(skip_overwritten=False)`` before any model module is built. ``--self-check`` runs
``stock`` on both sides, which proves that a model's initialization is deterministic in this harness.

torchvision's CUDA-only op registrations and mmcv-lite's missing ``mmcv._ext`` are stubbed (see ``_shims.py``);
building and initializing a model never calls those ops.

Usage::

    python scripts/real/models.py [--self-check] [--only NAME[,NAME...]] [--jobs N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PREPARE_SEED = 1
BUILD_SEED = 0
SIDES = ("stock", "initspec")


@dataclass(frozen=True)
class Case:
    """One real model: a short name, the package that ships its config, and the config's path in it."""

    name: str
    package: str
    config: str
    # The key prefix a model's own loading code expects, where the config does not say it (mmdet's Swin keeps
    # only "backbone." keys).
    ckpt_prefix: str = ""


CASES: tuple[Case, ...] = (
    # mmpretrain backbones (ImageClassifier roots)
    Case("resnet50", "mmpretrain", "resnet/resnet50_8xb32_in1k.py"),
    Case("vit-b16", "mmpretrain", "vision_transformer/vit-base-p16_64xb64_in1k.py"),
    Case("swin-t", "mmpretrain", "swin_transformer/swin-tiny_16xb64_in1k.py"),
    Case("convnext-t", "mmpretrain", "convnext/convnext-tiny_32xb128_in1k.py"),
    Case("mobilenet-v2", "mmpretrain", "mobilenet_v2/mobilenet-v2_8xb32_in1k.py"),
    Case("efficientnet-b0", "mmpretrain", "efficientnet/efficientnet-b0_8xb32_in1k.py"),
    Case("deit-t", "mmpretrain", "deit/deit-tiny_4xb256_in1k.py"),
    Case("hrnet-w18", "mmpretrain", "hrnet/hrnet-w18_4xb32_in1k.py"),
    # mmdet detectors
    Case("retinanet-r50", "mmdet", "retinanet/retinanet_r50_fpn_1x_coco.py"),
    Case("fcos-r50", "mmdet", "fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py"),
    Case("faster-rcnn-r50", "mmdet", "faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py"),
    Case("mask-rcnn-r50", "mmdet", "mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py"),
    Case("cascade-rpn", "mmdet", "cascade_rpn/cascade-rpn_faster-rcnn_r50-caffe_fpn_1x_coco.py"),
    Case("yolox-s", "mmdet", "yolox/yolox_s_8xb8-300e_coco.py"),
    Case("rtmdet-s", "mmdet", "rtmdet/rtmdet_s_8xb32-300e_coco.py"),
    Case("tood-r50", "mmdet", "tood/tood_r50_fpn_1x_coco.py"),
    Case("detr-r50", "mmdet", "detr/detr_r50_8xb2-150e_coco.py"),
    Case("dino-r50", "mmdet", "dino/dino-4scale_r50_8xb2-12e_coco.py"),
    Case("retinanet-pvt-t", "mmdet", "pvt/retinanet_pvt-t_fpn_1x_coco.py"),
    Case("atss-r50", "mmdet", "atss/atss_r50_fpn_1x_coco.py"),
    Case("ssd300", "mmdet", "ssd/ssd300_coco.py"),
    Case("mask-rcnn-swin-t", "mmdet", "swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py", ckpt_prefix="backbone."),
    # mmseg segmentors
    Case("pspnet-r50", "mmseg", "pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py"),
    Case("deeplabv3plus-r50", "mmseg", "deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py"),
    Case(
        "upernet-swin-t",
        "mmseg",
        "swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py",
    ),
    Case("segformer-b0", "mmseg", "segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py"),
    Case("mask2former-r50", "mmseg", "mask2former/mask2former_r50_8xb2-90k_cityscapes-512x1024.py"),
)
BY_NAME = {case.name: case for case in CASES}
PACKAGES = ("mmengine", "mmcv", "torchvision", "mmpretrain", "mmdet", "mmseg")


# -- the config rewrite (runs inside the workers) ------------------------------------------------------------


def _is_pretrained(value: Any) -> bool:
    kind = value.get("type") if isinstance(value, dict) else None
    return kind == "Pretrained" or getattr(kind, "__name__", None) == "PretrainedInit"


def _checkpoint_slots(node: Any) -> Iterator[tuple[Any, str | int]]:
    """Every (container, key) in a config that holds a checkpoint to load, in document order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pretrained" and isinstance(value, str):
                yield node, key
            elif (
                key == "init_cfg"
                and isinstance(value, dict)
                and "type" not in value
                and "checkpoint" in value
            ):
                yield value, "checkpoint"  # PVT: a free-form dict its own init_weights reads
            elif _is_pretrained(value):
                yield value, "checkpoint"
            else:
                yield from _checkpoint_slots(value)
    elif isinstance(node, list | tuple):
        for value in node:
            if _is_pretrained(value):
                yield value, "checkpoint"
            else:
                yield from _checkpoint_slots(value)


def _no_key_conversion(node: Any) -> None:
    """Turn off ``convert_weights`` beside a checkpoint: the harness's files are in the model's own format."""
    if isinstance(node, dict):
        if node.get("convert_weights") and (node.get("init_cfg") or node.get("pretrained")):
            node["convert_weights"] = False
        for value in node.values():
            _no_key_conversion(value)
    elif isinstance(node, list | tuple):
        for value in node:
            _no_key_conversion(value)


def checkpoint_path(ckdir: Path, case: Case, index: int) -> str:
    return str(ckdir / f"{case.name}.{index}.pth")


def load_model_cfg(case: Case, ckdir: Path, dropped: Sequence[int] = ()) -> tuple[Any, list[str]]:
    """The case's ``cfg.model`` with every checkpoint pointed at the harness's files (or ``None``)."""
    import importlib.util

    from mmengine.config import Config

    spec = importlib.util.find_spec(case.package)
    assert spec is not None and spec.origin is not None
    cfg = Config.fromfile(str(Path(spec.origin).parent / ".mim" / "configs" / case.config))
    model = cfg.model  # a ConfigDict: model code reads it by attribute (train_cfg.rpn, init_cfg.checkpoint)
    paths = []
    for index, (container, key) in enumerate(list(_checkpoint_slots(model))):
        path = checkpoint_path(ckdir, case, index)
        container[key] = None if index in dropped else path
        paths.append(path)
    _no_key_conversion(model)
    return model, paths


# -- the worker: one side of one model, in its own process --------------------------------------------------


def _quiet() -> None:
    import logging
    import warnings

    warnings.simplefilter("ignore")
    from mmengine.logging import MMLogger

    MMLogger.get_instance("initspec-real", log_level="ERROR")
    logging.getLogger().setLevel(logging.ERROR)


def _import_side(side: str) -> None:
    """Stubs, mmengine, and for the initspec side ``install()``: all before any model package is imported."""
    sys.path.insert(0, str(HERE))
    import _shims

    _shims.install()
    if side == "initspec":
        import initspec.mmengine

        initspec.mmengine.install(skip_overwritten=False)
    import mmengine.model  # noqa: F401

    _quiet()


def build(case: Case, model_cfg: Any) -> Any:
    import importlib

    importlib.import_module(f"{case.package}.utils").register_all_modules()
    registry = importlib.import_module(f"{case.package}.registry")
    return registry.MODELS.build(model_cfg)


def run_side(case: Case, side: str, ckdir: Path, out: Path, repeat: int = 1) -> dict[str, Any]:
    """Seed, build, ``init_weights`` (timed), save the state_dict; the result is printed as JSON.

    With ``repeat > 1`` the model is built and initialized again, the fastest time is kept, and every repeat
    must give the first one's tensors.
    """
    _import_side(side)
    import torch

    manifest = json.loads((ckdir / f"{case.name}.json").read_text())
    times, state, params = [], {}, 0
    for attempt in range(repeat):
        model_cfg, _ = load_model_cfg(case, ckdir, manifest["dropped"])
        torch.manual_seed(BUILD_SEED)
        model = build(case, model_cfg)
        start = time.perf_counter()
        model.init_weights()
        times.append(time.perf_counter() - start)
        now = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if attempt == 0:
            state, params = now, sum(p.numel() for p in model.parameters())
        elif now.keys() != state.keys() or not all(torch.equal(_bits(now[k]), _bits(state[k])) for k in now):
            msg = f"repeat {attempt} of {case.name} gave other tensors than the first run in the same process"
            raise RuntimeError(msg)
        del model
    torch.save(state, out)
    loaded = [_loaded_from(state, ck) for ck in manifest["checkpoints"]]
    return {"init_ms": min(times) * 1e3, "tensors": len(state), "params": params, "loaded": loaded}


def _loaded_from(state: dict[str, Any], checkpoint: dict[str, str]) -> list[int]:
    """[tensors of the owner equal to the file's, tensors in the file]: did the checkpoint really load?"""
    import torch

    saved = torch.load(checkpoint["path"], weights_only=True)["state_dict"]
    module = "" if checkpoint["module"] == "<root>" else checkpoint["module"] + "."
    prefix = checkpoint["prefix"]
    same = 0
    for key, value in saved.items():
        mine = state.get(module + key.removeprefix(prefix))
        same += (
            mine is not None and mine.shape == value.shape and bool(torch.equal(_bits(mine), _bits(value)))
        )
    return [same, len(saved)]


def _owner_of(model: Any, path: str, default_prefix: str = "") -> tuple[str, Any, str] | None:
    """The module that holds checkpoint ``path`` (in its ``init_cfg`` or an attribute), and the key prefix."""
    for name, module in model.named_modules():
        cfgs = module.__dict__.get("init_cfg")
        for cfg in cfgs if isinstance(cfgs, list) else [cfgs]:
            if isinstance(cfg, dict) and cfg.get("checkpoint") == path:
                prefix = cfg.get("prefix") or default_prefix
                return name, module, prefix if not prefix or prefix.endswith(".") else prefix + "."
        if any(value == path for value in module.__dict__.values() if isinstance(value, str)):
            return name, module, default_prefix
    return None


def prepare_case(case: Case, ckdir: Path) -> dict[str, Any]:
    """Build once under another seed and write each checkpoint file from the module that will load it."""
    import torch

    model_cfg, paths = load_model_cfg(case, ckdir)
    torch.manual_seed(PREPARE_SEED)
    model = build(case, model_cfg) if paths else None
    manifest: dict[str, Any] = {"case": case.name, "checkpoints": [], "dropped": []}
    for index, path in enumerate(paths):
        owner = _owner_of(model, path, case.ckpt_prefix)
        if owner is None:
            manifest["dropped"].append(index)
            continue
        name, module, prefix = owner
        state = {prefix + k: v.detach().clone() for k, v in module.state_dict().items()}
        torch.save({"state_dict": state}, path)
        manifest["checkpoints"].append({"path": path, "module": name or "<root>", "prefix": prefix})
    (ckdir / f"{case.name}.json").write_text(json.dumps(manifest))
    return manifest


def run_prepare(cases: Sequence[Case], ckdir: Path) -> Iterator[dict[str, Any]]:
    """Prepare several models in one process (it only makes files): one JSON-able manifest or error each."""
    _import_side("stock")
    for case in cases:
        try:
            yield prepare_case(case, ckdir)
        except Exception as err:
            traceback.print_exc()
            yield {"case": case.name, "error": f"{type(err).__name__}: {err}"}


# Before a report run every tensor is set to this, so any write changes it, even one of the value it had.
SENTINEL_FLOAT = 0.123456789
SENTINEL_INT = 7


def run_report(case: Case, ckdir: Path) -> dict[str, Any]:
    """Under initspec: which tensors ``init_weights`` changed, and what its report says about each."""
    _import_side("initspec")
    import torch

    import initspec

    manifest = json.loads((ckdir / f"{case.name}.json").read_text())
    model_cfg, _ = load_model_cfg(case, ckdir, manifest["dropped"])
    torch.manual_seed(BUILD_SEED)
    model = build(case, model_cfg)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.dtype != torch.bool:
                tensor.fill_(SENTINEL_FLOAT if tensor.is_floating_point() else SENTINEL_INT)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with initspec.init_options() as options:
        returned = model.init_weights()
    report = options.report
    after = model.state_dict()
    changed = sorted(k for k in before if not torch.equal(_bits(before[k]), _bits(after[k])))
    return {
        "tensors": sorted(before),
        "changed": changed,
        "reported": sorted(report),
        "untouched": sorted(report.untouched()),
        "returned_is_report": returned is report,
        "sources": {name: str(report[name].source) for name in report},
        "records": {name: repr(report[name]) for name in report},
        "checkpoints": manifest["checkpoints"],
    }


# -- the parent: processes, comparison, table -----------------------------------------------------------------


@dataclass
class Result:
    """One model's outcome: how many tensors are bit-identical, and each side's ``init_weights`` time."""

    name: str
    status: str = "ok"  # ok | differ | error
    identical: int = 0
    total: int = 0
    params: int = 0
    ms: dict[str, float] = field(default_factory=dict)
    checkpoints: list[dict[str, str]] = field(default_factory=list)
    loaded: list[list[int]] = field(default_factory=list)
    dropped: int = 0
    differing: list[str] = field(default_factory=list)
    error: str = ""
    wall_s: float = 0.0

    @property
    def ratio(self) -> float | None:
        a, b = self.ms.get("a"), self.ms.get("b")
        return b / a if a and b else None


def _worker(args: list[str], timeout: float) -> dict[str, Any]:
    """Run a worker; its last JSON line, or ``{"error": ...}``."""
    return _worker_lines(args, timeout).get("", {"error": "no output"})


def _worker_lines(args: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    """Run a worker; its JSON lines by their ``case`` key, the last one also under ``""``."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    by_case = {r.get("case", ""): r for r in results}
    if proc.returncode and not (results and "error" in results[-1]):
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        by_case[""] = {"error": f"exit {proc.returncode}: {tail}"}
    else:
        by_case[""] = results[-1] if results else {"error": "no output"}
    return by_case


def _bits(tensor: Any) -> Any:
    """The tensor's bytes: equal bytes is bit-identical, NaN payloads and signed zeros included."""
    import torch

    flat = tensor.contiguous().reshape(-1)
    return flat.view(torch.uint8) if flat.dtype != torch.bool else flat


def compare_states(path_a: Path, path_b: Path) -> tuple[int, int, list[str]]:
    """(identical, total, differing names): same keys, dtype, shape and bits."""
    import torch

    a = torch.load(path_a, weights_only=True)
    b = torch.load(path_b, weights_only=True)
    differing = sorted(set(a) ^ set(b))
    identical = 0
    for key in a.keys() & b.keys():
        x, y = a[key], b[key]
        if x.dtype == y.dtype and x.shape == y.shape and torch.equal(_bits(x), _bits(y)):
            identical += 1
        else:
            differing.append(key)
    return identical, len(a.keys() | b.keys()), sorted(differing)


def prepare_all(cases: Sequence[Case], workdir: Path, pool: ThreadPoolExecutor) -> dict[str, dict[str, Any]]:
    """One prepare process per package (packages never share a process), run on the pool."""
    groups: dict[str, list[str]] = {}
    for case in cases:
        groups.setdefault(case.package, []).append(case.name)
    argvs = [["prepare", *names, "--ckdir", str(workdir)] for names in groups.values()]
    manifests: dict[str, dict[str, Any]] = {}
    for names, lines in zip(
        groups.values(), pool.map(lambda argv: _worker_lines(argv, 1800), argvs), strict=True
    ):
        for name in names:
            manifests[name] = lines.get(name) or {"error": lines.get("", {}).get("error", "no manifest")}
    return manifests


def run_case(
    case: Case,
    sides: tuple[str, str],
    workdir: Path,
    prep: dict[str, Any],
    repeat: int = 1,
    timeout: float = 600,
) -> Result:
    """Run both sides in fresh processes, compare, and clean up the state and checkpoint files."""
    start = time.perf_counter()
    result = Result(case.name)
    if "error" in prep:
        result.status, result.error = "error", f"prepare: {prep['error']}"
        return result
    result.checkpoints, result.dropped = prep["checkpoints"], len(prep["dropped"])
    outs = [workdir / f"{case.name}.{tag}.pt" for tag in ("a", "b")]
    # Side b first: when initspec.mmengine cannot be imported it fails in a second, and side a is not run.
    for tag, side, out in reversed(list(zip(("a", "b"), sides, outs, strict=True))):
        argv = ["side", case.name, side, "--ckdir", str(workdir), "--out", str(out), "--repeat", str(repeat)]
        got = _worker(argv, timeout)
        if "error" in got:
            result.status, result.error = "error", f"{side}: {got['error']}"
            break
        result.ms[tag], result.params = got["init_ms"], got["params"]
        result.loaded = result.loaded or got["loaded"]
    else:
        result.identical, result.total, result.differing = compare_states(*outs)
        result.status = "ok" if result.identical == result.total else "differ"
    for path in [*outs, *workdir.glob(f"{case.name}.*.pth")]:
        path.unlink(missing_ok=True)
    result.wall_s = time.perf_counter() - start
    return result


def run_cases(
    cases: Sequence[Case], *, self_check: bool = False, jobs: int = 1, repeat: int = 1
) -> list[Result]:
    """Prepare every model's checkpoints, then run and compare the models, ``jobs`` at a time."""
    sides = ("stock", "stock") if self_check else SIDES
    with tempfile.TemporaryDirectory(prefix="initspec-real-") as tmp, ThreadPoolExecutor(jobs) as pool:
        workdir = Path(tmp)
        preps = prepare_all(cases, workdir, pool)
        return list(pool.map(lambda case: run_case(case, sides, workdir, preps[case.name], repeat), cases))


def report_runs(cases: Sequence[Case], jobs: int = 1) -> dict[str, dict[str, Any]]:
    """Prepare, then one report run per model under initspec (see :func:`run_report`)."""
    with tempfile.TemporaryDirectory(prefix="initspec-real-") as tmp, ThreadPoolExecutor(jobs) as pool:
        workdir = Path(tmp)
        preps = prepare_all(cases, workdir, pool)

        def one(case: Case) -> dict[str, Any]:
            if "error" in preps[case.name]:
                return {"error": f"prepare: {preps[case.name]['error']}"}
            return _worker(["report", case.name, "--ckdir", str(workdir)], 600)

        return dict(zip((c.name for c in cases), pool.map(one, cases), strict=True))


def missing_packages() -> list[str]:
    import importlib.util

    return [name for name in PACKAGES if importlib.util.find_spec(name) is None]


def table(results: Sequence[Result], b_label: str) -> str:
    rows = [("model", "identical/total", "stock ms", f"{b_label} ms", "ratio", "checkpoint loaded / note")]
    for r in results:
        ratio = r.ratio
        loaded = " ".join(
            f"{c['module']}:{n}/{m}" for c, (n, m) in zip(r.checkpoints, r.loaded, strict=False)
        )
        note = r.error or (f"differ: {', '.join(r.differing[:3])}" if r.differing else loaded)
        rows.append(
            (
                r.name,
                f"{r.identical}/{r.total}" if r.total else "-",
                f"{r.ms['a']:.1f}" if "a" in r.ms else "-",
                f"{r.ms['b']:.1f}" if "b" in r.ms else "-",
                f"{ratio:.2f}" if ratio else "-",
                note[:160],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=False)) + "  " + row[5] for row in rows
    ]
    ratios = [r.ratio for r in results if r.ratio]
    ok = sum(r.status == "ok" for r in results)
    lines.append(f"{ok}/{len(results)} models bit-identical")
    if ratios:
        lines.append(f"median ratio {b_label}/stock: {statistics.median(ratios):.2f}")
    return "\n".join(line.rstrip() for line in lines)


def _worker_main(args: argparse.Namespace) -> int:
    """Run one worker and print its result, or its error, as one JSON line (the traceback goes to stderr)."""
    if args.command == "report":
        try:
            out = run_report(BY_NAME[args.case], args.ckdir)
        except Exception as err:
            traceback.print_exc()
            out = {"error": f"{type(err).__name__}: {err}"}
        print(json.dumps(out))
        return 0
    if args.command == "prepare":
        for manifest in run_prepare([BY_NAME[name] for name in args.cases], args.ckdir):
            print(json.dumps(manifest), flush=True)
        return 0
    try:
        out = run_side(BY_NAME[args.case], args.side, args.ckdir, args.out, args.repeat)
    except Exception as err:
        traceback.print_exc()
        print(json.dumps({"error": f"{type(err).__name__}: {err}"}))
        return 3
    print(json.dumps(out))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    side = sub.add_parser("side", help="(internal) one side of one model")
    side.add_argument("case")
    side.add_argument("side", choices=SIDES)
    side.add_argument("--ckdir", type=Path, required=True)
    side.add_argument("--out", type=Path, required=True)
    side.add_argument("--repeat", type=int, default=1)
    rep = sub.add_parser("report", help="(internal) a report run of one model under initspec")
    rep.add_argument("case")
    rep.add_argument("--ckdir", type=Path, required=True)
    prep = sub.add_parser("prepare", help="(internal) write models' checkpoint files")
    prep.add_argument("cases", nargs="+")
    prep.add_argument("--ckdir", type=Path, required=True)
    parser.add_argument("--self-check", action="store_true", help="stock mmengine on both sides")
    parser.add_argument("--only", help="comma-separated model names")
    parser.add_argument("--jobs", type=int, default=1, help="models run at once")
    parser.add_argument(
        "--repeat", type=int, default=1, help="time init_weights N times per side, keep the best"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if args.command in ("side", "prepare", "report"):
        return _worker_main(args)
    if missing := missing_packages():
        print(f"missing packages: {', '.join(missing)}; run scripts/real/install.sh", file=sys.stderr)
        return 2
    names = args.only.split(",") if args.only else list(BY_NAME)
    if unknown := [n for n in names if n not in BY_NAME]:
        print(f"unknown model(s): {', '.join(unknown)}; known: {', '.join(BY_NAME)}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    cases = [BY_NAME[n] for n in names]
    results = run_cases(cases, self_check=args.self_check, jobs=args.jobs, repeat=args.repeat)
    print(table(results, "stock-2" if args.self_check else "initspec"))
    print(f"total {time.perf_counter() - start:.1f} s")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) | {"ratio": r.ratio} for r in results], indent=2))
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
