"""Failed takes and thread exceptions: which failures ended a thread and which were handled."""

from __future__ import annotations

from collections.abc import Callable

from tracebuild import Recorder, found

from analyze import Report
from synctrace import schema

ReportOf = Callable[..., Report]


def test_pop_on_an_empty_list_that_killed_the_thread(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A failed pop followed by the same exception ending the thread is an error, twice over."""
    recorder.append(1, thread="Thread-1")
    recorder.pop(1, thread="Thread-2")
    pop = recorder.pop(None, thread="Thread-2", error="IndexError", site="cook.py:29")
    died = recorder.raised(
        "IndexError", "pop from empty list", thread="Thread-2", site="cook.py:29"
    )
    recorder.line(schema.THREAD_END, thread="Thread-2")
    report = report_of(recorder)
    assert found(report) == [
        (
            "failed-take",
            "error",
            pop,
            "Thread-2",
            "pop() on an empty list raised IndexError, which ended the thread",
        ),
        (
            "thread-exception",
            "error",
            died,
            "Thread-2",
            "the thread ended by an uncaught IndexError: pop from empty list",
        ),
    ]
    assert report.findings["site"].to_list() == ["cook.py:29", "cook.py:29"]
    assert (report.counts["failed-take"], report.counts["thread-exception"]) == (1, 1)


def test_polling_get_with_a_timeout_is_handled(recorder: Recorder, report_of: ReportOf) -> None:
    """get(timeout=...) raising Empty inside a polling loop is info: correct code does this."""
    fails = []
    for _ in range(2):
        begin = recorder.begin(schema.QUEUE_GET_BEGIN, "q", thread="worker", timeout=0.1)
        fails.append(recorder.get(None, thread="worker", error="Empty", after=100_000_000))
        recorder.finish(begin, result=False, timed_out=True)
    recorder.line(schema.THREAD_END, thread="worker")
    report = report_of(recorder)
    assert found(report, "failed-take") == [
        (
            "failed-take",
            "info",
            seq,
            "worker",
            "get() on an empty queue raised Empty, which the program handled",
        )
        for seq in fails
    ]
    assert report.counts["failed-take"] == 2


def test_timed_out_get_that_killed_the_thread(recorder: Recorder, report_of: ReportOf) -> None:
    """The get.end line between a failed get and the thread's exception does not hide it."""
    begin = recorder.begin(schema.QUEUE_GET_BEGIN, "q", thread="worker", timeout=0.1)
    get = recorder.get(None, thread="worker", error="Empty", after=100_000_000)
    recorder.finish(begin, result=False, timed_out=True)
    recorder.raised("Empty", thread="worker")
    assert found(report_of(recorder)) == [
        (
            "failed-take",
            "error",
            get,
            "worker",
            "get() on an empty queue raised Empty, which ended the thread",
        ),
        ("thread-exception", "error", get + 2, "worker", "the thread ended by an uncaught Empty"),
    ]


def test_remove_of_a_missing_value_is_handled(recorder: Recorder, report_of: ReportOf) -> None:
    """remove() of a value not in the list, caught by the program, is info."""
    recorder.append(1)
    seq = recorder.move(schema.LIST_REMOVE, None, error="ValueError", depth=1)
    recorder.pop(1)
    assert found(report_of(recorder), "failed-take") == [
        (
            "failed-take",
            "info",
            seq,
            "MainThread",
            "remove() of a value not in the list raised ValueError, which the program handled",
        ),
    ]


def test_pop_past_the_end_says_how_many_items_there_were(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """pop(i) with i out of range on a non-empty list is not called a pop on an empty list."""
    recorder.append(1)
    recorder.append(2)
    seq = recorder.pop(None, error="IndexError", depth=2)
    assert found(report_of(recorder), "failed-take") == [
        (
            "failed-take",
            "info",
            seq,
            "MainThread",
            "pop() with an index past the end of the list (2 items) raised IndexError, which the"
            " program handled",
        ),
    ]


def test_failed_pop_that_ended_the_run(recorder: Recorder, report_of: ReportOf) -> None:
    """In the thread that started the trace, the exception ends the run: trace.end names it."""
    seq = recorder.pop(None, error="IndexError")
    recorder.end(reason="exception", detail="IndexError", exit_code=1)
    assert found(report_of(recorder)) == [
        (
            "failed-take",
            "error",
            seq,
            "MainThread",
            "pop() on an empty list raised IndexError, which ended the run",
        ),
    ]


def test_main_thread_that_went_on_handled_it(recorder: Recorder, report_of: ReportOf) -> None:
    """A later line of the main thread means its failed pop did not end the run."""
    seq = recorder.pop(None, error="IndexError")
    recorder.append(1)
    recorder.pop(1)
    recorder.end(reason="exception", detail="IndexError", exit_code=1)
    assert [(k, s, q) for k, s, q, _, _ in found(report_of(recorder))] == [
        ("failed-take", "info", seq),
    ]


def test_another_exception_or_another_thread_does_not_count(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Only the same thread dying of the same exception type makes a failed take fatal."""
    other_type = recorder.pop(None, thread="Thread-1", error="IndexError")
    recorder.raised("KeyError", "'k'", thread="Thread-1")
    other_thread = recorder.pop(None, thread="Thread-2", error="IndexError")
    recorder.raised("IndexError", "pop from empty list", thread="Thread-3")
    assert [(k, s, q) for k, s, q, _, _ in found(report_of(recorder))] == [
        ("failed-take", "info", other_type),
        ("thread-exception", "error", other_type + 1),
        ("failed-take", "info", other_thread),
        ("thread-exception", "error", other_thread + 1),
    ]
