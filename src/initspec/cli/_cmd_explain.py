"""``initspec explain`` and ``initspec diff``: a config's plan against a model, and two plans compared."""

from __future__ import annotations

import argparse
import sys
from typing import Final

from initspec.cli._args import Commands, add_plugin_option, add_scope_option, new_command

__all__ = ["add_diff", "add_explain"]

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


_DIFF_EPILOG: Final = """\
Each tensor is compared by its initializer, arguments, source and shape; a tensor in one file only is
listed as added or removed. Neither file is re-planned and torch is not imported.

exit codes:
  0  the two plans are the same
  1  they differ
  2  a file cannot be read, or is not the output of `initspec explain --format json`"""


def add_explain(commands: Commands) -> None:
    summary = "show what a config would write to each parameter of a model, without writing anything"
    command = new_command(commands, "explain", summary, _EXPLAIN_EPILOG)
    command.add_argument("config", metavar="CONFIG", help="a .json, .yaml, .yml, .toml or .py config file")
    command.add_argument(
        "--model",
        metavar="FACTORY",
        help="the function that builds the model, called with no arguments: package.module:function or "
        "path/to/file.py:function; without it, CONFIG's `model` is built with mmengine's registry on the "
        "meta device, which RUNS the config (mmengine's Config.fromfile)",
    )
    add_scope_option(command)
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
    add_plugin_option(command)
    command.set_defaults(handler=_explain_command)


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


def add_diff(commands: Commands) -> None:
    summary = "compare two `explain --format json` outputs tensor by tensor, for reviewing a config change"
    command = new_command(commands, "diff", summary, _DIFF_EPILOG)
    command.add_argument("a", metavar="A.json", help="the explain --format json output before the change")
    command.add_argument("b", metavar="B.json", help="the explain --format json output after the change")
    command.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text: one line per changed tensor (default); json: one JSON object; github: workflow annotations",
    )
    command.set_defaults(handler=_diff_command, plugin=[])


def _diff_command(args: argparse.Namespace) -> int:
    from initspec.cli._diff import run_diff

    return run_diff(args.a, args.b, fmt=args.format, out=sys.stdout, err=sys.stderr)
