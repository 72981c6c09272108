"""Waits: blocking calls that wait for another thread, and those still waiting at the end."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import ANALYZED, RUN
from analyze.frames import lines_of, shared
from synctrace import schema

#: Blocking calls that wait for another thread: every blocking pair but sleeps.
WAITS: Final = {b: e for b, e in schema.BLOCKING.items() if b != schema.SLEEP_BEGIN}


def unended(events: pl.LazyFrame, calls: dict[str, str] = WAITS) -> pl.LazyFrame:
    """Every begin line of ``calls`` (waits, by default) that no matching end line answers."""
    # The waits still going are read by liveness, the deadlock and the
    # unheard-notify detectors: one anti-join over every line, done once.
    return _unended_waits(events) if calls is WAITS else _unended(events, calls)


@shared
def _unended_waits(events: pl.LazyFrame) -> pl.LazyFrame:
    return _unended(events, WAITS)


def _unended(events: pl.LazyFrame, calls: dict[str, str]) -> pl.LazyFrame:
    begins = lines_of(events, calls).with_columns(
        pl.col("event").replace_strict(calls, return_dtype=ANALYZED["event"]).alias("end")
    )
    ends = lines_of(events, calls.values()).select(
        RUN, pl.col("begin_seq").alias("seq"), pl.col("event").alias("end")
    )
    return begins.join(ends, on=[RUN, "seq", "end"], how="anti")
