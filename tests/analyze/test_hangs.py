"""Hangs: blocking calls with no end line when the trace ended."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tracebuild import Recorder, found

from analyze import Report
from synctrace import schema

ReportOf = Callable[..., Report]


def test_wait_with_no_end_is_a_hang(recorder: Recorder, report_of: ReportOf) -> None:
    """A wait() that never returned is an error saying how long it had been blocked."""
    begin = recorder.wait(thread="Thread-2", site="cook.py:26")
    recorder.line(schema.THREAD_END, thread="Thread-1", after=1_259_000_000)
    report = report_of(recorder)
    assert found(report, "hang") == [
        (
            "hang",
            "error",
            begin,
            "Thread-2",
            "wait() on event ready never returned: blocked for 1.26 s when the trace ended;"
            " no thread had done what would end it, and every other thread had ended or was"
            " blocked",
        ),
    ]
    assert report.findings.filter(kind="hang")["site"].to_list() == ["cook.py:26"]
    assert report.counts["hang"] == 1


def test_wait_with_an_end_is_no_hang(recorder: Recorder, report_of: ReportOf) -> None:
    """A wait() woken by a set() has its end line: no hang."""
    begin = recorder.wait(thread="Thread-2")
    waker = recorder.set(waiters=1, thread="Thread-1")
    recorder.woke(begin, thread="Thread-2", woken_by=waker)
    assert found(report_of(recorder), "hang") == []


def test_timed_out_wait_is_no_hang(recorder: Recorder, report_of: ReportOf) -> None:
    """A wait() that gave up after its timeout returned: no hang (cleared-wait reports it)."""
    begin = recorder.wait(thread="Thread-2", timeout=0.5)
    recorder.woke(begin, thread="Thread-2", result=False, timed_out=True, after=500_000_000)
    report = report_of(recorder)
    assert found(report, "hang") == []
    assert report.counts["cleared-wait"] == 1


def test_join_of_a_hung_thread_is_a_hang_of_its_own(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Main joining a thread stuck in wait() hangs too: two hangs, each in words."""
    stuck = recorder.wait("event", thread="Thread-2")
    join = recorder.begin(schema.THREAD_JOIN_BEGIN, "Thread-2", timeout=None)
    assert found(report_of(recorder), "hang") == [
        (
            "hang",
            "error",
            stuck,
            "Thread-2",
            "wait() on event never returned: blocked for 2 ms when the trace ended; no thread"
            " had done what would end it, and every other thread had ended or was blocked",
        ),
        (
            "hang",
            "error",
            join,
            "MainThread",
            "join() of Thread-2 never returned: blocked for 1 ms when the trace ended; no live"
            " thread could end it: Thread-2, which is the thread being joined, was blocked too,"
            " at app.py:1",
        ),
    ]


@pytest.mark.parametrize(
    ("event", "obj", "fields", "words"),
    [
        (schema.LOCK_ACQUIRE_BEGIN, "lock", {"timeout": None}, "acquire() of lock"),
        (schema.LOCK_ACQUIRE_BEGIN, "mutex", {"timeout": None}, "acquire() of lock mutex"),
        (schema.QUEUE_GET_BEGIN, "q", {"timeout": None}, "get() from queue q"),
        (schema.QUEUE_PUT_BEGIN, "Queue#1", {"timeout": None, "maxsize": 1}, "put() into Queue#1"),
        (
            schema.SEM_ACQUIRE_BEGIN,
            "slots",
            {"timeout": None, "count": 0},
            "acquire() of semaphore slots",
        ),
    ],
)
def test_other_blocking_calls_hang_in_their_own_words(
    recorder: Recorder,
    report_of: ReportOf,
    event: str,
    obj: str,
    fields: dict[str, object],
    words: str,
) -> None:
    """Lock, semaphore and queue begins with no end are hangs named by call and object."""
    begin = recorder.begin(event, obj, thread="Thread-1", **fields)
    assert found(report_of(recorder), "hang") == [
        (
            "hang",
            "error",
            begin,
            "Thread-1",
            f"{words} never returned: blocked for 1 ms when the trace ended; no thread had done"
            " what would end it, and every other thread had ended or was blocked",
        ),
    ]


def test_ended_lock_acquire_and_queue_get_are_no_hangs(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """An acquire and a get that waited and then returned have their end lines: no hang."""
    acquire = recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "lock", timeout=None)
    recorder.finish(acquire, result=True, timed_out=False)
    get = recorder.begin(schema.QUEUE_GET_BEGIN, "q", thread="Thread-1", timeout=None)
    recorder.put(1, thread="Thread-2")
    recorder.get(1, thread="Thread-1")
    recorder.finish(get, result=True, timed_out=False)
    assert found(report_of(recorder), "hang") == []


def test_hang_in_an_incomplete_trace_says_lines_may_be_missing(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Without trace.end the run may have been killed: the message says its tail may be lost."""
    begin = recorder.wait(thread="Thread-2")
    recorder.set("other", thread="Thread-1", after=451_000_000)
    recorder.line(schema.THREAD_END, thread="Thread-1")
    recorder.line(schema.THREAD_END, thread="MainThread")
    assert found(report_of(recorder, end=False), "hang") == [
        (
            "hang",
            "error",
            begin,
            "Thread-2",
            "wait() on event ready never returned: blocked for 453 ms when the trace ended;"
            " no thread had done what would end it, and every other thread had ended or was"
            " blocked; the trace has no trace.end, so the run may have been killed and its"
            " last ~0.1 s of lines may be missing",
        ),
    ]


def test_an_end_in_another_run_does_not_answer_a_begin(report_of: ReportOf) -> None:
    """begin_seq refers to a line of the same file: an end in another file ends nothing."""
    hung, other = Recorder(), Recorder()
    begin = hung.wait(thread="Thread-2")
    other.set(thread="Thread-1")  # seq 1 in its own file, like the begin
    other.woke(begin, thread="Thread-2")
    report = report_of(hung, other)
    assert report.findings.filter(kind="hang").select("run", "seq").rows() == [(0, begin)]


def test_an_end_of_another_kind_does_not_answer_a_begin(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Only the begin's own end event closes it, not an end line of another operation."""
    begin = recorder.wait(thread="Thread-2")
    recorder.op(
        schema.LOCK_ACQUIRE_END,
        "ready",
        thread="Thread-2",
        begin_seq=begin,
        result=True,
        timed_out=False,
        error=None,
    )
    assert [seq for _, _, seq, _, _ in found(report_of(recorder), "hang")] == [begin]
