"""lock-held-while-blocked: a lock held across a sleep or wait while another thread wants it."""

from __future__ import annotations

from collections.abc import Callable

from tracebuild import Recorder, found

from analyze import Report
from synctrace import schema

ReportOf = Callable[..., Report]
MS = 1_000_000


def take(rec: Recorder, thread: str, lock: str = "lock") -> int:
    return rec.op(schema.LOCK_ACQUIRE, lock, thread=thread, result=True)


def release(rec: Recorder, thread: str, lock: str = "lock", **kw: object) -> int:
    return rec.op(schema.LOCK_RELEASE, lock, thread=thread, error=None, **kw)


def sleep(rec: Recorder, thread: str, seconds: float, **kw: object) -> int:
    return rec.line(schema.SLEEP_BEGIN, thread=thread, seconds=seconds, site="app.py:12", **kw)


def woke(rec: Recorder, begin: int, **kw: object) -> int:
    return rec.line(
        schema.SLEEP_END, thread=rec.lines[begin]["thread"], begin_seq=begin, site="app.py:12", **kw
    )


def test_sleeping_with_the_lock_while_another_waits_is_info(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """worker-1 sleeps holding lock while worker-2 waits for it: one info at the sleep (the
    sleep ends by itself, so worker-2 is slowed, never stuck)."""
    take(recorder, "worker-1")
    nap = sleep(recorder, "worker-1", 0.5)
    wait = recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "lock", thread="worker-2", timeout=None)
    woke(recorder, nap, after=499 * MS)
    release(recorder, "worker-1")
    recorder.finish(wait, result=True, timed_out=False)
    release(recorder, "worker-2")
    report = report_of(recorder)
    assert found(report, "lock-held-while-blocked") == [
        (
            "lock-held-while-blocked",
            "info",
            nap,
            "worker-1",
            "held lock while sleeping (asked for 500 ms), for 500 ms; worker-2 waited for lock"
            " meanwhile",
        )
    ]
    assert report.findings.filter(kind="lock-held-while-blocked")["site"].to_list() == ["app.py:12"]


def test_sleeping_with_an_uncontended_lock_is_no_finding(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Nobody waited for the lock during the sleep: nothing to report."""
    take(recorder, "worker-1")
    nap = sleep(recorder, "worker-1", 0.5)
    woke(recorder, nap)
    release(recorder, "worker-1")
    wait = recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "lock", thread="worker-2", timeout=None)
    recorder.finish(wait, result=True, timed_out=False)
    assert report_of(recorder).counts["lock-held-while-blocked"] == 0


def test_waiting_on_an_event_with_the_lock_names_every_waiter(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A wait() on an Event inside the lock, still blocked at the end, with two threads queued."""
    take(recorder, "Thread-1")
    wait = recorder.wait("ready", thread="Thread-1", site="app.py:20")
    recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "lock", thread="Thread-2", timeout=None)
    recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "lock", thread="Thread-3", timeout=None)
    report = report_of(recorder, end=False)
    assert found(report, "lock-held-while-blocked") == [
        (
            "lock-held-while-blocked",
            "warning",
            wait,
            "Thread-1",
            "held lock while waiting on event ready, still at it after 2 ms when the trace"
            " ended; Thread-2 and 1 other thread waited for lock meanwhile",
        )
    ]


def test_a_condition_wait_on_the_lock_itself_releases_it(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Condition.wait() on a Condition built on the lock releases it: no finding."""
    take(recorder, "Thread-1")
    wait = recorder.begin(schema.COND_WAIT_BEGIN, "cond", thread="Thread-1", timeout=None)
    release(recorder, "Thread-1")
    other = recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "lock", thread="Thread-2", timeout=None)
    recorder.finish(other, result=True, timed_out=False)
    recorder.op(schema.COND_NOTIFY, "cond", thread="Thread-2", waiters=1, woken=1, all=False)
    release(recorder, "Thread-2")
    take(recorder, "Thread-1")
    recorder.finish(wait, result=True, timed_out=False, woken_by=None)
    release(recorder, "Thread-1")
    assert report_of(recorder).counts["lock-held-while-blocked"] == 0


def test_waiting_for_a_second_lock_is_nested_locking_not_this(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Holding a while waiting for b, with a third thread waiting for a, is ordinary nesting."""
    take(recorder, "Thread-9", "b")
    take(recorder, "Thread-1", "a")
    inner = recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "b", thread="Thread-1", timeout=None)
    outer = recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "a", thread="Thread-2", timeout=None)
    release(recorder, "Thread-9", "b")
    recorder.finish(inner, result=True, timed_out=False)
    release(recorder, "Thread-1", "b")
    release(recorder, "Thread-1", "a")
    recorder.finish(outer, result=True, timed_out=False)
    assert report_of(recorder).counts["lock-held-while-blocked"] == 0


def test_a_rlock_held_at_two_levels_is_held_until_the_last_release(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """An RLock released once of twice is still held: the sleep after it counts."""
    take(recorder, "Thread-1")
    take(recorder, "Thread-1")
    release(recorder, "Thread-1")
    nap = sleep(recorder, "Thread-1", 0.01)
    wait = recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "lock", thread="Thread-2", timeout=None)
    woke(recorder, nap)
    release(recorder, "Thread-1")
    recorder.finish(wait, result=True, timed_out=False)
    assert [seq for _, _, seq, _, _ in found(report_of(recorder), "lock-held-while-blocked")] == [
        nap
    ]
