"""The issue's targets: ratios to the plain torch loop, and whether initspec's default mode meets each."""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import groupby
from typing import Final

from _timing import Row

MAX_SLOPE: Final = 1.2
"""Largest log-log slope of time against depth still called linear (quadratic would be 2)."""


def judge(rows: list[Row]) -> None:
    """Fill in ``ratio`` (to the plain loop of the same case) and the target verdicts, in place."""
    for _, group in groupby(rows, key=lambda row: row.label):
        _ratios(list(group))
    for row in rows:
        if row.status != "ok":
            continue
        if row.contender == "plain":
            row.target = "floor"
        elif row.contender == "initspec" and row.case in _JUDGES:
            _JUDGES[row.case](row, rows)
            _against_the_walk(row, rows)


def _against_the_walk(row: Row, rows: list[Row]) -> None:
    """Note initspec's ratio to the plain loop that finds its layers in ``model.modules()`` (not judged)."""
    walk = _find(rows, "plain_walk", row.label)
    if walk is not None and row.target != "(trend)":
        ratio = f"{row.median / walk.median:.2f}× the plain loop over model.modules()"
        row.note = f"{row.note}; {ratio}" if row.note else ratio


def _ratios(group: list[Row]) -> None:
    plain = _find(group, "plain")
    if plain is None:
        return
    for row in group:
        if row.status == "ok":
            row.ratio = row.median / plain.median


def _find(rows: list[Row], contender: str, label: str | None = None) -> Row | None:
    for row in rows:
        if row.contender == contender and row.status == "ok" and label in (None, row.label):
            return row
    return None


def _wide(row: Row, rows: list[Row]) -> None:
    row.target, row.met = "≤ 1.05", _ratio_at_most(row, 1.05)


def _shallow(row: Row, rows: list[Row]) -> None:
    row.target, row.met = "≤ 1.3 and ≥ 4× faster than mmengine", _ratio_at_most(row, 1.3)  # issue 25
    theirs = _find(rows, "mmengine", row.label)
    if theirs is not None:
        speedup = theirs.median / row.median
        row.met = row.met and speedup >= 4
        row.note = f"{speedup:.1f}× faster than mmengine"


def _deep(row: Row, rows: list[Row]) -> None:
    ours = [r for r in rows if r.case == "D" and r.contender == "initspec" and r.status == "ok"]
    if row.params["depth"] != max(r.params["depth"] for r in ours):
        row.target = "(trend)"
        return
    slope = _slope([(r.params["depth"], r.median) for r in ours])
    row.target = f"≤ 1.2 at depth {row.params['depth']}; linear in depth"  # issue 25 (≤ 2 before)
    row.met = _ratio_at_most(row, 1.2) and slope <= MAX_SLOPE
    row.note = f"time ∝ depth^{slope:.2f} (linear 1, quadratic 2; ≤ {MAX_SLOPE} passes)"


def _overlap(row: Row, rows: list[Row]) -> None:
    row.target, row.met = "≤ 1.1", _ratio_at_most(row, 1.1)


def _parse(row: Row, rows: list[Row]) -> None:
    row.target, row.met = "≤ 10 µs", row.median <= 10e-6
    theirs = _find(rows, "mmengine", row.label)
    if theirs is not None:
        row.note = f"{theirs.median / row.median:.1f}× faster than mmengine's registry build"


def _validate(row: Row, rows: list[Row]) -> None:
    row.target, row.met = "< 1 s", row.median < 1.0


def _ratio_at_most(row: Row, limit: float) -> bool:
    return row.ratio is not None and row.ratio <= limit


def _slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(time) against log(depth)."""
    if len(points) < 2:
        return float("nan")
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


_JUDGES: dict[str, Callable[[Row, list[Row]], None]] = {
    "W": _wide,
    "S": _shallow,
    "D": _deep,
    "O": _overlap,
    "P": _parse,
    "V": _validate,
}
