"""The work of one side of one model, run inside a worker process: config rewrite, build, init, save.

Nothing here runs in the harness's parent process; ``_procs.py`` starts the processes that call
:func:`dispatch`.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from _cases import BY_NAME, MODEL_PACKAGES, Case

HERE = Path(__file__).resolve().parent
PREPARE_SEED = 1
BUILD_SEED = 0
SIDES = ("stock", "initspec")


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


# -- the process: imports, seeds --------------------------------------------------------------------------


def _quiet() -> None:
    import logging
    import warnings

    warnings.simplefilter("ignore")
    from mmengine.logging import MMLogger

    MMLogger.get_instance("initspec-real", log_level="ERROR")
    logging.getLogger().setLevel(logging.ERROR)


def import_side(side: str) -> None:
    """Stubs, then for the initspec side ``install()``, then mmengine and the model packages, in that order."""
    import importlib

    import _shims

    _shims.install()
    if side == "initspec":
        import initspec.mmengine

        initspec.mmengine.install(skip_overwritten=False)
    import mmengine.model  # noqa: F401

    _quiet()
    import torch

    # both sides alike: torch's first float32 erfinv can give other bits in the part a second thread computes
    # (initspec._maths.erfinv_), and stock mmengine's trunc_normal_ does not set it up first
    torch.zeros(1).erfinv_()
    for package in MODEL_PACKAGES:
        importlib.import_module(f"{package}.utils").register_all_modules(init_default_scope=False)


def seed(value: int) -> None:
    """The global generators a model's construction might draw from: torch's (the one that matters), and
    Python's and NumPy's, so that state inherited from the worker's parent cannot leak in."""
    import random

    import numpy as np
    import torch

    torch.manual_seed(value)
    random.seed(value)
    np.random.seed(value)


def bits(tensor: Any) -> Any:
    """The tensor's bytes: equal bytes is bit-identical, NaN payloads and signed zeros included."""
    import torch

    flat = tensor.contiguous().reshape(-1)
    return flat.view(torch.uint8) if flat.dtype != torch.bool else flat


# -- the work ---------------------------------------------------------------------------------------------


def build(case: Case, model_cfg: Any) -> Any:
    import importlib

    importlib.import_module(f"{case.package}.utils").register_all_modules()
    registry = importlib.import_module(f"{case.package}.registry")
    return registry.MODELS.build(model_cfg)


def run_side(case: Case, ckdir: Path, out: Path, repeat: int = 1) -> dict[str, Any]:
    """Seed, build, ``init_weights`` (timed), save the state_dict; the result is printed as JSON.

    With ``repeat > 1`` the model is built and initialized again, the fastest time is kept, and every repeat
    must give the first one's tensors.
    """
    import torch

    manifest = json.loads((ckdir / f"{case.name}.json").read_text())
    times, state, params = [], {}, 0
    for attempt in range(repeat):
        model_cfg, _ = load_model_cfg(case, ckdir, manifest["dropped"])
        seed(BUILD_SEED)
        model = build(case, model_cfg)
        start = time.perf_counter()
        model.init_weights()
        times.append(time.perf_counter() - start)
        now = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if attempt == 0:
            state, params = now, sum(p.numel() for p in model.parameters())
        elif now.keys() != state.keys() or not all(torch.equal(bits(now[k]), bits(state[k])) for k in now):
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
        same += mine is not None and mine.shape == value.shape and bool(torch.equal(bits(mine), bits(value)))
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
    seed(PREPARE_SEED)
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


# Before a report run every tensor is set to this, so any write changes it, even one of the value it had.
SENTINEL_FLOAT = 0.123456789
SENTINEL_INT = 7


def run_report(case: Case, ckdir: Path) -> dict[str, Any]:
    """Under initspec: which tensors ``init_weights`` changed, and what its report says about each."""
    import torch

    import initspec

    manifest = json.loads((ckdir / f"{case.name}.json").read_text())
    model_cfg, _ = load_model_cfg(case, ckdir, manifest["dropped"])
    seed(BUILD_SEED)
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
    changed = sorted(k for k in before if not torch.equal(bits(before[k]), bits(after[k])))
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


def dispatch(request: dict[str, Any]) -> dict[str, Any]:
    """Run one request (``prepare``, ``side`` or ``report`` of one model); errors come back as data."""
    case, ckdir = BY_NAME[request["case"]], Path(request["ckdir"])
    try:
        if request["cmd"] == "prepare":
            return prepare_case(case, ckdir)
        if request["cmd"] == "side":
            return run_side(case, ckdir, Path(request["out"]), request.get("repeat", 1))
        return run_report(case, ckdir)
    except Exception as err:
        return {"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()[-4000:]}
