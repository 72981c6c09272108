"""Deadlocks: threads blocked on each other's locks (or joins) in a cycle when the trace ended."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tracebuild import Recorder, found

from analyze import Report
from analyze.findings.deadlock import MAX_CYCLE
from synctrace import schema

ReportOf = Callable[..., Report]


def take(rec: Recorder, lock: str, thread: str) -> int:
    """``thread`` acquires ``lock`` without waiting."""
    return rec.op(schema.LOCK_ACQUIRE, lock, thread=thread, result=True)


def release(rec: Recorder, lock: str, thread: str) -> int:
    return rec.op(schema.LOCK_RELEASE, lock, thread=thread, error=None)


def block(rec: Recorder, lock: str, thread: str, **kw: object) -> int:
    """``thread`` starts waiting for ``lock``."""
    return rec.begin(schema.LOCK_ACQUIRE_BEGIN, lock, thread=thread, **{"timeout": None, **kw})


def crossed(rec: Recorder) -> tuple[int, int]:
    """Thread-1 holds a and waits for b, Thread-2 holds b and waits for a: the begins' seqs."""
    take(rec, "a", "Thread-1")
    take(rec, "b", "Thread-2")
    first = block(rec, "b", "Thread-1", site="one.py:7")
    second = block(rec, "a", "Thread-2", site="two.py:9")
    return first, second


CROSSED = "Thread-1 holds a and waits for b; Thread-2 holds b and waits for a"


def test_two_locks_taken_in_opposite_orders_deadlock(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Two threads each holding the lock the other waits for are one deadlock, which tells
    both waits: neither is a hang of its own."""
    _, second = crossed(recorder)
    report = report_of(recorder)
    assert found(report, "deadlock") == [("deadlock", "error", second, "Thread-2", CROSSED)]
    assert report.findings.filter(kind="deadlock").select("obj", "site").rows() == [
        ("a", "two.py:9")
    ]
    assert found(report, "hang") == []
    assert report.counts["deadlock"] == 1
    # Told once, and first: the deadlock is the report's one cause.
    assert report.causes["kind"].to_list() == ["deadlock"]


def test_dining_philosophers_are_one_deadlock_from_the_first_to_block(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Three threads in a ring are one finding naming all three, from the first that blocked."""
    take(recorder, "f1", "Thread-1")
    take(recorder, "f2", "Thread-2")
    # Thread-3 had to wait for its first fork, and got it.
    waited = block(recorder, "f3", "Thread-3")
    recorder.finish(waited, result=True, timed_out=False)
    block(recorder, "f3", "Thread-2")
    block(recorder, "f2", "Thread-1")
    last = block(recorder, "f1", "Thread-3")
    report = report_of(recorder)
    assert found(report, "deadlock") == [
        (
            "deadlock",
            "error",
            last,
            "Thread-3",
            "Thread-2 holds f2 and waits for f3; Thread-3 holds f3 and waits for f1;"
            " Thread-1 holds f1 and waits for f2",
        ),
    ]


def test_waiting_for_a_thread_that_is_not_blocked_is_no_deadlock(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A lock held by a thread that is not blocked may yet be freed: only blocked at the end."""
    take(recorder, "a", "Thread-1")
    take(recorder, "b", "Thread-2")
    block(recorder, "a", "Thread-2")
    report = report_of(recorder)
    assert found(report, "deadlock") == []
    assert (report.counts["hang"], report.counts["blocked-at-end"]) == (0, 1)


def test_holder_blocked_on_an_event_is_no_deadlock(recorder: Recorder, report_of: ReportOf) -> None:
    """A holder blocked in an event's wait() waits for no thread in particular: no deadlock."""
    take(recorder, "a", "Thread-1")
    recorder.wait("ready", thread="Thread-1")
    block(recorder, "a", "Thread-2")
    assert found(report_of(recorder), "deadlock") == []


def test_semaphores_have_no_holder(recorder: Recorder, report_of: ReportOf) -> None:
    """A semaphore has no holder: waiting for one closes no cycle, even if its taker waits on us."""
    take(recorder, "a", "Thread-1")
    recorder.op(schema.SEM_ACQUIRE, "slots", thread="Thread-2", result=True, count=0)
    recorder.begin(schema.SEM_ACQUIRE_BEGIN, "slots", thread="Thread-1", timeout=None, count=0)
    block(recorder, "a", "Thread-2")
    report = report_of(recorder)
    assert found(report, "deadlock") == []
    assert report.counts["hang"] == 2


def test_released_lock_has_no_holder(recorder: Recorder, report_of: ReportOf) -> None:
    """A lock released before the end is held by nobody, so waiting for it closes no cycle."""
    take(recorder, "a", "Thread-1")
    take(recorder, "b", "Thread-2")
    release(recorder, "a", "Thread-1")
    block(recorder, "b", "Thread-1")
    block(recorder, "a", "Thread-2")
    assert found(report_of(recorder), "deadlock") == []


def test_failed_release_does_not_count(recorder: Recorder, report_of: ReportOf) -> None:
    """A release that raised (of a lock the thread did not hold) leaves the holder holding it."""
    take(recorder, "a", "Thread-1")
    take(recorder, "b", "Thread-2")
    recorder.op(schema.LOCK_RELEASE, "b", thread="Thread-1", error="RuntimeError")
    block(recorder, "b", "Thread-1")
    second = block(recorder, "a", "Thread-2")
    assert found(report_of(recorder), "deadlock") == [
        ("deadlock", "error", second, "Thread-2", CROSSED)
    ]


def test_rlock_acquired_twice_and_released_once_is_still_held(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """An RLock's levels balance: two acquires and one release leave its owner holding it."""
    take(recorder, "r", "Thread-1")
    take(recorder, "r", "Thread-1")
    release(recorder, "r", "Thread-1")
    take(recorder, "b", "Thread-2")
    block(recorder, "b", "Thread-1")
    second = block(recorder, "r", "Thread-2")
    assert found(report_of(recorder), "deadlock") == [
        (
            "deadlock",
            "error",
            second,
            "Thread-2",
            "Thread-1 holds r and waits for b; Thread-2 holds b and waits for r",
        ),
    ]


def test_acquire_that_timed_out_breaks_the_cycle(recorder: Recorder, report_of: ReportOf) -> None:
    """An acquire that gave up is no longer a wait: no deadlock; its thread runs on, and may
    yet release the lock the other waits for, so that wait is blocked at the end, not hung."""
    take(recorder, "a", "Thread-1")
    take(recorder, "b", "Thread-2")
    gave_up = block(recorder, "b", "Thread-1", timeout=0.5)
    stuck = block(recorder, "a", "Thread-2")
    recorder.finish(gave_up, result=False, timed_out=True, after=500_000_000)
    report = report_of(recorder)
    assert found(report, "deadlock") == []
    assert found(report, "hang") == []
    assert [seq for _, _, seq, _, _ in found(report, "blocked-at-end")] == [stuck]


def test_a_wait_with_a_timeout_closes_no_cycle(recorder: Recorder, report_of: ReportOf) -> None:
    """A ring whose one wait has a timeout is no deadlock: that wait returns by itself."""
    take(recorder, "a", "Thread-1")
    take(recorder, "b", "Thread-2")
    block(recorder, "b", "Thread-1", timeout=0.5)
    block(recorder, "a", "Thread-2")
    report = report_of(recorder, end=False)
    assert found(report, "deadlock") == []
    assert (report.counts["hang"], report.counts["blocked-at-end"]) == (0, 2)


def test_join_behind_a_deadlock_is_not_part_of_it(recorder: Recorder, report_of: ReportOf) -> None:
    """MainThread joining a deadlocked thread hangs behind the cycle: one deadlock on the two,
    and the join's hang, listed after the deadlock that explains it."""
    _, second = crossed(recorder)
    joined = recorder.begin(schema.THREAD_JOIN_BEGIN, "Thread-1", timeout=None)
    report = report_of(recorder)
    assert found(report, "deadlock") == [("deadlock", "error", second, "Thread-2", CROSSED)]
    assert report.findings.filter(kind="hang")["seq"].to_list() == [joined]
    assert report.causes["kind"].to_list() == ["deadlock", "hang"]


def test_join_can_close_a_cycle(recorder: Recorder, report_of: ReportOf) -> None:
    """A thread that holds a lock and joins the thread waiting for it deadlocks with it."""
    take(recorder, "a", "Thread-1")
    recorder.begin(schema.THREAD_JOIN_BEGIN, "Thread-2", thread="Thread-1", timeout=None)
    second = block(recorder, "a", "Thread-2")
    assert found(report_of(recorder), "deadlock") == [
        (
            "deadlock",
            "error",
            second,
            "Thread-2",
            "Thread-1 holds a and waits for Thread-2 to end; Thread-2 waits for a",
        ),
    ]


def test_thread_waiting_for_a_lock_it_holds_deadlocks_alone(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Acquiring a plain Lock the thread already holds blocks it forever: a deadlock of one."""
    take(recorder, "a", "Thread-1")
    again = block(recorder, "a", "Thread-1")
    assert found(report_of(recorder), "deadlock") == [
        ("deadlock", "error", again, "Thread-1", "Thread-1 holds a and waits for a"),
    ]


def test_two_cycles_are_two_deadlocks(recorder: Recorder, report_of: ReportOf) -> None:
    """Two separate cycles in one run are two findings, each at its own last blocked thread."""
    _, second = crossed(recorder)
    take(recorder, "c", "Thread-3")
    take(recorder, "d", "Thread-4")
    block(recorder, "d", "Thread-3")
    fourth = block(recorder, "c", "Thread-4")
    assert found(report_of(recorder), "deadlock") == [
        ("deadlock", "error", second, "Thread-2", CROSSED),
        (
            "deadlock",
            "error",
            fourth,
            "Thread-4",
            "Thread-3 holds c and waits for d; Thread-4 holds d and waits for c",
        ),
    ]


@pytest.mark.parametrize(("size", "cycles"), [(MAX_CYCLE, 1), (MAX_CYCLE + 1, 0)])
def test_longest_ring_found_is_max_cycle(
    recorder: Recorder, report_of: ReportOf, size: int, cycles: int
) -> None:
    """A ring of up to MAX_CYCLE threads is a deadlock; a longer one is left to the hangs,
    one a thread."""
    threads = [f"Thread-{i}" for i in range(1, size + 1)]
    for i, thread in enumerate(threads):
        take(recorder, f"f{i}", thread)
    for i, thread in enumerate(threads):
        block(recorder, f"f{(i + 1) % size}", thread)
    report = report_of(recorder)
    assert report.counts["deadlock"] == cycles
    assert report.counts["hang"] == (0 if cycles else size)


def test_runs_never_make_a_cycle_together(report_of: ReportOf) -> None:
    """Half a cycle in each of two files is no deadlock: the threads lived in different runs."""
    one, two = Recorder(), Recorder()
    take(one, "a", "Thread-1")
    block(one, "b", "Thread-1")
    take(two, "b", "Thread-2")
    block(two, "a", "Thread-2")
    report = report_of(one, two)
    assert found(report, "deadlock") == []
    assert report.counts["hang"] == 2
