"""One run as the things a picture of it shows: lanes, spans, marks, wake-ups, depths.

The timeline picture and the Perfetto export draw the same things, so both
start from a :class:`RunView`: small collected frames, times in the
program's seconds since the run's ``trace.start`` (``load_traces`` has
already undone a ``--time-scale``).  Nothing here knows how it is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import polars as pl

from analyze.columns import NS_PER_S, RUN
from analyze.findings._holds import lock_holds
from analyze.frames import item_lines, lines_of
from analyze.reading import Trace, time_scale
from analyze.report import Report
from synctrace import schema

#: A thread is one lane: its name and ident (Python reuses idents once a
#: thread has ended, and a program may give two threads one name).
THREAD_KEY: Final = ["thread", "thread_id"]

#: Lines that signal an object: the marks drawn on the object's own lane.
SIGNALS: Final = (schema.EVENT_SET, schema.EVENT_CLEAR, schema.COND_NOTIFY)

#: What a blocking begin line makes of its thread meanwhile.
SLEEPING: Final = "sleeping"
BLOCKED: Final = "blocked"
HOLDING: Final = "holding"

#: Lines that are the run's frame, not something a thread did.
_FRAME_LINES: Final = [schema.TRACE_START, schema.TRACE_END]


@dataclass(frozen=True)
class RunView:
    """What one run's threads did, ready to draw; every ``*_s`` is seconds since trace.start."""

    file: str
    #: The run's index among the loaded files (0 is the first) and how many there were.
    run: int
    runs: int
    time_scale: float
    #: The last line's time: the run's length.
    duration_s: float
    #: The last line a thread wrote before the run ended (not thread.end or trace.end).
    last_activity_s: float
    #: trace.end's reason, or None for a run that was killed.
    end_reason: str | None
    #: One row a thread, in order of appearance: thread, thread_id, first_s, last_s, ended.
    threads: pl.DataFrame
    #: Signalled objects (Events, Conditions), in order of appearance: obj, kind.
    objects: pl.DataFrame
    #: thread, thread_id, state (blocked, sleeping, holding), call (``event.wait``,
    #: ``lock.hold``...), obj, site, seq (of the begin), begin_s, end_s (the run's
    #: end when it never ended), ended, timed_out.
    spans: pl.DataFrame
    #: set, clear and notify lines: obj, event, thread, thread_id, seq, t_s, waiters, site.
    signals: pl.DataFrame
    #: A set or notify and the wait it woke (``woken_by``): obj, waker, waker_id,
    #: waker_seq, from_s, thread, thread_id, wait_seq, to_s.
    wakes: pl.DataFrame
    #: Container lines that moved an item: obj, seq, t_s, depth (items after the
    #: line), delta (+1 for an add, -1 for a take or discard).
    depths: pl.DataFrame
    #: The program's log records: thread, thread_id, seq, t_s, level, logger, message, fields
    #: (structlog's key-value pairs as JSON text, null when none), site.
    logs: pl.DataFrame
    #: The report's findings of this run: kind, severity, seq, t_s, thread, obj, site, message.
    findings: pl.DataFrame
    #: Why this run's picture may be incomplete (a line cut short, no trace.end,
    #: events dropped), one sentence each, as the report warns.
    warnings: list[str] = field(default_factory=list)


def run_view(trace: Trace, report: Report, run: int = 0) -> RunView:
    """The run at index ``run`` of ``trace`` (0 is the first file), with ``report``'s findings.

    ``report`` is ``build_report(trace)``; the findings it holds are what
    the picture marks as lost, stranded or hung.  Raises IndexError for a
    run the trace does not have.
    """
    if not 0 <= run < len(trace.files):
        raise IndexError(run)
    f = trace.files[run]
    origin = int(f.start["ts"])
    # The picture spells names out as text; the lines hold them as categories.
    events = trace.events.filter(pl.col(RUN) == run).with_columns(
        pl.col(pl.Categorical).cast(pl.String)
    )
    seconds = ((pl.col("ts") - origin) / NS_PER_S).alias("t_s")

    bounds = events.select(
        end=pl.col("ts").max(),
        active=pl.col("ts")
        .filter(~pl.col("event").is_in([*_FRAME_LINES, schema.THREAD_END]))
        .max(),
    ).collect()
    end_ts = bounds["end"][0]
    active_ts = bounds["active"][0] if bounds["active"][0] is not None else origin
    run_end = (pl.lit(end_ts) - origin) / NS_PER_S

    found = report.findings.filter(pl.col(RUN) == run).select(
        "kind", "severity", "seq", pl.col("ts_s").alias("t_s"), "thread", "obj", "site", "message"
    )
    frames = pl.collect_all(
        [
            _threads(events, run_end, seconds),
            _objects(events),
            _spans(events, run_end, origin),
            lines_of(events, SIGNALS)
            .select("obj", "event", *THREAD_KEY, "seq", seconds, "waiters", "site")
            .sort("seq"),
            _wakes(events, seconds),
            item_lines(events).select("obj", "seq", seconds, "depth", "delta").sort("seq"),
            lines_of(events, {schema.LOG})
            .select(*THREAD_KEY, "seq", seconds, "level", "logger", "message", "fields", "site")
            .sort("seq"),
        ]
    )
    threads, objects, spans, signals, wakes, depths, logs = frames
    return RunView(
        file=f.path,
        run=run,
        runs=len(trace.files),
        time_scale=time_scale(f),
        duration_s=(end_ts - origin) / NS_PER_S,
        last_activity_s=(active_ts - origin) / NS_PER_S,
        end_reason=None if f.end is None else f.end.get("reason"),
        threads=threads,
        objects=objects,
        spans=spans,
        signals=signals,
        wakes=wakes,
        depths=depths,
        logs=logs,
        findings=found,
        warnings=f.warnings,
    )


def _threads(events: pl.LazyFrame, run_end: pl.Expr, seconds: pl.Expr) -> pl.LazyFrame:
    """Each thread from its first line to its thread.end (or the run's end)."""
    ends = pl.col("event").is_in([schema.THREAD_END, schema.THREAD_EXCEPTION])
    return (
        events.filter(pl.col("event") != schema.TRACE_END)
        .with_columns(seconds)
        .group_by(THREAD_KEY)
        .agg(
            first_seq=pl.col("seq").min(),
            first_s=pl.col("t_s").min(),
            ended=ends.any(),
            ended_s=pl.col("t_s").filter(ends).max(),
        )
        .with_columns(last_s=pl.coalesce("ended_s", run_end))
        .sort("first_seq")
        .select(*THREAD_KEY, "first_s", "last_s", "ended")
    )


def _objects(events: pl.LazyFrame) -> pl.LazyFrame:
    """Events and Conditions: the objects whose signals and waits the picture lines up."""
    prefix = pl.col("event").str.split(".").list.first()
    return (
        events.filter(prefix.is_in(["event", "cond"]) & pl.col("obj").is_not_null())
        .group_by("obj")
        .agg(first_seq=pl.col("seq").min(), prefix=prefix.first())
        .sort("first_seq")
        .select(
            "obj",
            kind=pl.when(pl.col("prefix") == "event")
            .then(pl.lit("Event"))
            .otherwise(pl.lit("Condition")),
        )
    )


def _spans(events: pl.LazyFrame, run_end: pl.Expr, origin: int) -> pl.LazyFrame:
    """Blocking calls (begin to end, or to the run's end) and lock holds, one row each."""
    ends = lines_of(events, schema.BLOCKING.values()).select(
        pl.col("begin_seq").alias("seq"),
        pl.col("ts").alias("end_ts"),
        pl.col("timed_out").alias("timed_out_end"),
    )
    calls = (
        lines_of(events, schema.BLOCKING)
        .join(ends, on="seq", how="left")
        .select(
            *THREAD_KEY,
            pl.when(pl.col("event") == schema.SLEEP_BEGIN)
            .then(pl.lit(SLEEPING))
            .otherwise(pl.lit(BLOCKED))
            .alias("state"),
            pl.col("event").str.strip_suffix(".begin").alias("call"),
            "obj",
            "site",
            pl.col("seq").cast(pl.Int64),
            "ts",
            "end_ts",
            pl.col("timed_out_end").fill_null(False).alias("timed_out"),
        )
    )
    holds = lock_holds(events).select(
        *THREAD_KEY,
        pl.lit(HOLDING).alias("state"),
        pl.lit("lock.hold").alias("call"),
        "obj",
        pl.lit(None, pl.String).alias("site"),
        pl.col("taken_seq").cast(pl.Int64).alias("seq"),
        pl.col("taken_ts").alias("ts"),
        pl.col("released_ts").alias("end_ts"),
        pl.lit(False).alias("timed_out"),
    )
    return (
        pl.concat([calls, holds], how="vertical_relaxed")
        .select(
            *THREAD_KEY,
            "state",
            "call",
            "obj",
            "site",
            "seq",
            ((pl.col("ts") - origin) / NS_PER_S).alias("begin_s"),
            pl.coalesce((pl.col("end_ts") - origin) / NS_PER_S, run_end).alias("end_s"),
            pl.col("end_ts").is_not_null().alias("ended"),
            "timed_out",
        )
        .sort("begin_s", "seq")
    )


def _wakes(events: pl.LazyFrame, seconds: pl.Expr) -> pl.LazyFrame:
    """Each wait's end line with ``woken_by``, joined to the set or notify that woke it."""
    wakers = lines_of(events, {schema.EVENT_SET, schema.COND_NOTIFY}).select(
        pl.col("seq").alias("waker_seq"),
        pl.col("thread").alias("waker"),
        pl.col("thread_id").alias("waker_id"),
        seconds.alias("from_s"),
    )
    return (
        lines_of(events, {schema.EVENT_WAIT_END, schema.COND_WAIT_END})
        .filter(pl.col("woken_by").is_not_null())
        .select(
            "obj",
            pl.col("woken_by").alias("waker_seq"),
            *THREAD_KEY,
            pl.col("begin_seq").alias("wait_seq"),
            seconds.alias("to_s"),
        )
        .join(wakers, on="waker_seq", how="inner")
        .select("obj", "waker", "waker_id", "waker_seq", "from_s", *THREAD_KEY, "wait_seq", "to_s")
        .sort("waker_seq", "wait_seq")
    )


def default_window(view: RunView) -> tuple[float, float]:
    """The stretch of the run worth drawing: all of it, unless it ends in a long idle tail.

    A hung run is often killed long after its last line (``--timeout``); at
    full length its story would fill the first few pixels.  When the last
    activity comes before half the run, the window ends a little after it,
    and the waits still going are drawn running on past the edge.
    """
    end = view.duration_s
    if end <= 0:
        return (0.0, 1.0)
    active = view.last_activity_s
    if active < end / 2:
        end = active + max(active * 0.25, end * 0.002)
    return (0.0, end)
