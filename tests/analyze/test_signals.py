"""Lost and unwaited signals: what happened to each set() that found no waiter."""

from __future__ import annotations

from collections.abc import Callable

from tracebuild import Recorder, found

from analyze import Report
from synctrace import schema

ReportOf = Callable[..., Report]


def test_set_with_a_waiter_is_no_finding(recorder: Recorder, report_of: ReportOf) -> None:
    """A set() that released a waiter, followed by clear(), is how Events are meant to work."""
    begin = recorder.wait(thread="Thread-2", flag=True)
    recorder.woke(begin, thread="Thread-2")
    recorder.set(waiters=1, thread="Thread-1")
    recorder.clear(thread="Thread-1")
    report = report_of(recorder)
    assert found(report) == []
    assert set(report.counts.values()) == {0}


def test_set_then_clear_with_nobody_looking_is_lost(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A set() with no waiter, cleared before any look, is one lost-signal error."""
    seq = recorder.set(thread="Thread-1", site="cook.py:40")
    recorder.clear(thread="Thread-2", site="cook.py:52", after=20_000)
    report = report_of(recorder)
    assert found(report) == [
        (
            "lost-signal",
            "error",
            seq,
            "Thread-1",
            "set() reached no waiter; Thread-2 cleared the flag 0.02 ms later (cook.py:52)"
            " before any wait() saw it",
        ),
    ]
    assert report.counts["lost-signal"] == 1
    assert report.findings["site"].to_list() == ["cook.py:40"]


def test_set_that_stays_set_is_unwaited(recorder: Recorder, report_of: ReportOf) -> None:
    """A set() nobody waited for and nobody cleared is only an unwaited-signal (info)."""
    seq = recorder.set(thread="Thread-1")
    assert found(report_of(recorder)) == [
        (
            "unwaited-signal",
            "info",
            seq,
            "Thread-1",
            "set() reached no waiter; the flag was still set when the trace ended and no wait()"
            " or is_set() had looked at it",
        ),
    ]


def test_wait_that_sees_the_flag_before_the_clear_saves_it(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A wait() that finds the flag set (flag true) before the clear means the set was heard."""
    seq = recorder.set(thread="Thread-1")
    begin = recorder.wait(thread="Thread-2", flag=True, site="cook.py:9")
    recorder.woke(begin, thread="Thread-2")
    recorder.clear(thread="Thread-2")
    assert found(report_of(recorder)) == [
        (
            "unwaited-signal",
            "info",
            seq,
            "Thread-1",
            "set() reached no waiter; Thread-2's wait() saw the flag 1 ms later (cook.py:9)",
        ),
    ]


def test_is_set_counts_as_seeing_the_flag(recorder: Recorder, report_of: ReportOf) -> None:
    """An is_set() line between the set and the clear makes the set unwaited, not lost."""
    seq = recorder.set(thread="Thread-1")
    recorder.is_set(thread="Thread-3", site="poll.py:3", after=2_000_000)
    recorder.clear(thread="Thread-3")
    assert found(report_of(recorder)) == [
        (
            "unwaited-signal",
            "info",
            seq,
            "Thread-1",
            "set() reached no waiter; Thread-3's is_set() saw the flag 2 ms later (poll.py:3)",
        ),
    ]


def test_a_look_after_the_clear_comes_too_late(recorder: Recorder, report_of: ReportOf) -> None:
    """Only looks strictly between the set and the next clear count: a later is_set() does not."""
    seq = recorder.set(thread="Thread-1")
    recorder.clear(thread="Thread-2")
    recorder.set(thread="Thread-1")
    recorder.is_set(thread="Thread-3")
    kinds = [(kind, s) for kind, _, s, _, _ in found(report_of(recorder))]
    assert kinds == [("lost-signal", seq), ("unwaited-signal", seq + 2)]


def test_objects_do_not_mix(recorder: Recorder, report_of: ReportOf) -> None:
    """A clear on another Event does not lose this Event's set()."""
    recorder.set("a")
    recorder.clear("b")
    assert [k for k, *_ in found(report_of(recorder))] == ["unwaited-signal"]


def test_runs_do_not_mix(report_of: ReportOf) -> None:
    """A set at the end of one file is not lost by a clear in the next file."""
    first, second = Recorder(), Recorder()
    first.set()
    second.clear()
    report = report_of(first, second)
    assert report.counts["lost-signal"] == 0
    assert report.counts["unwaited-signal"] == 1


def test_notify_with_no_waiter_is_only_info(recorder: Recorder, report_of: ReportOf) -> None:
    """Notifies that found no waiter make one info finding per Condition, at the first of them."""
    first = recorder.op(schema.COND_NOTIFY, "cv", thread="Thread-1", waiters=0, woken=0, all=False)
    recorder.op(schema.COND_NOTIFY, "cv", thread="Thread-1", waiters=0, woken=0, all=True)
    recorder.op(schema.COND_NOTIFY, "cv", thread="Thread-1", waiters=2, woken=1, all=False)
    other = recorder.op(schema.COND_NOTIFY, "cv2", thread="Thread-3", waiters=0, woken=0, all=False)
    report = report_of(recorder)
    assert found(report) == [
        (
            "unheard-notify",
            "info",
            first,
            "Thread-1",
            "2 of 3 notify() calls found no thread waiting, so they woke nobody (this is the"
            " first); fine if waiters check their condition before wait()",
        ),
        (
            "unheard-notify",
            "info",
            other,
            "Thread-3",
            "1 of 1 notify() calls found no thread waiting, so they woke nobody (this is the"
            " first); fine if waiters check their condition before wait()",
        ),
    ]
    assert report.counts["unheard-notify"] == 2
    assert report.worst_severity() == "info"


def test_unheard_notify_then_a_wait_that_never_returned_is_a_warning(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """An unheard notify followed by a wait on that Condition that never returned is a warning."""
    first = recorder.op(
        schema.COND_NOTIFY, "cv", thread="MainThread", waiters=0, woken=0, all=False
    )
    recorder.begin(schema.COND_WAIT_BEGIN, "cv", thread="Thread-1", site="app.py:7", timeout=None)
    assert found(report_of(recorder), "unheard-notify") == [
        (
            "unheard-notify",
            "warning",
            first,
            "MainThread",
            "1 of 1 notify() calls found no thread waiting, so they woke nobody (this is the"
            " first); later Thread-1 waited on it (app.py:7) and never returned: if it waited"
            " for what a notify() announced, that wake-up was lost (guard each wait() with"
            " `while not <condition>:`)",
        )
    ]


def test_unheard_notify_stays_info_when_later_waits_return(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A wait after the unheard notify that did return, or a hung wait before it, keeps it info."""
    hung_before = recorder.begin(schema.COND_WAIT_BEGIN, "cv", thread="Thread-2", timeout=None)
    recorder.op(schema.COND_NOTIFY, "cv", thread="MainThread", waiters=0, woken=0, all=False)
    later = recorder.begin(schema.COND_WAIT_BEGIN, "cv", thread="Thread-1", timeout=1.0)
    recorder.finish(later, result=False, timed_out=True, woken_by=None)
    assert hung_before < later
    severities = [s for _, s, *_ in found(report_of(recorder), "unheard-notify")]
    assert severities == ["info"]


def test_set_on_a_set_flag_is_a_coalesced_signal(recorder: Recorder, report_of: ReportOf) -> None:
    """A second set() before anyone cleared the flag is one info finding, at the second set()."""
    recorder.set(thread="Thread-1")
    again = recorder.set(thread="Thread-1", flag=True, site="p.py:9")
    report = report_of(recorder)
    assert found(report, "coalesced-signal") == [
        (
            "coalesced-signal",
            "info",
            again,
            "Thread-1",
            "set() found the flag already set: it merged with the earlier set()",
        )
    ]
