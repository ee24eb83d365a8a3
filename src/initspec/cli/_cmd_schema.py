"""``initspec schema``: print, write or check the JSON Schema, or set up an editor for it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from initspec.cli._args import EDITORS, Commands, add_plugin_option, new_command

__all__ = ["add_schema"]

_SCHEMA_EPILOG: Final = """\
--editor vscode writes the schema to .vscode/init_cfg.schema.json (or -o FILE) and adds json.schemas and
yaml.schemas entries for it to .vscode/settings.json in the current directory, keeping every other
setting. The default globs are *.init_cfg.json, *.init_cfg.yaml and *.init_cfg.yml.

exit codes:
  0  the schema was printed or written, or FILE is up to date
  1  --check FILE differs from the generated schema (run `initspec schema -o FILE`)
  2  a usage error, a plugin that cannot be imported, or a settings file that cannot be parsed"""


def add_schema(commands: Commands) -> None:
    summary = "print the init_cfg JSON Schema, write it to a file, or check that a file is up to date"
    command = new_command(commands, "schema", summary, _SCHEMA_EPILOG)
    target = command.add_mutually_exclusive_group()
    target.add_argument("-o", "--output", metavar="FILE", help="write the schema to FILE instead of stdout")
    target.add_argument(
        "--check", metavar="FILE", help="exit 1 when FILE differs from the schema that would be generated"
    )
    command.add_argument(
        "--editor",
        choices=EDITORS,
        help="also associate the schema with config files in the editor's workspace settings",
    )
    command.add_argument(
        "--match",
        action="append",
        default=[],
        metavar="GLOB",
        help="with --editor: a file glob to associate (repeatable; default: the *.init_cfg.* convention)",
    )
    add_plugin_option(command)
    command.set_defaults(handler=_schema)


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
