"""``on_large_stack``: a call on a thread with a known stack, with its result and exceptions passed through."""

from __future__ import annotations

import threading

import pytest

from initspec._stack import on_large_stack


def test_the_result_comes_back_and_the_call_runs_on_another_thread() -> None:
    """The value is returned; the call ran on a thread other than the caller's."""
    caller = threading.get_ident()
    ident, value = on_large_stack(lambda x, *, y: (threading.get_ident(), x + y), 2, y=3)
    assert value == 5
    assert ident != caller


def test_an_exception_is_raised_in_the_caller() -> None:
    """An exception from the call reaches the caller, with its type and message."""

    def fail() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        on_large_stack(fail)


def test_a_nested_call_stays_on_the_same_thread() -> None:
    """Calling it again from inside runs directly, so a load of bases inside a load starts no new thread."""
    outer, inner = on_large_stack(lambda: (threading.get_ident(), on_large_stack(threading.get_ident)))
    assert outer == inner


def test_the_process_wide_stack_size_is_restored() -> None:
    """Threads started afterwards get the default size again."""
    before = threading.stack_size()
    on_large_stack(int, "1")
    assert threading.stack_size() == before
