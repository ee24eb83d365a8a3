"""The timed model cases: W (wide), S (shallow, many blocks), D (deep chains) and O (overlapping configs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from _models import (
    INITSPEC,
    Flavour,
    blocks,
    chain,
    kaiming,
    linears,
    load_mmengine,
    plain_init,
    plain_walk_init,
    reset_init,
    wide,
)
from _timing import Contender, Row, timed_rows
from torch import nn


@dataclass(frozen=True)
class Sizes:
    """How big each case is and how many samples it takes, for one mode (full, quick or smoke)."""

    repeats: int
    wide: tuple[int, int]
    shallow: tuple[int, int]
    depths: tuple[int, ...]
    overlap: tuple[int, int]
    parse_seconds: float
    files: int
    memory: tuple[int, int]
    memory_contenders: tuple[str, ...] = ("initspec", "initspec_exact", "mmengine", "plain")


def case_wide(sizes: Sizes) -> list[Row]:
    """W: ``initialize`` on large layers, where the draws themselves dominate."""
    n, width = sizes.wide
    model = wide(n, width)
    contenders = [
        Contender("initspec", partial(INITSPEC.initialize, model, kaiming())),
        Contender("initspec_exact", partial(_initialize_exact, model)),
        *_mmengine_initialize(model),
        Contender("plain", partial(plain_init, linears(model))),
    ]
    label = f"W: initialize, {n}×Linear({width},{width})"
    return _with_skips(timed_rows("W", label, "ms", contenders, sizes.repeats, n=n, width=width))


def case_shallow(sizes: Sizes) -> list[Row]:
    """S: ``init_weights`` on many small BaseModule blocks, where per-module overhead dominates."""
    n, width = sizes.shallow
    label = f"S: init_weights, {n} blocks of Linear({width},{width})"
    return _init_weights_case("S", label, partial(blocks, n=n, width=width), sizes.repeats, n=n, width=width)


def case_deep(sizes: Sizes) -> list[Row]:
    """D: nested chains, each level configuring its whole subtree (quadratic when every write is run)."""
    rows: list[Row] = []
    for depth in sizes.depths:
        label = f"D: init_weights, chain of depth {depth}, Linear(64,64)"
        build = partial(chain, depth=depth, width=64)
        rows += _init_weights_case("D", label, build, sizes.repeats, depth=depth)
    return rows


def case_overlap(sizes: Sizes) -> list[Row]:
    """O: a parent and its children both configure the same layers, so each weight is written twice."""
    n, width = sizes.overlap
    label = f"O: init_weights, parent + {n} child cfgs on Linear({width},{width})"
    build = partial(blocks, n=n, width=width, parent_cfg=True)
    return _init_weights_case("O", label, build, sizes.repeats, n=n, width=width)


def _init_weights_case(
    case: str, label: str, build: Callable[[Flavour], nn.Module], repeats: int, **params: int
) -> list[Row]:
    ours = build(INITSPEC)
    reset = partial(reset_init, ours)
    contenders = [
        Contender("initspec", ours.init_weights, reset),
        Contender("initspec_exact", partial(ours.init_weights, skip_overwritten=False), reset),
        *_mmengine_init_weights(build),
        Contender("plain", partial(plain_init, linears(ours))),
        Contender("plain_walk", partial(plain_walk_init, ours)),
    ]
    return _with_skips(timed_rows(case, label, "ms", contenders, repeats, **params))


def _initialize_exact(model: nn.Module) -> None:
    INITSPEC.initialize(model, kaiming(), skip_overwritten=False)


def _mmengine_initialize(model: nn.Module) -> list[Contender]:
    flavour, _ = load_mmengine()
    if flavour is None:
        return []
    return [Contender("mmengine", lambda: flavour.initialize(model, kaiming()))]


def _mmengine_init_weights(build: Callable[[Flavour], nn.Module]) -> list[Contender]:
    flavour, _ = load_mmengine()
    if flavour is None:
        return []
    theirs = build(flavour)
    return [Contender("mmengine", theirs.init_weights, partial(reset_init, theirs))]


def _with_skips(rows: list[Row]) -> list[Row]:
    """Add an empty ``mmengine`` row, with the reason, when mmengine could not be imported."""
    flavour, why = load_mmengine()
    if flavour is not None or not rows:
        return rows
    first = rows[0]
    skipped = Row(
        first.case, first.label, "mmengine", first.unit, status="skipped", note=why, params=first.params
    )
    return [*rows[:2], skipped, *rows[2:]]
