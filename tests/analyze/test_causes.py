"""Causes: findings grouped by kind, object and call site, worst first, with words and fix."""

from __future__ import annotations

from collections.abc import Callable

from tracebuild import Recorder

from analyze import Report
from synctrace import schema

ReportOf = Callable[..., Report]


def causes_of(report: Report) -> list[tuple[str, str, str | None, str | None, int]]:
    """(kind, severity, obj, site, count) of each cause, in the report's order."""
    return report.causes.select("kind", "severity", "obj", "site", "count").rows()


def test_findings_of_one_kind_object_and_site_are_one_cause(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Three lost set()s at one line are one cause with their count, times and threads."""
    for thread in ("Thread-2", "Thread-1", "Thread-2"):
        recorder.set(thread=thread, site="cook.py:40")
        recorder.clear(thread=thread, site="cook.py:41")
    report = report_of(recorder)
    assert causes_of(report) == [("lost-signal", "error", "ready", "cook.py:40", 3)]
    cause = report.causes.row(0, named=True)
    assert (cause["first_ts_s"], cause["last_ts_s"]) == (0.001, 0.005)
    assert cause["threads"] == ["Thread-1", "Thread-2"]
    assert cause["explanation"].startswith(
        "set() on ready at cook.py:40 (Thread-1 and Thread-2) reached no waiter and the flag"
        " was cleared before any wait() or is_set() looked, 3 times:"
    )
    assert report.findings["cause"].to_list() == [0, 0, 0]


def test_other_site_or_object_is_another_cause_and_worst_come_first(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Causes split by site and object; errors lead, then the cause with more findings."""
    recorder.put(1, "jobs", site="a.py:1")
    recorder.set("done", site="a.py:2")  # unwaited: info
    recorder.put(2, "jobs", site="a.py:3")
    recorder.put(3, "jobs", site="a.py:3")
    recorder.set(site="a.py:4")
    recorder.clear(site="a.py:5")  # lost: error
    report = report_of(recorder)
    assert causes_of(report) == [
        ("lost-signal", "error", "ready", "a.py:4", 1),
        ("stranded-item", "warning", "jobs", "a.py:3", 2),
        ("stranded-item", "warning", "jobs", "a.py:1", 1),
        ("unwaited-signal", "info", "done", "a.py:2", 1),
    ]
    assert report.findings.select("kind", "cause").rows() == [
        ("stranded-item", 2),
        ("unwaited-signal", 3),
        ("stranded-item", 1),
        ("stranded-item", 1),
        ("lost-signal", 0),
    ]


def test_a_cause_takes_its_worst_severity_and_that_severity_s_words(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A cleared wait woken as intended (info) and one that missed a lost set() (warning) make
    a warning cause."""
    first = recorder.wait(thread="Thread-2", site="c.py:9")
    waker = recorder.set(waiters=1, thread="Thread-1")
    recorder.woke(first, thread="Thread-2", woken_by=waker)
    recorder.clear(thread="Thread-2")
    recorder.set(thread="Thread-1")  # lost: set and cleared while Thread-2 was busy
    recorder.clear(thread="Thread-1")
    second = recorder.wait(thread="Thread-2", site="c.py:9", timeout=0.5)
    recorder.woke(second, thread="Thread-2", result=False, timed_out=True)
    report = report_of(recorder)
    assert sorted(report.findings.filter(kind="cleared-wait")["severity"]) == ["info", "warning"]
    cause = report.causes.filter(kind="cleared-wait").row(0, named=True)
    assert (cause["severity"], cause["count"]) == ("warning", 2)
    assert "at least one of these waits had missed a set()" in cause["explanation"]
    assert cause["fix"].startswith("Wait for the state, not for the moment")


def test_a_cause_of_only_info_findings_says_nothing_needs_fixing(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A wait woken by the next set() is an Event used as intended: the cause says so."""
    begin = recorder.wait(thread="Thread-2", site="c.py:9")
    waker = recorder.set(waiters=1, thread="Thread-1")
    recorder.woke(begin, thread="Thread-2", woken_by=waker)
    cause = report_of(recorder).causes.filter(kind="cleared-wait").row(0, named=True)
    assert cause["severity"] == "info"
    assert cause["explanation"] == (
        "Thread-2 waited on ready at c.py:9 with the flag clear, once, and missed no signal:"
        " each wait was woken by the next set(), timed out (a polling loop such as `while not"
        " stop.wait(0.1)`) or was still waiting when the trace ended (which hang or"
        " blocked-at-end tells): an Event used as intended."
    )
    assert cause["fix"] == "Nothing to fix."


def test_findings_without_an_object_group_too(recorder: Recorder, report_of: ReportOf) -> None:
    """Thread exceptions (no object) at one site are one cause; many threads are counted."""
    for n in range(1, 6):
        recorder.raised("ValueError", "bad", thread=f"Thread-{n}", site="w.py:3")
        recorder.line(schema.THREAD_END, thread=f"Thread-{n}")
    report = report_of(recorder)
    assert causes_of(report) == [("thread-exception", "error", None, "w.py:3", 5)]
    assert report.causes["explanation"][0].startswith(
        "Thread-1, Thread-2, Thread-3 and 2 more ended by an uncaught exception raised at w.py:3"
    )


def test_a_clean_run_has_no_causes(recorder: Recorder, report_of: ReportOf) -> None:
    """No findings, no causes."""
    recorder.append(1)
    recorder.pop(1)
    assert report_of(recorder).causes.height == 0


def test_a_cause_shows_its_worst_findings_first_chosen(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """Of a warning cause whose first three waits were info, the shown three include the
    warning, in time order, and the text says how many more there are."""
    from analyze.render import render_text

    waits = []
    for _ in range(4):
        wait = recorder.wait(thread="Thread-2", site="c.py:9")
        waker = recorder.set(waiters=1, thread="Thread-1")
        recorder.woke(wait, thread="Thread-2", woken_by=waker)
        recorder.clear(thread="Thread-2")
        waits.append(wait)
    recorder.set(thread="Thread-1")  # lost while Thread-2 was busy
    recorder.clear(thread="Thread-1")
    waits.append(recorder.wait(thread="Thread-2", site="c.py:9"))
    report = report_of(recorder)
    text = render_text(report)
    block = text[text.index("Findings by cause") :]
    assert block.count("cleared-wait  Thread-2") == 3
    assert block.count("warning cleared-wait") == 1
    assert "info    cleared-wait" in block
    assert "2 more" in block
