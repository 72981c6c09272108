"""tracer.Semaphore and BoundedSemaphore: counts after each operation, waits, over-release."""

from __future__ import annotations

import threading

import pytest

import tracer
from tests.tracer.blocked import blocked_in
from tests.tracer.handshake import wait_until
from tracer.testing import capture

SEM_EVENTS = ("sem.acquire", "sem.acquire.begin", "sem.acquire.end", "sem.release")


def test_behaves_as_threading_semaphore_without_recording() -> None:
    """With no recording running, the drop-ins keep threading's semaphores' semantics."""
    sem = tracer.Semaphore(2)
    assert isinstance(sem, threading.Semaphore)
    assert sem.acquire() and sem.acquire()
    assert sem.acquire(blocking=False) is False
    assert sem.acquire(timeout=0.001) is False
    sem.release(2)
    with sem:
        assert sem._value == 1
    bounded = tracer.BoundedSemaphore(1)
    assert isinstance(bounded, threading.BoundedSemaphore)
    assert isinstance(bounded, tracer.Semaphore)
    with pytest.raises(ValueError):
        bounded.release()
    with pytest.raises(ValueError):
        tracer.Semaphore(-1)


def test_counts_after_each_operation() -> None:
    """Each acquire and release line carries the counter as the operation left it."""
    sem = tracer.Semaphore(2, name="slots")
    with capture() as trace:
        sem.acquire()
        sem.acquire()
        assert sem.acquire(blocking=False) is False
        sem.release(2)
    assert [(e["event"], e.get("result"), e["count"]) for e in trace.events(*SEM_EVENTS)] == [
        ("sem.acquire", True, 1),
        ("sem.acquire", True, 0),
        ("sem.acquire", False, 0),
        ("sem.release", None, 2),
    ]
    assert all(e["obj"] == sem.name for e in trace.events(*SEM_EVENTS))
    assert all(e["site"].startswith("test_semaphore.py:") for e in trace.events(*SEM_EVENTS))


def test_with_statement_is_an_acquire_and_a_release() -> None:
    """``with sem:`` writes one acquire and one release, sited at the with."""
    sem = tracer.Semaphore()
    with capture() as trace, sem:
        pass
    acquire, release = trace.events(*SEM_EVENTS)
    assert (acquire["event"], acquire["count"]) == ("sem.acquire", 0)
    assert (release["event"], release["count"], release["error"]) == ("sem.release", 1, None)
    assert acquire["site"] == release["site"]


def test_waiting_acquire_ends_after_the_release_that_fed_it() -> None:
    """An acquire on a zero counter is a begin, and its end follows the release."""
    sem = tracer.Semaphore(0, name="empty")
    with capture() as trace:
        waiter = threading.Thread(target=sem.acquire, name="waiter", daemon=True)
        waiter.start()
        wait_until(lambda: blocked_in("sem.acquire.begin", sem.name) == 1)
        sem.release()
        waiter.join()
    begin, release, end = trace.events(*SEM_EVENTS)
    assert (begin["event"], begin["thread"], begin["count"]) == ("sem.acquire.begin", "waiter", 0)
    assert begin["timeout"] is None
    assert (release["event"], release["count"]) == ("sem.release", 1)
    assert (end["event"], end["begin_seq"], end["count"]) == ("sem.acquire.end", begin["seq"], 0)
    assert (end["result"], end["timed_out"], end["error"]) == (True, False, None)


def test_acquire_that_times_out() -> None:
    """An acquire(timeout) on a zero counter that expires ends timed out."""
    sem = tracer.Semaphore(0)
    with capture() as trace:
        assert sem.acquire(timeout=0.01) is False
    begin, end = trace.events(*SEM_EVENTS)
    assert begin["timeout"] == 0.01
    assert (end["result"], end["timed_out"], end["count"], end["error"]) == (False, True, 0, None)


def test_bounded_over_release_raises_and_is_recorded() -> None:
    """Releasing a BoundedSemaphore past its bound raises ValueError, written as the error."""
    sem = tracer.BoundedSemaphore(1, name="bounded")
    with capture() as trace:
        with sem:
            pass
        with pytest.raises(ValueError):
            sem.release()
    *_, over = trace.events(*SEM_EVENTS)
    assert (over["event"], over["count"], over["error"]) == ("sem.release", 1, "ValueError")
    assert sem._value == 1


def test_internals_are_raw_even_when_threading_is_patched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A semaphore made while threading's Lock and Condition are traced writes only sem lines."""
    with monkeypatch.context() as patched:
        # Only while it is built: threading.Semaphore.__init__ would read these.
        patched.setattr(threading, "Lock", tracer.Lock)
        patched.setattr(threading, "Condition", tracer.Condition)
        sem = tracer.Semaphore(0)
    with capture() as trace:
        sem.release()
        sem.acquire()
    assert [e["event"] for e in trace.events() if "obj" in e] == ["sem.release", "sem.acquire"]
