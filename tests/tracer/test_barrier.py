"""tracer.Barrier: each wait is a begin/end pair with the arrival index or the error."""

from __future__ import annotations

import threading

import pytest

import tracer
from tests.tracer.blocked import blocked_in
from tests.tracer.handshake import wait_until
from tracer.testing import capture


def test_behaves_as_threading_barrier_without_recording() -> None:
    """With no recording running, the drop-in is a threading.Barrier."""
    barrier = tracer.Barrier(1)
    assert isinstance(barrier, threading.Barrier)
    assert barrier.parties == 1 and barrier.n_waiting == 0
    assert barrier.wait() == 0
    with pytest.raises(threading.BrokenBarrierError):
        tracer.Barrier(2).wait(timeout=0.001)


def test_two_threads_meet() -> None:
    """Two parties: two begins in arrival order, two ends with indexes 0 and 1."""
    barrier = tracer.Barrier(2, name="meet")
    with capture() as trace:
        first = threading.Thread(target=barrier.wait, name="first", daemon=True)
        first.start()
        wait_until(lambda: blocked_in("barrier.wait.begin", barrier.name) == 1)
        assert barrier.wait() == 1
        first.join()
    begins = trace.events("barrier.wait.begin")
    assert [(b["thread"], b["parties"], b["timeout"]) for b in begins] == [
        ("first", 2, None),
        ("MainThread", 2, None),
    ]
    ends = {e["thread"]: e for e in trace.events("barrier.wait.end")}
    assert (ends["first"]["index"], ends["MainThread"]["index"]) == (0, 1)
    assert ends["first"]["begin_seq"] == begins[0]["seq"]
    assert all(e["error"] is None for e in ends.values())
    assert begins[1]["site"].startswith("test_barrier.py:")


def test_a_wait_that_times_out_breaks_the_barrier() -> None:
    """A lone wait that times out ends with BrokenBarrierError and no index."""
    barrier = tracer.Barrier(2, timeout=0.01)
    with capture() as trace, pytest.raises(threading.BrokenBarrierError):
        barrier.wait()
    (begin,) = trace.events("barrier.wait.begin")
    (end,) = trace.events("barrier.wait.end")
    assert begin["timeout"] == 0.01  # the barrier's default, which this wait used
    assert (end["index"], end["error"]) == (None, "BrokenBarrierError")
