"""tracer.Condition: waits, notifies, and which notify released which waiter."""

from __future__ import annotations

import threading

import pytest

import tracer
from tests.tracer.handshake import blocked_waiters, wait_until
from tracer.testing import capture


def test_notify_with_no_waiter_is_recorded() -> None:
    """A notify() that reaches nobody is written with waiters=0, woken=0."""
    cond = tracer.Condition(name="c")
    with capture() as trace, cond:
        cond.notify()
    (line,) = trace.events("cond.notify")
    assert (line["waiters"], line["woken"], line["all"]) == (0, 0, False)


def test_notify_releases_the_oldest_waiter_and_names_itself() -> None:
    """notify(1) releases the first waiter; its wait end carries the notify's seq."""
    cond = tracer.Condition()
    order: list[str] = []

    def waiter(name: str) -> None:
        with cond:
            cond.wait()
            order.append(name)

    with capture() as trace:
        first = threading.Thread(target=waiter, args=("first",), name="first")
        first.start()
        wait_until(lambda: blocked_waiters(cond) == 1)
        second = threading.Thread(target=waiter, args=("second",), name="second")
        second.start()
        wait_until(lambda: blocked_waiters(cond) == 2)
        with cond:
            cond.notify()
        first.join()
        with cond:
            cond.notify_all()
        second.join()
    one, every = trace.events("cond.notify")
    assert (one["waiters"], one["woken"], one["all"]) == (2, 1, False)
    assert (every["waiters"], every["woken"], every["all"]) == (1, 1, True)
    ends = {e["thread"]: e["woken_by"] for e in trace.events("cond.wait.end")}
    assert ends == {"first": one["seq"], "second": every["seq"]}
    assert order == ["first", "second"]


def test_wait_for_is_recorded_as_its_waits_with_the_callers_site() -> None:
    """wait_for() appears as the wait() calls it makes, sited at the caller's line."""
    cond = tracer.Condition()
    with capture() as trace, cond:
        assert cond.wait_for(lambda: False, timeout=0.01) is False
    ends = trace.events("cond.wait.end")
    assert ends and all(e["timed_out"] for e in ends)
    assert all(e["site"].startswith("test_condition.py:") for e in trace.events("cond.wait.begin"))


def test_wait_without_the_lock_raises_unrecorded() -> None:
    """wait() on an unowned condition raises threading's RuntimeError and writes nothing."""
    cond = tracer.Condition()
    with capture() as trace, pytest.raises(RuntimeError):
        cond.wait()
    assert not trace.events("cond.wait.begin")


def test_behaves_as_condition_with_a_given_lock() -> None:
    """A Condition over the caller's lock is a threading.Condition using that lock."""
    lock = threading.Lock()
    cond = tracer.Condition(lock)
    assert isinstance(cond, threading.Condition)
    with cond:
        assert lock.locked()
        assert cond.wait(0) is False


def test_notify_all_under_tracer_run_is_one_line() -> None:
    """notify_all() on the Condition tracer run substitutes is one line with all=true, not two."""
    from tracer.run import patch as _patch

    with capture() as trace:
        _patch.install()
        try:
            cond = threading.Condition()
            released: list[str] = []

            def waiter() -> None:
                with cond:
                    cond.wait()
                    released.append(threading.current_thread().name)

            threads = [threading.Thread(target=waiter, name=f"w{k}") for k in range(2)]
            for t in threads:
                t.start()
            wait_until(lambda: blocked_waiters(cond) == 2)
            with cond:
                cond.notify_all()
            for t in threads:
                t.join()
        finally:
            _patch.uninstall()
    (line,) = trace.events("cond.notify")
    assert (line["waiters"], line["woken"], line["all"]) == (2, 2, True)
    assert sorted(released) == ["w0", "w1"]
