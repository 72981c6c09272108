"""racy-check: acting on empty(), qsize() or full() after another thread made the answer wrong."""

from __future__ import annotations

from collections.abc import Callable

from tracebuild import Recorder, found

from analyze import Report
from synctrace import schema

ReportOf = Callable[..., Report]


def empty(rec: Recorder, thread: str, result: bool, depth: int, site: str = "c.py:6") -> int:
    return rec.op(schema.QUEUE_EMPTY, "q", thread=thread, result=result, depth=depth, site=site)


def ended(rec: Recorder, thread: str) -> int:
    return rec.line(schema.THREAD_END, thread=thread)


def test_a_consumer_that_stops_on_empty_while_a_put_arrives_is_a_warning(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """The consumer saw empty() True, the producer put, the consumer ended: the item is left."""
    recorder.put(1, thread="producer", depth=1, site="p.py:3")
    recorder.get(1, thread="consumer", depth=0, site="c.py:7")
    check = empty(recorder, "consumer", True, 0)
    recorder.put(2, thread="producer", depth=1, site="p.py:3")
    ended(recorder, "consumer")
    report = report_of(recorder)
    assert found(report, "racy-check") == [
        (
            "racy-check",
            "warning",
            check,
            "consumer",
            "empty() returned True, then producer put item 2 at p.py:3, and this thread"
            " ended with 1 item in the queue",
        )
    ]
    assert report.findings.filter(kind="racy-check").select("obj", "site").row(0) == (
        "q",
        "c.py:6",
    )


def test_a_get_after_another_consumer_took_the_last_item_is_a_warning(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """qsize() said 1, another consumer took it, and this thread's get() had to wait."""
    recorder.put(1, thread="producer", depth=1)
    check = recorder.op(schema.QUEUE_QSIZE, "q", thread="Thread-1", size=1, depth=1, site="c.py:6")
    recorder.get(1, thread="Thread-2", depth=0, site="c.py:8")
    recorder.begin(schema.QUEUE_GET_BEGIN, "q", thread="Thread-1", timeout=None, site="c.py:8")
    assert found(report_of(recorder, end=False), "racy-check") == [
        (
            "racy-check",
            "warning",
            check,
            "Thread-1",
            "qsize() returned 1, then Thread-2 took item 1 at c.py:8, and this thread's get()"
            " at c.py:8 had to wait",
        )
    ]


def test_a_put_after_full_said_false_that_raised_full_is_a_warning(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """full() False, another producer filled the queue, put_nowait() raised Full."""
    check = recorder.op(schema.QUEUE_FULL, "q", thread="Thread-1", result=False, depth=0)
    recorder.put(1, thread="Thread-2", depth=1)
    recorder.move(schema.QUEUE_PUT, None, "q", thread="Thread-1", error="Full", depth=1)
    assert [(k, s, q) for k, s, q, _, _ in found(report_of(recorder), "racy-check")] == [
        ("racy-check", "warning", check)
    ]


def test_a_single_consumer_drain_after_the_producers_ended_is_quiet(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """`while not q.empty(): q.get()` in the main thread once the producer ended: no finding."""
    recorder.put(1, thread="Thread-1", depth=1)
    recorder.put(2, thread="Thread-1", depth=2)
    ended(recorder, "Thread-1")
    empty(recorder, "MainThread", False, 2)
    recorder.get(1, thread="MainThread", depth=1)
    empty(recorder, "MainThread", False, 1)
    recorder.get(2, thread="MainThread", depth=0)
    empty(recorder, "MainThread", True, 0)
    report = report_of(recorder)
    assert report.counts["racy-check"] == 0
    assert [f for f in found(report) if f[1] != "info"] == []


def test_the_main_thread_stopping_on_empty_counts_at_the_runs_end(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """The drain's last empty() was True, but a daemon producer put before the run completed."""
    recorder.put(1, thread="Thread-1", depth=1)
    recorder.get(1, thread="MainThread", depth=0)
    check = empty(recorder, "MainThread", True, 0)
    recorder.put(2, thread="Thread-1", depth=1)
    assert [(k, q) for k, _, q, _, _ in found(report_of(recorder), "racy-check")] == [
        ("racy-check", check)
    ]


def test_a_thread_that_only_looks_acts_on_nothing(recorder: Recorder, report_of: ReportOf) -> None:
    """A monitor that logs qsize() and ends moved no item: its stale answer harms nobody."""
    recorder.op(schema.QUEUE_QSIZE, "q", thread="monitor", size=0, depth=0)
    recorder.put(1, thread="producer", depth=1)
    ended(recorder, "monitor")
    recorder.get(1, thread="consumer", depth=0)
    assert report_of(recorder).counts["racy-check"] == 0


def test_an_empty_answer_followed_by_a_get_is_quiet(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """empty() True then get(): a put in between only lets the get return at once."""
    empty(recorder, "consumer", True, 0)
    recorder.put(1, thread="producer", depth=1)
    recorder.get(1, thread="consumer", depth=0)
    assert report_of(recorder).counts["racy-check"] == 0


def test_only_the_last_check_before_the_act_counts(recorder: Recorder, report_of: ReportOf) -> None:
    """A polling loop's earlier True answers are superseded by the False one it acted on."""
    recorder.put(1, thread="producer", depth=1)
    recorder.get(1, thread="consumer", depth=0)
    empty(recorder, "consumer", True, 0)
    recorder.put(2, thread="producer", depth=1)
    empty(recorder, "consumer", False, 1)
    recorder.get(2, thread="consumer", depth=0)
    ended(recorder, "consumer")
    assert report_of(recorder).counts["racy-check"] == 0
