"""Cleared waits: how each wait() on a clear flag ended and what it missed."""

from __future__ import annotations

from collections.abc import Callable

from tracebuild import Recorder, found

from analyze import Report

ReportOf = Callable[..., Report]
PREFIX = "wait() found the flag clear; ended: "


def test_woken_wait_is_info(recorder: Recorder, report_of: ReportOf) -> None:
    """A wait woken by a set(), having missed nothing, is info and names the waker and time."""
    begin = recorder.wait(thread="Thread-2")
    waker = recorder.set(thread="Thread-1", waiters=1, site="cook.py:40", after=500_000_000)
    recorder.woke(begin, thread="Thread-2", woken_by=waker)
    report = report_of(recorder)
    assert found(report) == [
        (
            "cleared-wait",
            "info",
            begin,
            "Thread-2",
            PREFIX + "woken by Thread-1's set() at 0.501 s (cook.py:40)",
        ),
    ]
    assert report.counts["cleared-wait"] == 1


def test_timed_out_wait_is_info(recorder: Recorder, report_of: ReportOf) -> None:
    """A wait that timed out having missed nothing is polling (`while not stop.wait(0.1)`):
    info, saying how long it waited."""
    begin = recorder.wait(thread="Thread-2", timeout=0.25)
    recorder.woke(begin, thread="Thread-2", result=False, timed_out=True, after=250_000_000)
    assert found(report_of(recorder)) == [
        ("cleared-wait", "info", begin, "Thread-2", PREFIX + "timed out after 250 ms"),
    ]


def test_wait_that_never_ends_is_info(recorder: Recorder, report_of: ReportOf) -> None:
    """A begin with no end line was still blocked at the end of the trace: the hang finding
    tells that, so having missed nothing the cleared wait itself is info."""
    begin = recorder.wait(thread="Thread-2")
    assert found(report_of(recorder), "cleared-wait") == [
        (
            "cleared-wait",
            "info",
            begin,
            "Thread-2",
            PREFIX + "never: still blocked when the trace ended",
        ),
    ]


def test_interrupted_wait_is_info(recorder: Recorder, report_of: ReportOf) -> None:
    """A wait that ended by an exception names it (info: it missed nothing)."""
    begin = recorder.wait(thread="MainThread")
    recorder.woke(begin, result=False, error="KeyboardInterrupt", after=2_000_000_000)
    assert found(report_of(recorder)) == [
        (
            "cleared-wait",
            "info",
            begin,
            "MainThread",
            PREFIX + "interrupted by KeyboardInterrupt after 2 s",
        ),
    ]


def test_wait_on_a_set_flag_is_no_finding(recorder: Recorder, report_of: ReportOf) -> None:
    """A wait() that found the flag already set returned at once: nothing to report."""
    recorder.set(waiters=0)
    begin = recorder.wait(flag=True, thread="Thread-2")
    recorder.woke(begin, thread="Thread-2")
    assert [k for k, *_ in found(report_of(recorder))] == ["unwaited-signal"]


def test_missed_signals_count_lost_sets_since_the_last_wake(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Lost sets between the waiter's previous wake and this wait are counted, earlier ones not."""
    recorder.set(thread="Thread-1")  # lost before the first wait
    recorder.clear(thread="Thread-1")
    first = recorder.wait(thread="Thread-2")
    waker = recorder.set(thread="Thread-1", waiters=1)
    recorder.woke(first, thread="Thread-2", woken_by=waker)
    recorder.clear(thread="Thread-2")
    for _ in range(2):  # lost while Thread-2 was busy
        recorder.set(thread="Thread-1")
        recorder.clear(thread="Thread-1")
    recorder.set("other", thread="Thread-1")  # another Event: not counted
    recorder.clear("other", thread="Thread-1")
    second = recorder.wait(thread="Thread-2")
    waits = found(report_of(recorder), "cleared-wait")
    assert waits == [
        (
            "cleared-wait",
            "warning",
            first,
            "Thread-2",
            PREFIX + "woken by Thread-1's set() at 0.004 s (app.py:1); missed 1 signal,"
            " lost before this wait",
        ),
        (
            "cleared-wait",
            "warning",
            second,
            "Thread-2",
            PREFIX + "never: still blocked when the trace ended; missed 2 signals,"
            " lost since this thread last woke from it",
        ),
    ]


def test_other_threads_wakes_do_not_reset_the_count(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Only the waiting thread's own previous wake bounds the count, not another thread's."""
    recorder.set()
    recorder.clear()
    other = recorder.wait(thread="Thread-3", flag=True)
    recorder.woke(other, thread="Thread-3")
    begin = recorder.wait(thread="Thread-2", timeout=1.0)
    recorder.woke(begin, thread="Thread-2", result=False, timed_out=True)
    waits = found(report_of(recorder), "cleared-wait")
    assert waits == [
        (
            "cleared-wait",
            "warning",
            begin,
            "Thread-2",
            PREFIX + "timed out after 1 ms; missed 1 signal, lost before this wait",
        ),
    ]
