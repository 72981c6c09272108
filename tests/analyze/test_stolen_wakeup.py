"""stolen-wakeup: a wait() returned and the thread's next take failed, the item already gone."""

from __future__ import annotations

from collections.abc import Callable

from tracebuild import Recorder, found

from analyze import Report
from synctrace import schema

ReportOf = Callable[..., Report]


def cond_wait(rec: Recorder, thread: str) -> int:
    return rec.begin(schema.COND_WAIT_BEGIN, "cond", thread=thread, timeout=None, site="c.py:9")


def notify(rec: Recorder, thread: str, waiters: int = 1, woken: int = 1, all: bool = False) -> int:
    return rec.op(schema.COND_NOTIFY, "cond", thread=thread, waiters=waiters, woken=woken, all=all)


def test_if_instead_of_while_around_condition_wait_is_an_error_when_it_kills(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Woken by notify(), Thread-1 pops after Thread-2 took the item; the IndexError ends it."""
    begin = cond_wait(recorder, "Thread-1")
    recorder.append(1, thread="Thread-3", site="p.py:4", depth=1)
    signal = notify(recorder, "Thread-3")
    recorder.pop(1, thread="Thread-2", site="c.py:11")
    recorder.finish(begin, result=True, timed_out=False, woken_by=signal)
    fail = recorder.pop(None, thread="Thread-1", site="c.py:11", error="IndexError")
    recorder.raised("IndexError", "pop from empty list", thread="Thread-1")
    report = report_of(recorder)
    assert found(report, "stolen-wakeup") == [
        (
            "stolen-wakeup",
            "error",
            fail,
            "Thread-1",
            "wait() was woken, then pop() on jobs at c.py:11 raised IndexError, uncaught:"
            " Thread-2 took item 1 first at c.py:11",
        )
    ]
    assert report.findings.filter(kind="stolen-wakeup").select("obj", "site").row(0) == (
        "cond",
        "c.py:9",
    )
    assert report.counts["failed-take"] == 1


def test_events_wake_everyone_and_the_loser_handles_it(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """One set() wakes two consumers for one item; the second's pop fails and it waits again."""
    first = recorder.wait(thread="Thread-1")
    second = recorder.wait(thread="Thread-2")
    recorder.append(1, thread="Thread-3", depth=1)
    signal = recorder.set(thread="Thread-3", waiters=2)
    recorder.woke(first, thread="Thread-1", woken_by=signal)
    recorder.pop(1, thread="Thread-1", site="c.py:5")
    recorder.woke(second, thread="Thread-2", woken_by=signal)
    fail = recorder.pop(None, thread="Thread-2", site="c.py:5", error="IndexError")
    recorder.clear(thread="Thread-2")
    recorder.wait(thread="Thread-2")
    assert [
        (k, s, q, t) for k, s, q, t, _ in found(report_of(recorder, end=False), "stolen-wakeup")
    ] == [("stolen-wakeup", "warning", fail, "Thread-2")]


def test_a_flag_left_up_lets_the_same_thread_through_twice(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Nobody clears the flag: the second wait() returns at once and its pop finds nothing."""
    recorder.append(1, thread="Thread-2", depth=1)
    recorder.set(thread="Thread-2")
    one = recorder.wait(thread="Thread-1", flag=True)
    recorder.woke(one, thread="Thread-1")
    recorder.pop(1, thread="Thread-1", site="c.py:5")
    two = recorder.wait(thread="Thread-1", flag=True)
    recorder.woke(two, thread="Thread-1")
    fail = recorder.pop(None, thread="Thread-1", site="c.py:5", error="IndexError")
    assert found(report_of(recorder), "stolen-wakeup") == [
        (
            "stolen-wakeup",
            "warning",
            fail,
            "Thread-1",
            "wait() found the flag up, then pop() on jobs at c.py:5 raised IndexError, handled:"
            " the same signal had already let this thread take item 1 at c.py:5",
        )
    ]


def test_a_while_loop_that_rechecks_is_quiet(recorder: Recorder, report_of: ReportOf) -> None:
    """Woken, the item gone, the thread waits again and takes the next item: no finding."""
    begin = cond_wait(recorder, "Thread-1")
    recorder.append(1, thread="Thread-3", depth=1)
    signal = notify(recorder, "Thread-3")
    recorder.pop(1, thread="Thread-2")
    recorder.finish(begin, result=True, timed_out=False, woken_by=signal)
    again = cond_wait(recorder, "Thread-1")
    recorder.append(2, thread="Thread-3", depth=1)
    signal = notify(recorder, "Thread-3")
    recorder.finish(again, result=True, timed_out=False, woken_by=signal)
    recorder.pop(2, thread="Thread-1")
    report = report_of(recorder)
    assert [f for f in found(report) if f[1] != "info"] == []
    assert report.counts["stolen-wakeup"] == 0


def test_a_take_that_fails_with_nothing_taken_meanwhile_is_not_stolen(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A signal sent before any item (nothing was there to steal) is failed-take's alone."""
    begin = cond_wait(recorder, "Thread-1")
    signal = notify(recorder, "Thread-3")
    recorder.finish(begin, result=True, timed_out=False, woken_by=signal)
    recorder.pop(None, thread="Thread-1", error="IndexError")
    report = report_of(recorder)
    assert (report.counts["stolen-wakeup"], report.counts["failed-take"]) == (0, 1)


def test_a_wait_that_timed_out_is_not_a_wakeup(recorder: Recorder, report_of: ReportOf) -> None:
    """wait(timeout) that returned False was never let through: its failed take is not stolen."""
    recorder.append(1, thread="Thread-3", depth=1)
    begin = recorder.wait(thread="Thread-1", timeout=0.1)
    recorder.pop(1, thread="Thread-2")
    recorder.woke(begin, thread="Thread-1", result=False, timed_out=True)
    recorder.pop(None, thread="Thread-1", error="IndexError")
    assert report_of(recorder).counts["stolen-wakeup"] == 0


def test_a_get_that_waited_and_timed_out_is_polling_not_a_stolen_wakeup(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """After a start signal, get(timeout=...) that waited and raised Empty trusted nothing."""
    begin = recorder.wait("start", thread="Thread-2")
    recorder.put(1, thread="MainThread", depth=1)
    signal = recorder.set("start", thread="MainThread", waiters=1)
    recorder.woke(begin, "start", thread="Thread-2", woken_by=signal)
    recorder.get(1, thread="Thread-1", depth=0)
    get = recorder.begin(schema.QUEUE_GET_BEGIN, "q", thread="Thread-2", timeout=0.02)
    recorder.get(None, thread="Thread-2", error="Empty")
    recorder.finish(get, result=False, timed_out=True, error="Empty")
    assert report_of(recorder).counts["stolen-wakeup"] == 0
