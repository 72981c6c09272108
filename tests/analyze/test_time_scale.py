"""A run recorded with tracer run --time-scale: the report speaks in the program's seconds."""

from __future__ import annotations

from collections.abc import Callable

from tracebuild import STEP_NS, Recorder

from analyze import Report
from analyze.render import render
from synctrace import schema


def scaled_hang(scale: float | None) -> Recorder:
    """A consumer that waits 0.5 s (real) for a set that never comes, then the trace ends."""
    rec = Recorder()
    if scale is not None:
        rec.lines[0]["time_scale"] = scale
    rec.begin(schema.EVENT_WAIT_BEGIN, "event", thread="Thread-2", flag=False, timeout=0.01)
    rec.line(schema.THREAD_END, thread="Thread-1", after=500_000_000)
    return rec


def test_times_and_durations_are_the_programs_own(report_of: Callable[..., Report]) -> None:
    """At time_scale 0.01, 0.5 s of wall time is 50 s of the program's: ts_s, duration and
    the message's 'blocked for' all say so; a begin line's real timeout is scaled alike."""
    full, scaled = report_of(scaled_hang(None)), report_of(scaled_hang(0.01))
    assert full.trace.time_scales == [1.0] and scaled.trace.time_scales == [0.01]
    assert round(scaled.trace.duration_s, 6) == round(full.trace.duration_s * 100, 6)
    (wait_full,) = full.findings.filter(kind="blocked-at-end").rows(named=True) or [None]
    (wait_scaled,) = scaled.findings.filter(kind="blocked-at-end").rows(named=True) or [None]
    assert wait_full is not None and wait_scaled is not None
    assert wait_scaled["ts_s"] == wait_full["ts_s"] * 100 == STEP_NS * 100 / 1e9
    assert "(blocked for 50.1 s); it had a timeout of 1.0 s" in wait_scaled["message"]


def test_the_header_says_the_run_was_scaled(report_of: Callable[..., Report]) -> None:
    """Text, Markdown and JSON all say the times are the program's, scaled by how much."""
    rep = report_of(scaled_hang(0.01))
    for fmt in ("text", "markdown"):
        flowing = " ".join(render(rep, fmt).split())  # the header is wrapped
        assert "time-scaled x0.01: times are the program's own seconds" in flowing
    assert '"time_scales": [0.01]' in render(rep, "json").replace("\n", "").replace("  ", "")
