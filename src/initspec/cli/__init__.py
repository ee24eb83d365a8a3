"""The ``initspec`` command: ``validate``, ``schema``, ``diff`` and ``lsp`` never import torch; ``explain`` does.

Each command's parser and handler live in its own module (``_cmd_*``); this one dispatches.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Final

from initspec.cli._args import EXIT_CODES, HelpFormatter
from initspec.cli._cmd_explain import add_diff, add_explain
from initspec.cli._cmd_schema import add_schema
from initspec.cli._cmd_tools import add_fetch, add_lsp
from initspec.cli._cmd_validate import add_validate

__all__ = ["main"]

_NEEDS_TORCH: Final = (
    'initspec {command} needs PyTorch, which is not installed; install it with `pip install "initspec[torch]"` '
    "(initspec validate and initspec schema work without it)"
)


_DESCRIPTION: Final = (
    "Check init_cfg files, export their JSON Schema, explain configs, compare explained plans, fetch the "
    "checkpoints configs name, and serve editors."
)


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


def _parser() -> argparse.ArgumentParser:
    from initspec import __version__

    parser = argparse.ArgumentParser(
        prog="initspec",
        description=_DESCRIPTION,
        epilog=f"Run `initspec COMMAND --help` for the options of a command.\n\n{EXIT_CODES}",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"initspec {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    add_validate(commands)
    add_schema(commands)
    add_explain(commands)
    add_fetch(commands)
    add_diff(commands)
    add_lsp(commands)
    return parser
