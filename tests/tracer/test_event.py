"""tracer.Event: what set, clear, wait and is_set record, and that it is an Event."""

from __future__ import annotations

import threading

import pytest

import tracer
from tests.tracer.handshake import blocked_waiters, wait_until
from tracer.testing import capture


def test_behaves_as_threading_event_without_recording() -> None:
    """With no recording running, the drop-in keeps threading.Event's semantics."""
    ev = tracer.Event()
    assert isinstance(ev, threading.Event)
    assert not ev.is_set()
    assert ev.wait(0) is False
    ev.set()
    assert ev.is_set() and ev.wait() is True
    ev.clear()
    assert not ev.is_set()


def test_set_with_a_waiter_records_the_waiter_and_who_woke_it() -> None:
    """A set() releasing a blocked waiter says waiters=1, and the wait's end names that set."""
    ev = tracer.Event(name="ready")
    with capture() as trace:
        waiter = threading.Thread(target=ev.wait, name="waiter")
        waiter.start()
        wait_until(lambda: blocked_waiters(ev) == 1)
        ev.set()
        waiter.join()
    (begin,) = trace.events("event.wait.begin")
    (set_,) = trace.events("event.set")
    (end,) = trace.events("event.wait.end")
    assert begin["flag"] is False and begin["timeout"] is None and begin["thread"] == "waiter"
    assert set_["waiters"] == 1 and set_["flag"] is False and set_["obj"] == "ready"
    assert end["begin_seq"] == begin["seq"]
    assert end["woken_by"] == set_["seq"]
    assert end["result"] is True and end["timed_out"] is False and end["error"] is None


def test_set_then_clear_with_no_waiter() -> None:
    """A pulse with nobody waiting records waiters=0 and the flag before each call."""
    ev = tracer.Event(name="pulse")
    with capture() as trace:
        ev.set()
        ev.clear()
    set_, clear = trace.events("event.set", "event.clear")
    assert (set_["waiters"], set_["flag"]) == (0, False)
    assert clear["flag"] is True
    assert set_["site"].startswith("test_event.py:")


def test_wait_on_a_set_flag_returns_at_once() -> None:
    """A wait() that finds the flag up records flag=True and no waker."""
    ev = tracer.Event()
    ev.set()
    with capture() as trace:
        assert ev.wait(5) is True
    (begin,) = trace.events("event.wait.begin")
    (end,) = trace.events("event.wait.end")
    assert begin["flag"] is True and begin["timeout"] == 5.0
    assert end["result"] is True and end["woken_by"] is None


def test_wait_that_times_out() -> None:
    """A wait(timeout) that expires records timed_out and a false result."""
    ev = tracer.Event()
    with capture() as trace:
        assert ev.wait(0.01) is False
    (end,) = trace.events("event.wait.end")
    assert end["result"] is False and end["timed_out"] is True and end["woken_by"] is None


def test_is_set_is_recorded_once_per_set() -> None:
    """is_set() is written only when it first sees a set: polling loops add no volume."""
    ev = tracer.Event()
    with capture() as trace:
        ev.is_set()  # flag down: nothing to see
        ev.set()
        for _ in range(5):
            assert ev.is_set()
        ev.clear()
        ev.set()
        ev.is_set()
    assert [e["event"] for e in trace.events("event.set", "event.is_set", "event.clear")] == [
        "event.set",
        "event.is_set",
        "event.clear",
        "event.set",
        "event.is_set",
    ]


def test_set_releasing_two_waiters() -> None:
    """Every waiter released by one set() names it; a second set() finds no waiter."""
    ev = tracer.Event()
    with capture() as trace:
        threads = [threading.Thread(target=ev.wait) for _ in range(2)]
        for t in threads:
            t.start()
        wait_until(lambda: blocked_waiters(ev) == 2)
        ev.set()
        ev.set()
        for t in threads:
            t.join()
    first, second = trace.events("event.set")
    assert first["waiters"] == 2 and second["waiters"] == 0 and second["flag"] is True
    assert {e["woken_by"] for e in trace.events("event.wait.end")} == {first["seq"]}


def test_unnamed_events_get_kind_numbers_and_names_stay_unique() -> None:
    """Unnamed objects are Event#n; a name used twice gets a #2 suffix."""
    a, b = tracer.Event(), tracer.Event()
    assert a.name.startswith("Event#") and b.name.startswith("Event#") and a.name != b.name
    first, second = tracer.Event(name="dup-name"), tracer.Event(name="dup-name")
    assert (first.name, second.name) == ("dup-name", "dup-name#2")


def test_blocked_wait_is_listed_in_trace_end() -> None:
    """A thread still blocked when recording stops appears in trace.end's blocked list."""
    ev = tracer.Event(name="never")
    waiter = threading.Thread(target=ev.wait, name="stuck", daemon=True)
    with capture() as trace:
        waiter.start()
        wait_until(lambda: blocked_waiters(ev) == 1)
    ev.set()  # release it after the recording, unrecorded
    waiter.join()
    (blocked,) = trace.end["blocked"]
    assert (blocked["thread"], blocked["obj"], blocked["event"]) == (
        "stuck",
        "never",
        "event.wait.begin",
    )
    assert not trace.events("event.wait.end")


@pytest.mark.parametrize("timeout", [None, 0.5])
def test_wait_seq_order_matches_true_order(timeout: float | None) -> None:
    """The wait's begin precedes the set that wakes it, and its end follows it."""
    ev = tracer.Event()
    with capture() as trace:
        t = threading.Thread(target=ev.wait, args=(timeout,))
        t.start()
        wait_until(lambda: blocked_waiters(ev) == 1)
        ev.set()
        t.join()
    names = [e["event"] for e in trace.events("event.wait.begin", "event.set", "event.wait.end")]
    assert names == ["event.wait.begin", "event.set", "event.wait.end"]


def test_a_name_is_given_back_when_its_object_is_collected() -> None:
    """Building the same named object again, after the first is gone, gives the same name."""
    import gc

    first = tracer.Event(name="reused-name")
    assert first.name == "reused-name"
    del first
    gc.collect()
    assert tracer.Event(name="reused-name").name == "reused-name"
