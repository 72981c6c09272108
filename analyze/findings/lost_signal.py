"""Lost signals: a ``set()`` that nobody saw before the flag was cleared again."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.findings._signals import unheard_sets
from analyze.frames import duration, finding

KIND: Final = "lost-signal"


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A set() with no waiter, cleared before any wait()/is_set() saw it: the wake-up is lost."""
    sets = unheard_sets(events).filter(pl.col("lost"))
    message = pl.format(
        "set() reached no waiter; {} cleared the flag {} later ({}) before any wait() saw it",
        pl.col("clear_thread"),
        duration(pl.col("clear_ts") - pl.col("ts")),
        pl.col("clear_site"),
    )
    return sets.select(finding(KIND, "error", message))
