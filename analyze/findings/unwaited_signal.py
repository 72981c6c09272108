"""Unwaited signals: a ``set()`` that found nobody waiting but was not lost."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.findings._explain import Explanation
from analyze.findings._signals import unheard_sets
from analyze.frames import duration, finding
from synctrace import schema

KIND: Final = "unwaited-signal"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (frozenset({schema.EVENT_SET}),)

EXPLAIN: Final = {
    "info": Explanation(
        what=(
            "set() on {obj} at {site} ({threads}) found no thread waiting, {times}, but the"
            " flag stayed up until a wait() or is_set() saw it (or the trace ended): nothing"
            " was lost."
        ),
        fix="Nothing to fix: an Event keeps its flag up for whoever looks next.",
    ),
}


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A set() with no waiter that a later look saw (or that stayed set): legal, worth knowing."""
    sets = unheard_sets(events).filter(~pl.col("lost"))
    call = (
        pl.when(pl.col("see_event") == schema.EVENT_IS_SET)
        .then(pl.lit("is_set()"))
        .otherwise(pl.lit("wait()"))
    )
    message = (
        pl.when(pl.col("see_seq").is_not_null())
        .then(
            pl.format(
                "set() reached no waiter; {}'s {} saw the flag {} later ({})",
                pl.col("see_thread"),
                call,
                duration(pl.col("see_ts") - pl.col("ts")),
                pl.col("see_site"),
            )
        )
        .otherwise(
            pl.lit(
                "set() reached no waiter; the flag was still set when the trace ended"
                " and no wait() or is_set() had looked at it"
            )
        )
    )
    return sets.select(finding(KIND, "info", message))
