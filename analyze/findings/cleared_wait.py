"""Cleared waits: an ``Event.wait()`` that found the flag clear and had to block."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings._explain import Explanation
from analyze.findings._signals import unheard_sets
from analyze.frames import duration, lines_of, run_bounds, seconds
from synctrace import schema

KIND: Final = "cleared-wait"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (frozenset({schema.EVENT_WAIT_BEGIN}),)

EXPLAIN: Final = {
    "info": Explanation(
        what=(
            "{threads} waited on {obj} at {site} with the flag clear, {times}, and missed no"
            " signal: each wait was woken by the next set(), timed out (a polling loop such"
            " as `while not stop.wait(0.1)`) or was still waiting when the trace ended"
            " (which hang or blocked-at-end tells): an Event used as intended."
        ),
        fix="Nothing to fix.",
    ),
    "warning": Explanation(
        what=(
            "{threads} waited on {obj} at {site} with the flag clear, {times}, and at least"
            " one of these waits had missed a set() that was cleared before it looked: a"
            " thread not inside wait() at the instant of set() depends on the flag staying"
            " up."
        ),
        fix=(
            "Wait for the state, not for the moment: test a predicate under a Condition"
            " (`while not ready: cond.wait()`), or take work from a queue.Queue, so a"
            " signal sent before the wait still counts."
        ),
    ),
}


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A wait() that blocked on a clear flag, how it ended and how many lost signals it missed."""
    begins = (
        lines_of(events, {schema.EVENT_WAIT_BEGIN})
        .filter(~pl.col("flag").fill_null(False))
        .select(RUN, "obj", "seq", "ts", "thread", "site")
        .sort(RUN, "seq")
    )
    ends = lines_of(events, {schema.EVENT_WAIT_END}).select(
        RUN,
        pl.col("begin_seq").alias("seq"),
        pl.col("ts").alias("end_ts"),
        pl.col("result"),
        pl.col("timed_out"),
        pl.col("woken_by"),
        pl.col("error"),
    )
    wakers = events.select(
        RUN,
        pl.col("seq").alias("woken_by"),
        pl.col("ts").alias("waker_ts"),
        pl.col("thread").alias("waker_thread"),
        pl.col("site").alias("waker_site"),
    )
    waits = (
        _with_missed(events, begins)
        .join(ends, on=[RUN, "seq"], how="left")
        .join(wakers, on=[RUN, "woken_by"], how="left")
        .join(run_bounds(events), on=RUN, how="left")
        .sort(RUN, "seq")
    )
    return waits.select(
        pl.col(RUN),
        pl.lit(KIND).alias("kind"),
        _severity().alias("severity"),
        "ts",
        "seq",
        "thread",
        "obj",
        "site",
        _message().alias("message"),
    )


def _with_missed(events: pl.LazyFrame, begins: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``missed``: lost signals on the object since this thread last woke from it.

    Counting is done with running totals: ``lost_before(x)`` is how many lost
    sets on the object precede seq ``x``, found by a backward as-of join, and
    the count in an interval is the difference of two such totals.
    """
    lost = (
        unheard_sets(events)
        .filter(pl.col("lost"))
        .select(RUN, "obj", pl.col("seq").alias("lost_seq"))
        .sort(RUN, "lost_seq")
        .with_columns(pl.int_range(1, pl.len() + 1).over(RUN, "obj").alias("lost_before"))
    )
    previous_wakes = (
        lines_of(events, {schema.EVENT_WAIT_END})
        .select(RUN, "obj", "thread", pl.col("seq").alias("woke_seq"))
        .sort(RUN, "woke_seq")
    )

    def lost_before(frame: pl.LazyFrame, on: str, name: str) -> pl.LazyFrame:
        return (
            frame.join_asof(
                lost,
                left_on=on,
                right_on="lost_seq",
                by=[RUN, "obj"],
                strategy="backward",
                allow_exact_matches=False,
                check_sortedness=False,
            )
            .with_columns(pl.col("lost_before").fill_null(0).alias(name))
            .drop("lost_seq", "lost_before")
        )

    with_wake = begins.join_asof(
        previous_wakes,
        left_on="seq",
        right_on="woke_seq",
        by=[RUN, "obj", "thread"],
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,
    ).with_columns(pl.col("woke_seq").fill_null(-1))
    counted = lost_before(with_wake, "seq", "lost_at_begin").sort(RUN, "woke_seq")
    counted = lost_before(counted, "woke_seq", "lost_at_wake")
    return counted.with_columns(
        (pl.col("lost_at_begin") - pl.col("lost_at_wake")).alias("missed"),
        (pl.col("woke_seq") >= 0).alias("woke_before"),
    ).drop("woke_seq", "lost_at_begin", "lost_at_wake")


def _severity() -> pl.Expr:
    """A warning when the wait missed a lost signal: the one hazard of waiting on a cleared flag.

    How the wait ended does not make it one: a timed wait that times out is
    polling (``while not stop.wait(0.1)``), and one still blocked at the end
    is a hang or blocked-at-end finding of its own.
    """
    return pl.when(pl.col("missed") > 0).then(pl.lit("warning")).otherwise(pl.lit("info"))


def _message() -> pl.Expr:
    waited = duration(pl.col("end_ts") - pl.col("ts"))
    ending = (
        pl.when(pl.col("end_ts").is_null())
        .then(pl.lit("never: still blocked when the trace ended"))
        .when(pl.col("error").is_not_null())
        .then(pl.format("interrupted by {} after {}", pl.col("error"), waited))
        .when(pl.col("timed_out").fill_null(False) | ~pl.col("result").fill_null(True))
        .then(pl.format("timed out after {}", waited))
        .when(pl.col("waker_thread").is_not_null())
        .then(
            pl.format(
                "woken by {}'s set() at {} s ({})",
                pl.col("waker_thread"),
                seconds(pl.col("waker_ts") - pl.col("start_ts")),
                pl.col("waker_site").fill_null("?"),
            )
        )
        .otherwise(pl.format("returned true after {}", waited))
    )
    since = (
        pl.when(pl.col("woke_before"))
        .then(pl.lit("since this thread last woke from it"))
        .otherwise(pl.lit("before this wait"))
    )
    missed = (
        pl.when(pl.col("missed") == 1)
        .then(pl.format("; missed 1 signal, lost {}", since))
        .when(pl.col("missed") > 1)
        .then(pl.format("; missed {} signals, lost {}", pl.col("missed"), since))
        .otherwise(pl.lit(""))
    )
    return pl.format("wait() found the flag clear; ended: {}{}", ending, missed)
