"""``initspec explain``: build a model, plan a config against it, and show what each parameter would get."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal, TextIO

from initspec._errors import CheckpointError, InitConfigError, InitPlanError
from initspec.cli._placements import Placed, Placements, drop_uncached, place, uncached_checkpoints
from initspec.cli._usage import UsageError
from initspec.cli._verify import materialize, verify_plan, write_page
from initspec.cli.documents import Document, DocumentError, Loc, find_init_cfgs, load_document, skipped_inside
from initspec.cli.emit import text
from initspec.cli.findings import cfg_value, document_error, problem_diagnostic, skipped_note
from initspec.registry import parse_init_cfg

if TYPE_CHECKING:
    from torch import nn

    from initspec.plan import InitPlan
    from initspec.report import InitReport
    from initspec.verify import InitCheck

__all__ = ["find_model_cfg", "load_factory", "run_explain"]

_FACTORY_FORMS = "'package.module:factory' or 'path/to/file.py:factory'"


class _Failed(Exception):
    """The lines to print, already located, and the exit code: 1 for an invalid config, 2 for one unreadable."""

    def __init__(self, lines: list[str], code: int = 1) -> None:
        super().__init__("\n".join(lines))
        self.lines, self.code = lines, code


def run_explain(
    config: str,
    factory: str | None,
    *,
    scope: str | None = None,
    fmt: Literal["text", "json"],
    strict: bool,
    out: TextIO,
    err: TextIO,
    require_complete: bool = False,
    download: bool = False,
    verify: bool = False,
    html: str | None = None,
) -> int:
    """Plan ``config`` against the model ``factory`` builds, print the report, and return the exit code.

    Without ``factory``, the config's own ``model`` is built with mmengine's registry on the meta device.
    With ``verify``, the model is then initialized on the CPU with ``seed=0`` and checked (``--verify``);
    ``html`` names the page to write.
    """
    check = None
    try:
        doc = load_document(Path(config))
        model = _build(load_factory(factory)) if factory else _build(_config_model(config, scope, download))
        if verify:
            materialize(model)
        plan, report, warned, notes = _plan(
            model, doc, config, require_complete=require_complete, download=download
        )
        if verify:
            check = verify_plan(plan, model, config, err)
            if html is not None:
                write_page(check, model, html)
    except DocumentError as error:
        print(text.line(document_error(error)), file=err)
        return 2
    except UsageError as error:
        print(f"initspec explain: error: {error}", file=err)
        return 2
    except _Failed as error:
        print(*error.lines, sep="\n", file=err)
        return error.code
    except (InitPlanError, CheckpointError) as error:
        print(f"{config}: error: {error}", file=err)
        return 1
    _print_report(report, fmt, out, check)
    for message in warned:
        print(f"{config}: warning: {message}", file=err)
    for line in notes:
        print(line, file=err)
    code = _strict_failures(report, warned, err) if strict else 0
    return max(code, 1 if check is not None and check.failures() else 0)


def load_factory(spec: str) -> Callable[[], object]:
    """The callable named by ``module:attr`` or ``file.py:attr`` (``attr`` may be dotted).

    Raises:
        UsageError: the spec is malformed, the module cannot be imported, or the attribute is missing.
    """
    target, _, attr = spec.rpartition(":")
    if not target or not attr:
        raise UsageError(f"--model {spec!r} names no factory; expected {_FACTORY_FORMS}")
    is_file = target.endswith(".py") or "/" in target or os.sep in target
    module = _import_file(Path(target)) if is_file else _import_module(target)
    try:
        factory = functools.reduce(getattr, attr.split("."), module)
    except AttributeError as err:
        raise UsageError(f"--model {spec!r}: {target} has no attribute {attr!r}") from err
    if not callable(factory):
        raise UsageError(f"--model {spec!r}: {attr} is a {type(factory).__name__}, not a callable")
    return factory


def _config_model(config: str, scope: str | None, download: bool) -> Callable[[], object]:
    """A factory for the model ``config`` describes: built by mmengine's registry, offline unless ``download``."""

    def build() -> object:
        from initspec.cli._build import build_model, refuse_downloads

        if not download:
            refuse_downloads()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mmengine's and the packages' import-time deprecations
            return build_model(config, scope)

    build.__qualname__ = "MODELS.build"
    build.label = f"building the model of {config} (MODELS.build(cfg.model) on the meta device)"  # type: ignore[attr-defined]
    return build


def find_model_cfg(doc: Document) -> tuple[Loc, object] | None:
    """The init_cfg to explain: a top-level ``init_cfg``, else ``model.init_cfg``, else a root init_cfg."""
    data = doc.data
    if isinstance(data, dict):
        model = data.get("model")
        for loc, holder in ((("init_cfg",), data), (("model", "init_cfg"), model)):
            if isinstance(holder, dict) and holder.get("init_cfg") is not None:
                return loc, holder["init_cfg"]
    if find_init_cfgs(data) == [((), data)]:
        return (), cfg_value((), data)
    return None


def _standalone(doc: Document) -> tuple[Loc, object] | None:
    """A file that is one init_cfg (its root, or a top-level ``init_cfg`` key): planned on the whole model."""
    found = find_model_cfg(doc)
    return found if found is not None and found[0] in {(), ("init_cfg",)} else None


def _not_placed(doc: Document, config: str, applied: Loc) -> list[str]:
    """A note for each other init_cfg of a file whose top-level one is explained on the whole model."""
    why = "the file's top-level `init_cfg` is explained on the whole model instead"
    others = [Placed(loc, False, why) for loc, _raw in find_init_cfgs(doc.data) if loc != applied and loc]
    return Placements(others, [], []).notes(doc, config)


def _import_module(name: str) -> ModuleType:
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does, so a project's own modules import
    try:
        return importlib.import_module(name)
    except Exception as err:
        raise UsageError(f"cannot import the model module {name!r}: {type(err).__name__}: {err}") from err


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise UsageError(f"--model: no such file {str(path)!r}; expected {_FACTORY_FORMS}")
    name = f"_initspec_model_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"--model: cannot import {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.resolve().parent))  # as `python file.py` does, so sibling modules import
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        del sys.modules[name]
        raise UsageError(f"cannot import the model file {str(path)!r}: {type(err).__name__}: {err}") from err
    return module


def _build(factory: Callable[[], object]) -> nn.Module:
    try:
        from torch import nn
    except ModuleNotFoundError as err:
        msg = 'initspec explain needs PyTorch, which is not installed; install it with `pip install "initspec[torch]"`'
        raise UsageError(msg) from err

    name = getattr(factory, "__qualname__", repr(factory))
    label = getattr(factory, "label", f"the model factory {name}()")
    try:
        model = factory()
    except InitConfigError as err:
        msg = f"initspec explain: error: building the model with {name}() failed: {err}"
        raise _Failed([msg]) from err
    except Exception as err:
        raise UsageError(f"{label} raised {type(err).__name__}: {err}") from err
    if not isinstance(model, nn.Module):
        msg = f"{label} returned a {type(model).__name__}, not a torch.nn.Module"
        raise UsageError(msg)
    return model


def _plan(
    model: nn.Module, doc: Document, config: str, *, require_complete: bool, download: bool
) -> tuple[InitPlan, InitReport, list[str], list[str]]:
    """Plan without writing: the plan, its report, the warnings raised while planning, and the notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        standalone = _standalone(doc)
        if standalone is not None:
            plan = _plan_standalone(model, doc, config, standalone, require_complete, download)
            notes = _not_placed(doc, config, standalone[0])
        elif find_init_cfgs(doc.data):
            plan, notes = _plan_placed(model, doc, config, require_complete, download)
        else:
            notes = [] if download else [f"{config}: note: {line}" for line in drop_uncached(model)]
            plan = _plan_own(model, doc, require_complete)
        report = plan.report()
        report.records  # noqa: B018  # built lazily: build it now, so its warnings are caught here too
    return plan, report, [str(warning.message) for warning in caught], notes


def _plan_standalone(
    model: nn.Module,
    doc: Document,
    config: str,
    found: tuple[Loc, object],
    require_complete: bool,
    download: bool,
) -> InitPlan:
    """A file that is one init_cfg: ``plan_init(model, init_cfg)``, so overrides may name dotted paths."""
    from initspec.plan import plan_init

    loc, raw = found
    _refuse_skipped(doc, loc)
    try:
        cfgs = parse_init_cfg(raw)
    except InitConfigError as err:
        lines = [text.line(problem_diagnostic("error", doc, loc, raw, p)) for p in err.problems]
        raise _Failed(lines) from err
    missing = [] if download else uncached_checkpoints(cfgs)
    if missing:
        msg = f"{config}: error: the checkpoint {missing[0]} is not downloaded; explain downloads only with --download"
        raise _Failed([msg], 2)
    return plan_init(model, cfgs, require_complete=require_complete)


def _plan_placed(
    model: nn.Module, doc: Document, config: str, require_complete: bool, download: bool
) -> tuple[InitPlan, list[str]]:
    """A model config: each ``model.<path>.init_cfg`` set on its module, then the tree's ``init_weights`` plan."""
    from initspec._walker import protocol
    from initspec.plan import plan_init, plan_init_weights

    placements = place(model, doc, download=download)
    if placements.errors:
        raise _Failed(placements.errors)
    notes = placements.notes(doc, config)
    if protocol.is_managed(model):
        return plan_init_weights(model, require_complete=require_complete), notes
    if placements.root_cfg is not None:
        return plan_init(model, placements.root_cfg, require_complete=require_complete), notes
    msg = (
        f"{config}: error: no init_cfg of the file applies to {type(model).__name__}, which is not a BaseModule "
        "(only `model.init_cfg` applies to such a model, as plan_init(model, init_cfg))"
    )
    raise _Failed([*notes, msg], 2)


def _plan_own(model: nn.Module, doc: Document, require_complete: bool) -> InitPlan:
    """A file with no init_cfg: the model's own ``init_cfg``s, when it is a BaseModule tree."""
    from initspec._walker import protocol
    from initspec.plan import plan_init_weights

    if protocol.is_managed(model):
        return plan_init_weights(model, require_complete=require_complete)
    msg = (
        f"{doc.path} has no init_cfg (looked for a root init_cfg, `init_cfg` and `model.init_cfg`) and "
        f"{type(model).__name__} is not an initspec.BaseModule with init_cfgs of its own; give a config "
        "that holds one"
    )
    raise UsageError(msg)


def _refuse_skipped(doc: Document, loc: Loc) -> None:
    """A value left out of a ``.py`` config would read as missing: stop rather than explain a guess."""
    pieces = skipped_inside(doc, loc)
    if pieces:
        note = skipped_note(doc, pieces[0])
        why = f"only known when the config runs, so it cannot be explained: {pieces[0].reason}"
        raise _Failed([f"{note.file}:{note.line}:{note.col}: error: {note.location}: {why}"], 2)


def _print_report(
    report: InitReport, fmt: Literal["text", "json"], out: TextIO, check: InitCheck | None
) -> None:
    untouched = report.untouched(buffers=False)
    if fmt == "json":
        verified = {} if check is None else {"verify": check.to_dict()}
        json.dump({**report.to_dict(), "untouched": untouched, **verified}, out, indent=2, default=str)
        out.write("\n")
        return
    print(report, file=out)
    print(f"\nuntouched parameters: {len(untouched) or 'none'}", file=out)
    for name in untouched:
        print(f"  {name}", file=out)
    if check is not None:
        print(f"\n{check}", file=out)


def _strict_failures(report: InitReport, warned: list[str], err: TextIO) -> int:
    """Under ``--strict``, a ``layer`` name that matches nothing, or any planning warning, fails the run."""
    for unmatched in report.unmatched_layers:
        where = f"layer {unmatched.layer!r} in {unmatched.config}"
        print(f"initspec explain: error: {where} matches no module (--strict)", file=err)
    if warned:
        print(f"initspec explain: error: planning warned {len(warned)} time(s) (--strict)", file=err)
    return 1 if report.unmatched_layers or warned else 0
