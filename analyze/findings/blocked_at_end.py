"""Blocked at the end: a wait still going when the trace ended that was not (yet) a hang.

A run cut by ``tracer run --timeout``, or stopped, leaves threads in the
middle of waits that a live thread would have ended a moment later; a slow
program is not a hung one.  This says who could still have woken the
thread, and what that thread was doing.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings._explain import Explanation
from analyze.findings.hang import call_words
from analyze.frames import duration, finding, run_bounds
from analyze.liveness import ANYONE, waits_at_end
from analyze.waits import WAITS

KIND: Final = "blocked-at-end"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (frozenset(WAITS),)

EXPLAIN: Final = {
    "info": Explanation(
        what=(
            "When the trace ended, {threads} still waited at {site} on {obj}, but a live"
            " thread could still have ended that wait (or the wait had a timeout, or it was"
            " a daemon thread of a program that ended normally): waiting, not hung."
        ),
        fix=(
            "Nothing to fix if the run was cut on purpose; record it to its end (a longer"
            " --timeout) to see the wait return."
        ),
    ),
}


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A wait some live thread could still end, or of a daemon thread at a normal exit: info.

    Exactly the waits of ``liveness.waits_at_end`` that are not a hang
    (not ``hung``, or ``at_exit``), at the wait's begin line.  The message
    gives, the first that applies: a daemon thread at a normal exit; the
    wait's own timeout; else the waker that can go that ``waits_at_end``
    names, how it relates to the object and what it was doing (running,
    sleeping, waiting with a timeout, or blocked but able to be woken).
    """
    waits = (
        waits_at_end(events)
        .filter(~pl.col("hung") | pl.col("at_exit"))
        .join(run_bounds(events), on=RUN, how="left")
        .sort(RUN, "seq")
    )
    return waits.select(finding(KIND, "info", _message()))


def _message() -> pl.Expr:
    doing = (
        pl.when(pl.col("helper_state") == "sleeping")
        .then(pl.format("sleeping at {}", pl.col("helper_where")))
        .when(pl.col("helper_state") == "timed")
        .then(pl.format("waiting with a timeout at {}", pl.col("helper_where")))
        .when(pl.col("helper_state") == "blocked")
        .then(pl.format("blocked at {} itself, but could still be woken", pl.col("helper_where")))
        .when(pl.col("helper_where").is_not_null())
        .then(pl.format("running (its last call was at {})", pl.col("helper_where")))
        .otherwise(pl.lit("running"))
    )
    who = (
        pl.when(pl.col("helper_relation") == ANYONE)
        .then(
            pl.format(
                "nobody had done what would end it yet, and {} was live and", pl.col("helper")
            )
        )
        .otherwise(pl.format("{} {} and", pl.col("helper"), pl.col("helper_relation")))
    )
    why = (
        pl.when(pl.col("at_exit"))
        .then(
            pl.format(
                "{} is a daemon thread, which Python stops at a normal exit without waiting for it",
                pl.col("thread"),
            )
        )
        .when(pl.col("state") == "timed")
        .then(pl.format("it had a timeout of {} s, so it returns by itself", pl.col("timeout")))
        .otherwise(pl.format("{} was {}", who, doing))
    )
    return pl.format(
        "{} had not returned when the trace ended (blocked for {}); {}",
        call_words(),
        duration(pl.col("end_ts") - pl.col("ts")),
        why,
    )
