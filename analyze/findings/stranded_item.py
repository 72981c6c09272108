"""Stranded items: put into a container and still there when the trace ended."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.frames import duration, finding, item_lines, run_bounds

KIND: Final = "stranded-item"


def stranded(events: pl.LazyFrame) -> pl.LazyFrame:
    """The add line of every item that was added and never taken or discarded."""
    moves = item_lines(events)
    left = moves.filter(pl.col("delta") < 0).select(RUN, "obj", "item")
    return moves.filter(pl.col("delta") > 0).join(left, on=[RUN, "obj", "item"], how="anti")


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """An item nobody took: work produced and never consumed, or a consumer that gave up."""
    message = pl.format(
        "item {} ({}) was added and never taken: it had been there {} when the trace ended",
        pl.col("item"),
        pl.col("value").fill_null("value not recorded"),
        duration(pl.col("end_ts") - pl.col("ts")),
    )
    return (
        stranded(events)
        .join(run_bounds(events), on=RUN, how="left")
        .sort(RUN, "seq")
        .select(finding(KIND, "warning", message))
    )
