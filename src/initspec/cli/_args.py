"""What every ``initspec`` command's parser shares: the help layout, the exit codes, and common options."""

from __future__ import annotations

import argparse
from typing import Final, TypeAlias

__all__ = [
    "EDITORS",
    "EXIT_CODES",
    "Commands",
    "HelpFormatter",
    "add_plugin_option",
    "add_scope_option",
    "new_command",
    "positive_float",
    "positive_int",
    "positive_jobs",
]

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

EDITORS: Final = ("vscode",)


EXIT_CODES: Final = """exit codes:
  0  success
  1  an invalid config, or a file that cannot be read or parsed (or a warning, with --strict)
  2  a usage error: bad options, a missing path, a plugin that cannot be imported, bad [tool.initspec]"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps epilogs as written, and shows ``-o, --output FILE`` alike on every Python (3.13 changed it)."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings or action.nargs == 0:
            return super()._format_action_invocation(action)
        value = self._format_args(action, self._get_default_metavar_for_optional(action))
        return f"{', '.join(action.option_strings)} {value}"


def new_command(commands: Commands, name: str, summary: str, epilog: str) -> argparse.ArgumentParser:
    command = commands.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=epilog,
        formatter_class=HelpFormatter,
    )
    return command


def add_plugin_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first, so the initializers it registers are known (repeatable)",
    )


def add_scope_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--scope",
        metavar="NAME",
        help="the mmengine registry scope to build models in (mmdet, mmseg, ...), instead of the config's "
        "default_scope",
    )


def positive_jobs(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        msg = f"expected a positive number of worker processes, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        msg = f"expected a positive number of seconds, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        msg = f"expected a positive number of bytes, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value
