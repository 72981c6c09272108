"""Hung or only still waiting: waits left at the end, classified by who could end them."""

from __future__ import annotations

from collections.abc import Callable

from tracebuild import Recorder, found

from analyze import Report
from synctrace import schema

ReportOf = Callable[..., Report]


def sleep(rec: Recorder, thread: str, seconds: float, site: str) -> int:
    """A sleep.begin line: ``thread`` starts sleeping (no object)."""
    return rec.line(schema.SLEEP_BEGIN, thread=thread, seconds=seconds, site=site)


def test_lock_held_by_a_sleeping_thread_is_blocked_at_end(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A run cut while the lock's holder sleeps: the waiter only waits, and the message says why."""
    recorder.op(schema.LOCK_ACQUIRE, "lock", thread="worker-3", result=True)
    sleep(recorder, "worker-3", 5.0, "app.py:12")
    begin = recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "lock", thread="worker-4", timeout=None)
    report = report_of(recorder, end=False)
    assert report.counts["hang"] == 0
    assert found(report, "blocked-at-end") == [
        (
            "blocked-at-end",
            "info",
            begin,
            "worker-4",
            "acquire() of lock had not returned when the trace ended (blocked for 0 ms);"
            " worker-3 holds lock and was sleeping at app.py:12",
        )
    ]


def test_a_sleep_with_no_end_is_no_finding(recorder: Recorder, report_of: ReportOf) -> None:
    """A thread asleep when the trace ended is alive: no hang, nothing blocked."""
    sleep(recorder, "Thread-1", 60.0, "app.py:3")
    report = report_of(recorder, end=False)
    assert report.findings.height == 0
    assert report.threads.filter(thread="Thread-1")["waits"].to_list() == [0]


def test_every_live_thread_blocked_is_a_hang(recorder: Recorder, report_of: ReportOf) -> None:
    """A wait nobody served, every other thread blocked too, is a hang however the run ended."""
    waiting = recorder.wait("go", thread="Thread-1", site="w.py:5")
    join = recorder.begin(schema.THREAD_JOIN_BEGIN, "Thread-1", timeout=None, site="m.py:9")
    report = report_of(recorder)
    recorder.lines.pop()  # the same run cut by --timeout instead
    recorder.end(reason="timeout")
    for each in (report, report_of(recorder)):
        assert [(k, s, seq) for k, s, seq, _, _ in found(each) if k != "cleared-wait"] == [
            ("hang", "error", waiting),
            ("hang", "error", join),
        ]


def test_a_waiter_that_a_running_thread_has_served_is_blocked_at_end(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """The consumer of a run cut by --timeout waits for a producer that is still running: info."""
    recorder.put(1, thread="producer", site="p.py:3")
    recorder.get(1, thread="consumer", site="c.py:8")
    begin = recorder.begin(schema.QUEUE_GET_BEGIN, "q", thread="consumer", timeout=None)
    recorder.op(schema.EVENT_IS_SET, "stop", thread="producer", site="p.py:2", result=True)
    report = report_of(recorder)
    recorder.lines.pop()
    recorder.end(reason="timeout")
    cut = report_of(recorder)
    assert found(cut, "blocked-at-end") == [
        (
            "blocked-at-end",
            "info",
            begin,
            "consumer",
            "get() from queue q had not returned when the trace ended (blocked for 3 ms);"
            " producer has put to q before and was running (its last call was at p.py:2)",
        )
    ]
    assert cut.counts["hang"] == 0
    # Completed, but the producer wrote no thread.end: it still counts as running.
    assert report.counts["blocked-at-end"] == 1


def test_a_chain_through_a_blocked_thread_that_can_be_woken_is_not_a_hang(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A waits for B's set(); B waits for C's put(); C is running: A and B only wait."""
    recorder.set("ready", thread="B", site="b.py:1")
    recorder.put(1, thread="C")
    recorder.get(1, thread="B")
    recorder.clear("ready", thread="A")
    a = recorder.wait("ready", thread="A", site="a.py:4")
    b = recorder.begin(schema.QUEUE_GET_BEGIN, "q", thread="B", timeout=None, site="b.py:7")
    report = report_of(recorder, end=False)
    assert report.counts["hang"] == 0
    assert [(seq, msg) for _, _, seq, _, msg in found(report, "blocked-at-end")] == [
        (
            a,
            "wait() on event ready had not returned when the trace ended (blocked for 1 ms);"
            " B has set ready before and was blocked at b.py:7 itself, but could still be woken",
        ),
        (
            b,
            "get() from queue q had not returned when the trace ended (blocked for 0 ms);"
            " C has put to q before and was running (its last call was at app.py:1)",
        ),
    ]


def test_the_chain_is_a_hang_once_its_last_thread_has_ended(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """The same chain with C ended: nothing can reach A or B any more, so both hang."""
    recorder.set("ready", thread="B")
    recorder.put(1, thread="C")
    recorder.get(1, thread="B")
    recorder.line(schema.THREAD_END, thread="C")
    recorder.clear("ready", thread="A")
    recorder.wait("ready", thread="A")
    recorder.begin(schema.QUEUE_GET_BEGIN, "q", thread="B", timeout=None)
    report = report_of(recorder, end=False)
    assert [(k, t) for k, _, _, t, _ in found(report) if k in ("hang", "blocked-at-end")] == [
        ("hang", "A"),
        ("hang", "B"),
    ]


def test_a_wait_with_a_timeout_returns_by_itself(recorder: Recorder, report_of: ReportOf) -> None:
    """A wait with a timeout, nobody to wake it, is still no hang: it will return."""
    begin = recorder.wait("ready", thread="Thread-1", timeout=5.0)
    report = report_of(recorder)
    assert report.counts["hang"] == 0
    assert found(report, "blocked-at-end") == [
        (
            "blocked-at-end",
            "info",
            begin,
            "Thread-1",
            "wait() on event ready had not returned when the trace ended (blocked for 1 ms);"
            " it had a timeout of 5.0 s, so it returns by itself",
        )
    ]


def test_a_blocked_daemon_thread_at_a_normal_exit_is_info(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Python stops daemon threads at a normal exit: a daemon left waiting is no hang."""
    recorder.line(
        schema.THREAD_START, thread="Thread-1", parent="MainThread", daemon=True, site="m.py:2"
    )
    begin = recorder.wait("jobs", thread="Thread-1")
    for reason, kind in (("completed", "blocked-at-end"), ("exit", "blocked-at-end")):
        recorder.end(reason=reason)
        assert [(s, seq) for _, s, seq, _, _ in found(report_of(recorder), kind)] == [
            ("info", begin)
        ]
        recorder.lines.pop()
    recorder.end(reason="exception", detail="ValueError")
    assert [k for k, *_ in found(report_of(recorder)) if k != "cleared-wait"] == ["hang"]
