"""Unheard notifies: ``Condition.notify()`` calls that found no thread waiting."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings._explain import Explanation
from analyze.frames import finding, lines_of
from analyze.waits import unended
from synctrace import schema

KIND: Final = "unheard-notify"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (frozenset({schema.COND_NOTIFY}),)

EXPLAIN: Final = {
    "info": Explanation(
        what=(
            "notify() on {obj} at {site} ({threads}) found no thread waiting: harmless when"
            " waiters test their condition before they wait."
        ),
        fix="Nothing to fix if every wait() sits inside `while not <condition>:`.",
    ),
    "warning": Explanation(
        what=(
            "notify() on {obj} at {site} ({threads}) found no thread waiting, and later a"
            " thread waited on {obj} and never returned: a wait() not guarded by a test of"
            " its condition misses the notifies sent before it."
        ),
        fix=(
            "Guard each wait() with `while not <condition>: cond.wait()`, or use"
            " cond.wait_for(predicate)."
        ),
    ),
}


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """One finding per Condition whose notify() found nobody waiting, at the first such call.

    Correct code notifies whether or not anyone waits, because a Condition's
    waiters test the shared state before they wait; a notify is lost only for
    code that waits without such a test.  The trace cannot see that test, so
    an unheard notify alone is info, one line per Condition rather than one
    per call (a busy correct program makes thousands).  It is a warning when
    a thread later waited on the same Condition and never returned: the
    classic lost wake-up of a ``wait()`` not guarded by ``while not ...:``.
    """
    notifies = lines_of(events, {schema.COND_NOTIFY}).sort(RUN, "seq")
    unheard = notifies.filter(pl.col("waiters") == 0)
    first = unheard.group_by(RUN, "obj").agg(pl.all().first(), pl.len().alias("unheard"))
    totals = notifies.group_by(RUN, "obj").agg(pl.len().alias("calls"))
    # The first wait on the Condition, after its first unheard notify, that
    # never returned.
    stuck = (
        unended(events)
        .filter(pl.col("event") == schema.COND_WAIT_BEGIN)
        .join(first.select(RUN, "obj", pl.col("seq").alias("unheard_seq")), on=[RUN, "obj"])
        .filter(pl.col("seq") > pl.col("unheard_seq"))
        .sort(RUN, "seq")
        .group_by(RUN, "obj")
        .agg(
            pl.col("thread").first().alias("stuck_thread"),
            pl.col("site").first().alias("stuck_site"),
        )
    )
    heard_by_none = pl.format(
        "{} of {} notify() calls found no thread waiting, so they woke nobody (this is the first)",
        pl.col("unheard"),
        pl.col("calls"),
    )
    message = (
        pl.when(pl.col("stuck_thread").is_null())
        .then(
            pl.concat_str(
                heard_by_none, pl.lit("; fine if waiters check their condition before wait()")
            )
        )
        .otherwise(
            pl.format(
                "{}; later {} waited on it ({}) and never returned: if it waited for what"
                " a notify() announced, that wake-up was lost (guard each wait() with"
                " `while not <condition>:`)",
                heard_by_none,
                pl.col("stuck_thread"),
                pl.col("stuck_site"),
            )
        )
    )
    severity = (
        pl.when(pl.col("stuck_thread").is_null()).then(pl.lit("info")).otherwise(pl.lit("warning"))
    )
    return (
        first.join(totals, on=[RUN, "obj"])
        .join(stuck, on=[RUN, "obj"], how="left")
        .sort(RUN, "seq")
        .select(finding(KIND, severity, message))
    )
