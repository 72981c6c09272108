"""The per-thread table: how often each thread blocked and for how long."""

from __future__ import annotations

import polars as pl

from analyze.columns import NS_PER_S, RUN
from analyze.frames import lines_of, run_bounds
from analyze.waits import WAITS
from synctrace import schema


def threads(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per thread name (across runs): thread, waits, blocked_s.

    Sleeps are not counted: a sleeping thread waits for nobody.
    """
    begins = lines_of(events, WAITS).select(RUN, "seq", "ts", "thread")
    ends = lines_of(events, WAITS.values()).select(
        RUN, pl.col("begin_seq").alias("seq"), pl.col("ts").alias("end_ts")
    )
    # A wait with no end was still blocked when the trace ended: it counts
    # until the run's last line, a lower bound on the real time blocked.
    blocked = (
        begins.join(ends, on=[RUN, "seq"], how="left")
        .join(run_bounds(events).select(RUN, run_end_ts="end_ts"), on=RUN, how="left")
        .with_columns(ns=pl.coalesce("end_ts", "run_end_ts") - pl.col("ts"))
        .group_by("thread")
        .agg(waits=pl.len(), blocked_s=pl.col("ns").sum() / NS_PER_S)
    )
    names = (
        events.filter(~pl.col("event").is_in([schema.TRACE_START, schema.TRACE_END]))
        .select("thread")
        .unique()
    )
    return (
        names.join(blocked, on="thread", how="left")
        .with_columns(
            pl.col("thread").cast(pl.String),
            pl.col("waits").fill_null(0).cast(pl.UInt32),
            pl.col("blocked_s").fill_null(0.0),
        )
        .sort("thread")
    )
