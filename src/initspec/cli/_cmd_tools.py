"""``initspec fetch`` (checkpoints into the cache) and ``initspec lsp`` (the language server)."""

from __future__ import annotations

import argparse
import sys
from typing import Final

from initspec.cli._args import Commands, add_plugin_option, new_command

__all__ = ["add_fetch", "add_lsp"]

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


_LSP_EPILOG: Final = """\
Speaks the Language Server Protocol on stdin and stdout, for .py, .json, .yaml, .yml and .toml documents:
diagnostics from the same engine as `validate` on the unsaved buffer (pushed, and answered when pulled),
completion of types, keys and closed-set values inside an init_cfg, hover, and code actions for every fix.
Needs the `lsp` extra: pip install 'initspec[lsp]'. See docs/editor.md for each editor's setup.

exit codes:
  0  the client shut the server down
  2  the lsp extra is not installed, or a plugin cannot be imported"""


def add_fetch(commands: Commands) -> None:
    summary = "download and verify, into the cache, every checkpoint the configs name (for offline runs)"
    command = new_command(commands, "fetch", summary, _FETCH_EPILOG)
    command.add_argument(
        "paths", nargs="+", metavar="CONFIG_OR_DIR", help="a config file, a directory to search, or a URL"
    )
    command.add_argument(
        "--dry-run",
        action="store_true",
        help="download nothing: list each URL with its cache path and whether it is cached",
    )
    command.set_defaults(handler=_fetch_command, plugin=[])


def _fetch_command(args: argparse.Namespace) -> int:
    from initspec.cli._fetch import run_fetch

    return run_fetch(args.paths, dry_run=args.dry_run, out=sys.stdout, err=sys.stderr)


def add_lsp(commands: Commands) -> None:
    summary = "run the language server (completion, hover, diagnostics, fixes) on stdio for editors"
    command = new_command(commands, "lsp", summary, _LSP_EPILOG)
    add_plugin_option(command)
    command.set_defaults(handler=_lsp_command)


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
