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
from initspec.cli._codes import problem_code
from initspec.cli._output import cfg_value, display_path, document_error, problem_diagnostic, skipped_note
from initspec.cli._validate import UsageError, skipped_inside
from initspec.cli.documents import Document, DocumentError, Loc, find_init_cfgs, load_document, location_of

if TYPE_CHECKING:
    from torch import nn

    from initspec.plan import InitPlan
    from initspec.report import InitReport

__all__ = ["find_model_cfg", "load_factory", "run_explain"]

_FACTORY_FORMS = "'package.module:factory' or 'path/to/file.py:factory'"


class _Failed(Exception):
    """The lines to print, already located, and the exit code: 1 for an invalid config, 2 for one unreadable."""

    def __init__(self, lines: list[str], code: int = 1) -> None:
        super().__init__("\n".join(lines))
        self.lines, self.code = lines, code


def run_explain(
    config: str,
    factory: str,
    *,
    fmt: Literal["text", "json"],
    strict: bool,
    out: TextIO,
    err: TextIO,
    require_complete: bool = False,
) -> int:
    """Plan ``config`` against the model ``factory`` builds, print the report, and return the exit code."""
    try:
        doc = load_document(Path(config))
        model = _build(load_factory(factory))
        report, warned = _plan(model, doc, require_complete)
    except DocumentError as error:
        print(document_error(error).text(), file=err)
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
    _print_report(report, fmt, out)
    for message in warned:
        print(f"{config}: warning: {message}", file=err)
    for line in _not_applied(doc):
        print(line, file=err)
    return _strict_failures(report, warned, err) if strict else 0


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


def _not_applied(doc: Document) -> list[str]:
    """A note for each init_cfg in the file that explain does not apply (it plans one, on the whole model)."""
    found = find_model_cfg(doc)
    applied = found[0] if found else None
    notes = []
    for loc, _raw in find_init_cfgs(doc.data):
        if loc != applied and loc:
            path, line, col = location_of(doc, loc)
            where = ".".join(map(str, loc))
            notes.append(
                f"{display_path(path)}:{line}:{col}: note: {where} is not applied: explain plans one init_cfg "
                "on the whole model (the top-level `init_cfg`, else `model.init_cfg`); nested ones are "
                "applied by the modules built from them, which explain does not build"
            )
    return notes


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
        msg = "initspec explain needs PyTorch, which is not installed; install it with `pip install initspec[torch]`"
        raise UsageError(msg) from err

    name = getattr(factory, "__qualname__", repr(factory))
    try:
        model = factory()
    except InitConfigError as err:
        msg = f"initspec explain: error: building the model with {name}() failed: {err}"
        raise _Failed([msg]) from err
    except Exception as err:
        raise UsageError(f"the model factory {name}() raised {type(err).__name__}: {err}") from err
    if not isinstance(model, nn.Module):
        msg = f"the model factory {name}() returned a {type(model).__name__}, not a torch.nn.Module"
        raise UsageError(msg)
    return model


def _plan(model: nn.Module, doc: Document, require_complete: bool = False) -> tuple[InitReport, list[str]]:
    """Plan without writing; warnings raised while planning are returned rather than printed."""
    found = find_model_cfg(doc)
    if found is not None:
        _refuse_skipped(doc, found[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            plan = _make_plan(model, doc, found, require_complete)
        except InitConfigError as err:
            loc, raw = found or ((), None)
            lines = [
                problem_diagnostic("error", problem_code(p.message), doc, loc, raw, p).text()
                for p in err.problems
            ]
            raise _Failed(lines) from err
        report = plan.report()
        report.records  # noqa: B018  # built lazily: build it now, so its warnings are caught here too
    return report, [str(warning.message) for warning in caught]


def _refuse_skipped(doc: Document, loc: Loc) -> None:
    """A value left out of a ``.py`` config would read as missing: stop rather than explain a guess."""
    pieces = skipped_inside(doc, loc)
    if pieces:
        note = skipped_note(doc, pieces[0])
        why = f"only known when the config runs, so it cannot be explained: {pieces[0].reason}"
        raise _Failed([f"{note.file}:{note.line}:{note.col}: error: {note.location}: {why}"], 2)


def _make_plan(
    model: nn.Module, doc: Document, found: tuple[Loc, object] | None, require_complete: bool = False
) -> InitPlan:
    from initspec.modules import BaseModule
    from initspec.plan import plan_init, plan_init_weights

    if found is not None:
        return plan_init(model, found[1], require_complete=require_complete)
    if isinstance(model, BaseModule):
        return plan_init_weights(model, require_complete=require_complete)
    msg = (
        f"{doc.path} has no init_cfg (looked for a root init_cfg, `init_cfg` and `model.init_cfg`) and "
        f"{type(model).__name__} is not an initspec.BaseModule with init_cfgs of its own; give a config "
        "that holds one"
    )
    raise UsageError(msg)


def _print_report(report: InitReport, fmt: Literal["text", "json"], out: TextIO) -> None:
    untouched = report.untouched(buffers=False)
    if fmt == "json":
        json.dump({**report.to_dict(), "untouched": untouched}, out, indent=2, default=str)
        out.write("\n")
        return
    print(report, file=out)
    print(f"\nuntouched parameters: {len(untouched) or 'none'}", file=out)
    for name in untouched:
        print(f"  {name}", file=out)


def _strict_failures(report: InitReport, warned: list[str], err: TextIO) -> int:
    """Under ``--strict``, a ``layer`` name that matches nothing, or any planning warning, fails the run."""
    for unmatched in report.unmatched_layers:
        where = f"layer {unmatched.layer!r} in {unmatched.config}"
        print(f"initspec explain: error: {where} matches no module (--strict)", file=err)
    if warned:
        print(f"initspec explain: error: planning warned {len(warned)} time(s) (--strict)", file=err)
    return 1 if report.unmatched_layers or warned else 0
