"""Build a model config's model through mmengine's registry on the meta device, and check it plan-time.

What runs here RUNS the config (``Config.fromfile`` executes it, as mmengine does) and imports torch, mmengine
and the scope's package: ``explain`` without ``--model`` and the workers of ``validate --build`` call it, never
plain ``validate``. Nothing is downloaded: a Pretrained whose checkpoint is not already a file is not planned.

A finding is plain data (:class:`RawFinding`, a dict that crosses process boundaries): the module's path in
the model, its class, which of its init_cfg entries, where inside that entry, and the message. The parent
process places it at a config line (``_buildfindings``).
"""

from __future__ import annotations

import copy
import importlib
import inspect
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypedDict

from initspec._checkpoint.sources import download_target
from initspec._errors import CheckpointError, InitPlanError
from initspec.cli.documents import plain
from initspec.configs import InitializerConfig, PretrainedInit

if TYPE_CHECKING:
    from torch import nn

__all__ = ["BuildError", "RawFinding", "build_and_check", "build_model", "check_built", "refuse_downloads"]

_NEVER_APPLIED: Final = re.compile(r"init_cfg of '(?P<where>[^']*)' \((?P<cls>\w+)\) was never applied")
_LISTED_KINDS: Final = 8
_ON_CPU: Final = 1024  # elements: below this, a tensor made while building is a real CPU tensor
_REFUSED: Final = "initspec builds models offline: no download is made while building or checking a model"


class BuildError(Exception):
    """The config cannot be built: no scope, no ``model=dict(type=...)``, or the scope is not registered."""


class RawFinding(TypedDict):
    """One plan-time finding on a built module, before it is placed at a config line."""

    code: str
    module: str  # the module's dotted path in the model, "" for the root
    init_cfg: object  # the init_cfg the module holds, as plain dicts and lists
    cls: str
    cls_module: str
    index: int | None  # which init_cfg entry; None for the whole init_cfg
    within: list[str | int]  # where inside the init_cfg (``[1, "layer", 0]``)
    message: str
    default: bool  # the module holds its class's default init_cfg (the signature's)


def refuse_downloads() -> None:
    """Make any download a model's code attempts fail at once (hubs offline, torch.hub and urlopen refused)."""
    import urllib.request

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[name] = "1"

    def refused(*args: object, **kwargs: object) -> Any:
        raise OSError(_REFUSED)

    urllib.request.urlopen = refused
    try:
        import torch.hub
    except ImportError:
        return
    torch.hub.download_url_to_file = refused


def build_model(config: str, scope: str | None = None, ready: Callable[[], None] | None = None) -> nn.Module:
    """``MODELS.build(cfg.model)`` of the config at ``config``, under ``torch.device('meta')``.

    The config runs (``mmengine.Config.fromfile``). The scope is ``scope`` or the config's ``default_scope``;
    its package registers its modules as its own tools do (``<scope>.utils.register_all_modules``, else the
    registry's ``locations``). ``initspec.mmengine.install()`` is in effect, so every BaseModule is initspec's.
    ``ready()`` is called once the config is loaded and the package imported, as the build itself starts.

    Raises:
        BuildError: no scope, no ``model=dict(type=...)``, or no registry for the scope.
        Exception: whatever the config or the model's constructor raises.
    """
    import initspec.mmengine

    Config = importlib.import_module("mmengine.config").Config  # untyped: imported by name
    MODELS = importlib.import_module("mmengine.registry").MODELS

    initspec.mmengine.install()
    cfg = Config.fromfile(config)
    name = scope or cfg.get("default_scope")
    if not name:
        msg = f"{config} sets no default_scope; pass --scope NAME (the package that registers its model: mmdet, ...)"
        raise BuildError(msg)
    model = cfg.get("model")
    if not isinstance(model, dict) or "type" not in model:
        msg = f"{config} has no model=dict(type=...) to build"
        raise BuildError(msg)
    _register_all(name)
    with MODELS.switch_scope_and_registry(name) as registry:
        if registry.scope != name:
            msg = f"no mmengine registry has the scope {name!r}; install the package or pass --scope NAME"
            raise BuildError(msg)
        if ready is not None:
            ready()
        return _build_on_meta(registry, model)


def _build_on_meta(registry: Any, model: dict[str, Any]) -> nn.Module:
    """``registry.build(model)`` under ``torch.device('meta')``; if the constructor needs values it cannot have
    there, again with the small tensors it makes on the CPU (:func:`_mostly_meta`)."""
    import torch

    try:
        with torch.device("meta"):
            built: nn.Module = registry.build(
                copy.deepcopy(model)
            )  # constructors may edit what they are given
    except Exception as err:
        if "meta" not in str(err):
            raise
        with _mostly_meta():
            built = registry.build(model)
    return built


def _mostly_meta() -> Any:
    """Like ``torch.device('meta')``, except that a tensor of at most ``_ON_CPU`` elements is made on the CPU.

    Model constructors compute small schedules and read them back (``[x.item() for x in torch.linspace(0,
    rate, depth)]`` for drop-path rates), which a meta tensor cannot do. ``torch.empty``, which every
    ``nn`` layer makes its weights with, stays meta at any size, so a layer's tensors share one device.
    """
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils._device import _device_constructors

    constructors = _device_constructors()

    class MostlyMeta(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            if func in constructors and kwargs.get("device") is None:
                made = func(*args, **{**kwargs, "device": "meta"})
                if func is torch.empty or not hasattr(made, "numel") or made.numel() > _ON_CPU:
                    return made
            return func(*args, **kwargs)

    return MostlyMeta()


def _register_all(scope: str) -> None:
    """``<scope>.utils.register_all_modules()``, where the package has it (mmdet, mmseg, mmpretrain, mmpose)."""
    try:
        utils = importlib.import_module(f"{scope}.utils")
    except ModuleNotFoundError as err:
        if err.name is not None and scope.startswith(err.name.split(".")[0]):
            return  # no utils module: the registry's locations import the modules
        raise
    register = getattr(utils, "register_all_modules", None)
    if callable(register):
        register(init_default_scope=False)


def check_built(model: nn.Module) -> tuple[list[RawFinding], list[str]]:
    """The plan-time findings on every BaseModule of ``model``, and notes on what could not be checked."""
    from initspec._walker import protocol

    findings: list[RawFinding] = []
    for path, module in model.named_modules():
        if protocol.is_managed(module):
            findings += _check_module(model, path, module)
    broken = {f["module"] for f in findings if f["code"] in ("IS210", "IS209")}
    notes = _check_applied(model, broken, findings)
    never = {f["module"] for f in findings if f["code"] == "IS208"}  # its other findings cannot happen
    return _merged([f for f in findings if f["code"] == "IS208" or f["module"] not in never]), notes


def _merged(findings: list[RawFinding]) -> list[RawFinding]:
    """One finding for the same rule found on many modules of one class (each block of a backbone)."""
    groups: dict[tuple[object, ...], list[RawFinding]] = {}
    for finding in findings:
        shape = finding["message"].replace(f"'{finding['module']}'", "'*'")
        key = (finding["code"], finding["cls"], finding["index"], repr(finding["init_cfg"]), shape)
        groups.setdefault(key, []).append(finding)
    merged = []
    for group in groups.values():
        first = group[0]
        if len(group) > 1:
            more = f" (and the same in {len(group) - 1} more {first['cls']} module(s))"
            first = RawFinding(**{**first, "message": first["message"] + more})
        merged.append(first)
    return merged


def _check_module(model: nn.Module, path: str, module: nn.Module) -> list[RawFinding]:
    from initspec._walker import protocol
    from initspec.cli._placements import _unreached_at

    cfgs = protocol.configs_of_or_none(module)
    if not cfgs:
        return []
    raw = getattr(module, "init_cfg", None)
    gap = _unreached_at(model, path)
    if gap:
        message = f"init_cfg of '{path}' ({type(module).__name__}) is never applied: {gap}"
        return [_finding("IS208", path, module, None, [], message)]
    found: list[RawFinding] = []
    for index, cfg in enumerate(cfgs):
        found += _check_entry(path, module, raw, index, cfg)
    return found


def _check_entry(
    path: str, module: nn.Module, raw: object, index: int, cfg: InitializerConfig
) -> list[RawFinding]:
    """Plan one entry alone on its module, as mmengine's ``initialize(module, cfg)`` would run it."""
    from initspec.plan import plan_init

    if isinstance(cfg, PretrainedInit) and not _on_disk(cfg.checkpoint):
        return []  # not downloaded: nothing to check it against, and nothing is fetched
    label, where = _label(raw, index), f"'{path or '<root>'}' ({type(module).__name__})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unmatched = plan_init(module, (cfg,)).report().unmatched_layers
    except CheckpointError as err:
        return [_finding("IS209", path, module, index, _key(cfg, "prefix"), f"{label} of {where}: {err}")]
    except InitPlanError as err:
        why = str(err).replace("'<root>'", f"'{path}'") if path else str(err)
        message = f"{label} does not fit {where}: {why}; mmengine raises this in init_weights, mid-run"
        return [_finding("IS210", path, module, index, [], message)]
    layers = getattr(cfg, "layer", ())
    if not layers or {miss.layer for miss in unmatched} != set(layers):
        return []  # a rule that matches some module writes something; a list often names rivals
    shown = repr(layers[0]) if len(layers) == 1 else repr(list(layers))
    message = (
        f"layer={shown} of {label} matches no module in {where}, so its rule writes nothing; "
        f"the classes there: {_kinds(module)}"
    )
    return [_finding("IS206", path, module, index, ["layer"], message)]


def _check_applied(model: nn.Module, broken: set[str], findings: list[RawFinding]) -> list[str]:
    """Run ``init_weights`` on the meta model (nothing is drawn) to see which configs model code skips."""
    from initspec._walker import protocol
    from initspec.cli._placements import drop_uncached

    for path, module in model.named_modules():
        if path in broken and protocol.runs_generic(module):
            module.init_cfg = None  # already reported; it would stop the run before the others are seen
    drop_uncached(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.init_weights()  # type: ignore[operator]
        except Exception as err:
            why = f"{type(err).__name__}: {_one_line(err)}"
            return [f"init_weights raised on the meta model ({why}); configs it never applies are not known"]
    modules = dict(model.named_modules())
    for warning in caught:
        match = _NEVER_APPLIED.search(str(warning.message))
        if match is None:
            continue
        path = "" if match["where"] == "<root>" else match["where"]
        module = modules[path]
        if protocol.configs_of_or_none(module) is None:
            continue  # a free-form config: the module's own code reads it
        message = (
            f"{_label(getattr(module, 'init_cfg', None), None)} of '{path or '<root>'}' ({match['cls']}) "
            f"is never applied: {match['cls']}.init_weights is model code that does not call "
            "super().init_weights(), so mmengine never applies it"
        )
        findings.append(_finding("IS208", path, module, None, [], message))
    return []


def _finding(
    code: str, path: str, module: nn.Module, index: int | None, within: list[str | int], message: str
) -> RawFinding:
    cls = type(module)
    return RawFinding(
        code=code,
        module=path,
        cls=cls.__name__,
        cls_module=cls.__module__,
        init_cfg=plain(getattr(module, "init_cfg", None)),
        index=index,
        within=[*([] if index is None else [index]), *within],
        message=message,
        default=_is_default(module),
    )


def _is_default(module: nn.Module) -> bool:
    """Whether the module holds its class's default ``init_cfg`` (the signature's), or that extended."""
    try:
        parameter = inspect.signature(type(module).__init__).parameters.get("init_cfg")
    except (TypeError, ValueError):
        return False
    if parameter is None or parameter.default in (None, inspect.Parameter.empty):
        return False
    default, held = _as_list(parameter.default), _as_list(getattr(module, "init_cfg", None))
    return held[: len(default)] == default


def _as_list(value: object) -> list[object]:
    items = list(value) if isinstance(value, list | tuple) else [value]
    return [plain(item) for item in items]


def _label(raw: object, index: int | None) -> str:
    return "init_cfg" if index is None or not isinstance(raw, list | tuple) else f"init_cfg[{index}]"


def _key(cfg: InitializerConfig, name: str) -> list[str | int]:
    return [name] if name in cfg.model_fields_set else []


def _kinds(module: nn.Module) -> str:
    names = list(dict.fromkeys(type(m).__name__ for m in module.modules()))
    more = f" and {len(names) - _LISTED_KINDS} more" if len(names) > _LISTED_KINDS else ""
    return ", ".join(names[:_LISTED_KINDS]) + more


def _on_disk(checkpoint: str) -> bool:
    target = download_target(checkpoint)
    path = target if target is not None else Path(checkpoint.removeprefix("file://")).expanduser()
    return path.is_file()


def _one_line(err: BaseException, limit: int = 300) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def build_and_check(
    config: str, scope: str | None, ready: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Build and check one config; any failure comes back as data (``{"error": "Type: message"}``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = build_model(config, scope, ready)
    except Exception as err:
        return {"error": f"{type(err).__name__}: {_one_line(err)}"}
    try:
        findings, notes = check_built(model)
    except Exception as err:
        return {
            "error": f"checking the built {type(model).__name__} raised {type(err).__name__}: {_one_line(err)}"
        }
    return {"findings": findings, "notes": notes, "model": type(model).__name__}
