"""Thread lifecycle lines: start (with parent and site), end, uncaught exceptions."""

from __future__ import annotations

import sys
import threading

import pytest

from tracer.testing import capture


def test_thread_start_and_end_are_written_by_the_thread() -> None:
    """A thread's first line is thread.start naming its parent and where start() was called."""
    with capture() as trace:
        t = threading.Thread(target=lambda: None, name="worker", daemon=True)
        t.start()
        t.join()
    start, end = trace.events("thread.start", "thread.end")
    assert start["thread"] == end["thread"] == "worker"
    assert start["parent"] == "MainThread" and start["daemon"] is True
    assert start["site"].startswith("test_threads.py:")
    assert start["seq"] < end["seq"]


def test_uncaught_exception_is_recorded_with_type_and_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception that ends run() is written with its type, message and raising line."""
    seen: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_type.__name__))

    def fail() -> None:
        raise LookupError("nothing here")

    with capture() as trace:
        t = threading.Thread(target=fail, name="failing")
        t.start()
        t.join()
    (exc,) = trace.events("thread.exception")
    assert (exc["thread"], exc["exc_type"], exc["exc_msg"]) == (
        "failing",
        "LookupError",
        "nothing here",
    )
    assert exc["site"].startswith("test_threads.py:")
    # The program's own excepthook still runs after ours.
    assert seen == ["LookupError"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_system_exit_in_a_thread_is_not_an_exception() -> None:
    """sys.exit() in a thread quietly ends it, as threading does: no thread.exception."""
    with capture() as trace:
        t = threading.Thread(target=sys.exit)
        t.start()
        t.join()
    assert not trace.events("thread.exception")
    assert trace.events("thread.end")


def test_hooks_are_removed_after_recording() -> None:
    """threading's start, bootstrap and excepthook are restored when the recording ends."""
    before = (threading.Thread.start, threading.excepthook)
    with capture():
        assert threading.Thread.start is not before[0]
    assert (threading.Thread.start, threading.excepthook) == before
