"""Round-robin timing: every repeat runs each contender once, in an order that rotates between repeats."""

from __future__ import annotations

import gc
import statistics
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["ok", "skipped", "unavailable"]


def _nothing() -> None:
    """The default reset: nothing to undo between samples."""


@dataclass(frozen=True)
class Contender:
    """One way of doing a case's work; ``reset`` runs untimed before each sample."""

    key: str
    run: Callable[[], object]
    reset: Callable[[], object] = _nothing
    number: int = 1


@dataclass
class Row:
    """The samples of one contender on one case (seconds per call), and how they compare to the target."""

    case: str
    label: str
    contender: str
    unit: Literal["s", "ms", "µs"]
    samples: list[float] = field(default_factory=list)
    status: Status = "ok"
    note: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    ratio: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.samples:
            data.update(median=self.median, min=min(self.samples), max=max(self.samples))
        return data


def round_robin(
    contenders: Sequence[Contender], repeats: int, *, collect: bool = True
) -> dict[str, list[float]]:
    """Seconds per call of each contender, one sample per repeat, after one untimed warm-up each; each sample
    after its reset and (unless ``collect`` is false) ``gc.collect()``."""
    for contender in contenders:
        contender.reset()
        contender.run()
    samples: dict[str, list[float]] = {c.key: [] for c in contenders}
    for repeat in range(repeats):
        shift = repeat % len(contenders)
        for contender in [*contenders[shift:], *contenders[:shift]]:
            samples[contender.key].append(_sample(contender, collect))
    return samples


def _sample(contender: Contender, collect: bool = True) -> float:
    contender.reset()
    if collect:
        gc.collect()
    if contender.number > 1:  # timeit's loop, which also keeps gc off while it runs
        return timeit.Timer(contender.run).timeit(contender.number) / contender.number
    start = time.perf_counter()
    contender.run()
    return time.perf_counter() - start


def calls_per_sample(fn: Callable[[], object], min_seconds: float) -> int:
    """Like ``timeit``'s autorange: the first of 1, 2, 5, 10, 20, ... calls that takes ``min_seconds``."""
    timer = timeit.Timer(fn)
    number = 1
    for power in range(7):
        for step in (1, 2, 5):
            number = step * 10**power
            if timer.timeit(number) >= min_seconds:
                return number
    return number


def timed_rows(
    case: str,
    label: str,
    unit: Literal["s", "ms", "µs"],
    contenders: Sequence[Contender],
    repeats: int,
    **params: Any,
) -> list[Row]:
    """Time ``contenders`` round-robin and return one row each."""
    samples = round_robin(contenders, repeats)
    return [Row(case, label, c.key, unit, samples[c.key], params=dict(params)) for c in contenders]
