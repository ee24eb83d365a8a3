"""Glob override names: ``blocks.*.attn.proj`` over dotted module and parameter paths.

A segment ``*`` matches one path segment, ``**`` any number of segments (none included), and a segment with
``*``, ``?`` or ``[...]`` inside (``attn*``) matches by ``fnmatch`` within that segment. A match that lies
under another match is covered by it and dropped, so each tensor is written once per override.
"""

from __future__ import annotations

import fnmatch

from torch import nn

__all__ = ["candidates", "expand", "is_glob"]

_MAGIC = frozenset("*?[")


def is_glob(name: str) -> bool:
    """Whether an override name is a pattern rather than a path."""
    return not _MAGIC.isdisjoint(name)


def candidates(module: nn.Module) -> list[str]:
    """Every dotted submodule and parameter path under ``module``, in ``named_modules`` order."""
    out: list[str] = []
    for path, sub in module.named_modules():
        if path:
            out.append(path)
        out += [f"{path}.{n}" if path else n for n, p in sub._parameters.items() if p is not None]
    return out


def expand(module: nn.Module, pattern: str) -> list[str]:
    """The paths under ``module`` that ``pattern`` matches, outermost only, in ``named_modules`` order."""
    parts = tuple(pattern.split("."))
    kept: list[str] = []
    for path in candidates(module):
        if _match(parts, tuple(path.split("."))) and not any(path.startswith(k + ".") for k in kept[-1:]):
            kept.append(path)
    return kept


def _match(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and _match(rest, path[1:])
