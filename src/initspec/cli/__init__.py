"""The ``initspec`` command: ``validate``, ``schema``, ``diff`` and ``lsp`` never import torch; ``explain`` does."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from initspec.cli._buildfindings import BuildOptions

__all__ = ["main"]

_EDITORS: Final = ("vscode",)
_NEEDS_TORCH: Final = (
    'initspec {command} needs PyTorch, which is not installed; install it with `pip install "initspec[torch]"` '
    "(initspec validate and initspec schema work without it)"
)

_DESCRIPTION: Final = (
    "Check init_cfg files, export their JSON Schema, explain configs, compare explained plans, fetch the "
    "checkpoints configs name, and serve editors."
)

_EXIT_CODES: Final = """exit codes:
  0  success
  1  an invalid config, or a file that cannot be read or parsed (or a warning, with --strict)
  2  a usage error: bad options, a missing path, a plugin that cannot be imported, bad [tool.initspec]"""

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

{_EXIT_CODES}"""

_SCHEMA_EPILOG: Final = """\
--editor vscode writes the schema to .vscode/init_cfg.schema.json (or -o FILE) and adds json.schemas and
yaml.schemas entries for it to .vscode/settings.json in the current directory, keeping every other
setting. The default globs are *.init_cfg.json, *.init_cfg.yaml and *.init_cfg.yml.

exit codes:
  0  the schema was printed or written, or FILE is up to date
  1  --check FILE differs from the generated schema (run `initspec schema -o FILE`)
  2  a usage error, a plugin that cannot be imported, or a settings file that cannot be parsed"""

_EXPLAIN_EPILOG: Final = """\
A CONFIG that is an init_cfg (its root, or a top-level `init_cfg` key) is planned on the whole model.
In a model config, each `model.<path>.init_cfg` is set on the module at <path>, as mmengine's builder
would pass it, and the tree is planned as init_weights() runs it; a note on stderr says where each one
went, or why it was not applied. When CONFIG holds none and the model is a BaseModule, the model's own
init_cfgs are explained. Nothing is written to the model, except with --verify.

--verify initializes the built model on the CPU (a meta model gets empty storage first) with seed=0,
and prints a check of every tensor: its mean and std against what its initializer promises, exact
values and structures, Pretrained tensors against the checkpoint, and NaN or inf anywhere.

exit codes:
  0  the plan was printed (and, with --verify, every tensor passed)
  1  the config is invalid or does not fit the model, --strict found an unmatched layer or a warning,
     or --verify found a tensor that fails its check
  2  a usage error, a factory or plugin that cannot be imported, a config that cannot be read, or a
     top-level Pretrained checkpoint that is not downloaded (without --download)"""


_FETCH_EPILOG: Final = """\
Each CONFIG is read statically (never executed); a directory is searched as `validate` searches it. The
checkpoints fetched are every Pretrained `checkpoint` (a URL, torchvision://NAME, open-mmlab://NAME),
`load_from`, and `pretrained` keys under `model` (mmseg). A URL or model-zoo name may be given directly.
Local paths are not downloads and are skipped. Each URL is fetched once, into $INITSPEC_HOME/checkpoints
(default: torch.hub.get_dir()/checkpoints, where mmengine looks too), and enters the cache only once
verified (complete, a checkpoint format, the sha256 prefix in its file name). A file already cached is
verified, not downloaded again. Progress is shown on a terminal.

Each checkpoint prints as `STATUS URL  CACHE_PATH` (fetched, cached, missing with --dry-run, or failed).

exit codes:
  0  every checkpoint is in the cache (or, with --dry-run, was listed)
  1  a download failed or a config could not be read (the others are still fetched)
  2  a usage error, such as a path that does not exist"""

_DIFF_EPILOG: Final = """\
Each tensor is compared by its initializer, arguments, source and shape; a tensor in one file only is
listed as added or removed. Neither file is re-planned and torch is not imported.

exit codes:
  0  the two plans are the same
  1  they differ
  2  a file cannot be read, or is not the output of `initspec explain --format json`"""

_LSP_EPILOG: Final = """\
Speaks the Language Server Protocol on stdin and stdout, for .py, .json, .yaml, .yml and .toml documents:
diagnostics from the same engine as `validate` on the unsaved buffer (pushed, and answered when pulled),
completion of types, keys and closed-set values inside an init_cfg, hover, and code actions for every fix.
Needs the `lsp` extra: pip install 'initspec[lsp]'. See docs/editor.md for each editor's setup.

exit codes:
  0  the client shut the server down
  2  the lsp extra is not installed, or a plugin cannot be imported"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``initspec`` command line and return its exit code (0, 1 or 2).

    Example:
        >>> from initspec.cli import main
        >>> main(["validate", "examples/configs"])  # doctest: +SKIP
        0
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error already printed by argparse
        return exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if problem := _import_plugins(args.plugin):
        print(f"initspec {args.command}: error: {problem}", file=sys.stderr)
        return 2
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ModuleNotFoundError as err:  # a command that needs torch, run where it is not installed
        if err.name is None or err.name.partition(".")[0] != "torch":
            raise
        print(f"initspec {args.command}: error: {_NEEDS_TORCH.format(command=args.command)}", file=sys.stderr)
        return 2


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


def _schema(args: argparse.Namespace) -> int:
    from initspec.schema import render_schema

    text = render_schema()
    if args.editor or args.match:
        return _schema_for_editor(args, text)
    if args.check:
        return _check_schema(Path(args.check), text)
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8", newline="\n")
    except OSError as err:
        print(f"initspec schema: error: cannot write {args.output}: {err.strerror or err}", file=sys.stderr)
        return 2
    return 0


def _schema_for_editor(args: argparse.Namespace, text: str) -> int:
    from initspec.cli._editor import run_editor

    if not args.editor or args.check:
        problem = "--match needs --editor" if not args.editor else "--editor cannot be combined with --check"
        print(f"initspec schema: error: {problem}", file=sys.stderr)
        return 2
    return run_editor(text, globs=args.match, schema_file=args.output, out=sys.stdout, err=sys.stderr)


def _check_schema(path: Path, text: str) -> int:
    fix = f"run `initspec schema -o {path}` to regenerate it"
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        print(f"{path}: error: the schema file does not exist; {fix}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"initspec schema: error: cannot read {path}: {err.strerror or err}", file=sys.stderr)
        return 2
    if current != text:
        print(
            f"{path}: error: the schema is out of date with the registered initializers; {fix}",
            file=sys.stderr,
        )
        return 1
    return 0


def _explain_command(args: argparse.Namespace) -> int:
    from initspec.cli._explain import run_explain

    return run_explain(
        args.config,
        args.model,
        scope=args.scope,
        fmt=args.format,
        strict=args.strict,
        require_complete=args.require_complete,
        download=args.download,
        verify=args.verify or args.html is not None,
        html=args.html,
        out=sys.stdout,
        err=sys.stderr,
    )


def _fetch_command(args: argparse.Namespace) -> int:
    from initspec.cli._fetch import run_fetch

    return run_fetch(args.paths, dry_run=args.dry_run, out=sys.stdout, err=sys.stderr)


def _import_plugins(names: Sequence[str]) -> str | None:
    """Import each ``--plugin`` module; on failure, the message to print (a usage error)."""
    if names and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # a project's own plugin module imports from its root, as with -m
    from initspec.registry import import_plugins

    try:
        import_plugins(names)
    except ImportError as err:
        return f"--plugin: {err}"
    return None


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps epilogs as written, and shows ``-o, --output FILE`` alike on every Python (3.13 changed it)."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings or action.nargs == 0:
            return super()._format_action_invocation(action)
        value = self._format_args(action, self._get_default_metavar_for_optional(action))
        return f"{', '.join(action.option_strings)} {value}"


def _parser() -> argparse.ArgumentParser:
    from initspec import __version__

    parser = argparse.ArgumentParser(
        prog="initspec",
        description=_DESCRIPTION,
        epilog=f"Run `initspec COMMAND --help` for the options of a command.\n\n{_EXIT_CODES}",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"initspec {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    _add_validate(commands)
    _add_schema(commands)
    _add_explain(commands)
    _add_fetch(commands)
    _add_diff(commands)
    _add_lsp(commands)
    return parser


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str, epilog: str
) -> argparse.ArgumentParser:
    command = commands.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=epilog,
        formatter_class=_HelpFormatter,
    )
    return command


def _add_plugin_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first, so the initializers it registers are known (repeatable)",
    )


def _add_validate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "check every init_cfg in JSON, YAML, TOML and OpenMMLab-style .py config files"
    command = _command(commands, "validate", summary, _VALIDATE_EPILOG)
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
        type=_positive_int,
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
    _add_plugin_option(command)
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
        type=_positive_jobs,
        default=None,
        metavar="N",
        help="with --build: build in N worker processes (default: one per CPU core)",
    )
    command.add_argument(
        "--build-timeout",
        type=_positive_float,
        default=60.0,
        metavar="S",
        help="with --build: stop a build that takes longer than S seconds, with a note (default 60)",
    )
    _add_scope_option(command)


def _add_scope_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--scope",
        metavar="NAME",
        help="the mmengine registry scope to build models in (mmdet, mmseg, ...), instead of the config's "
        "default_scope",
    )


def _positive_jobs(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        msg = f"expected a positive number of worker processes, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        msg = f"expected a positive number of seconds, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        msg = f"expected a positive number of bytes, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _add_schema(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "print the init_cfg JSON Schema, write it to a file, or check that a file is up to date"
    command = _command(commands, "schema", summary, _SCHEMA_EPILOG)
    target = command.add_mutually_exclusive_group()
    target.add_argument("-o", "--output", metavar="FILE", help="write the schema to FILE instead of stdout")
    target.add_argument(
        "--check", metavar="FILE", help="exit 1 when FILE differs from the schema that would be generated"
    )
    command.add_argument(
        "--editor",
        choices=_EDITORS,
        help="also associate the schema with config files in the editor's workspace settings",
    )
    command.add_argument(
        "--match",
        action="append",
        default=[],
        metavar="GLOB",
        help="with --editor: a file glob to associate (repeatable; default: the *.init_cfg.* convention)",
    )
    _add_plugin_option(command)
    command.set_defaults(handler=_schema)


def _add_explain(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "show what a config would write to each parameter of a model, without writing anything"
    command = _command(commands, "explain", summary, _EXPLAIN_EPILOG)
    command.add_argument("config", metavar="CONFIG", help="a .json, .yaml, .yml, .toml or .py config file")
    command.add_argument(
        "--model",
        metavar="FACTORY",
        help="the function that builds the model, called with no arguments: package.module:function or "
        "path/to/file.py:function; without it, CONFIG's `model` is built with mmengine's registry on the "
        "meta device, which RUNS the config (mmengine's Config.fromfile)",
    )
    _add_scope_option(command)
    command.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: a table of parameters (default); json: the report as one JSON object",
    )
    command.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a `layer` name matches no module, or planning warns",
    )
    command.add_argument(
        "--require-complete",
        action="store_true",
        help="exit 1 when a parameter (on a meta model, a floating buffer) would be left untouched",
    )
    command.add_argument(
        "--download",
        action="store_true",
        help="download a Pretrained checkpoint (URL or model-zoo name) that is not cached; without it, such "
        "a config is not applied (nested) or is an error (top-level)",
    )
    command.add_argument(
        "--verify",
        action="store_true",
        help="initialize the model on the CPU with seed=0 and check every tensor against what its "
        "initializer promises; exit 1 when one fails",
    )
    command.add_argument(
        "--html",
        metavar="FILE",
        help="with --verify (implied): write a self-contained HTML page of the check, with per-layer plots "
        "(needs the initspec[plot] extra)",
    )
    _add_plugin_option(command)
    command.set_defaults(handler=_explain_command)


def _add_fetch(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "download and verify, into the cache, every checkpoint the configs name (for offline runs)"
    command = _command(commands, "fetch", summary, _FETCH_EPILOG)
    command.add_argument(
        "paths", nargs="+", metavar="CONFIG_OR_DIR", help="a config file, a directory to search, or a URL"
    )
    command.add_argument(
        "--dry-run",
        action="store_true",
        help="download nothing: list each URL with its cache path and whether it is cached",
    )
    command.set_defaults(handler=_fetch_command, plugin=[])


def _diff_command(args: argparse.Namespace) -> int:
    from initspec.cli._diff import run_diff

    return run_diff(args.a, args.b, fmt=args.format, out=sys.stdout, err=sys.stderr)


def _add_diff(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "compare two `explain --format json` outputs tensor by tensor, for reviewing a config change"
    command = _command(commands, "diff", summary, _DIFF_EPILOG)
    command.add_argument("a", metavar="A.json", help="the explain --format json output before the change")
    command.add_argument("b", metavar="B.json", help="the explain --format json output after the change")
    command.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text: one line per changed tensor (default); json: one JSON object; github: workflow annotations",
    )
    command.set_defaults(handler=_diff_command, plugin=[])


def _lsp_command(args: argparse.Namespace) -> int:
    del args
    try:
        from initspec.cli.lsp.server import serve
    except ImportError as err:
        print(
            f"initspec lsp: error: {err}; install the language server's dependencies with "
            "pip install 'initspec[lsp]'",
            file=sys.stderr,
        )
        return 2
    return serve()


def _add_lsp(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "run the language server (completion, hover, diagnostics, fixes) on stdio for editors"
    command = _command(commands, "lsp", summary, _LSP_EPILOG)
    _add_plugin_option(command)
    command.set_defaults(handler=_lsp_command)
