"""The §5 findings on real programs recorded by `tracer run` (issue 8)."""

from __future__ import annotations

from pathlib import Path

from tests.test_end_to_end import PROGRAMS, kinds, record, report


def loud(rep: dict[str, object]) -> list[tuple[str, str]]:
    findings = rep["findings"]
    assert isinstance(findings, list)
    return [(f["kind"], f["severity"]) for f in findings if f["severity"] != "info"]


def test_an_event_that_lets_two_consumers_through_for_one_item(tmp_path: Path) -> None:
    """The second consumer's pop() after wait() dies of IndexError: a stolen-wakeup error."""
    trace, out, status = record(tmp_path, str(PROGRAMS / "wake_everyone.py"))
    assert status == 0 and out == "took job\n"
    rep = report(trace)
    (stolen,) = kinds(rep, "stolen-wakeup")
    assert (stolen["severity"], stolen["thread"], stolen["object"]) == ("error", "second", "ready")
    assert stolen["site"] == "wake_everyone.py:17"
    assert "first took item 1 first at wake_everyone.py:18" in stolen["message"]


def test_a_consumer_that_stops_on_a_stale_empty(tmp_path: Path) -> None:
    """empty() said True, the main thread put, the consumer ended: a racy-check warning."""
    trace, out, status = record(tmp_path, str(PROGRAMS / "stale_empty.py"))
    assert status == 0 and out == "left 1\n"
    rep = report(trace)
    (racy,) = kinds(rep, "racy-check")
    assert (racy["severity"], racy["thread"], racy["object"]) == ("warning", "consumer", "q")
    assert racy["site"] == "stale_empty.py:21"
    assert racy["message"].endswith("this thread ended with 1 item in the queue")


def test_a_drain_after_the_producer_ended_is_quiet(tmp_path: Path) -> None:
    """`while not q.empty(): q.get()` once the producer was joined: nothing above info."""
    trace, out, status = record(tmp_path, str(PROGRAMS / "stale_empty.py"), "drain")
    assert status == 0 and out == "drained 3\n"
    assert loud(report(trace)) == []


def test_a_lock_held_across_a_wait_is_held_while_blocked_and_contended(tmp_path: Path) -> None:
    """holder waits on an Event with the lock; wanter's acquire gives up: both lock findings."""
    trace, out, status = record(tmp_path, str(PROGRAMS / "held_lock.py"))
    assert status == 0 and out == "gave up\n"
    rep = report(trace)
    (held,) = kinds(rep, "lock-held-while-blocked")
    assert (held["severity"], held["thread"], held["object"]) == ("warning", "holder", "lock")
    assert "waiting on event gave_up" in held["message"]
    assert "wanter waited for lock" in held["message"]
    (contention,) = kinds(rep, "lock-contention")
    assert (contention["severity"], contention["thread"]) == ("info", "wanter")
    assert contention["message"].endswith("held by holder (1 wait)")
