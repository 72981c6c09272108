"""The thread table: how many times each thread blocked and for how long."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from polars.testing import assert_frame_equal
from tracebuild import Recorder

from analyze import Report
from synctrace import schema

ReportOf = Callable[..., Report]


def test_waits_and_blocked_time(recorder: Recorder, report_of: ReportOf) -> None:
    """Every blocking begin is a wait; time runs to its end, or to the trace's last line."""
    begin = recorder.wait(thread="Thread-1")
    recorder.woke(begin, thread="Thread-1", after=3_000_000)  # blocked 3 ms
    begin = recorder.op(schema.COND_WAIT_BEGIN, "cv", thread="Thread-1", timeout=None)
    recorder.op(
        schema.COND_WAIT_END,
        "cv",
        thread="Thread-1",
        begin_seq=begin,
        result=True,
        timed_out=False,
        woken_by=None,
        error=None,
        after=2_000_000,
    )  # 2 ms
    recorder.wait(thread="Thread-2")  # never ends: 3 lines, 3 ms, before trace.end
    recorder.set(waiters=0, thread="Thread-3")
    expected = pl.DataFrame(
        {
            "thread": ["MainThread", "Thread-1", "Thread-2", "Thread-3"],
            "waits": [0, 2, 1, 0],
            "blocked_s": [0.0, 0.005, 0.003, 0.0],
        },
        schema_overrides={"waits": pl.UInt32},
    )
    recorder.line(schema.THREAD_END, thread="MainThread")
    assert_frame_equal(report_of(recorder).threads, expected)


def test_threads_aggregate_by_name_across_runs(report_of: ReportOf) -> None:
    """The same thread name in two files is one row with the waits of both."""
    runs = [Recorder(), Recorder()]
    for rec in runs:
        begin = rec.wait(thread="worker", flag=True)
        rec.woke(begin, thread="worker")
    threads = report_of(*runs).threads
    assert threads.filter(pl.col("thread") == "worker").rows() == [("worker", 2, 0.002)]


def test_lock_waits_and_hangs_count_as_blocked(recorder: Recorder, report_of: ReportOf) -> None:
    """A lock acquire that waited counts to its end; a hung join counts to the trace's last ts."""
    begin = recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "lock", thread="Thread-1", timeout=None)
    recorder.finish(begin, result=True, timed_out=False, after=4_000_000)  # 4 ms
    recorder.op(schema.LOCK_ACQUIRE, "lock", thread="Thread-2", result=True)  # no wait
    recorder.begin(schema.THREAD_JOIN_BEGIN, "Thread-1", timeout=None)  # never ends
    recorder.line(schema.THREAD_END, thread="Thread-2", after=6_000_000)
    # trace.end, 1 ms later, is the last line: the join was blocked for 7 ms.
    expected = pl.DataFrame(
        {
            "thread": ["MainThread", "Thread-1", "Thread-2"],
            "waits": [1, 1, 0],
            "blocked_s": [0.007, 0.004, 0.0],
        },
        schema_overrides={"waits": pl.UInt32},
    )
    assert_frame_equal(report_of(recorder).threads, expected)
