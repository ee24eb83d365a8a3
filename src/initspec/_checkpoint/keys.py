"""Checkpoint keys: the ``prefix`` selection, ``revise_keys``, and the one-line fix when most keys do not match."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, TypeVar

from initspec._errors import CheckpointError, did_you_mean

__all__ = ["key_hint", "revise", "select"]

T = TypeVar("T")
_MODULE_PREFIX: Final = re.compile(r"^module\.")
_MOSTLY: Final = 0.5
"""A hint is given when more than this share of the checkpoint's keys is unexpected."""


def select(tensors: dict[str, T], prefix: str | None, source: str) -> dict[str, T]:
    """The keys under ``prefix`` with it removed (a missing trailing dot is added); without one, the keys with
    a leading ``module.`` (left by ``DataParallel``) removed."""
    if prefix is None:
        return {_MODULE_PREFIX.sub("", key): value for key, value in tensors.items()}
    return _under_prefix(tensors, prefix if prefix.endswith(".") else prefix + ".", source)


def _under_prefix(tensors: dict[str, T], prefix: str, source: str) -> dict[str, T]:
    selected = {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}
    if selected:
        return selected
    heads = sorted({key.split(".", 1)[0] for key in tensors})
    hint = did_you_mean(prefix.rstrip("."), heads)
    msg = (
        f'{source}: prefix "{prefix}" matches no key in the checkpoint; its top-level prefixes are: '
        f"{', '.join(heads) or '(none, it holds no tensors)'}{hint}"
    )
    raise CheckpointError(msg)


def revise(tensors: Mapping[str, T], rules: Sequence[tuple[str, str]], source: str) -> dict[str, T]:
    """Apply ``re.sub(pattern, replacement, key)`` for each rule in order, as mmengine's ``revise_keys`` does.

    Two keys that become one would load silently over each other under mmengine; here that is an error.
    """
    if not rules:
        return dict(tensors)
    compiled = [(re.compile(pattern), replacement) for pattern, replacement in rules]
    out: dict[str, T] = {}
    origin: dict[str, str] = {}
    for key, value in tensors.items():
        new = key
        for pattern, replacement in compiled:
            new = pattern.sub(replacement, new)
        if new in origin:
            msg = (
                f"{source}: revise_keys maps both '{origin[new]}' and '{key}' to '{new}'; "
                "make the patterns more specific so that each key stays unique"
            )
            raise CheckpointError(msg)
        out[new], origin[new] = value, key
    return out


def key_hint(checkpoint_keys: Sequence[str], unexpected: Sequence[str], missing: Iterable[str]) -> str:
    """A fix when most checkpoint keys are unexpected and one prefix, removed or added, would match them."""
    if not checkpoint_keys or len(unexpected) <= _MOSTLY * len(checkpoint_keys):
        return ""
    wanted = set(missing)
    return _strip_hint(checkpoint_keys, unexpected, wanted) or _add_hint(unexpected, wanted)


def _strip_hint(checkpoint_keys: Sequence[str], unexpected: Sequence[str], wanted: set[str]) -> str:
    heads = Counter(key.split(".", 1)[0] for key in unexpected if "." in key)
    for head, _ in heads.most_common(3):
        under = [key for key in checkpoint_keys if key.startswith(head + ".")]
        hits = sum(key[len(head) + 1 :] in wanted for key in under)
        if hits and hits >= len(under) / 2:
            share = round(100 * len(under) / len(checkpoint_keys))
            return f"{share}% of the checkpoint's keys start with '{head}.'; add prefix='{head}'"
    return ""


def _add_hint(unexpected: Sequence[str], wanted: set[str]) -> str:
    heads = Counter(key.split(".", 1)[0] for key in wanted if "." in key)
    for head, _ in heads.most_common(3):
        hits = sum(f"{head}.{key}" in wanted for key in unexpected)
        if hits and hits >= len(unexpected) / 2:
            share = round(100 * hits / len(unexpected))
            return (
                f"{share}% of the unexpected keys are model keys without '{head}.'; "
                f"add revise_keys=[['^', '{head}.']]"
            )
    return ""
