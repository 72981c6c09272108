"""Unheard notifies: ``Condition.notify()`` calls that found no thread waiting."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.frames import finding, lines_of
from synctrace import schema

KIND: Final = "unheard-notify"


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """One info finding per Condition whose notify() found nobody waiting, at the first such call.

    Correct code notifies whether or not anyone waits, because a Condition's
    waiters test the shared state before they wait; a notify is lost only for
    code that waits without such a test.  That cannot be told from the trace,
    so this is a hint for reading a lost wake-up, never a warning, and one
    line per Condition rather than one per call: a busy correct program makes
    thousands of them.
    """
    notifies = lines_of(events, {schema.COND_NOTIFY}).sort(RUN, "seq")
    unheard = notifies.filter(pl.col("waiters") == 0)
    first = unheard.group_by(RUN, "obj").agg(pl.all().first(), pl.len().alias("unheard"))
    totals = notifies.group_by(RUN, "obj").agg(pl.len().alias("calls"))
    message = pl.format(
        "{} of {} notify() calls found no thread waiting, so they woke nobody (this is the"
        " first); fine if waiters check their condition before wait()",
        pl.col("unheard"),
        pl.col("calls"),
    )
    return (
        first.join(totals, on=[RUN, "obj"]).sort(RUN, "seq").select(finding(KIND, "info", message))
    )
