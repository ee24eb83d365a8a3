"""The work bound the hostile-input tests use instead of the wall clock (tests/workbound.py) can fail."""

from __future__ import annotations

import pytest

from initspec._stack import on_large_stack
from workbound import WorkExceeded, within


def _calls(count: int) -> int:
    return sum(abs(-n) for n in range(count))  # one builtin call per item


def test_within_returns_the_result_and_the_calls_made() -> None:
    """A call under the bound returns its result and a count that grows with the work done."""
    result, small = within(10_000, _calls, 10)
    assert result == 45
    _, large = within(10_000, _calls, 1_000)
    assert large - small >= 990


def test_within_stops_work_over_the_bound_at_once() -> None:
    """Work over the bound raises WorkExceeded (a BaseException, which `except Exception` does not hide)."""

    def swallowing() -> str:
        try:
            _calls(10**9)  # would run for minutes: the bound stops it after 1,000 calls
        except Exception:
            return "hidden"
        return "done"

    with pytest.raises(WorkExceeded, match="more than 1,000 function calls"):
        within(1_000, swallowing)


def test_within_counts_the_calls_of_the_parse_thread() -> None:
    """The parsers run on a thread of their own (on_large_stack): its calls count, and over the bound stop it."""
    _, counted = within(10_000, on_large_stack, _calls, 1_000)
    assert counted >= 1_000
    with pytest.raises(WorkExceeded):
        within(1_000, on_large_stack, _calls, 10**9)
