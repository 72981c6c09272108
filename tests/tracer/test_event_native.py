"""tracer.Event's native fast paths (Sink.event_set, event_clear, event_wait): the same lines."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import tracer
from synctrace import schema
from tests.tracer.handshake import blocked_waiters, wait_until
from tracer.primitives import event as event_module
from tracer.recording import capture as sink_choice
from tracer.recording import recorder
from tracer.testing import capture

needs_native = pytest.mark.skipif(
    not sink_choice.NATIVE, reason="the native sink is not in use (not built, or SYNCTRACE_PURE=1)"
)

RUN_FIELDS = ("ts", "thread_id")
EVENT = (
    schema.EVENT_SET,
    schema.EVENT_CLEAR,
    schema.EVENT_IS_SET,
    schema.EVENT_WAIT_BEGIN,
    schema.EVENT_WAIT_END,
)


def script() -> list[dict[str, Any]]:
    """Sets, clears and waits of every kind (some the fast paths decline), as lines."""
    ev = tracer.Event(name="ev")
    # A waiter from before the recording waits on the Condition unrecorded:
    # the first set() must notify it, which only the Python path does.
    early = threading.Thread(target=ev.wait, name="early")
    early.start()
    wait_until(lambda: len(ev._cond._waiters) == 1)  # type: ignore[attr-defined]
    with capture() as trace:
        ev.set()
        early.join()
        ev.set()
        for timeout in (None, 0, 1, 2.5, -1.0, float("inf"), True, 10**400):
            if timeout == 10**400:
                with pytest.raises(OverflowError):
                    ev.wait(timeout)
            else:
                assert ev.wait(timeout) is True
        assert ev.is_set()
        ev.clear()
        ev.clear()
        assert ev.wait(0) is False
        # A recorded waiter blocked: the set() that releases it names itself.
        waiter = threading.Thread(target=ev.wait, name="waiter")
        waiter.start()
        wait_until(lambda: blocked_waiters(ev) == 1)
        ev.set()
        waiter.join()
        ev.set()
        ev.clear()
    return [{k: v for k, v in line.items() if k not in RUN_FIELDS} for line in trace.events(*EVENT)]


@needs_native
def test_fast_paths_write_the_python_paths_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same sets, clears and waits write the same lines with the fast paths on and off."""
    fast = script()
    monkeypatch.setattr(event_module, "_NATIVE", False)
    slow = script()
    assert [line["event"] for line in fast] == [line["event"] for line in slow]
    assert fast == slow
    assert [list(line) for line in fast] == [list(line) for line in slow]


@needs_native
def test_fast_paths_change_the_state_as_the_python_path_does() -> None:
    """event_set, event_clear and event_wait leave _flag, _seen and _waiting as Python would."""
    ev = tracer.Event()
    with capture():
        rec = recorder.current
        assert rec is not None
        assert rec.sink.event_set(ev) is None
        assert (ev._flag, ev._seen, ev._waiting) == (True, False, {})
        assert rec.sink.event_wait(ev, None) is True
        assert (ev._flag, ev._seen, ev._waiting) == (True, True, {})
        assert rec.sink.event_clear(ev) is None
        assert (ev._flag, ev._seen) == (False, True)
        assert rec.sink.event_wait(ev, None) is NotImplemented
        assert rec.blocked == {}


@needs_native
def test_a_busy_lock_declines_and_changes_nothing() -> None:
    """While another thread holds the Event's lock, the fast paths do nothing."""
    ev = tracer.Event()
    ev.set()
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with ev._cond:
            held.set()
            done.wait()

    with capture() as trace:
        rec = recorder.current
        assert rec is not None
        holder = threading.Thread(target=hold)
        holder.start()
        held.wait()
        try:
            assert rec.sink.event_set(ev) is NotImplemented
            assert rec.sink.event_wait(ev, None) is NotImplemented
            assert rec.sink.event_clear(ev) is NotImplemented
            assert ev._flag is True and ev._seen is True
        finally:
            done.set()
            holder.join()
    assert trace.events(*EVENT) == []


@needs_native
def test_an_odd_object_declines() -> None:
    """An Event whose insides are not what tracer.Event keeps is left to the Python path."""
    ev = tracer.Event()
    with capture() as trace:
        rec = recorder.current
        assert rec is not None
        ev._flag = 1  # type: ignore[assignment]
        assert rec.sink.event_set(ev) is NotImplemented
        ev._flag = True
        ev._cond = threading.Condition(threading.RLock())
        assert rec.sink.event_clear(ev) is NotImplemented
        assert rec.sink.event_set(object()) is NotImplemented
    assert trace.events(*EVENT) == []
