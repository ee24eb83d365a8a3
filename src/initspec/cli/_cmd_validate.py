"""``initspec validate``: its parser and its handler (``--fix``, ``--diff`` and ``--build`` included)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Final

from initspec.cli._args import (
    EXIT_CODES,
    Commands,
    add_plugin_option,
    add_scope_option,
    new_command,
    positive_float,
    positive_int,
    positive_jobs,
)

if TYPE_CHECKING:
    from initspec.cli._buildfindings import BuildOptions

__all__ = ["add_validate"]

_VALIDATE_EPILOG: Final = f"""\
Directories are searched recursively for .json, .yaml, .yml, .toml and .py files (hidden files and
directories, node_modules, __pycache__, non-regular files and [tool.initspec] exclude globs are
skipped). .py configs are read from their syntax tree and never executed; a value that would need
running code is skipped with a note. `_base_` works in every format; each file is read once.

Each problem prints as `path:line:col: error: CODE location: message`; lints print as warnings (errors
with --strict). `# initspec: ignore[CODE]` on a line suppresses it there. The summary goes to stderr.

--fix applies every unambiguous fix (a did-you-mean with one candidate, a missing override type) in place,
changing nothing else in the file, then reports what is left; --diff prints the same changes as a unified
diff, writes nothing, and exits 1 when there is something to fix.

{EXIT_CODES}"""


def add_validate(commands: Commands) -> None:
    summary = "check every init_cfg in JSON, YAML, TOML and OpenMMLab-style .py config files"
    command = new_command(commands, "validate", summary, _VALIDATE_EPILOG)
    command.add_argument("paths", nargs="+", metavar="PATH", help="a config file, or a directory to search")
    command.add_argument(
        "--format",
        choices=("text", "json", "github", "sarif"),
        default="text",
        help="text: path:line:col lines (default); json: one JSON object; github: workflow annotations; "
        "sarif: a SARIF 2.1.0 log for code scanning",
    )
    command.add_argument(
        "--strict", action="store_true", help="treat warnings as errors, and report unused suppressions"
    )
    command.add_argument(
        "--target",
        choices=("initspec", "mmengine"),
        default="initspec",
        help="mmengine: also report initspec-only extensions, for configs that must run under mmengine",
    )
    command.add_argument(
        "--max-bytes",
        type=positive_int,
        default=None,
        metavar="N",
        help="refuse files larger than N bytes (default 10000000, or max-bytes in [tool.initspec])",
    )
    fixing = command.add_mutually_exclusive_group()
    fixing.add_argument("--fix", action="store_true", help="apply every unambiguous fix in place")
    fixing.add_argument(
        "--diff", action="store_true", help="print the fixes as a unified diff and write nothing"
    )
    _add_build_options(command)
    add_plugin_option(command)
    command.set_defaults(handler=_validate_command)


def _add_build_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--build",
        action="store_true",
        help="also build each model config (model=dict(type=...)) with mmengine on the meta device and check "
        "its init_cfgs against the built model; this RUNS those configs (needs torch, mmengine and the "
        "model's package)",
    )
    command.add_argument(
        "--jobs",
        type=positive_jobs,
        default=None,
        metavar="N",
        help="with --build: build in N worker processes (default: one per CPU core)",
    )
    command.add_argument(
        "--build-timeout",
        type=positive_float,
        default=60.0,
        metavar="S",
        help="with --build: stop a build that takes longer than S seconds, with a note (default 60)",
    )
    add_scope_option(command)


def _validate_command(args: argparse.Namespace) -> int:
    from initspec.cli._fix import FixMode
    from initspec.cli._validate import Options, run_validate

    fix: FixMode | None = "diff" if args.diff else "apply" if args.fix else None
    build = _build_options(args)
    options = Options(strict=args.strict, target=args.target, max_bytes=args.max_bytes, fix=fix, build=build)
    return run_validate(args.paths, fmt=args.format, options=options, out=sys.stdout, err=sys.stderr)


def _build_options(args: argparse.Namespace) -> BuildOptions | None:
    """``--build`` and its options; ``--jobs``, ``--build-timeout`` and ``--scope`` alone change nothing."""
    if not args.build:
        return None
    from initspec.cli._buildfindings import BuildOptions

    jobs = args.jobs or os.cpu_count() or 1
    return BuildOptions(args.scope, jobs, args.build_timeout, tuple(args.plugin))
