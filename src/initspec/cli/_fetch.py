"""``initspec fetch``: download and verify, into the cache, every checkpoint that config files name.

The configs are read statically (never executed). A checkpoint is named by a ``Pretrained`` entry's
``checkpoint`` anywhere in a config, by ``load_from``, or by a ``pretrained`` key under ``model`` (mmseg's
``model.pretrained``, a backbone's ``pretrained``). Each URL is fetched once, through the same download
code as ``load_checkpoint`` (timeouts, the sha256 prefix, a cache that only holds verified files).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from initspec.cli._usage import UsageError
from initspec.cli._validate import find_config_files
from initspec.cli.documents import DocumentError, Loader

__all__ = ["checkpoint_sources", "run_fetch"]

_NOT_DOWNLOADS = ("file://",)


@dataclass(frozen=True)
class _Named:
    """A checkpoint source, and the file that names it first."""

    source: str
    where: str


def run_fetch(paths: Sequence[str], *, dry_run: bool, out: TextIO, err: TextIO) -> int:
    """Fetch (or, with ``dry_run``, list) every checkpoint ``paths`` name; 1 when any fails, 2 on usage."""
    try:
        named, failed = _collect(paths, err)
    except UsageError as error:
        print(f"initspec fetch: error: {error}", file=err)
        return 2
    seen: set[str] = set()
    for item in named:
        failed += _fetch_one(item, seen, dry_run, out, err)
    if failed:
        print(
            f"initspec fetch: {failed} failure(s), listed above; the other checkpoints were fetched", file=err
        )
    return 1 if failed else 0


def _fetch_one(item: _Named, seen: set[str], dry_run: bool, out: TextIO, err: TextIO) -> int:
    """Fetch, or list, one named checkpoint unless its URL was seen already; 1 when it fails."""
    from initspec._checkpoint.download import download_timeout, fetch
    from initspec._checkpoint.formats import format_problem
    from initspec._checkpoint.sources import download_target, download_url
    from initspec._errors import CheckpointError

    try:
        url = download_url(item.source)
    except CheckpointError as error:
        return _fail(f"{item.where}: {error}", item.source, out, err)
    target = None if url is None else download_target(url)
    if url is None or target is None or url in seen:
        if url is None and "://" in item.source and not item.source.startswith(_NOT_DOWNLOADS):
            print(f"{item.where}: note: {item.source} is not a scheme initspec downloads; skipped", file=err)
        return 0
    seen.add(url)
    status = "cached" if target.is_file() else "missing" if dry_run else "fetched"
    if not dry_run:
        try:
            fetch(url, target, timeout=download_timeout(), verify=format_problem)
        except (CheckpointError, OSError) as error:
            return _fail(f"{item.where}: {error}", url, out, err)
    print(f"{status:<10} {url}  {target}", file=out)
    return 0


def _fail(message: str, what: str, out: TextIO, err: TextIO) -> int:
    print(f"{'failed':<10} {what}", file=out)
    print(f"error: {message}", file=err)
    return 1


def _collect(paths: Sequence[str], err: TextIO) -> tuple[list[_Named], int]:
    """The sources named by URL arguments and config files, in order; and how many files could not be read."""
    urls = [_Named(p, "<argument>") for p in paths if "://" in p]
    files = find_config_files([p for p in paths if "://" not in p]) if len(urls) < len(paths) else []
    loader, named, unreadable = Loader(), list(urls), 0
    for path in files:
        try:
            data = loader.load(path).data
        except DocumentError as error:
            print(f"error: {error}", file=err)
            unreadable += 1
            continue
        named += [_Named(source, str(path)) for source in checkpoint_sources(data)]
    return named, unreadable


def checkpoint_sources(data: object) -> list[str]:
    """Every checkpoint a config names: ``Pretrained`` checkpoints, ``load_from``, ``model``'s ``pretrained``."""
    found: list[str] = []
    if isinstance(data, dict):
        found += _strings(data.get("load_from"))
        found += [
            s for key, value in _items(data.get("model")) if key == "pretrained" for s in _strings(value)
        ]
    for value in (data, *(value for _, value in _items(data))):
        if isinstance(value, dict) and value.get("type") == "Pretrained":
            found += _strings(value.get("checkpoint"))
    return found


def _strings(value: object) -> list[str]:
    return [value] if isinstance(value, str) and value.strip() else []


def _items(node: object, depth: int = 0) -> Iterator[tuple[object, object]]:
    """Every (key, value) in a tree of dicts and lists (list items have their index as key), depth first."""
    if depth > 500:  # the loader refuses data nested deeper; this keeps the walk bounded all the same
        return
    pairs = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in pairs:
        yield key, value
        yield from _items(value, depth + 1)
