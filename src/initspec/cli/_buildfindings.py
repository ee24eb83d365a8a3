"""``validate --build``: which files are model configs, and where each finding on a built model is reported.

A finding on a module whose init_cfg the config sets is reported at that init_cfg (the key inside it where
one fits). One from a class's default init_cfg (package code) is reported at the config line that builds the
module (``neck=dict(type=...)``), naming the class. The same finding through many configs that share a base
is reported once, at the base, with the number of configs it affects. Nothing here imports torch.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, TextIO

from initspec._errors import Problem
from initspec.cli.documents import Document, Loc, find_init_cfgs, location_of, plain
from initspec.cli.findings import Diagnostic, Results, Severity, display_path, problem_diagnostic

__all__ = ["BuildOptions", "add_build_findings", "is_model_config"]

_CODES_AS_LINTS: Final = frozenset({"IS206", "IS208"})  # warnings, errors under --strict
NOT_BUILT: Final = "IS505"


@dataclass(frozen=True)
class BuildOptions:
    """``--build``: the scope that overrides ``default_scope``, the workers, the per-config time limit."""

    scope: str | None = None
    jobs: int = 1
    timeout: float = 60.0
    plugins: tuple[str, ...] = ()


@dataclass
class _Found:
    """Each diagnostic of the builds with the configs it was found through, in the order first found."""

    configs: dict[Diagnostic, set[str]] = field(default_factory=dict)

    def add(self, diagnostic: Diagnostic, config: str) -> None:
        self.configs.setdefault(diagnostic, set()).add(config)


def is_model_config(doc: Document) -> bool:
    """A file whose merged config has ``model=dict(type=...)``: the files ``--build`` builds."""
    model = doc.data.get("model") if isinstance(doc.data, dict) else None
    return isinstance(model, dict) and "type" in model


def add_build_findings(
    docs: Sequence[Document], options: BuildOptions, strict: bool, results: Results, err: TextIO
) -> None:
    """Build each model config in ``docs`` in worker processes and add what the checks find to ``results``.

    Raises:
        UsageError: torch or mmengine is not installed, or a worker cannot start.
    """
    from initspec.cli._buildpool import Progress, run_builds
    from initspec.cli._usage import UsageError

    missing = [name for name in ("torch", "mmengine") if importlib.util.find_spec(name) is None]
    if missing:
        msg = f"--build needs {' and '.join(missing)}: pip install initspec[torch] mmengine, and the model package"
        raise UsageError(msg)
    by_path = {str(doc.path): doc for doc in _to_build(docs, options.scope)}
    found = _Found()

    not_built = 0

    def on_result(config: str, result: dict[str, object]) -> None:
        nonlocal not_built
        not_built += "error" in result
        for diagnostic in _diagnostics(by_path[config], result, strict):
            found.add(diagnostic, config)

    run_builds(
        list(by_path),
        scope=options.scope,
        jobs=options.jobs,
        timeout=options.timeout,
        plugins=options.plugins,
        progress=Progress(err, len(by_path)),
        on_result=on_result,
    )
    if by_path:
        failed = f" ({not_built} not built: see the IS505 notes)" if not_built else ""
        print(f"built {len(by_path) - not_built} of {len(by_path)} model configs{failed}", file=err)
    for diagnostic in sorted(found.configs, key=lambda d: (d.file, d.line, d.col, d.code, d.message)):
        count = len(found.configs[diagnostic])
        results.add(_counted(diagnostic, count) if count > 1 else diagnostic)


def _to_build(docs: Sequence[Document], scope: str | None) -> list[Document]:
    """The model configs to build: all, less the bases of others that name no scope (built through those)."""
    bases = {
        os.path.realpath(origin) for doc in docs for origin in doc.origins.values() if origin != doc.path
    }
    return [doc for doc in docs if scope or os.path.realpath(doc.path) not in bases or _names_scope(doc)]


def _names_scope(doc: Document) -> bool:
    return isinstance(doc.data, dict) and bool(doc.data.get("default_scope"))


def _diagnostics(doc: Document, result: dict[str, object], strict: bool) -> list[Diagnostic]:
    error = result.get("error")
    if isinstance(error, str):
        return [_not_built(doc, error)]
    raw = result.get("findings")
    findings = raw if isinstance(raw, list) else []
    notes = result.get("notes")
    located = [_place(doc, finding, strict) for finding in findings if isinstance(finding, dict)]
    if isinstance(notes, list):
        located += [_note(doc, note) for note in notes if isinstance(note, str)]
    return located


def _place(doc: Document, finding: dict[str, object], strict: bool) -> Diagnostic:
    code = str(finding["code"])
    severity: Severity = "warning" if code in _CODES_AS_LINTS and not strict else "error"
    module = str(finding["module"])
    module_loc, whole = _model_loc(doc, module)
    cfg_loc = (*module_loc, "init_cfg")
    raw = _value_at(doc.data, cfg_loc) if whole else None
    if raw is None:  # built under another name (a list, a wrapper): the config's init_cfg that it holds
        cfg_loc, raw = _holding(doc, finding.get("init_cfg"))
    if raw is not None:  # the config sets this module's init_cfg
        problem = Problem(_within(finding), str(finding["message"]), code)
        return problem_diagnostic(severity, doc, cfg_loc, raw, problem)
    return _at_module(doc, module_loc, severity, code, finding)


def _holding(doc: Document, held: object) -> tuple[Loc, object]:
    """The one ``init_cfg`` under ``model`` in the config equal to ``held``, or ``((), None)``."""
    if held is None:
        return (), None
    found = [
        (loc, raw) for loc, raw in find_init_cfgs(doc.data) if loc[:1] == ("model",) and plain(raw) == held
    ]
    return found[0] if len(found) == 1 else ((), None)


def _at_module(
    doc: Document, loc: Loc, severity: Severity, code: str, finding: dict[str, object]
) -> Diagnostic:
    """A rule from package code: at the line that builds the module (or its nearest built ancestor)."""
    path, line, col = location_of(doc, loc)
    cls, where = finding["cls"], finding["cls_module"]
    origin = (
        f"the default init_cfg of {cls} ({where}, package code, not this config)"
        if finding.get("default")
        else f"the init_cfg {cls} is built with (set by package code, not this config)"
    )
    location = ".".join(str(part) for part in loc)
    return Diagnostic(
        severity, code, display_path(path), line, col, location, f"{origin}: {finding['message']}", line
    )


def _not_built(doc: Document, error: str) -> Diagnostic:
    path, line, col = location_of(doc, ("model",))
    if path != doc.path:
        line, col = 1, 1
    message = f"not built, so its plan-time checks were not done: {error}"
    return Diagnostic("note", NOT_BUILT, display_path(doc.path), line, col, "model", message)


def _note(doc: Document, note: str) -> Diagnostic:
    return Diagnostic("note", NOT_BUILT, display_path(doc.path), 1, 1, "model", note)


def _model_loc(doc: Document, module: str) -> tuple[Loc, bool]:
    """``roi_head.bbox_head.0`` as a key path of the config, ``("model", "roi_head", "bbox_head", 0)``, cut
    where the config stops describing the model (a module built in another's code), and whether it is whole."""
    loc: list[str | int] = ["model"]
    node = _value_at(doc.data, ("model",))
    for part in module.split(".") if module else []:
        if isinstance(node, dict) and part in node:
            key: str | int = part
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            key = int(part)
        else:
            return tuple(loc), False
        loc.append(key)
        node = node[key]  # type: ignore[index]
    return tuple(loc), True


def _value_at(data: object, loc: Loc) -> object:
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]  # the same step on a list (mypy needs the int narrowed)
        else:
            return None
    return node


def _within(finding: dict[str, object]) -> Loc:
    within = finding.get("within")
    return tuple(part for part in within if isinstance(part, str | int)) if isinstance(within, list) else ()


def _counted(diagnostic: Diagnostic, count: int) -> Diagnostic:
    return Diagnostic(
        diagnostic.severity,
        diagnostic.code,
        diagnostic.file,
        diagnostic.line,
        diagnostic.col,
        diagnostic.location,
        f"{diagnostic.message} (in {count} configs)",
        diagnostic.anchor,
    )
