"""The run view the timeline and the export draw, and its thinning for dense runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from pictures import story

from analyze import build_report, load_traces
from analyze.timeline.dense import bin_marks, depth_columns, merge_spans
from analyze.timeline.model import RunView, default_window, run_view

WriteTrace = Callable[..., Path]


@pytest.fixture
def view(write_trace: WriteTrace) -> RunView:
    rec, _ = story()
    trace = load_traces([write_trace(rec)])
    return run_view(trace, build_report(trace))


def test_threads_are_lanes_in_order_of_appearance(view: RunView) -> None:
    """Each thread runs from its first line to its thread.end, or to the run's end."""
    assert view.threads.select("thread", "first_s", "last_s", "ended").rows() == [
        ("MainThread", 0.0, pytest.approx(0.018), False),
        ("Thread-1", pytest.approx(0.001), pytest.approx(0.016), True),
        ("Thread-2", pytest.approx(0.002), pytest.approx(0.018), False),
    ]
    assert view.objects.rows() == [("ready", "Event")]


def test_spans_are_waits_sleeps_and_holds_and_an_unended_wait_runs_to_the_end(
    view: RunView,
) -> None:
    """Blocking pairs and lock holds become spans; a begin with no end lasts to the last line."""
    got = view.spans.select(
        "thread", "state", "call", "obj", "seq", pl.col("begin_s", "end_s").round(9), "ended"
    )
    assert got.rows() == [
        ("Thread-2", "blocked", "event.wait", "ready", 3, 0.003, 0.005, True),
        ("Thread-1", "holding", "lock.hold", "guard", 8, 0.008, 0.011, True),
        ("Thread-1", "sleeping", "sleep", None, 9, 0.009, 0.010, True),
        ("Thread-2", "blocked", "event.wait", "ready", 17, 0.017, 0.018, False),
    ]


def test_wakes_join_each_woken_wait_to_the_set_that_woke_it(view: RunView) -> None:
    """woken_by links the wait's end to the set: waker, its time, the waiter and its end."""
    assert view.wakes.select(
        "obj", "waker", "waker_seq", "from_s", "thread", "wait_seq"
    ).rows() == [("ready", "Thread-1", 4, 0.004, "Thread-2", 3)]
    assert view.wakes["to_s"].to_list() == [0.005]


def test_signals_depths_logs_and_findings_of_the_run(view: RunView) -> None:
    """Sets and clears, every item move with its depth, the log record and the report's findings."""
    assert view.signals.select("event", "seq").rows() == [
        ("event.set", 4),
        ("event.set", 14),
        ("event.clear", 15),
    ]
    assert view.depths.select("seq", "depth", "delta").rows() == [(6, 1, 1), (7, 0, -1), (13, 1, 1)]
    assert view.logs.select("thread", "level", "logger", "message").rows() == [
        ("Thread-1", "warning", "app", "queue is slow")
    ]
    kinds = view.findings.filter(pl.col("severity") != "info").select("kind", "seq").rows()
    assert kinds == [("stranded-item", 13), ("lost-signal", 14), ("cleared-wait", 17), ("hang", 17)]


def test_a_run_that_does_not_exist_is_an_index_error(write_trace: WriteTrace) -> None:
    """run_view refuses a run index the trace does not have."""
    rec, _ = story()
    trace = load_traces([write_trace(rec)])
    with pytest.raises(IndexError):
        run_view(trace, build_report(trace), 1)


def test_a_long_idle_tail_is_left_out_of_the_default_window(view: RunView) -> None:
    """When nothing happens in the run's second half, the window ends a quarter past the last
    activity; otherwise it is the whole run."""
    assert default_window(view) == (0.0, view.duration_s)
    idle = RunView(**{**view.__dict__, "duration_s": 10.0, "last_activity_s": 2.0})
    assert default_window(idle) == (0.0, 2.5)


def test_merge_spans_joins_spans_closer_than_a_pixel() -> None:
    """Spans of one lane within a pixel of each other merge, counting what they stand for;
    other lanes and farther spans stay apart."""
    spans = pl.DataFrame(
        {
            "lane": ["a", "a", "a", "b"],
            "begin_s": [0.0, 1.05, 3.0, 1.05],
            "end_s": [1.0, 2.0, 4.0, 2.0],
        }
    )
    assert merge_spans(spans, ["lane"], 0.1).rows() == [
        ("a", 0.0, 2.0, 2),
        ("a", 3.0, 4.0, 1),
        ("b", 1.05, 2.0, 1),
    ]


def test_bin_marks_keeps_one_mark_per_pixel_column() -> None:
    """Marks in one column of one group become one, at the first mark's time, with a count."""
    marks = pl.DataFrame({"obj": ["e", "e", "e", "f"], "t_s": [0.01, 0.05, 0.25, 0.05]})
    assert bin_marks(marks, ["obj"], 0.1).rows() == [("e", 0.01, 2), ("e", 0.25, 1), ("f", 0.05, 1)]


def test_depth_columns_bound_the_depth_within_each_column() -> None:
    """A rise and fall inside one column shows as its low and high; the column ends at the last
    value, and the first column starts from the depth before its first line."""
    depths = pl.DataFrame(
        {
            "obj": ["q"] * 4,
            "t_s": [0.01, 0.02, 0.03, 0.25],
            "depth": [3, 4, 3, 2],
            "delta": [1, 1, -1, -1],
        }
    )
    assert depth_columns(depths, 0.1).rows() == [
        ("q", 0.01, 2, 2, 4, 3),
        ("q", 0.25, 3, 2, 3, 2),
    ]
