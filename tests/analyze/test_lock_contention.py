"""lock-contention: per lock, the acquires that waited at least --contention-ms, and the holders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from tracebuild import Recorder, found

from analyze import Report, build_report, cli, load_traces
from analyze.findings import lock_contention
from synctrace import schema

ReportOf = Callable[..., Report]
MS = 1_000_000


def take(rec: Recorder, thread: str, lock: str = "lock", **kw: object) -> int:
    return rec.op(schema.LOCK_ACQUIRE, lock, thread=thread, result=True, **kw)


def release(rec: Recorder, thread: str, lock: str = "lock", **kw: object) -> int:
    return rec.op(schema.LOCK_RELEASE, lock, thread=thread, error=None, **kw)


def wait_for(rec: Recorder, thread: str, lock: str = "lock", site: str = "app.py:7") -> int:
    return rec.begin(schema.LOCK_ACQUIRE_BEGIN, lock, thread=thread, timeout=None, site=site)


def contended(rec: Recorder, waited_ms: int) -> int:
    """Thread-1 holds lock while Thread-2 waits ``waited_ms`` for it; returns the wait's seq."""
    take(rec, "Thread-1")
    begin = wait_for(rec, "Thread-2")
    release(rec, "Thread-1", after=waited_ms * MS - MS)
    rec.finish(begin, result=True, timed_out=False)
    release(rec, "Thread-2")
    return begin


def test_a_wait_at_the_threshold_is_one_info_finding(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A 20 ms wait for a lock is contention, with the thread that held the lock meanwhile."""
    begin = contended(recorder, 20)
    assert found(report_of(recorder), "lock-contention") == [
        (
            "lock-contention",
            "info",
            begin,
            "Thread-2",
            "1 acquire waited at least 20 ms, 20 ms in all, the longest 20 ms;"
            " held by Thread-1 (1 wait)",
        )
    ]


def test_a_shorter_wait_is_no_finding(recorder: Recorder, report_of: ReportOf) -> None:
    """A 19 ms wait is under the default threshold: nothing is reported."""
    contended(recorder, 19)
    assert report_of(recorder).findings.height == 0


def test_the_threshold_is_a_report_setting(
    recorder: Recorder, write_trace: Callable[..., Path]
) -> None:
    """build_report(contention_ms=5) counts a 10 ms wait that the default leaves out."""
    contended(recorder, 10)
    trace = load_traces([write_trace(recorder)])
    assert build_report(trace).counts["lock-contention"] == 0
    assert build_report(trace, contention_ms=5).counts["lock-contention"] == 1


def test_the_cli_option_reaches_the_report(
    recorder: Recorder, write_trace: Callable[..., Path]
) -> None:
    """`analyze report --contention-ms 5` reports the 10 ms wait; the default does not."""
    contended(recorder, 10)
    path = str(write_trace(recorder))
    runner = CliRunner()
    low = runner.invoke(cli.main, ["report", path, "--format", "json", "--contention-ms", "5"])
    default = runner.invoke(cli.main, ["report", path, "--format", "json"])
    assert '"lock-contention": 1' in low.output
    assert '"lock-contention": 0' in default.output


def test_the_cli_default_is_the_detectors() -> None:
    """The CLI spells the default out (to start without polars); it must be the detector's."""
    assert cli.CONTENTION_MS == lock_contention.DEFAULT_MS == 20


def test_one_finding_per_lock_at_its_longest_wait(recorder: Recorder, report_of: ReportOf) -> None:
    """Three long waits on one lock, with two holders, are one finding at the longest wait."""
    take(recorder, "Thread-1")
    first = wait_for(recorder, "Thread-2", site="app.py:7")
    second = wait_for(recorder, "Thread-3", site="app.py:8")
    release(recorder, "Thread-1", after=30 * MS)
    recorder.finish(first, result=True, timed_out=False)  # Thread-2 holds it
    release(recorder, "Thread-2", after=50 * MS)
    recorder.finish(second, result=True, timed_out=False)
    release(recorder, "Thread-3")
    take(recorder, "Thread-1")
    third = wait_for(recorder, "Thread-2", site="app.py:7")
    release(recorder, "Thread-1", after=20 * MS)
    recorder.finish(third, result=False, timed_out=True)
    report = report_of(recorder)
    # The waits: 1 + 30 + 1 ms, 30 + 1 + 50 + 1 ms (Thread-3) and 20 + 1 ms.
    assert found(report, "lock-contention") == [
        (
            "lock-contention",
            "info",
            second,
            "Thread-3",
            "3 acquires waited at least 20 ms, 135 ms in all, the longest 82 ms;"
            " held by Thread-1 (3 waits), Thread-2 (1 wait)",
        )
    ]
    assert report.findings["site"].to_list() == ["app.py:8"]
    assert report.counts["lock-contention"] == 1


def test_semaphores_and_immediate_acquires_are_not_contention(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A long semaphore wait and an acquire that never waited are not lock contention."""
    begin = recorder.begin(schema.SEM_ACQUIRE_BEGIN, "slots", thread="Thread-1", timeout=None)
    recorder.op(schema.SEM_RELEASE, "slots", thread="Thread-2", count=1, after=40 * MS)
    recorder.finish(begin, result=True, timed_out=False, count=0)
    take(recorder, "Thread-2", after=40 * MS)
    release(recorder, "Thread-2")
    assert report_of(recorder).counts["lock-contention"] == 0
