"""``initspec validate``: check every ``init_cfg`` in config files without running them or importing torch."""

from __future__ import annotations

import dataclasses
import io
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TextIO

from initspec._errors import InitConfigError, Problem
from initspec._stack import on_large_stack
from initspec.cli._buildfindings import BuildOptions, add_build_findings, is_model_config
from initspec.cli._coverage import Coverage, measure
from initspec.cli._fix import FixMode, run_fixes
from initspec.cli._gc import collector_paused
from initspec.cli._project import declared_type, near_declared_type, pretrained_beside
from initspec.cli._settings import Settings, SettingsError, find_settings
from initspec.cli._suppress import apply_suppressions
from initspec.cli._target import mmengine_problems
from initspec.cli._usage import UsageError
from initspec.cli.documents import (
    SUFFIXES,
    Document,
    DocumentError,
    Limits,
    Loader,
    Loc,
    find_init_cfgs,
    skipped_inside,
)
from initspec.cli.emit import Format, emit
from initspec.cli.findings import (
    Diagnostic,
    Results,
    Severity,
    cfg_value,
    display_path,
    document_error,
    notice_diagnostic,
    problem_diagnostic,
    skipped_note,
    unchecked_note,
)
from initspec.configs import INITIALIZERS
from initspec.registry import lint_init_cfg, parse_init_cfg

__all__ = ["Options", "UsageError", "check", "find_config_files", "run_validate", "skipped_inside"]

_SKIPPED_DIRS: Final = frozenset({"node_modules", "__pycache__"})
Target = Literal["initspec", "mmengine"]


_FIX_AND_BUILD: Final = (
    "initspec validate: error: --fix and --diff apply the static checks' fixes, and --build findings have none; "
    "run `initspec validate --fix` first, then `initspec validate --build`"
)


@dataclass(frozen=True)
class Options:
    """How to check: lints as errors, the runtime the configs must suit, the per-file byte cap, whether to
    fix (``"apply"``: ``--fix``, ``"diff"``: ``--diff``), and the types the project's own model code reads
    (``model-code-types``, from the settings).
    """

    strict: bool = False
    target: Target = "initspec"
    max_bytes: int | None = None
    fix: FixMode | None = None
    model_code_types: frozenset[str] = frozenset()
    build: BuildOptions | None = None  # --build: also build each model config and check it plan-time


def run_validate(paths: Sequence[str], *, fmt: Format, options: Options, out: TextIO, err: TextIO) -> int:
    """Validate the init_cfgs in ``paths``, print what was found, and return the exit code (0, 1 or 2)."""
    try:
        settings = find_settings(Path.cwd())
        files = find_config_files(paths, settings)
    except (UsageError, SettingsError) as error:
        print(f"initspec validate: error: {error}", file=err)
        return 2
    max_bytes = options.max_bytes or settings.max_bytes or Limits().max_bytes
    options = dataclasses.replace(
        options, model_code_types=options.model_code_types | settings.model_code_types
    )
    limits = Limits(max_bytes=max_bytes)
    if options.fix is not None and options.build is not None:
        print(_FIX_AND_BUILD, file=err)
        return 2
    if options.fix is not None:
        return run_fixes(
            lambda loader: check(files, loader, settings, options), limits, options.fix, fmt, out, err
        )
    try:
        results = check(files, Loader(limits), settings, options, progress=err)
    except UsageError as error:
        print(f"initspec validate: error: {error}", file=err)
        return 2
    emit(results, fmt, out, err)
    return results.exit_code()


def check(
    files: Sequence[Path],
    loader: Loader,
    settings: Settings,
    options: Options,
    progress: TextIO | None = None,
) -> Results:
    """Every finding in ``files``, read through ``loader``, with suppressions applied: one validate run.

    With ``options.build``, each model config is also built and checked at plan time; its progress line goes
    to ``progress`` when that is a terminal.

    Raises:
        UsageError: ``--build`` without torch or mmengine, or a build worker that cannot start.
    """
    results = Results()
    checked = _Checked(options, loader)
    with collector_paused():  # what the run builds lives until it ends: full passes would re-scan it all
        on_large_stack(_check_files, loader, files, checked, results)  # one parse thread for the run
        if options.build is not None:
            stream = progress if progress is not None else io.StringIO()
            add_build_findings(checked.models, options.build, options.strict, results, stream)
        apply_suppressions(results, loader, settings, strict=options.strict)
    return results


def find_config_files(paths: Sequence[str], settings: Settings | None = None) -> list[Path]:
    """The files named in ``paths``, with directories searched for config files; each file once, in order.

    A directory search skips hidden files and directories, ``node_modules``, ``__pycache__``, anything that is
    not a regular file (a FIFO, a device, a socket) and what ``exclude`` names. A file named directly is always
    checked, whatever its name (a non-regular one is then refused with an error).

    Raises:
        UsageError: a path does not exist.
    """
    missing = [path for path in paths if not os.path.lexists(path)]
    if missing:
        names = ", ".join(map(repr, missing))
        msg = f"no such file or directory: {names}; pass config files or directories that contain them"
        raise UsageError(msg)
    found: dict[Path, None] = {}
    for name in paths:
        path = Path(name)
        found.update(dict.fromkeys(_walk(path, settings) if path.is_dir() else [path]))
    return list(found)


def _walk(root: Path, settings: Settings | None) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and d not in _SKIPPED_DIRS and not _excluded(Path(folder, d), settings)
        )
        for name in sorted(files):
            path = Path(folder, name)
            if name.startswith(".") or path.suffix.lower() not in SUFFIXES or _excluded(path, settings):
                continue
            if _is_regular(path):
                yield path


def _excluded(path: Path, settings: Settings | None) -> bool:
    return settings is not None and settings.excluded(path)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _check_files(loader: Loader, files: Sequence[Path], checked: _Checked, results: Results) -> None:
    for path in files:
        _check_file(loader, path, checked, results)


def _check_file(loader: Loader, path: Path, checked: _Checked, results: Results) -> None:
    results.files += 1
    own = display_path(path)
    try:
        doc = loader.load(path)
    except DocumentError as error:
        results.add(document_error(error))
        results.coverage.files[own] = Coverage()
        return
    if checked.options.build is not None and is_model_config(doc):
        checked.models.append(doc)
    found = [skipped_note(doc, piece) for piece in doc.skipped if "init_cfg" in piece.path]
    found += [notice_diagnostic(doc, notice) for notice in doc.notices if _relevant(notice.loc)]
    sites: list[tuple[Loc, object, bool]] = []
    for loc, raw in find_init_cfgs(doc.data, checked.found, include_none=True):
        if raw is None:
            sites.append((loc, raw, True))
            continue
        if loc == () and not _plausible_root(raw):
            continue
        results.configs += 1
        if (pretrained := pretrained_beside(doc, loc, checked.lint)) is not None:
            found.append(pretrained)
        unchecked = bool(skipped_inside(doc, loc))  # checking it would report the left-out values as missing
        found += (
            [unchecked_note(doc, loc)] if unchecked else checked.diagnostics(doc, loc, cfg_value(loc, raw))
        )
        sites.append((loc, raw, not unchecked))
    note_lines = {d.line for d in found if d.file == own and d.severity == "note"}
    coverage, fallbacks = measure(doc, own, loader.sites_of(path), sites, note_lines)
    found += [Diagnostic("note", f.code, own, f.line, f.col, None, f.message) for f in fallbacks]
    results.coverage.files[own] = coverage
    # the file's own lines first, then those in its _base_ configs; a finding in a base once per run
    for diagnostic in sorted(found, key=lambda d: (d.file != own, d.file, d.line, d.col)):
        if checked.first_report(diagnostic):
            results.add(diagnostic)


def _relevant(loc: Loc | None) -> bool:
    """File-level notices always count; a value's notice only inside an init_cfg."""
    return loc is None or "init_cfg" in loc


def _plausible_root(raw: object) -> bool:
    """Whether a root with a ``type`` key is an init_cfg, not some other file (``package.json`` has a type).

    It is when a ``type`` is a registered initializer, or when it uses some initializer's argument names.
    """
    items = raw if isinstance(raw, list) else [raw]
    keys = {key for item in items if isinstance(item, dict) for key in item} - {"type", "$schema"}
    types = {item.get("type") for item in items if isinstance(item, dict)}
    known = {name for cls in map(INITIALIZERS.get, INITIALIZERS.names) if cls for name in cls.model_fields}
    return bool(types & set(INITIALIZERS.names)) or bool(keys & known)


_Finding = tuple[Severity, Problem]


class _Checked:
    """The findings of each init_cfg value checked in this run: a base's value, shared by every child, once."""

    def __init__(self, options: Options, loader: Loader) -> None:
        self.options, self.loader = options, loader
        self.lint: Severity = "error" if options.strict else "warning"
        self.models: list[Document] = []  # the model configs, for --build
        self.found: dict[int, tuple[object, list[tuple[Loc, object]]]] = {}  # find_init_cfgs' memo
        self._found: dict[int, tuple[object, list[_Finding]]] = {}
        self._reported: set[tuple[str, str, str, int, int, str]] = set()

    def first_report(self, d: Diagnostic) -> bool:
        """Whether no finding was reported at this place with this message: a base's once, whatever reached it."""
        key = (d.severity, d.code, d.file, d.line, d.col, d.message)
        if key in self._reported:
            return False
        self._reported.add(key)
        return True

    def source(self, path: Path) -> str | None:
        """The text of a file a fix edits, as its reader saw it."""
        try:
            return self.loader.source(path)
        except DocumentError:
            return None

    def diagnostics(self, doc: Document, loc: Loc, raw: object) -> list[Diagnostic]:
        seen = self._found.get(id(raw))
        if seen is None or seen[0] is not raw:
            seen = (raw, _findings(raw, self.options))  # holding raw keeps its id from being reused
            self._found[id(raw)] = seen
        return [problem_diagnostic(severity, doc, loc, raw, p, self.source) for severity, p in seen[1]]


def _findings(raw: object, options: Options) -> list[_Finding]:
    lint: Severity = "error" if options.strict else "warning"
    placeholders = _placeholders(raw)
    found: list[_Finding] = [(lint, problem) for problem in placeholders]
    try:
        cfgs = parse_init_cfg(raw)
    except InitConfigError as error:
        return found + [_problem(raw, p, options) for p in error.problems]
    except RecursionError:
        return [("error", Problem((), "nested too deeply to check", "IS005"))]
    found += [(lint, p) for p in lint_init_cfg(cfgs)]
    if options.target == "mmengine":
        found += [("error", p) for p in mmengine_problems(raw)]
    return found


def _problem(raw: object, problem: Problem, options: Options) -> _Finding:
    """A parse problem's finding: an error, or a note for a type the project's model code reads."""
    if problem.code != "IS101":
        return ("error", problem)
    if (note := declared_type(raw, problem, options.model_code_types)) is not None:
        return ("note", note)
    return ("error", near_declared_type(raw, problem, options.model_code_types))


def _placeholders(raw: object) -> list[Problem]:
    """``checkpoint=''`` in a Pretrained: a placeholder that users fill at run time (``--cfg-options``)."""
    items = raw if isinstance(raw, list) else [raw]
    single = not isinstance(raw, list)
    return [
        Problem(
            (*(() if single else (index,)), "checkpoint"),
            "placeholder: checkpoint is '' here; set it before init_weights (e.g. with --cfg-options)",
            "IS205",
        )
        for index, item in enumerate(items)
        if isinstance(item, dict) and item.get("type") == "Pretrained" and item.get("checkpoint") == ""
    ]
