"""tracer.Lock and tracer.RLock: acquire and release lines, contention and Condition use."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import tracer
from tests.tracer.blocked import blocked_in
from tests.tracer.handshake import wait_until
from tracer.testing import CapturedTrace, capture

LOCK_EVENTS = ("lock.acquire", "lock.acquire.begin", "lock.acquire.end", "lock.release")


def lines(trace: CapturedTrace, **match: Any) -> list[tuple[str, Any]]:
    """(event, result or error) of every lock line, in order."""
    return [
        (e["event"], e["error"] if e["event"] == "lock.release" else e.get("result"))
        for e in trace.events(*LOCK_EVENTS, **match)
    ]


def test_lock_behaves_as_threading_lock_without_recording() -> None:
    """With no recording running, tracer.Lock keeps threading.Lock's semantics."""
    lock = tracer.Lock()
    assert lock.acquire() is True and lock.locked()
    assert lock.acquire(False) is False
    assert lock.acquire(timeout=0.001) is False
    lock.release()
    assert not lock.locked()
    with pytest.raises(RuntimeError):
        lock.release()
    with pytest.raises(ValueError):
        lock.acquire(False, 1)
    with lock:
        assert lock.locked()
    assert not lock.locked()


def test_rlock_behaves_as_threading_rlock_without_recording() -> None:
    """With no recording running, tracer.RLock is reentrant and owned, as threading.RLock."""
    rlock = tracer.RLock()
    with rlock, rlock:
        assert rlock.locked()
        seen: list[bool] = []
        other = threading.Thread(target=lambda: seen.append(rlock.acquire(False)))
        other.start()
        other.join()
        assert seen == [False]
    assert not rlock.locked()
    with pytest.raises(RuntimeError):
        rlock.release()


def test_uncontended_acquire_is_one_line() -> None:
    """Taking a free lock is one lock.acquire line; releasing it one lock.release."""
    lock = tracer.Lock(name="free")
    with capture() as trace, lock:
        pass
    assert lines(trace) == [("lock.acquire", True), ("lock.release", None)]
    assert all(e["obj"] == lock.name for e in trace.events(*LOCK_EVENTS))
    assert all(e["site"].startswith("test_lock.py:") for e in trace.events(*LOCK_EVENTS))


def test_refused_nonblocking_acquire_is_one_line() -> None:
    """acquire(False) on a held lock is one lock.acquire line with result false."""
    lock = tracer.Lock()
    lock.acquire()
    with capture() as trace:
        assert lock.acquire(blocking=False) is False
    lock.release()
    assert lines(trace) == [("lock.acquire", False)]


def test_contended_acquire_is_a_begin_and_an_end_after_the_release() -> None:
    """A thread that waits for a held lock writes begin, then end after the holder's release."""
    lock = tracer.Lock(name="held")

    def take_and_give() -> None:
        with lock:
            pass

    with capture() as trace:
        lock.acquire()
        waiter = threading.Thread(target=take_and_give, name="B", daemon=True)
        waiter.start()
        wait_until(lambda: blocked_in("lock.acquire.begin", lock.name) == 1)
        lock.release()
        waiter.join()
    assert [(e["event"], e["thread"]) for e in trace.events(*LOCK_EVENTS)] == [
        ("lock.acquire", "MainThread"),
        ("lock.acquire.begin", "B"),
        ("lock.release", "MainThread"),
        ("lock.acquire.end", "B"),
        ("lock.release", "B"),
    ]
    (begin,) = trace.events("lock.acquire.begin")
    (end,) = trace.events("lock.acquire.end")
    assert begin["timeout"] is None
    assert end["begin_seq"] == begin["seq"]
    assert (end["result"], end["timed_out"], end["error"]) == (True, False, None)


def test_acquire_that_times_out() -> None:
    """An acquire(timeout) that expires on a held lock ends with timed_out."""
    lock = tracer.Lock()
    lock.acquire()
    with capture() as trace:
        assert lock.acquire(timeout=0.01) is False
    lock.release()
    (begin,) = trace.events("lock.acquire.begin")
    (end,) = trace.events("lock.acquire.end")
    assert begin["timeout"] == 0.01
    assert (end["result"], end["timed_out"], end["error"]) == (False, True, None)


def test_release_of_an_unlocked_lock_raises_and_is_recorded() -> None:
    """Releasing an unlocked lock still raises RuntimeError, written as the release's error."""
    lock = tracer.Lock()
    with capture() as trace, pytest.raises(RuntimeError):
        lock.release()
    assert lines(trace) == [("lock.release", "RuntimeError")]


def test_rlock_reentry_is_a_line_per_level() -> None:
    """Each level of a reentrant acquire and release is a line of its own."""
    rlock = tracer.RLock(name="again")
    with capture() as trace, rlock, rlock:
        pass
    assert lines(trace) == [
        ("lock.acquire", True),
        ("lock.acquire", True),
        ("lock.release", None),
        ("lock.release", None),
    ]


def test_rlock_release_by_a_non_owner_raises_and_is_recorded() -> None:
    """An RLock released by a thread that does not own it raises, written with the error."""
    rlock = tracer.RLock()
    with capture() as trace, pytest.raises(RuntimeError):
        rlock.release()
    assert lines(trace) == [("lock.release", "RuntimeError")]


@pytest.mark.parametrize("kind", [tracer.Lock, tracer.RLock])
def test_condition_over_a_traced_lock_writes_only_real_moves(kind: type[Any]) -> None:
    """threading.Condition over a traced lock works, and writes only real acquires and releases.

    A wait releases the lock and takes it back, so each thread's lines
    alternate acquire, release; no probe (a refused acquire) is written.
    """
    lock = kind(name="guard")
    cond = threading.Condition(lock)
    ready = False
    entered = False

    def waiter() -> None:
        nonlocal entered
        with cond:
            entered = True
            assert cond.wait_for(lambda: ready, timeout=10)

    with capture() as trace:
        t = threading.Thread(target=waiter, name="waiter")
        t.start()
        wait_until(lambda: entered)
        with cond:  # the waiter let go of the lock: it is inside wait()
            ready = True
            cond.notify()
        t.join()
    assert all(e.get("result") is not False for e in trace.events(*LOCK_EVENTS))
    for thread, expected in [("waiter", 2), ("MainThread", 1)]:
        moves = [
            "release" if e["event"] == "lock.release" else "acquire"
            for e in trace.events("lock.acquire", "lock.acquire.end", "lock.release", thread=thread)
        ]
        assert moves == ["acquire", "release"] * expected


def test_a_held_lock_in_a_condition_is_owned() -> None:
    """Condition's ownership check on a traced Lock reads its state, writing nothing."""
    lock = tracer.Lock()
    cond = threading.Condition(lock)
    with capture() as trace:
        with pytest.raises(RuntimeError):
            cond.notify()
        with cond:
            cond.notify()
    assert lines(trace) == [("lock.acquire", True), ("lock.release", None)]
