"""Thread.join while recording: a join that waits is a begin/end pair named by the thread."""

from __future__ import annotations

import threading

import pytest

from tests.tracer.blocked import blocked_in
from tests.tracer.handshake import wait_until
from tracer.testing import capture


def test_join_of_a_live_thread_waits_for_its_end() -> None:
    """Joining a running thread writes begin, then end after the thread's last line."""
    go = threading.Event()
    with capture() as trace:
        worker = threading.Thread(target=go.wait, name="worker", daemon=True)
        worker.start()
        joiner = threading.Thread(target=lambda: worker.join(), name="joiner", daemon=True)
        joiner.start()
        wait_until(lambda: blocked_in("thread.join.begin", "worker") == 1)
        go.set()
        joiner.join()
    (begin,) = trace.events("thread.join.begin", obj="worker")
    (end,) = trace.events("thread.join.end", obj="worker")
    (worker_end,) = trace.events("thread.end", thread="worker")
    assert (begin["thread"], begin["timeout"]) == ("joiner", None)
    assert begin["site"].startswith("test_join.py:")
    assert end["begin_seq"] == begin["seq"]
    assert (end["result"], end["timed_out"], end["error"]) == (True, False, None)
    assert begin["seq"] < worker_end["seq"] < end["seq"]


def test_join_of_a_finished_thread_writes_nothing() -> None:
    """Joining a thread that has already ended returns at once and writes no line."""
    with capture() as trace:
        t = threading.Thread(target=lambda: None)
        t.start()
        wait_until(lambda: not t.is_alive())
        t.join()
    assert not trace.events("thread.join.begin", "thread.join.end")


def test_join_that_times_out() -> None:
    """A join(timeout) on a thread that runs on ends with result false and timed_out."""
    go = threading.Event()
    with capture() as trace:
        worker = threading.Thread(target=go.wait, name="slow", daemon=True)
        worker.start()
        worker.join(0.01)
        go.set()
        worker.join()
    first, second = trace.events("thread.join.end", obj="slow")
    (begin, _) = trace.events("thread.join.begin", obj="slow")
    assert begin["timeout"] == 0.01 and begin["site"].startswith("test_join.py:")
    assert (first["result"], first["timed_out"]) == (False, True)
    assert (second["result"], second["timed_out"]) == (True, False)


def test_refused_joins_raise_unrecorded() -> None:
    """Joining the current thread or an unstarted one raises as threading does, writing nothing."""
    with capture() as trace:
        with pytest.raises(RuntimeError):
            threading.current_thread().join()
        with pytest.raises(RuntimeError):
            threading.Thread(target=lambda: None).join()
    assert not trace.events("thread.join.begin", "thread.join.end")


def test_join_hook_is_removed_after_recording() -> None:
    """Thread.join is threading's own again once the recording ends."""
    before = threading.Thread.join
    with capture():
        assert threading.Thread.join is not before
    assert threading.Thread.join is before


def test_a_bad_timeout_gets_threadings_own_error() -> None:
    """A timeout join() cannot use raises threading's TypeError, not one of ours."""
    go = threading.Event()
    with capture() as trace:
        worker = threading.Thread(target=go.wait, daemon=True)
        worker.start()
        with pytest.raises(TypeError):
            worker.join("soon")  # type: ignore[arg-type]
        go.set()
        worker.join()
    first, _ = trace.events("thread.join.end")
    assert (first["result"], first["timed_out"], first["error"]) == (False, False, "TypeError")
